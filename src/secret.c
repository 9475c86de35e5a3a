/*-------------------------------------------------------------------------
 *
 * secret.c
 *	  Secrets as rows of csms.secrets (see secret.h).
 *
 *	  The stages of a secret are three parallel arrays on its row
 *	  (stage_names, stage_versions, stage_times), read by csms_secret_open
 *	  into CsmsSecret.stages and written back by csms_stages_set with the
 *	  row's other changes, so that a new version is one HOT update of the
 *	  row.  The row also carries a copy of its SYSCURRENT version (current_*),
 *	  so that reading the latest value is one index lookup.
 *
 * src/secret.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "util.h"
#include "validate.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "usage.h"
#include "event.h"
#include "secret.h"

/* the columns of csms_secret (CsmsSecretOut), in order, but for replicas (computed in C) */
#define SECRET_COLUMNS \
	"s.id, s.name, s.state, s.kms_key_id::pg_catalog.text, s.description," \
	" s.create_time, s.update_time, s.scheduled_delete_time, s.secret_type," \
	" s.auto_rotation, s.rotation_period, s.rotation_config, s.rotation_time," \
	" s.next_rotation_time," \
	" CASE WHEN s.last_used_time OPERATOR(pg_catalog.<>) '-infinity'" \
	"  THEN s.last_used_time END," \
	" s.event_subscriptions," \
	" s.enterprise_project_id, s.rotation_func_urn, a.domain_id, s.region," \
	" s.replica_type, pg_catalog.pg_get_userbyid(s.owner)"

static CsmsStmt q_secret_row = {
	"SELECT " SECRET_COLUMNS " FROM csms.secrets s CROSS JOIN csms.account a"
	" WHERE s.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/* the rows of several secrets, in the order of their ids */
static CsmsStmt q_secret_rows = {
	"SELECT " SECRET_COLUMNS
	" FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(id, n)"
	" JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) u.id CROSS JOIN csms.account a"
	" ORDER BY u.n",
	1, {UUIDARRAYOID}
};

static CsmsStmt q_secret_list = {
	"SELECT " SECRET_COLUMNS " FROM csms.secrets s CROSS JOIN csms.account a"
	" WHERE s.region OPERATOR(pg_catalog.=) $1"
	"   AND ($2 IS NULL OR s.name OPERATOR(pg_catalog.>) $2)"
	"   AND ($3 IS NULL OR $3 OPERATOR(pg_catalog.=) ANY (s.event_subscriptions))"
	"   AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)"
	" ORDER BY s.name LIMIT $4",
	4, {TEXTOID, TEXTOID, TEXTOID, INT4OID}
};

/* the hot tables have no foreign keys (see the install script) */
static CsmsStmt q_secret_delete = {
	"WITH v AS (DELETE FROM csms.versions WHERE secret_id OPERATOR(pg_catalog.=) ANY ($1)),"
	" t AS (DELETE FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) ANY ($1)),"
	" g AS (DELETE FROM csms.grants WHERE object_type OPERATOR(pg_catalog.=) 'secret'"
	"       AND object_id OPERATOR(pg_catalog.=) ANY ($1)),"
	" k AS (DELETE FROM csms.secret_tasks WHERE secret_id OPERATOR(pg_catalog.=) ANY ($1))"
	" DELETE FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) ANY ($1)"
	" RETURNING id, name, region, secret_type, event_subscriptions",
	1, {UUIDARRAYOID}
};

static CsmsStmt q_secret_schedule_deletion = {
	"UPDATE csms.secrets SET state = 'PENDING_DELETE', state_before_deletion = state,"
	" scheduled_delete_time = pg_catalog.now() OPERATOR(pg_catalog.+)"
	"  pg_catalog.make_interval(days => $2),"
	" update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, INT4OID}
};

static CsmsStmt q_secret_cancel_deletion = {
	"UPDATE csms.secrets SET state = COALESCE(state_before_deletion, 'ENABLED'),"
	" state_before_deletion = NULL, scheduled_delete_time = NULL,"
	" update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_secret_set_state = {
	"UPDATE csms.secrets SET state = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TEXTOID}
};


/* the version that the SYSCURRENT stage of secret row s marks, or NULL */
#define SYSCURRENT_VERSION \
	"s.stage_versions[pg_catalog.array_position(s.stage_names, 'SYSCURRENT'::pg_catalog.text)]"

/* the copy of the SYSCURRENT version's row on the secret (see the install script) */
static CsmsStmt q_current_refresh = {
	"UPDATE csms.secrets s SET (current_version, current_key_id, current_key_version,"
	" current_wrapped_dek, current_ciphertext) ="
	" (SELECT v.version, v.key_id, v.key_version, v.wrapped_dek, v.ciphertext"
	"  FROM csms.versions v WHERE v.secret_id OPERATOR(pg_catalog.=) s.id"
	"   AND v.version OPERATOR(pg_catalog.=) " SYSCURRENT_VERSION ")"
	" WHERE s.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};


static CsmsStmt q_replica_rows = {
	"SELECT r.id, r.kms_key_id::pg_catalog.text,"
	" COALESCE(g.project_id, a.home_project_id), r.region, r.replica_type,"
	" 'InSync', r.create_time, r.update_time"
	" FROM csms.secrets r CROSS JOIN csms.account a"
	" LEFT JOIN csms.regions g ON g.name OPERATOR(pg_catalog.=) r.region"
	" WHERE (r.name OPERATOR(pg_catalog.=) $3 AND r.primary_id OPERATOR(pg_catalog.=) $1 AND $2)"
	"    OR (r.id OPERATOR(pg_catalog.=) (SELECT s.primary_id FROM csms.secrets s"
	"        WHERE s.id OPERATOR(pg_catalog.=) $1) AND NOT $2)"
	" ORDER BY r.region",
	3, {UUIDOID, BOOLOID, TEXTOID}
};

/* The gate ---------------------------------------------------------------- */

static void secret_not_found(CsmsCall *call, const char *name) pg_attribute_noreturn();
static void stages_read(const char *secret, Datum names, Datum versions, Datum times,
							 CsmsStages *out);
static Datum replicas_datum(CsmsCall *call, Oid array_type, const pg_uuid_t *id,
								 const char *name, const char *replica_type);

/* 42704 for a secret that is not in the call's region */
static void
secret_not_found(CsmsCall *call, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("secret \"%s\" does not exist in region \"%s\"",
					name, call->region)));
}

