/*-------------------------------------------------------------------------
 *
 * secrets_api.c
 *	  The gate through which every operation on one secret passes
 *	  (csms_secret_open), and the SQL entry points for secrets:
 *	  csms_create_secret, csms_show_secret, csms_list_secrets,
 *	  csms_update_secret, csms_delete_secret, csms_enable_secret,
 *	  csms_disable_secret.
 *
 * src/secrets_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "secrets.h"

PG_FUNCTION_INFO_V1(csms_create_secret);
PG_FUNCTION_INFO_V1(csms_show_secret);
PG_FUNCTION_INFO_V1(csms_list_secrets);
PG_FUNCTION_INFO_V1(csms_update_secret);
PG_FUNCTION_INFO_V1(csms_delete_secret);
PG_FUNCTION_INFO_V1(csms_enable_secret);
PG_FUNCTION_INFO_V1(csms_disable_secret);

/* The csms_secret columns, in order, but for replicas (computed in C). */
#define SECRET_COLUMNS \
	"s.id, s.name, s.state, s.kms_key_id::pg_catalog.text, s.description," \
	" s.create_time, s.update_time, s.scheduled_delete_time, s.secret_type," \
	" s.auto_rotation, s.rotation_period, s.rotation_config, s.rotation_time," \
	" s.next_rotation_time," \
	" (SELECT u.last_used_time FROM csms.usage u" \
	"   WHERE u.secret_id OPERATOR(pg_catalog.=) s.id)," \
	" s.event_subscriptions," \
	" s.enterprise_project_id, s.rotation_func_urn, a.domain_id, s.region," \
	" s.replica_type"
#define SECRET_NCOLS 21
#define SECRET_LAST_USED 14		/* index of last_used_time in SECRET_COLUMNS */

static CsmsStmt q_secret_row = {
	"SELECT " SECRET_COLUMNS " FROM csms.secrets s CROSS JOIN csms.account a"
	" WHERE s.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_secret_list = {
	"SELECT " SECRET_COLUMNS " FROM csms.secrets s CROSS JOIN csms.account a"
	" WHERE s.region OPERATOR(pg_catalog.=) $1"
	"   AND ($2 IS NULL OR s.name OPERATOR(pg_catalog.>) $2)"
	"   AND ($3 IS NULL OR $3 OPERATOR(pg_catalog.=) ANY (s.event_subscriptions))"
	" ORDER BY s.name LIMIT $4",
	4, {TEXTOID, TEXTOID, TEXTOID, INT4OID}
};

static CsmsStmt q_tags_insert = {
	"INSERT INTO csms.tags (secret_id, key, value)"
	" SELECT $1, t.key, t.value FROM pg_catalog.jsonb_each_text($2) t",
	2, {UUIDOID, JSONBOID}
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

static CsmsStmt q_secret_versions_keys = {
	"SELECT v.version, v.key_id, v.key_version, v.wrapped_dek, k.alias, k.state"
	" FROM csms.versions v JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 ORDER BY v.version",
	1, {UUIDOID}
};

static CsmsStmt q_version_rewrap = {
	"UPDATE csms.versions SET key_id = $3, key_version = $4, wrapped_dek = $5"
	" WHERE secret_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
	5, {UUIDOID, INT4OID, UUIDOID, INT4OID, BYTEAOID}
};

/* the hot tables have no foreign keys (see the install script) */
static CsmsStmt q_secret_delete = {
	"WITH v AS (DELETE FROM csms.versions WHERE secret_id OPERATOR(pg_catalog.=) $1),"
	" t AS (DELETE FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) $1),"
	" u AS (DELETE FROM csms.usage WHERE secret_id OPERATOR(pg_catalog.=) $1)"
	" DELETE FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_secret_set_state = {
	"UPDATE csms.secrets SET state = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TEXTOID}
};

/* Arguments ------------------------------------------------------------- */

char *
csms_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

char *
csms_arg_text_opt(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * The value of a call that takes secret_string (argument string_arg) or
 * secret_binary (binary_arg): exactly one, at most CSMS_VALUE_MAXLEN bytes.
 * Returns the kind; *value points into the argument.
 */
char
csms_value_arg(FunctionCallInfo fcinfo, int string_arg, int binary_arg,
			   const char **value, Size *len)
{
	struct varlena *v;

	if (PG_ARGISNULL(string_arg) == PG_ARGISNULL(binary_arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exactly one of secret_string and secret_binary must be given")));
	v = PG_GETARG_VARLENA_PP(PG_ARGISNULL(string_arg) ? binary_arg : string_arg);
	*value = VARDATA_ANY(v);
	*len = VARSIZE_ANY_EXHDR(v);
	csms_check_value_size(*len);
	return PG_ARGISNULL(string_arg) ? CSMS_KIND_BINARY : CSMS_KIND_STRING;
}

/* The gate ---------------------------------------------------------------- */

void
csms_secret_not_found(CsmsCall *call, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("secret \"%s\" does not exist in region \"%s\"",
					name, call->region)));
}

static void
state_error(const CsmsSecret *s, const char *what) pg_attribute_noreturn();

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
				 errdetail("A secret scheduled for deletion does not allow %s.", what)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("secret \"%s\" is frozen", s->name),
			 errdetail("A frozen secret does not allow %s.", what)));
}

