/*-------------------------------------------------------------------------
 *
 * version.c
 *	  Versions of secrets (see version.h).
 *
 *	  A new secret is one row of csms.secrets (with v1 as its SYSCURRENT
 *	  version and its copy) and one of csms.versions; a new version is one
 *	  row of csms.versions and one (HOT) update of the secret's row, both
 *	  written without the planner (rowio.h); neither runs SQL when the key
 *	  and its material are cached.
 *
 * src/version.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "util.h"
#include "validate.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "roledep.h"
#include "keyring.h"
#include "envelope.h"
#include "frame.h"
#include "secret.h"
#include "event.h"
#include "version.h"

#define METADATA_COLUMNS \
	"'v' OPERATOR(pg_catalog.||) v.version::pg_catalog.text, v.create_time," \
	" v.expire_time, v.key_id::pg_catalog.text, s.name," \
	" ARRAY(SELECT st.name" \
	"  FROM ROWS FROM (pg_catalog.unnest(s.stage_names)," \
	"   pg_catalog.unnest(s.stage_versions)) st(name, version)" \
	"  WHERE st.version OPERATOR(pg_catalog.=) v.version ORDER BY st.name)"

static void version_not_found(const char *secret, int version) pg_attribute_noreturn();
static void versions_rewrap(CsmsCall *call, CsmsSecret *s, CsmsKey *to);

static CsmsStmt q_metadata = {
	"SELECT " METADATA_COLUMNS
	" FROM csms.versions v JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) v.secret_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, INT4OID}
};

static CsmsStmt q_metadata_list = {
	"SELECT " METADATA_COLUMNS
	" FROM csms.versions v JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) v.secret_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.>) $2"
	" ORDER BY v.version LIMIT $3",
	3, {UUIDOID, INT4OID, INT4OID}
};

static CsmsStmt q_version_exists = {
	"SELECT FROM csms.versions"
	" WHERE secret_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, INT4OID}
};

static CsmsStmt q_version_expire = {
	"UPDATE csms.versions SET expire_time = $3"
	" WHERE secret_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
	3, {UUIDOID, INT4OID, TIMESTAMPTZOID}
};

static CsmsStmt q_secret_touch_version = {
	"UPDATE csms.secrets SET last_version = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, INT4OID}
};

static CsmsStmt q_tags_insert = {
	"INSERT INTO csms.tags (secret_id, key, value)"
	" SELECT $1, t.key, t.value FROM pg_catalog.jsonb_each_text($2) t",
	2, {UUIDOID, JSONBOID}
};

static CsmsStmt q_secret_versions_keys = {
	"SELECT v.version, v.key_id, v.key_version, v.wrapped_dek, k.alias, k.state"
	" FROM csms.versions v JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 ORDER BY v.version",
	1, {UUIDOID}
};

static CsmsStmt q_secret_update = {
	"UPDATE csms.secrets SET kms_key_id = $2, description = $3, auto_rotation = $4,"
	" rotation_period = $5, event_subscriptions = $6, rotation_func_urn = $7,"
	" next_rotation_time = CASE WHEN NOT $4 THEN NULL"
	"   WHEN $8 OR next_rotation_time IS NULL"
	"   THEN pg_catalog.now() OPERATOR(pg_catalog.+) $9"
	"   ELSE next_rotation_time END,"
	" update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	9, {UUIDOID, UUIDOID, TEXTOID, BOOLOID, TEXTOID, TEXTARRAYOID, TEXTOID,
	BOOLOID, INTERVALOID}
};

static CsmsStmt q_secret_current_meta = {
	"SELECT description, event_subscriptions, rotation_func_urn FROM csms.secrets"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_version_rewrap = {
	"UPDATE csms.versions SET key_id = $3, key_version = $4, wrapped_dek = $5"
	" WHERE secret_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
	5, {UUIDOID, INT4OID, UUIDOID, INT4OID, BYTEAOID}
};

/*
 * Seal a value as a version and insert its row: through writer w of
 * csms.versions, or (w NULL) as a statement of its own
 */