static void state_error(const CsmsSecret *s, const char *what) pg_attribute_noreturn();

/* 55000 for a state that forbids `what` */
static void
state_error(const CsmsSecret *s, const char *what)
{
	if (strcmp(s->state, "DISABLED") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" is disabled", s->name),
				 errdetail("A disabled secret keeps its versions but does not allow %s.", what),
				 errhint("Enable it with csms_enable_secret().")));
	if (strcmp(s->state, "PENDING_DELETE") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" is scheduled for deletion", s->name),
				 errdetail("A secret scheduled for deletion does not allow %s.", what),
				 errhint("It will be deleted at %s; csms_cancel_secret_deletion() cancels that.",
						 timestamptz_to_str(s->scheduled_delete_time))));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("secret \"%s\" is frozen", s->name),
			 errdetail("A frozen secret does not allow %s.", what)));
}

/* The object of a privilege check on s (secret.h) */
void
csms_secret_acl_object(const CsmsSecret *s, const char *region, CsmsAclObject *o)
{
	o->is_key = false;
	o->owner = s->owner;
	o->id = s->has_primary ? s->primary_id : s->id;
	o->name = s->name;
	o->region = region;
}

/*
 * Find the secret `name` in the call's region, check the caller's privilege
 * `priv` on it, then that `action` is allowed on it: the one place for
 * privilege and state checks.  Writes lock the secret's
 * row, so concurrent changes of one secret run one after the other.  A
 * write to a PRIMARY reaches its replicas when the write path calls
 * csms_replicas_follow (replica.h).
 */