/*
 * Find the secret `name` in the call's region and check that `action` is
 * allowed on it: this is the one place for privilege and state checks.
 * Writes lock the secret's row, so concurrent changes of one secret run one
 * after the other.
 *
 * Privileges: in 1.0, EXECUTE on each API function is the privilege (the
 * install script revokes it from PUBLIC); per-secret owners and grants are
 * checked here when they come.
 */
CsmsSecret *
csms_secret_open(CsmsCall *call, const char *name, CsmsAction action)
{
	Oid			nsp;
	Oid			relid;
	Oid			index;
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
	nsp = get_namespace_oid("csms", false);
	relid = get_relname_relid("secrets", nsp);
	index = get_relname_relid("secrets_name_region_key", nsp);
	if (!OidIsValid(relid) || !OidIsValid(index))
		elog(ERROR, "relation \"csms.secrets\" or its (name, region) index does not exist");
	rel = table_open(relid, lock ? RowShareLock : AccessShareLock);
	slot = table_slot_create(rel, NULL);
	keys[0] = csms_text_datum(name);
	keys[1] = csms_text_datum(call->region);
	csms_snapshot_push();
	if (!csms_row_find(rel, index, 2, procs, keys, lock ? &mode : NULL, slot))
	{
		PopActiveSnapshot();
		csms_secret_not_found(call, name);
	}
	PopActiveSnapshot();

	s = palloc0(sizeof(CsmsSecret));
	s->id = *DatumGetUUIDP(csms_slot_col(slot, 1, "id", UUIDOID, &isnull));
	s->name = TextDatumGetCString(csms_slot_col(slot, 3, "name", TEXTOID, &isnull));
	s->state = TextDatumGetCString(csms_slot_col(slot, 4, "state", TEXTOID, &isnull));
	s->kms_key_id = *DatumGetUUIDP(csms_slot_col(slot, 5, "kms_key_id", UUIDOID, &isnull));
	s->replica_type = TextDatumGetCString(csms_slot_col(slot, 20, "replica_type", TEXTOID, &isnull));
	s->last_version = DatumGetInt32(csms_slot_col(slot, 22, "last_version", INT4OID, &isnull));
	s->version_count = DatumGetInt32(csms_slot_col(slot, 31, "version_count", INT4OID, &isnull));
	s->auto_rotation = DatumGetBool(csms_slot_col(slot, 8, "auto_rotation", BOOLOID, &isnull));
	d = csms_slot_col(slot, 9, "rotation_period", TEXTOID, &isnull);
	s->rotation_period = isnull ? NULL : TextDatumGetCString(d);
	d = csms_slot_col(slot, 21, "primary_id", UUIDOID, &isnull);
	if (!isnull)
	{
		s->has_primary = true;
		s->primary_id = *DatumGetUUIDP(d);
	}
	{
		Datum		names = csms_slot_col(slot, 28, "stage_names", TEXTARRAYOID, &isnull);
		Datum		versions = csms_slot_col(slot, 29, "stage_versions", INT4ARRAYOID, &isnull);
		Datum		times = csms_slot_col(slot, 30, "stage_times", TIMESTAMPTZARRAYOID, &isnull);

		/* NOT NULL columns */
		csms_stages_read(s->name, names, versions, times, &s->stages);
	}
	s->locked = lock;
	s->tid = slot->tts_tid;
	ExecDropSingleTupleTableSlot(slot);
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
	if (action == CSMS_ACT_DELETE && strcmp(s->replica_type, "PRIMARY") == 0)
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
	}

	/* every write to a primary reaches its replicas when the call ends */
	if ((action == CSMS_ACT_WRITE_META || action == CSMS_ACT_WRITE_VERSION ||
		 action == CSMS_ACT_SET_STATE) && strcmp(s->replica_type, "PRIMARY") == 0)
	{
		call->changed_primary = true;
		call->changed_primary_id = s->id;
		strlcpy(call->changed_primary_name, s->name, sizeof(call->changed_primary_name));
	}
	return s;
}