static void
store_version(CsmsCall *call, CsmsWriter *w, const pg_uuid_t *secret_id, const char *region,
			  int version, CsmsKey *key, char kind, const char *value,
			  Size len, const Datum *create_time, const Datum *expire_time,
			  CsmsSealed *sealed_out)
{
	CsmsSealed	sealed;
	CsmsCol		cols[8] = {
		{CSMS_VERSIONS_SECRET_ID, UUIDPGetDatum(secret_id), false},
		{CSMS_VERSIONS_VERSION, Int32GetDatum(version), false},
		{CSMS_VERSIONS_CREATE_TIME,
			create_time ? *create_time : TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
		false},
		{CSMS_VERSIONS_EXPIRE_TIME, expire_time ? *expire_time : (Datum) 0, expire_time == NULL},
		{CSMS_VERSIONS_KEY_ID, UUIDPGetDatum(&key->id), false},
		{CSMS_VERSIONS_KEY_VERSION, Int32GetDatum(key->version), false},
		{CSMS_VERSIONS_WRAPPED_DEK, (Datum) 0, false},
		{CSMS_VERSIONS_CIPHERTEXT, (Datum) 0, false},
	};

	csms_seal_value(call, secret_id, region, version, key, kind, value, len, &sealed);
	cols[6].value = PointerGetDatum(sealed.wrapped_dek);
	cols[7].value = PointerGetDatum(sealed.ciphertext);
	if (w)
		csms_writer_insert(w, cols, lengthof(cols));
	else
		csms_row_insert(CSMS_VERSIONS, -1, cols, lengthof(cols));
	if (sealed_out)
		*sealed_out = sealed;
}

/* Seal a value as a version and insert its row (version.h) */
void
csms_store_version(CsmsCall *call, const pg_uuid_t *secret_id, const char *region,
				   int version, CsmsKey *key, char kind, const char *value,
				   Size len, const Datum *create_time, const Datum *expire_time,
				   CsmsSealed *sealed_out)
{
	store_version(call, NULL, secret_id, region, version, key, kind, value, len,
				  create_time, expire_time, sealed_out);
}