CsmsSecret *
csms_secret_open(CsmsCall *call, const char *name, CsmsAction action, int priv)
{
	Relation	rel;
	TupleTableSlot *slot;
	Oid			procs[2] = {F_TEXTEQ, F_TEXTEQ};
	Datum		keys[2];
	LockTupleMode mode = LockTupleNoKeyExclusive;
	bool		lock = true;
	CsmsSecret *s;
	bool		isnull;
	Datum		d;

	csms_check_name("secret", name);
	switch (action)
	{
		case CSMS_ACT_READ_META:
		case CSMS_ACT_READ_VALUE:
		case CSMS_ACT_BACKUP:
			lock = false;
			break;
		case CSMS_ACT_DELETE:
			mode = LockTupleExclusive;
			break;
		default:
			break;
	}

	/*
	 * By the (name, region) index, under a statement's snapshot, and for a
	 * write locked as SELECT ... FOR NO KEY UPDATE (FOR UPDATE to delete)
	 * would lock it (csms_row_find), with the table lock that takes.
	 */
	csms_catalog_require();
	rel = table_open(csms_rel(CSMS_SECRETS), lock ? RowShareLock : AccessShareLock);
	slot = table_slot_create(rel, NULL);
	keys[0] = csms_text_datum(name);
	keys[1] = csms_text_datum(call->region);
	csms_snapshot_push();
	if (!csms_row_find(rel, csms_index(CSMS_SECRETS_BY_NAME), 2, procs, keys,
					   lock ? &mode : NULL, slot))
	{
		PopActiveSnapshot();
		secret_not_found(call, name);
	}
	PopActiveSnapshot();

	s = palloc0(sizeof(CsmsSecret));
	s->id = *DatumGetUUIDP(csms_slot_attr(slot, CSMS_SECRETS_ID, &isnull));
	s->name = TextDatumGetCString(csms_slot_attr(slot, CSMS_SECRETS_NAME, &isnull));
	s->state = TextDatumGetCString(csms_slot_attr(slot, CSMS_SECRETS_STATE, &isnull));
	s->kms_key_id = *DatumGetUUIDP(csms_slot_attr(slot, CSMS_SECRETS_KMS_KEY_ID, &isnull));
	s->replica_type = TextDatumGetCString(csms_slot_attr(slot, CSMS_SECRETS_REPLICA_TYPE, &isnull));
	s->last_version = DatumGetInt32(csms_slot_attr(slot, CSMS_SECRETS_LAST_VERSION, &isnull));
	s->version_count = DatumGetInt32(csms_slot_attr(slot, CSMS_SECRETS_VERSION_COUNT, &isnull));
	s->auto_rotation = DatumGetBool(csms_slot_attr(slot, CSMS_SECRETS_AUTO_ROTATION, &isnull));
	d = csms_slot_attr(slot, CSMS_SECRETS_ROTATION_PERIOD, &isnull);
	s->rotation_period = isnull ? NULL : TextDatumGetCString(d);
	d = csms_slot_attr(slot, CSMS_SECRETS_PRIMARY_ID, &isnull);
	if (!isnull)
	{
		s->has_primary = true;
		s->primary_id = *DatumGetUUIDP(d);
	}
	{
		Datum		names = csms_slot_attr(slot, CSMS_SECRETS_STAGE_NAMES, &isnull);
		Datum		versions = csms_slot_attr(slot, CSMS_SECRETS_STAGE_VERSIONS, &isnull);
		Datum		times = csms_slot_attr(slot, CSMS_SECRETS_STAGE_TIMES, &isnull);

		/* NOT NULL columns */
		stages_read(s->name, names, versions, times, &s->stages);
	}
	s->owner = DatumGetObjectId(csms_slot_attr(slot, CSMS_SECRETS_OWNER, &isnull));
	d = csms_slot_attr(slot, CSMS_SECRETS_EVENT_SUBSCRIPTIONS, &isnull);
	s->event = isnull ? NULL : csms_event_subscribed(d);
	s->secret_type = TextDatumGetCString(csms_slot_attr(slot, CSMS_SECRETS_SECRET_TYPE, &isnull));
	d = csms_slot_attr(slot, CSMS_SECRETS_SCHEDULED_DELETE_TIME, &isnull);
	s->scheduled_delete_time = isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
	s->locked = lock;
	s->tid = slot->tts_tid;
	ExecDropSingleTupleTableSlot(slot);

	/* the caller's privilege, before anything else is said of the secret */
	if (priv != 0)
	{
		CsmsAclObject o;

		csms_secret_acl_object(s, call->region, &o);
		csms_acl_check(call->save_uid, &o, priv);
	}
	/* the table lock stays until the transaction ends, as a query's does */
	table_close(rel, NoLock);

	/* no CHECK constraint keeps these (see the install script): a raw edit */
	if (strcmp(s->state, "ENABLED") != 0 && strcmp(s->state, "DISABLED") != 0 &&
		strcmp(s->state, "PENDING_DELETE") != 0 && strcmp(s->state, "FROZEN") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" has an unknown state \"%s\"", name, csms_trunc(s->state)),
				 errdetail("Its row in csms.secrets was edited outside of the API.")));
	if (strcmp(s->replica_type, "STANDALONE") != 0 && strcmp(s->replica_type, "PRIMARY") != 0 &&
		strcmp(s->replica_type, "REPLICA") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" has an unknown replica type \"%s\"", name,
						csms_trunc(s->replica_type)),
				 errdetail("Its row in csms.secrets was edited outside of the API.")));

	/* a replica follows its primary and takes no writes of its own */
	if (action != CSMS_ACT_READ_META && action != CSMS_ACT_READ_VALUE &&
		action != CSMS_ACT_BACKUP && strcmp(s->replica_type, "REPLICA") == 0)
	{
		static CsmsStmt q_primary_region = {
			"SELECT region FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1",
			1, {UUIDOID}
		};
		Datum		arg = UUIDPGetDatum(&s->primary_id);
		char	   *primary_region = "(unknown)";

		if (s->has_primary && csms_exec(&q_primary_region, &arg, NULL, SPI_OK_SELECT, 1) == 1)
			primary_region = csms_col_text(0, 1);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" in region \"%s\" is a replica and is read-only",
						name, call->region),
				 errhint("Change the primary secret in region \"%s\"; its changes reach the replica, or promote the replica with csms_promote_replica().",
						 primary_region)));
	}
	/* a primary keeps its replicas: it goes only when they are gone */
	if ((action == CSMS_ACT_DELETE || action == CSMS_ACT_SCHEDULE_DELETION) &&
		strcmp(s->replica_type, "PRIMARY") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" has replicas", name),
				 errdetail("A primary secret cannot be deleted while replicas of it exist."),
				 errhint("Delete its replicas with csms_delete_replica(), or promote them in their regions, first.")));

	switch (action)
	{
		case CSMS_ACT_READ_META:
			break;
		case CSMS_ACT_READ_VALUE:
			if (strcmp(s->state, "ENABLED") != 0)
				state_error(s, "reading its value");
			break;
		case CSMS_ACT_WRITE_VERSION:
			if (strcmp(s->state, "ENABLED") != 0)
				state_error(s, "changing its versions");
			break;
		case CSMS_ACT_ROTATE:
			if (strcmp(s->state, "ENABLED") != 0)
				state_error(s, "rotation");
			break;
		case CSMS_ACT_WRITE_META:
		case CSMS_ACT_SET_STATE:
			if (strcmp(s->state, "ENABLED") != 0 && strcmp(s->state, "DISABLED") != 0)
				state_error(s, "changes");
			break;
		case CSMS_ACT_DELETE:
			if (strcmp(s->state, "FROZEN") == 0)
				state_error(s, "deletion");
			break;
		case CSMS_ACT_BACKUP:
			if (strcmp(s->state, "FROZEN") == 0)
				state_error(s, "backups");
			break;
		case CSMS_ACT_ACL:
			break;				/* who may do what is changed in any state */
		case CSMS_ACT_SCHEDULE_DELETION:
			if (strcmp(s->state, "PENDING_DELETE") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("secret \"%s\" is already scheduled for deletion", s->name),
						 errhint("It will be deleted at %s; csms_cancel_secret_deletion() cancels that.",
								 timestamptz_to_str(s->scheduled_delete_time))));
			if (strcmp(s->state, "ENABLED") != 0 && strcmp(s->state, "DISABLED") != 0)
				state_error(s, "deletion");
			break;
		case CSMS_ACT_CANCEL_DELETION:
			if (strcmp(s->state, "PENDING_DELETE") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("secret \"%s\" is not scheduled for deletion", s->name),
						 errdetail("Its state is %s.", s->state)));
			break;
	}
	return s;
}