/* The csms_secret row of secret `id`, formed in the caller's context. */
HeapTuple
csms_secret_tuple(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *id)
{
	Datum		arg = UUIDPGetDatum(id);
	Datum		values[SECRET_NCOLS + 1];
	bool		nulls[SECRET_NCOLS + 1];
	int			i;
	MemoryContext old;
	HeapTuple	tup;
	Oid			replica_type;

	if (csms_exec(&q_secret_row, &arg, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "secret vanished");
	for (i = 0; i < SECRET_NCOLS; i++)
		values[i] = csms_col(0, i + 1, &nulls[i]);
	csms_usage_merge(id, &values[SECRET_LAST_USED], &nulls[SECRET_LAST_USED]);

	replica_type = TupleDescAttr(tupdesc, SECRET_NCOLS)->atttypid;
	values[SECRET_NCOLS] = csms_replicas_datum(call, replica_type, id,
											   TextDatumGetCString(values[1]),
											   TextDatumGetCString(values[SECRET_NCOLS - 1]));
	nulls[SECRET_NCOLS] = false;
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}

static TupleDesc
result_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return tupdesc;
}

/* Argument checks shared by create and update ------------------------------- */

static void
check_rotation_config(Jsonb *config, const char *secret_type)
{
	bool		needs = strcmp(secret_type, "RDS-FG") == 0 ||
		strcmp(secret_type, "GaussDB-FG") == 0;

	if (config == NULL)
	{
		if (needs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rotation_config is required for secrets of type %s", secret_type),
					 errhint("Give '{\"InstanceId\": \"...\", \"SecretSubType\": \"SingleUser\"}' or \"MultiUser\".")));
		return;
	}
	if (!JB_ROOT_IS_OBJECT(config) || JB_ROOT_IS_SCALAR(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_config must be a JSON object")));
	if (strlen(JsonbToCString(NULL, &config->root, VARSIZE(config))) > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_config is too long"),
				 errdetail("The JSON text of rotation_config has at most 1024 characters.")));
	if (needs)
	{
		JsonbValue *iid = getKeyJsonValueFromContainer(&config->root, "InstanceId", 10, NULL);
		JsonbValue *sub = getKeyJsonValueFromContainer(&config->root, "SecretSubType", 13, NULL);

		if (iid == NULL || iid->type != jbvString || iid->val.string.len == 0 ||
			sub == NULL || sub->type != jbvString ||
			!((sub->val.string.len == 10 && strncmp(sub->val.string.val, "SingleUser", 10) == 0) ||
			  (sub->val.string.len == 9 && strncmp(sub->val.string.val, "MultiUser", 9) == 0)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid rotation_config for a secret of type %s", secret_type),
					 errdetail("It needs a string \"InstanceId\" and \"SecretSubType\" \"SingleUser\" or \"MultiUser\".")));
	}
}