/* A secret with its first version (version.h) */
void
csms_secret_create(CsmsCall *call, const CsmsNewSecret *ns, CsmsMade *made)
{
	CsmsKey    *key;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	Datum		next_rotation = (Datum) 0;
	CsmsSealed	sealed;
	CsmsStages	stages;
	Datum		stage_names,
				stage_versions,
				stage_times;

	key = csms_key_resolve(call, ns->key_ref, true, false);
	csms_acl_check_key(call, key, call->region, CSMS_PRIV_USE);
	csms_key_require_enabled(key);
	csms_key_material(call, key, key->version);

	memset(made, 0, sizeof(*made));
	csms_new_uuid(&made->id);
	csms_store_version(call, &made->id, call->region, 1, key, ns->kind, ns->value,
					   ns->len, &now, NULL, &sealed);
	if (ns->auto_rotation && ns->period)
		next_rotation = DirectFunctionCall2(timestamptz_pl_interval, now,
											IntervalPGetDatum(ns->period));
	made->version = 1;
	made->time = DatumGetTimestampTz(now);
	made->key = key;
	made->next_rotation = next_rotation;
	made->subscriptions = ns->subscriptions ? PointerGetDatum(ns->subscriptions) :
		PointerGetDatum(construct_empty_array(TEXTOID));

	/* the secret's row, with v1 as its SYSCURRENT version and its copy */
	stages.n = 1;
	stages.names[0] = "SYSCURRENT";
	stages.versions[0] = 1;
	stages.times[0] = DatumGetTimestampTz(now);
	csms_stages_datums(&stages, &stage_names, &stage_versions, &stage_times);
	{
		CsmsCol		cols[] = {
			{CSMS_SECRETS_ID, UUIDPGetDatum(&made->id), false},
			{CSMS_SECRETS_REGION, csms_text_datum(call->region), false},
			{CSMS_SECRETS_NAME, csms_text_datum(ns->name), false},
			{CSMS_SECRETS_STATE, csms_text_datum("ENABLED"), false},
			{CSMS_SECRETS_KMS_KEY_ID, UUIDPGetDatum(&key->id), false},
			{CSMS_SECRETS_DESCRIPTION, ns->description ? csms_text_datum(ns->description) : 0,
			ns->description == NULL},
			{CSMS_SECRETS_SECRET_TYPE, csms_text_datum(ns->secret_type), false},
			{CSMS_SECRETS_AUTO_ROTATION, BoolGetDatum(ns->auto_rotation), false},
			{CSMS_SECRETS_ROTATION_PERIOD, ns->rotation_period ?
				csms_text_datum(ns->rotation_period) : 0, ns->rotation_period == NULL},
			{CSMS_SECRETS_ROTATION_CONFIG, ns->rotation_config ?
				JsonbPGetDatum(ns->rotation_config) : 0, ns->rotation_config == NULL},
			{CSMS_SECRETS_ROTATION_TIME, (Datum) 0, true},
			{CSMS_SECRETS_NEXT_ROTATION_TIME, next_rotation, next_rotation == (Datum) 0},
			{CSMS_SECRETS_EVENT_SUBSCRIPTIONS, made->subscriptions, false},
			{CSMS_SECRETS_ENTERPRISE_PROJECT_ID, csms_text_datum(ns->enterprise_project_id), false},
			{CSMS_SECRETS_ROTATION_FUNC_URN, ns->rotation_func_urn ?
				csms_text_datum(ns->rotation_func_urn) : 0, ns->rotation_func_urn == NULL},
			{CSMS_SECRETS_CREATE_TIME, now, false},
			{CSMS_SECRETS_UPDATE_TIME, now, false},
			{CSMS_SECRETS_SCHEDULED_DELETE_TIME, (Datum) 0, true},
			{CSMS_SECRETS_REPLICA_TYPE, csms_text_datum("STANDALONE"), false},
			{CSMS_SECRETS_PRIMARY_ID, (Datum) 0, true},
			{CSMS_SECRETS_LAST_VERSION, Int32GetDatum(1), false},
			{CSMS_SECRETS_CURRENT_VERSION, Int32GetDatum(1), false},
			{CSMS_SECRETS_CURRENT_KEY_ID, UUIDPGetDatum(&key->id), false},
			{CSMS_SECRETS_CURRENT_KEY_VERSION, Int32GetDatum(key->version), false},
			{CSMS_SECRETS_CURRENT_WRAPPED_DEK, PointerGetDatum(sealed.wrapped_dek), false},
			{CSMS_SECRETS_CURRENT_CIPHERTEXT, PointerGetDatum(sealed.ciphertext), false},
			{CSMS_SECRETS_STAGE_NAMES, stage_names, false},
			{CSMS_SECRETS_STAGE_VERSIONS, stage_versions, false},
			{CSMS_SECRETS_STAGE_TIMES, stage_times, false},
			{CSMS_SECRETS_VERSION_COUNT, Int32GetDatum(1), false},
			{CSMS_SECRETS_OWNER, ObjectIdGetDatum(call->save_uid), false},
			{CSMS_SECRETS_LAST_USED_TIME, TimestampTzGetDatum(DT_NOBEGIN), false},	/* never read */
		};

		if (!csms_row_insert(CSMS_SECRETS, CSMS_SECRETS_BY_NAME, cols, lengthof(cols)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("secret \"%s\" already exists in region \"%s\"", ns->name,
							call->region)));
	}
	/* its owner, the caller, cannot be dropped while it owns it */
	csms_role_depend(CSMS_SECRETS, call->save_uid);

	if (ns->tags)
	{
		Datum		targs[2];

		targs[0] = UUIDPGetDatum(&made->id);
		targs[1] = JsonbPGetDatum(ns->tags);
		csms_exec(&q_tags_insert, targs, NULL, SPI_OK_INSERT, 0);
	}
	if (ns->subscriptions)
	{
		CsmsEventSubject x = {made->id, ns->name, call->region, ns->secret_type,
			csms_event_subscribed(PointerGetDatum(ns->subscriptions)), 1, DT_NOBEGIN};

		csms_events_fire(CSMS_EVENT_VERSION_CREATED, &x, 1);
	}
}