/* Rows ------------------------------------------------------------------- */

/*
 * A csms_secret row's values from a row of SECRET_COLUMNS: the read not yet
 * written to last_used_time merged in, the replicas computed.
 */
static void
secret_values(CsmsCall *call, HeapTuple row, TupleDesc desc, Oid replicas_type,
			  Datum *values, bool *nulls)
{
	int			c;

	for (c = 0; c < CSMS_OUT_REPLICAS; c++)
		values[c] = SPI_getbinval(row, desc, c + 1, &nulls[c]);
	csms_usage_merge(DatumGetUUIDP(values[CSMS_OUT_ID]), &values[CSMS_OUT_LAST_USED_TIME],
					 &nulls[CSMS_OUT_LAST_USED_TIME]);
	values[CSMS_OUT_REPLICAS] = replicas_datum(call, replicas_type,
													DatumGetUUIDP(values[CSMS_OUT_ID]),
													TextDatumGetCString(values[CSMS_OUT_NAME]),
													TextDatumGetCString(values[CSMS_OUT_REPLICA_TYPE]));
	nulls[CSMS_OUT_REPLICAS] = false;
	values[CSMS_OUT_OWNER] = SPI_getbinval(row, desc, CSMS_OUT_REPLICAS + 1, &nulls[CSMS_OUT_OWNER]);
}