static void
check_printable(const char *what, const char *s, int maxlen)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
			break;
	if (*p != '\0' || p == s || p - s > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", what, csms_trunc(s)),
				 errdetail("A %s is 1 to %d printable ASCII characters.", what, maxlen)));
}

/* csms_create_secret --------------------------------------------------------- */

Datum
csms_create_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *key_ref = csms_arg_text_opt(fcinfo, 3);
	char	   *description = csms_arg_text_opt(fcinfo, 4);
	char	   *secret_type = PG_ARGISNULL(5) ? "COMMON" : csms_arg_text(fcinfo, 5, "secret_type");
	bool		auto_rotation = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);
	char	   *rotation_period = csms_arg_text_opt(fcinfo, 7);
	Jsonb	   *rotation_config = PG_ARGISNULL(8) ? NULL : PG_GETARG_JSONB_P(8);
	ArrayType  *subs = PG_ARGISNULL(9) ? NULL : PG_GETARG_ARRAYTYPE_P(9);
	char	   *project = PG_ARGISNULL(10) ? "0" : csms_arg_text(fcinfo, 10, "enterprise_project_id");
	char	   *urn = csms_arg_text_opt(fcinfo, 11);
	Jsonb	   *tags = PG_ARGISNULL(12) ? NULL : PG_GETARG_JSONB_P(12);
	Interval   *period = NULL;
	pg_uuid_t	id;
	CsmsKey    *key;
	const char *value;
	Size		len;
	char		kind;
	Datum		next_rotation = (Datum) 0;
	Datum		subs_datum;
	HeapTuple	tup;
	TupleDesc	tupdesc;
	bool		cached_tupdesc;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	CsmsSealed	sealed;
	CsmsStages	stages;
	Datum		stage_names,
				stage_versions,
				stage_times;

	/* arguments, all before touching anything */
	csms_check_name("secret", name);
	kind = csms_value_arg(fcinfo, 1, 2, &value, &len);
	if (description)
		csms_check_description(description);
	if (strcmp(secret_type, "COMMON") != 0 && strcmp(secret_type, "RDS-FG") != 0 &&
		strcmp(secret_type, "GaussDB-FG") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret type \"%s\"", csms_trunc(secret_type)),
				 errdetail("The secret types are COMMON, RDS-FG and GaussDB-FG.")));
	if (rotation_period)
		csms_check_rotation_period(rotation_period, &period);
	if (auto_rotation && rotation_period == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_period is required when auto_rotation is true")));
	check_rotation_config(rotation_config, secret_type);
	if (subs)
		csms_check_event_subscriptions(subs);
	check_printable("enterprise project id", project, 36);
	if (urn)
		check_printable("rotation function URN", urn, 1024);
	if (tags)
		csms_check_tags(tags);

	csms_call_begin(&call, "csms_create_secret", CSMS_NEED_ROOT_KEY | CSMS_CACHED_ACCOUNT);
	key = csms_key_resolve(&call, key_ref, true, false);
	csms_key_require_enabled(key);
	csms_key_material(&call, key, key->version);

	csms_random_uuid(&id);
	csms_store_version(&call, &id, call.region, 1, key, kind, value, len, &now, NULL,
					   &sealed);
	if (auto_rotation && period)
		next_rotation = DirectFunctionCall2(timestamptz_pl_interval, now,
											IntervalPGetDatum(period));
	subs_datum = subs ? PointerGetDatum(subs) : PointerGetDatum(construct_empty_array(TEXTOID));

	/*
	 * the secret's row, with v1 as its SYSCURRENT version and its copy:
	 * every column, in the table's order (fill_slot matches them in one pass)
	 */
	stages.n = 1;
	stages.names[0] = "SYSCURRENT";
	stages.versions[0] = 1;
	stages.times[0] = DatumGetTimestampTz(now);
	csms_stages_datums(&stages, &stage_names, &stage_versions, &stage_times);
	{
		CsmsCol		cols[] = {
			{"id", UUIDOID, UUIDPGetDatum(&id), false},
			{"region", TEXTOID, csms_text_datum(call.region), false},
			{"name", TEXTOID, csms_text_datum(name), false},
			{"state", TEXTOID, csms_text_datum("ENABLED"), false},
			{"kms_key_id", UUIDOID, UUIDPGetDatum(&key->id), false},
			{"description", TEXTOID, description ? csms_text_datum(description) : 0, description == NULL},
			{"secret_type", TEXTOID, csms_text_datum(secret_type), false},
			{"auto_rotation", BOOLOID, BoolGetDatum(auto_rotation), false},
			{"rotation_period", TEXTOID, rotation_period ? csms_text_datum(rotation_period) : 0,
			rotation_period == NULL},
			{"rotation_config", JSONBOID, rotation_config ? JsonbPGetDatum(rotation_config) : 0,
			rotation_config == NULL},
			{"rotation_time", TIMESTAMPTZOID, (Datum) 0, true},
			{"next_rotation_time", TIMESTAMPTZOID, next_rotation, !(auto_rotation && period)},
			{"event_subscriptions", TEXTARRAYOID, subs_datum, false},
			{"enterprise_project_id", TEXTOID, csms_text_datum(project), false},
			{"rotation_func_urn", TEXTOID, urn ? csms_text_datum(urn) : 0, urn == NULL},
			{"create_time", TIMESTAMPTZOID, now, false},
			{"update_time", TIMESTAMPTZOID, now, false},
			{"scheduled_delete_time", TIMESTAMPTZOID, (Datum) 0, true},
			{"replica_type", TEXTOID, csms_text_datum("STANDALONE"), false},
			{"primary_id", UUIDOID, (Datum) 0, true},
			{"last_version", INT4OID, Int32GetDatum(1), false},
			{"current_version", INT4OID, Int32GetDatum(1), false},
			{"current_key_id", UUIDOID, UUIDPGetDatum(&key->id), false},
			{"current_key_version", INT4OID, Int32GetDatum(key->version), false},
			{"current_wrapped_dek", BYTEAOID, PointerGetDatum(sealed.wrapped_dek), false},
			{"current_ciphertext", BYTEAOID, PointerGetDatum(sealed.ciphertext), false},
			{"stage_names", TEXTARRAYOID, stage_names, false},
			{"stage_versions", INT4ARRAYOID, stage_versions, false},
			{"stage_times", TIMESTAMPTZARRAYOID, stage_times, false},
			{"version_count", INT4OID, Int32GetDatum(1), false},
		};

		if (!csms_row_insert("secrets", "secrets_name_region_key", cols, lengthof(cols)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("secret \"%s\" already exists in region \"%s\"", name, call.region)));
	}

	if (tags)
	{
		Datum		targs[2];

		targs[0] = UUIDPGetDatum(&id);
		targs[1] = JsonbPGetDatum(tags);
		csms_exec(&q_tags_insert, targs, NULL, SPI_OK_INSERT, 0);
	}

	/* the result: every value is known, no query (see csms_secret_tuple) */
	tupdesc = csms_result_rowtype(fcinfo, &cached_tupdesc);
	{
		Datum		values[SECRET_NCOLS + 1];
		bool		isnull[SECRET_NCOLS + 1];
		int			i;
		MemoryContext old = MemoryContextSwitchTo(call.caller_cxt);

		for (i = 0; i < SECRET_NCOLS + 1; i++)
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
		}
#define SET(col, v)	(values[col] = (v), isnull[col] = false)
		SET(0, UUIDPGetDatum(&id));
		SET(1, CStringGetTextDatum(name));
		SET(2, CStringGetTextDatum("ENABLED"));
		SET(3, CStringGetTextDatum(key->id_text));
		if (description)
			SET(4, CStringGetTextDatum(description));
		SET(5, now);
		SET(6, now);
		SET(8, CStringGetTextDatum(secret_type));
		SET(9, BoolGetDatum(auto_rotation));
		if (rotation_period)
			SET(10, CStringGetTextDatum(rotation_period));
		if (rotation_config)
			SET(11, JsonbPGetDatum(rotation_config));
		if (auto_rotation && period)
			SET(13, next_rotation);
		SET(15, subs_datum);
		SET(16, CStringGetTextDatum(project));
		if (urn)
			SET(17, CStringGetTextDatum(urn));
		SET(18, CStringGetTextDatum(call.domain_id));
		SET(19, CStringGetTextDatum(call.region));
		SET(20, CStringGetTextDatum("STANDALONE"));
		SET(SECRET_NCOLS, csms_replicas_datum(&call, TupleDescAttr(tupdesc, SECRET_NCOLS)->atttypid,
											  &id, name, "STANDALONE"));
#undef SET
		tup = heap_form_tuple(tupdesc, values, isnull);
		MemoryContextSwitchTo(old);
	}
	if (cached_tupdesc)
		ReleaseTupleDesc(tupdesc);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_show_secret ----------------------------------------------------------- */