/* 42704 for a version (0: SYSCURRENT) that does not exist */
static void
version_not_found(const char *secret, int version)
{
	if (version == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" has no SYSCURRENT version", secret)));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("version \"v%d\" of secret \"%s\" does not exist", version, secret)));
}

/* The number of a version that exists (0: SYSCURRENT) */
int
csms_version_resolve(CsmsSecret *s, int version)
{
	Datum		args[2];

	if (version == 0)
	{
		version = csms_stages_version(&s->stages, "SYSCURRENT");
		if (version == 0)
			version_not_found(s->name, 0);
		return version;
	}
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(version);
	if (csms_exec(&q_version_exists, args, NULL, SPI_OK_SELECT, 1) != 1)
		version_not_found(s->name, version);
	return version;
}

/* The csms_version_metadata columns of a version */
void
csms_version_metadata(const pg_uuid_t *secret_id, int version, Datum *values, bool *nulls)
{
	Datum		args[2];
	int			i;

	args[0] = UUIDPGetDatum(secret_id);
	args[1] = Int32GetDatum(version);
	if (csms_exec(&q_metadata, args, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "version vanished");
	for (i = 0; i < CSMS_METADATA_NCOLS; i++)
		values[i] = csms_col(0, i + 1, &nulls[i]);
}

/* One page of versions after `after` */
void
csms_version_list(ReturnSetInfo *rsinfo, CsmsSecret *s, int after, int page_size)
{
	Datum		args[3];
	uint64		n,
				i;

	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(after);
	args[2] = Int32GetDatum(page_size);
	n = csms_exec(&q_metadata_list, args, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[CSMS_METADATA_NCOLS];
		bool		nulls[CSMS_METADATA_NCOLS];
		int			c;

		for (c = 0; c < CSMS_METADATA_NCOLS; c++)
			values[c] = csms_col(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* Set or clear the expiry of a version */
void
csms_version_set_expiry(CsmsSecret *s, int version, const Datum *expire_time)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(version);
	if (expire_time)
		args[2] = *expire_time;
	else
		nulls[2] = 'n';			/* the version no longer expires */
	csms_exec(&q_version_expire, args, nulls, SPI_OK_UPDATE, 0);
	args[1] = Int32GetDatum(s->last_version);
	csms_exec(&q_secret_touch_version, args, NULL, SPI_OK_UPDATE, 0);
}

/*
 * Delete the oldest version of secret s (whose row this transaction has
 * locked) that holds no stage, through writer w of csms.versions: by its
 * (secret_id, version) index in version order, stopping at the first such
 * version.  False when every version holds a stage.
 */
static bool
prune_oldest_unstaged(CsmsSecret *s, CsmsWriter *w)
{
	static const Oid procs[1] = {F_UUID_EQ};
	Datum		key = UUIDPGetDatum(&s->id);
	Relation	rel;
	Relation	index;
	ScanKeyData skey;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found = false;

	Assert(s->locked);
	rel = table_open(csms_rel(CSMS_VERSIONS), RowExclusiveLock);
	index = index_open(csms_index(CSMS_VERSIONS_PKEY), RowExclusiveLock);
	slot = table_slot_create(rel, NULL);
	csms_snapshot_push();
	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], procs[0], key);
	scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int			version = DatumGetInt32(csms_slot_attr(slot, CSMS_VERSIONS_VERSION, &isnull));
		int			i;

		for (i = 0; i < s->stages.n; i++)
			if (s->stages.versions[i] == version)
				break;
		if (i == s->stages.n)
		{
			found = true;
			break;
		}
	}
	index_endscan(scan);
	PopActiveSnapshot();
	if (found)
	{
		ItemPointerData tid = slot->tts_tid;

		csms_writer_delete(w, &tid);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, RowExclusiveLock);
	table_close(rel, NoLock);
	return found;
}