/* The csms_secret row of secret `id`, formed in the caller's context. */
HeapTuple
csms_secret_tuple(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *id)
{
	Datum		arg = UUIDPGetDatum(id);
	Datum		values[CSMS_OUT_NCOLS];
	bool		nulls[CSMS_OUT_NCOLS];
	MemoryContext old;
	HeapTuple	tup;

	if (csms_exec(&q_secret_row, &arg, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "secret vanished");
	secret_values(call, SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
				  TupleDescAttr(tupdesc, CSMS_OUT_REPLICAS)->atttypid, values, nulls);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}

/*
 * The csms_secret rows of secrets ids[0..n-1] (a listing's page), as Datums
 * of tupdesc's type, formed in the caller's context: one statement for all
 * of them.  A secret that is gone (not through the API) is NULL.
 */
void
csms_secret_datums(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *ids, int n,
				   Datum *out, bool *isnull)
{
	Oid			replicas_type = TupleDescAttr(tupdesc, CSMS_OUT_REPLICAS)->atttypid;
	Datum	   *elems;
	Datum		arg;
	SPITupleTable *rows;
	uint64		got,
				i;
	int			j = 0;

	if (n == 0)
		return;
	elems = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	arg = PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	got = csms_exec(&q_secret_rows, &arg, NULL, SPI_OK_SELECT, 0);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
		isnull[i] = true;
	for (i = 0; i < got; i++)
	{
		Datum		values[CSMS_OUT_NCOLS];
		bool		nulls[CSMS_OUT_NCOLS];
		MemoryContext old;

		secret_values(call, rows->vals[i], rows->tupdesc, replicas_type, values, nulls);
		/* the rows come in the order of ids, without those that are gone */
		while (j < n && memcmp(&ids[j], DatumGetUUIDP(values[CSMS_OUT_ID]), UUID_LEN) != 0)
			j++;
		if (j == n)
			elog(ERROR, "secret rows out of order");
		old = MemoryContextSwitchTo(call->caller_cxt);
		out[j] = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
		MemoryContextSwitchTo(old);
		isnull[j++] = false;
	}
}

/* One page of secrets of the call's region (secret.h) */
void
csms_secret_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size,
				 const char *marker, const char *event)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Oid			replicas_type = TupleDescAttr(rsinfo->setDesc, CSMS_OUT_REPLICAS)->atttypid;
	SPITupleTable *rows;
	uint64		n,
				i;

	args[0] = csms_text_datum(call->region);
	args[1] = marker ? csms_text_datum(marker) : (nulls[1] = 'n', (Datum) 0);
	args[2] = event ? csms_text_datum(event) : (nulls[2] = 'n', (Datum) 0);
	args[3] = Int32GetDatum(page_size);
	n = csms_exec(&q_secret_list, args, nulls, SPI_OK_SELECT, 0);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		Datum		values[CSMS_OUT_NCOLS];
		bool		isnull[CSMS_OUT_NCOLS];

		secret_values(call, rows->vals[i], rows->tupdesc, replicas_type, values, isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
}

/* Set the state of s (locked by the gate for CSMS_ACT_SET_STATE). */
void
csms_secret_set_state(CsmsSecret *s, const char *state)
{
	Datum		args[2];

	if (strcmp(s->state, state) == 0)
		return;
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(state);
	csms_exec(&q_secret_set_state, args, NULL, SPI_OK_UPDATE, 0);
}

/*
 * Delete secrets ids[0..n-1] with their versions, tags, grants and rotation
 * tasks: the one
 * place a secret is deleted.  SECRET_DELETED fires first, while the rows
 * still say whom to tell.
 */