Datum
csms_show_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_show_secret", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META);
	tup = csms_secret_tuple(&call, result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_list_secrets ---------------------------------------------------------- */

Datum
csms_list_secrets(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			page_size = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	char	   *marker = csms_arg_text_opt(fcinfo, 1);
	char	   *event = csms_arg_text_opt(fcinfo, 2);
	CsmsCall	call;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	uint64		n,
				i;
	Oid			replica_type;
	SPITupleTable *rows;

	csms_check_page_size(page_size);
	if (marker)
		csms_check_name("secret", marker);
	if (event)
		csms_check_name("event", event);

	InitMaterializedSRF(fcinfo, 0);
	replica_type = TupleDescAttr(rsinfo->setDesc, SECRET_NCOLS)->atttypid;

	csms_call_begin(&call, "csms_list_secrets", 0);
	args[0] = csms_text_datum(call.region);
	args[1] = marker ? csms_text_datum(marker) : (nulls[1] = 'n', (Datum) 0);
	args[2] = event ? csms_text_datum(event) : (nulls[2] = 'n', (Datum) 0);
	args[3] = Int32GetDatum(page_size);
	n = csms_exec(&q_secret_list, args, nulls, SPI_OK_SELECT, 0);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		Datum		values[SECRET_NCOLS + 1];
		bool		isnull[SECRET_NCOLS + 1];
		int			c;

		for (c = 0; c < SECRET_NCOLS; c++)
			values[c] = SPI_getbinval(rows->vals[i], rows->tupdesc, c + 1, &isnull[c]);
		csms_usage_merge(DatumGetUUIDP(values[0]), &values[SECRET_LAST_USED],
						 &isnull[SECRET_LAST_USED]);
		values[SECRET_NCOLS] = csms_replicas_datum(&call, replica_type,
												   DatumGetUUIDP(values[0]),
												   TextDatumGetCString(values[1]),
												   TextDatumGetCString(values[SECRET_NCOLS - 1]));
		isnull[SECRET_NCOLS] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_update_secret --------------------------------------------------------- */

/* Re-wrap the data key of every version of s under `to`. */
static void
rewrap_all_versions(CsmsCall *call, CsmsSecret *s, CsmsKey *to)
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

Datum
csms_update_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *key_ref = csms_arg_text_opt(fcinfo, 1);
	char	   *description = csms_arg_text_opt(fcinfo, 2);
	char	   *rotation_period = csms_arg_text_opt(fcinfo, 4);
	ArrayType  *subs = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	char	   *urn = csms_arg_text_opt(fcinfo, 6);
	Interval   *period = NULL;
	CsmsSecret *s;
	bool		auto_rotation;
	bool		reschedule;
	pg_uuid_t	key_id;
	Datum		args[9];
	char		nulls[9];
	HeapTuple	tup;
	Datum		cur_desc,
				cur_subs,
				cur_urn;
	bool		desc_null,
				subs_null,
				urn_null;
	static CsmsStmt q_current = {
		"SELECT description, event_subscriptions, rotation_func_urn FROM csms.secrets"
		" WHERE id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}
	};

	if (description)
		csms_check_description(description);
	if (rotation_period)
		csms_check_rotation_period(rotation_period, NULL);
	if (subs)
		csms_check_event_subscriptions(subs);
	if (urn && urn[0] != '\0')
		check_printable("rotation function URN", urn, 1024);

	csms_call_begin(&call, "csms_update_secret", CSMS_NEED_ROOT_KEY);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META);

	auto_rotation = PG_ARGISNULL(3) ? s->auto_rotation : PG_GETARG_BOOL(3);
	if (rotation_period == NULL)
		rotation_period = s->rotation_period;
	if (auto_rotation && rotation_period == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_period is required when auto_rotation is true")));
	if (rotation_period)
		csms_check_rotation_period(rotation_period, &period);
	/* a newly enabled rotation or a new period starts a new schedule */
	reschedule = (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3) && !s->auto_rotation) ||
		!PG_ARGISNULL(4);

	key_id = s->kms_key_id;
	if (key_ref)
	{
		CsmsKey    *to = csms_key_resolve(&call, key_ref, true, false);

		csms_key_require_enabled(to);
		if (memcmp(to->id.data, s->kms_key_id.data, UUID_LEN) != 0)
		{
			csms_key_material(&call, to, to->version);
			rewrap_all_versions(&call, s, to);
			key_id = to->id;
		}
	}

	args[0] = UUIDPGetDatum(&s->id);
	csms_exec(&q_current, args, NULL, SPI_OK_SELECT, 1);
	cur_desc = csms_col(0, 1, &desc_null);
	cur_subs = csms_col(0, 2, &subs_null);
	cur_urn = csms_col(0, 3, &urn_null);

	memset(nulls, ' ', sizeof(nulls));
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = UUIDPGetDatum(&key_id);
	/* an empty description or URN clears it */
	if (description)
		args[2] = description[0] ? csms_text_datum(description) : (nulls[2] = 'n', (Datum) 0);
	else
		args[2] = desc_null ? (nulls[2] = 'n', (Datum) 0) : cur_desc;
	args[3] = BoolGetDatum(auto_rotation);
	args[4] = rotation_period ? csms_text_datum(rotation_period) : (nulls[4] = 'n', (Datum) 0);
	args[5] = subs ? PointerGetDatum(subs) : cur_subs;
	if (urn)
		args[6] = urn[0] ? csms_text_datum(urn) : (nulls[6] = 'n', (Datum) 0);
	else
		args[6] = urn_null ? (nulls[6] = 'n', (Datum) 0) : cur_urn;
	args[7] = BoolGetDatum(reschedule);
	args[8] = period ? IntervalPGetDatum(period) : (nulls[8] = 'n', (Datum) 0);
	csms_exec(&q_secret_update, args, nulls, SPI_OK_UPDATE, 0);

	tup = csms_secret_tuple(&call, result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_delete_secret ------------------------------------------------------- */

/*
 * Delete secret `id` with its versions and tags: the one place a
 * secret is deleted.
 */
void
csms_secret_delete(const pg_uuid_t *id)
{
	Datum		arg = UUIDPGetDatum(id);

	csms_exec(&q_secret_delete, &arg, NULL, SPI_OK_DELETE, 0);
}

Datum
csms_delete_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;

	csms_call_begin(&call, "csms_delete_secret", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_DELETE);
	csms_secret_delete(&s->id);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* csms_enable_secret, csms_disable_secret ------------------------------------ */

static Datum
secret_set_state(FunctionCallInfo fcinfo, const char *fname, const char *state)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	Datum		args[2];
	HeapTuple	tup;

	csms_call_begin(&call, fname, 0);
	s = csms_secret_open(&call, name, CSMS_ACT_SET_STATE);
	if (strcmp(s->state, state) != 0)
	{
		args[0] = UUIDPGetDatum(&s->id);
		args[1] = csms_text_datum(state);
		csms_exec(&q_secret_set_state, args, NULL, SPI_OK_UPDATE, 0);
	}
	tup = csms_secret_tuple(&call, result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

Datum
csms_enable_secret(PG_FUNCTION_ARGS)
{
	return secret_set_state(fcinfo, "csms_enable_secret", "ENABLED");
}

Datum
csms_disable_secret(PG_FUNCTION_ARGS)
{
	return secret_set_state(fcinfo, "csms_disable_secret", "DISABLED");
}