/* ORDER BY name, as the metadata query sorts version_stages */
static int
stage_name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *) a;
	const char *y = *(const char *const *) b;

	return varstr_cmp(x, strlen(x), y, strlen(y), DEFAULT_COLLATION_OID);
}

/* A new version; stages moved; at the limit the oldest unstaged one goes */
void
csms_version_add(CsmsCall *call, CsmsSecret *s, char kind, const char *value, Size len,
				 char **stages, int nstages, const Datum *expire_time, CsmsMade *made)
{
	bool		given = stages != NULL;
	int		   *versions;
	CsmsKey    *key;
	int			version,
				current,
				pruned = 0,
				nresult = 0,
				i;
	TimestampTz now_ts = GetCurrentTransactionStartTimestamp();
	Datum		now = TimestampTzGetDatum(now_ts);
	CsmsSealed	sealed;
	char	  **result_stages;
	CsmsWriter *w = NULL;

	if (s->last_version == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret \"%s\" has run out of version numbers", s->name)));
	version = s->last_version + 1;

	key = csms_key_by_id(&s->kms_key_id);
	csms_acl_check_key(call, key, call->region, CSMS_PRIV_USE);
	csms_key_require_enabled(key);
	csms_key_material(call, key, key->version);

	/*
	 * The secret's stages (SYSCURRENT among them) and how many versions it
	 * has are on its row, which csms_secret_open read and locked.
	 */
	current = csms_stages_version(&s->stages, "SYSCURRENT");

	/* which stages move to the new version */
	if (!given)
	{
		stages = palloc(sizeof(char *) * 2);
		nstages = 0;
		stages[nstages++] = "SYSCURRENT";
		if (current > 0)
			stages[nstages++] = "SYSPREVIOUS";
	}

	/* at most CSMS_MAX_STAGES stages */
	csms_stages_check_limit(s, stages, nstages);

	/*
	 * at most CSMS_MAX_VERSIONS: the oldest version without a stage goes,
	 * and the new one comes, in one writer of csms.versions
	 */
	if (s->version_count >= CSMS_MAX_VERSIONS)
	{
		w = csms_writer_begin(CSMS_VERSIONS, CSMS_WRITE_DELETE | CSMS_WRITE_INSERT);
		if (!prune_oldest_unstaged(s, w))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("secret \"%s\" has reached the limit of %d versions", s->name, CSMS_MAX_VERSIONS),
					 errdetail("Every version holds a stage, so none can be removed to make room."),
					 errhint("Delete stages that are no longer used with csms_delete_secret_stage().")));
		pruned = 1;
	}

	store_version(call, w, &s->id, call->region, version, key, kind, value,
				  len, &now, expire_time, &sealed);
	if (w)
		csms_writer_end(w);

	/*
	 * The stages: by default SYSCURRENT to the new version and SYSPREVIOUS
	 * to the old SYSCURRENT; else exactly those given.
	 */
	versions = palloc(sizeof(int) * nstages);
	result_stages = palloc(sizeof(char *) * nstages);
	for (i = 0; i < nstages; i++)
	{
		versions[i] = strcmp(stages[i], "SYSPREVIOUS") == 0 && !given ? current : version;
		if (versions[i] == version)
			result_stages[nresult++] = stages[i];
	}

	/*
	 * One update of the secret's row, which csms_secret_open locked: its
	 * stages, its last version, and the copy when the new version is
	 * SYSCURRENT.
	 */
	for (i = 0; i < nresult; i++)
		if (strcmp(result_stages[i], "SYSCURRENT") == 0)
			break;
	{
		CsmsCol		cols[] = {
			{CSMS_SECRETS_LAST_VERSION, Int32GetDatum(version), false},
			{CSMS_SECRETS_UPDATE_TIME, now, false},
			{CSMS_SECRETS_VERSION_COUNT, Int32GetDatum(s->version_count + 1 - pruned), false},
			{CSMS_SECRETS_CURRENT_VERSION, Int32GetDatum(version), false},
			{CSMS_SECRETS_CURRENT_KEY_ID, UUIDPGetDatum(&key->id), false},
			{CSMS_SECRETS_CURRENT_KEY_VERSION, Int32GetDatum(key->version), false},
			{CSMS_SECRETS_CURRENT_WRAPPED_DEK, PointerGetDatum(sealed.wrapped_dek), false},
			{CSMS_SECRETS_CURRENT_CIPHERTEXT, PointerGetDatum(sealed.ciphertext), false},
		};

		csms_stages_set(s, nstages, stages, versions, now_ts, cols,
						i < nresult ? lengthof(cols) : 3, CSMS_STAGES_COPY_WRITTEN);
	}

	qsort(result_stages, nresult, sizeof(char *), stage_name_cmp);
	memset(made, 0, sizeof(*made));
	made->id = s->id;
	made->version = version;
	made->time = now_ts;
	made->key = key;
	made->stages = result_stages;
	made->nstages = nresult;
	s->last_version = version;
	if (s->event)
	{
		CsmsEventSubject x = {s->id, s->name, call->region, s->secret_type, s->event, version,
			expire_time ? DatumGetTimestampTz(*expire_time) : DT_NOBEGIN};

		csms_events_fire(CSMS_EVENT_VERSION_CREATED, &x, 1);
	}
	s->version_count += 1 - pruned;
}