void
csms_secrets_delete(const pg_uuid_t *ids, int n)
{
	Datum	   *elems;
	Datum		arg;
	CsmsEventSubject *gone;
	uint64		ndeleted,
				i;

	if (n <= 0)
		return;
	elems = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	arg = PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	ndeleted = csms_exec(&q_secret_delete, &arg, NULL, SPI_OK_DELETE_RETURNING, 0);

	/* SECRET_DELETED, from what the rows said */
	gone = palloc0(sizeof(CsmsEventSubject) * Max(ndeleted, 1));
	for (i = 0; i < ndeleted; i++)
	{
		bool		isnull;

		gone[i].id = *DatumGetUUIDP(csms_col(i, 1, &isnull));
		gone[i].name = csms_col_text(i, 2);
		gone[i].region = csms_col_text(i, 3);
		gone[i].secret_type = csms_col_text(i, 4);
		gone[i].event = csms_event_subscribed(csms_col(i, 5, &isnull));
		gone[i].expire_time = DT_NOBEGIN;
	}
	csms_events_fire(CSMS_EVENT_DELETED, gone, (int) ndeleted);
}

/* Schedule the deletion of s in `days` days (secret.h) */
void
csms_secret_schedule_deletion(CsmsSecret *s, int days)
{
	Datum		args[2];

	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(days);
	csms_exec(&q_secret_schedule_deletion, args, NULL, SPI_OK_UPDATE, 0);
}

/* Cancel the scheduled deletion of s: the state before it comes back */
void
csms_secret_cancel_deletion(CsmsSecret *s)
{
	Datum		arg = UUIDPGetDatum(&s->id);

	csms_exec(&q_secret_cancel_deletion, &arg, NULL, SPI_OK_UPDATE, 0);
}

/*
 * The replicas array of a csms_secret: for a PRIMARY each replica, for a
 * REPLICA its primary, for a STANDALONE secret nothing.
 */
static Datum
replicas_datum(CsmsCall *call, Oid array_type, const pg_uuid_t *id,
					const char *name, const char *replica_type)
{
	Oid			elem_type = get_element_type(array_type);
	TupleDesc	desc;
	Datum	   *elems;
	Datum		args[3];
	SPITupleTable *rows;
	uint64		n,
				i;
	ArrayType  *arr;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (strcmp(replica_type, "STANDALONE") == 0)
		return PointerGetDatum(construct_empty_array(elem_type));

	args[0] = UUIDPGetDatum(id);
	args[1] = BoolGetDatum(strcmp(replica_type, "PRIMARY") == 0);
	args[2] = csms_text_datum(name);
	n = csms_exec(&q_replica_rows, args, NULL, SPI_OK_SELECT, 0);
	rows = SPI_tuptable;
	desc = lookup_rowtype_tupdesc_copy(elem_type, -1);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8];
		int			c;

		for (c = 0; c < 8; c++)
			values[c] = SPI_getbinval(rows->vals[i], rows->tupdesc, c + 1, &nulls[c]);
		elems[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	get_typlenbyvalalign(elem_type, &typlen, &typbyval, &typalign);
	arr = construct_array(elems, (int) n, elem_type, typlen, typbyval, typalign);
	return PointerGetDatum(arr);
}

/* Stages ------------------------------------------------------------------ */

/* The index of stage `name` in st, or -1. */
int
csms_stages_find(const CsmsStages *st, const char *name)
{
	int			i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->names[i], name) == 0)
			return i;
	return -1;
}

/* The version stage `name` marks, or 0 when the secret has no such stage. */
int
csms_stages_version(const CsmsStages *st, const char *name)
{
	int			i = csms_stages_find(st, name);

	return i < 0 ? 0 : st->versions[i];
}

static void stages_malformed(const char *secret) pg_attribute_noreturn();

/* XX001 for stage columns edited outside the API */
static void
stages_malformed(const char *secret)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("secret \"%s\" has malformed stages", secret),
			 errdetail("Its row in csms.secrets was edited outside of the API.")));
}

/*
 * The stages of the row of secret `secret` from its three stage columns.
 * No CHECK constraint keeps their shape (see the install script): arrays
 * that are not one list of at most CSMS_MAX_STAGES (name, version, time)
 * are a raw edit, and an error.
 */
static void
stages_read(const char *secret, Datum names, Datum versions, Datum times,
				 CsmsStages *out)
{
	ArrayType  *an = DatumGetArrayTypeP(names);
	ArrayType  *av = DatumGetArrayTypeP(versions);
	ArrayType  *at = DatumGetArrayTypeP(times);
	int			n = ArrayGetNItems(ARR_NDIM(an), ARR_DIMS(an));
	Datum	   *elems;
	int			nelems,
				i;
	const int32 *v;
	const TimestampTz *t;

	if (ARR_NDIM(an) > 1 || ARR_NDIM(av) > 1 || ARR_NDIM(at) > 1 ||
		ARR_HASNULL(an) || ARR_HASNULL(av) || ARR_HASNULL(at) ||
		n > CSMS_MAX_STAGES || ArrayGetNItems(ARR_NDIM(av), ARR_DIMS(av)) != n ||
		ArrayGetNItems(ARR_NDIM(at), ARR_DIMS(at)) != n)
		stages_malformed(secret);
	out->n = n;
	if (n == 0)
		return;
	deconstruct_array(an, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	v = (const int32 *) ARR_DATA_PTR(av);
	t = (const TimestampTz *) ARR_DATA_PTR(at);
	for (i = 0; i < n; i++)
	{
		int			j;

		out->names[i] = TextDatumGetCString(elems[i]);
		out->versions[i] = v[i];
		out->times[i] = t[i];
		for (j = 0; j < i; j++)
			if (strcmp(out->names[j], out->names[i]) == 0)
				stages_malformed(secret);
	}
}

/* The three stage columns of a row that holds st. */
void
csms_stages_datums(const CsmsStages *st, Datum *names, Datum *versions, Datum *times)
{
	Datum		n[CSMS_MAX_STAGES];
	Datum		v[CSMS_MAX_STAGES];
	Datum		t[CSMS_MAX_STAGES];
	int			i;

	for (i = 0; i < st->n; i++)
	{
		n[i] = CStringGetTextDatum(st->names[i]);
		v[i] = Int32GetDatum(st->versions[i]);
		t[i] = TimestampTzGetDatum(st->times[i]);
	}
	*names = PointerGetDatum(construct_array(n, st->n, TEXTOID, -1, false, TYPALIGN_INT));
	*versions = PointerGetDatum(construct_array(v, st->n, INT4OID, sizeof(int32), true,
												TYPALIGN_INT));
	*times = PointerGetDatum(construct_array(t, st->n, TIMESTAMPTZOID, sizeof(TimestampTz),
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Fail with 54000 when giving `names` to this secret would make it hold more
 * than CSMS_MAX_STAGES distinct stages.
 */
void
csms_stages_check_limit(CsmsSecret *s, char **names, int n)
{
	int			added = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (csms_stages_find(&s->stages, names[i]) < 0)
			added++;
	if (s->stages.n + added > CSMS_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret \"%s\" would have more than %d stages", s->name, CSMS_MAX_STAGES),
				 errdetail("It has %d stages and %d new ones were asked for.", s->stages.n, added),
				 errhint("Delete stages that are no longer used with csms_delete_secret_stage().")));
}

/*
 * Attach stages names[i] of secret s to versions[i] (i < n), moving each
 * stage that marks another version; a version of 0 deletes the stage.  The
 * one place the stages of an existing secret are written: s->stages changes,
 * and the secret's row (which csms_secret_open locked) takes them in one
 * update with the caller's other columns (extra), stage_times[i] = when for
 * each stage given.  The caller checked the limit (check_stage_limit).  When
 * SYSCURRENT is among them, the copy of its version on the secret's row is
 * refreshed, unless the caller writes that copy itself among extra
 * (CSMS_STAGES_COPY_WRITTEN: a new version, whose sealed row it holds);
 * after such a refresh s->tid is not the row's latest version.
 */
void
csms_stages_set(CsmsSecret *s, int n, char **names, const int *versions,
				TimestampTz when, const CsmsCol *extra, int nextra, int flags)
{
	CsmsStages *st = &s->stages;
	CsmsCol    *cols = palloc(sizeof(CsmsCol) * (3 + nextra));
	CsmsWriter *w;
	bool		current = false;
	Datum		dn,
				dv,
				dt;
	int			i;

	Assert(s->locked);
	for (i = 0; i < n; i++)
	{
		int			j = csms_stages_find(st, names[i]);

		current |= strcmp(names[i], "SYSCURRENT") == 0;
		if (versions[i] == 0)
		{
			if (j >= 0)
			{
				st->n--;
				memmove(&st->names[j], &st->names[j + 1], sizeof(char *) * (st->n - j));
				memmove(&st->versions[j], &st->versions[j + 1], sizeof(int) * (st->n - j));
				memmove(&st->times[j], &st->times[j + 1], sizeof(TimestampTz) * (st->n - j));
			}
			continue;
		}
		if (j < 0)
		{
			if (st->n == CSMS_MAX_STAGES)
				elog(ERROR, "secret \"%s\" would have more than %d stages", s->name,
					 CSMS_MAX_STAGES);
			j = st->n++;
			st->names[j] = pstrdup(names[i]);
		}
		st->versions[j] = versions[i];
		st->times[j] = when;
	}

	csms_stages_datums(st, &dn, &dv, &dt);
	{
		CsmsCol		stage_cols[3] = {
			{CSMS_SECRETS_STAGE_NAMES, dn, false},
			{CSMS_SECRETS_STAGE_VERSIONS, dv, false},
			{CSMS_SECRETS_STAGE_TIMES, dt, false},
		};

		memcpy(cols, stage_cols, sizeof(stage_cols));
	}
	if (nextra > 0)
		memcpy(&cols[3], extra, sizeof(CsmsCol) * nextra);
	w = csms_writer_begin(CSMS_SECRETS, CSMS_WRITE_UPDATE);
	csms_writer_update(w, &s->tid, cols, 3 + nextra);
	csms_writer_end(w);
	if (current && !(flags & CSMS_STAGES_COPY_WRITTEN))
		csms_current_refresh(&s->id);
}

/*
 * Copy the SYSCURRENT version's row onto the secret's row, for the read
 * path.  Called wherever SYSCURRENT moves (csms_stages_set), a data key is
 * re-wrapped or a replica is rebuilt: the one place the copy is written
 * from the versions (a new version writes it from the row it sealed).
 */
void
csms_current_refresh(const pg_uuid_t *secret_id)
{
	Datum		arg = UUIDPGetDatum(secret_id);

	csms_exec(&q_current_refresh, &arg, NULL, SPI_OK_UPDATE, 0);
}


/* The stage API ----------------------------------------------------------- */

/* Move a stage to a version (secret.h) */
void
csms_stage_move(CsmsSecret *s, const char *stage, int version)
{
	char	   *names[2];
	int			versions[2];
	int			n = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	CsmsCol		touch = {CSMS_SECRETS_UPDATE_TIME, TimestampTzGetDatum(now), false};

	if (strcmp(stage, "SYSCURRENT") == 0)
	{
		int			current = csms_stages_version(&s->stages, "SYSCURRENT");

		/* the version that was current becomes the previous one */
		if (current > 0 && current != version)
		{
			names[n] = "SYSPREVIOUS";
			versions[n++] = current;
		}
	}
	names[n] = (char *) stage;
	versions[n++] = version;
	csms_stages_check_limit(s, names, n);
	csms_stages_set(s, n, names, versions, now, &touch, 1, 0);
}

/* Delete a stage (secret.h) */
void
csms_stage_delete(CsmsSecret *s, const char *stage)
{
	int			none = 0;
	char	   *name = (char *) stage;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	CsmsCol		touch = {CSMS_SECRETS_UPDATE_TIME, TimestampTzGetDatum(now), false};

	if (csms_stages_find(&s->stages, stage) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stage \"%s\" of secret \"%s\" does not exist", stage, s->name)));
	csms_stages_set(s, 1, &name, &none, now, &touch, 1, 0);
}

/* The csms_secret_stage row of a stage */
HeapTuple
csms_stage_tuple(CsmsCall *call, TupleDesc tupdesc, CsmsSecret *s, const char *stage)
{
	int			i = csms_stages_find(&s->stages, stage);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	MemoryContext old;
	HeapTuple	tup;

	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stage \"%s\" of secret \"%s\" does not exist", stage, s->name)));
	old = MemoryContextSwitchTo(call->caller_cxt);
	values[0] = CStringGetTextDatum(s->stages.names[i]);
	values[1] = CStringGetTextDatum(s->name);
	values[2] = TimestampTzGetDatum(s->stages.times[i]);
	values[3] = CStringGetTextDatum(csms_version_id(s->stages.versions[i]));
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}