static CsmsStmt q_version_sealed = {
	"SELECT v.key_id, v.key_version, v.wrapped_dek, v.ciphertext, k.alias, k.state"
	" FROM csms.versions v JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, INT4OID}
};

/*
 * Version `version` of s opened, for the extension's own use (a rotation
 * reads the credentials it replaces): the value in the current memory
 * context, wiped when it is reset.  The caller checked the privileges.
 */
bytea *
csms_version_open(CsmsCall *call, CsmsSecret *s, int version, char *kind)
{
	Datum		args[2];
	bool		isnull;
	CsmsKey    *key;
	bytea	   *plain;
	pg_uuid_t	key_id;
	int			key_version;
	bytea	   *wrapped_dek,
			   *ciphertext;
	char	   *alias,
			   *state;

	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(version);
	if (csms_exec(&q_version_sealed, args, NULL, SPI_OK_SELECT, 1) != 1)
		version_not_found(s->name, version);
	/* the row's values first: the key's lookup runs queries of its own */
	key_id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	key_version = DatumGetInt32(csms_col(0, 2, &isnull));
	wrapped_dek = csms_col_bytea(0, 3);
	ciphertext = csms_col_bytea(0, 4);
	alias = csms_col_text(0, 5);
	state = csms_col_text(0, 6);
	csms_call_need_root_key(call);
	key = csms_key_for_version(call, &key_id, alias, state, key_version);
	plain = csms_open_value(call, &s->id, call->region, s->name, version, key,
							wrapped_dek, ciphertext, kind);
	csms_wipe(key->material, CSMS_KEY_LEN);
	return plain;
}

/* Re-wrap every version's data key under `to`, then the SYSCURRENT copy */
static void
versions_rewrap(CsmsCall *call, CsmsSecret *s, CsmsKey *to)
{
	Datum		arg = UUIDPGetDatum(&s->id);
	SPITupleTable *versions;
	uint64		n,
				i;

	n = csms_exec(&q_secret_versions_keys, &arg, NULL, SPI_OK_SELECT, 0);
	versions = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		HeapTuple	row = versions->vals[i];
		TupleDesc	desc = versions->tupdesc;
		int			version = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		bytea	   *wrapped = DatumGetByteaPP(SPI_getbinval(row, desc, 4, &isnull));
		CsmsKey    *from;
		Datum		args[5];
		bytea	   *rewrapped;

		from = csms_key_for_version(call, DatumGetUUIDP(SPI_getbinval(row, desc, 2, &isnull)),
									TextDatumGetCString(SPI_getbinval(row, desc, 5, &isnull)),
									TextDatumGetCString(SPI_getbinval(row, desc, 6, &isnull)),
									DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull)));

		rewrapped = csms_rewrap_dek(call, &s->id, s->name, version, from, wrapped, to);
		args[0] = UUIDPGetDatum(&s->id);
		args[1] = Int32GetDatum(version);
		args[2] = UUIDPGetDatum(&to->id);
		args[3] = Int32GetDatum(to->version);
		args[4] = PointerGetDatum(rewrapped);
		csms_exec(&q_version_rewrap, args, NULL, SPI_OK_UPDATE, 0);
		csms_wipe(from->material, CSMS_KEY_LEN);
	}
	csms_current_refresh(&s->id);
}

/* Change a secret's metadata (version.h) */
void
csms_secret_update(CsmsCall *call, CsmsSecret *s, const CsmsSecretChange *c)
{
	bool		auto_rotation = c->set_auto_rotation ? c->auto_rotation : s->auto_rotation;
	const char *rotation_period = c->rotation_period ? c->rotation_period : s->rotation_period;
	Interval   *period = NULL;
	bool		reschedule;
	pg_uuid_t	key_id = s->kms_key_id;
	Datum		args[9];
	char		nulls[9];
	Datum		cur_desc,
				cur_subs,
				cur_urn;
	bool		desc_null,
				subs_null,
				urn_null;

	if (auto_rotation && rotation_period == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_period is required when auto_rotation is true")));
	if (rotation_period)
		csms_check_rotation_period(rotation_period, &period);
	/* a newly enabled rotation or a new period starts a new schedule */
	reschedule = (c->set_auto_rotation && c->auto_rotation && !s->auto_rotation) ||
		c->rotation_period != NULL;

	if (c->key_ref)
	{
		CsmsKey    *to = csms_key_resolve(call, c->key_ref, true, false);

		csms_acl_check_key(call, to, call->region, CSMS_PRIV_USE);
		csms_key_require_enabled(to);
		if (memcmp(to->id.data, s->kms_key_id.data, UUID_LEN) != 0)
		{
			csms_call_need_root_key(call);
			csms_key_material(call, to, to->version);
			versions_rewrap(call, s, to);
			key_id = to->id;
		}
	}

	args[0] = UUIDPGetDatum(&s->id);
	csms_exec(&q_secret_current_meta, args, NULL, SPI_OK_SELECT, 1);
	cur_desc = csms_col(0, 1, &desc_null);
	cur_subs = csms_col(0, 2, &subs_null);
	cur_urn = csms_col(0, 3, &urn_null);

	memset(nulls, ' ', sizeof(nulls));
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = UUIDPGetDatum(&key_id);
	/* an empty description or URN clears it */
	if (c->description)
		args[2] = c->description[0] ? csms_text_datum(c->description) : (nulls[2] = 'n', (Datum) 0);
	else
		args[2] = desc_null ? (nulls[2] = 'n', (Datum) 0) : cur_desc;
	args[3] = BoolGetDatum(auto_rotation);
	args[4] = rotation_period ? csms_text_datum(rotation_period) : (nulls[4] = 'n', (Datum) 0);
	args[5] = c->subscriptions ? PointerGetDatum(c->subscriptions) : cur_subs;
	if (c->rotation_func_urn)
		args[6] = c->rotation_func_urn[0] ? csms_text_datum(c->rotation_func_urn) :
			(nulls[6] = 'n', (Datum) 0);
	else
		args[6] = urn_null ? (nulls[6] = 'n', (Datum) 0) : cur_urn;
	args[7] = BoolGetDatum(reschedule);
	args[8] = period ? IntervalPGetDatum(period) : (nulls[8] = 'n', (Datum) 0);
	csms_exec(&q_secret_update, args, nulls, SPI_OK_UPDATE, 0);
}

/* The csms_secret row of a new secret, from what was written */
HeapTuple
csms_secret_created_tuple(CsmsCall *call, TupleDesc tupdesc, const CsmsNewSecret *ns,
						  const CsmsMade *made)
{
	Datum		values[CSMS_OUT_NCOLS];
	bool		isnull[CSMS_OUT_NCOLS];
	Datum		now = TimestampTzGetDatum(made->time);
	int			i;
	MemoryContext old = MemoryContextSwitchTo(call->caller_cxt);
	HeapTuple	tup;

	for (i = 0; i < CSMS_OUT_NCOLS; i++)
	{
		values[i] = (Datum) 0;
		isnull[i] = true;
	}
#define SET(col, v)	(values[col] = (v), isnull[col] = false)
	SET(CSMS_OUT_ID, UUIDPGetDatum(&made->id));
	SET(CSMS_OUT_NAME, CStringGetTextDatum(ns->name));
	SET(CSMS_OUT_STATE, CStringGetTextDatum("ENABLED"));
	SET(CSMS_OUT_KMS_KEY_ID, CStringGetTextDatum(made->key->id_text));
	if (ns->description)
		SET(CSMS_OUT_DESCRIPTION, CStringGetTextDatum(ns->description));
	SET(CSMS_OUT_CREATE_TIME, now);
	SET(CSMS_OUT_UPDATE_TIME, now);
	SET(CSMS_OUT_SECRET_TYPE, CStringGetTextDatum(ns->secret_type));
	SET(CSMS_OUT_AUTO_ROTATION, BoolGetDatum(ns->auto_rotation));
	if (ns->rotation_period)
		SET(CSMS_OUT_ROTATION_PERIOD, CStringGetTextDatum(ns->rotation_period));
	if (ns->rotation_config)
		SET(CSMS_OUT_ROTATION_CONFIG, JsonbPGetDatum(ns->rotation_config));
	if (made->next_rotation != (Datum) 0)
		SET(CSMS_OUT_NEXT_ROTATION_TIME, made->next_rotation);
	SET(CSMS_OUT_EVENT_SUBSCRIPTIONS, made->subscriptions);
	SET(CSMS_OUT_ENTERPRISE_PROJECT_ID, CStringGetTextDatum(ns->enterprise_project_id));
	if (ns->rotation_func_urn)
		SET(CSMS_OUT_ROTATION_FUNC_URN, CStringGetTextDatum(ns->rotation_func_urn));
	SET(CSMS_OUT_DOMAIN_ID, CStringGetTextDatum(call->domain_id));
	SET(CSMS_OUT_REGION, CStringGetTextDatum(call->region));
	SET(CSMS_OUT_REPLICA_TYPE, CStringGetTextDatum("STANDALONE"));
	SET(CSMS_OUT_REPLICAS,
		PointerGetDatum(construct_empty_array(get_element_type(TupleDescAttr(tupdesc, CSMS_OUT_REPLICAS)->atttypid))));
	SET(CSMS_OUT_OWNER, DirectFunctionCall1(namein,
											CStringGetDatum(GetUserNameFromId(call->save_uid, false))));
#undef SET
	tup = heap_form_tuple(tupdesc, values, isnull);
	MemoryContextSwitchTo(old);
	return tup;
}

/* The csms_version_metadata row of a new version, from what was written */
HeapTuple
csms_version_made_tuple(CsmsCall *call, TupleDesc tupdesc, const CsmsSecret *s,
						const CsmsMade *made, const Datum *expire_time)
{
	Datum		values[CSMS_METADATA_NCOLS];
	bool		nulls[CSMS_METADATA_NCOLS];
	Datum	   *names;
	int			i;
	MemoryContext old = MemoryContextSwitchTo(call->caller_cxt);
	HeapTuple	tup;

	names = palloc(sizeof(Datum) * Max(made->nstages, 1));
	for (i = 0; i < made->nstages; i++)
		names[i] = CStringGetTextDatum(made->stages[i]);
	memset(nulls, false, sizeof(nulls));
	values[0] = CStringGetTextDatum(csms_version_id(made->version));
	values[1] = TimestampTzGetDatum(made->time);
	values[2] = expire_time ? *expire_time : (nulls[2] = true, (Datum) 0);
	values[3] = CStringGetTextDatum(made->key->id_text);
	values[4] = CStringGetTextDatum(s->name);
	values[5] = PointerGetDatum(construct_array(names, made->nstages, TEXTOID, -1, false,
												TYPALIGN_INT));
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}
