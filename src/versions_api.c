/*-------------------------------------------------------------------------
 *
 * versions_api.c
 *	  SQL entry points for versions, values and stages:
 *	  csms_create_secret_version, csms_list_secret_versions,
 *	  csms_show_secret_version, csms_get_secret_value,
 *	  csms_get_secret_binary, csms_batch_get_secret_value,
 *	  csms_update_secret_version, csms_update_secret_stage,
 *	  csms_show_secret_stage, csms_delete_secret_stage.
 *
 *	  The read path (value_lookup + read_value) is the hot path of the
 *	  extension: one saved plan finds the secret, the version and its key by
 *	  index, CMK material comes from the per-backend cache, and one AES-GCM
 *	  open of the data key and one of the value follow.  last_used_time is
 *	  written at most once a minute per secret (csms_touch_secret; usage.c).
 *
 * src/versions_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "secrets.h"

PG_FUNCTION_INFO_V1(csms_create_secret_version);
PG_FUNCTION_INFO_V1(csms_list_secret_versions);
PG_FUNCTION_INFO_V1(csms_show_secret_version);
PG_FUNCTION_INFO_V1(csms_get_secret_value);
PG_FUNCTION_INFO_V1(csms_get_secret_binary);
PG_FUNCTION_INFO_V1(csms_batch_get_secret_value);
PG_FUNCTION_INFO_V1(csms_update_secret_version);
PG_FUNCTION_INFO_V1(csms_update_secret_stage);
PG_FUNCTION_INFO_V1(csms_show_secret_stage);
PG_FUNCTION_INFO_V1(csms_delete_secret_stage);

#define METADATA_NCOLS 6

#define METADATA_COLUMNS \
	"'v' OPERATOR(pg_catalog.||) v.version::pg_catalog.text, v.create_time," \
	" v.expire_time, v.key_id::pg_catalog.text, s.name," \
	" ARRAY(SELECT st.name" \
	"  FROM ROWS FROM (pg_catalog.unnest(s.stage_names)," \
	"   pg_catalog.unnest(s.stage_versions)) st(name, version)" \
	"  WHERE st.version OPERATOR(pg_catalog.=) v.version ORDER BY st.name)"

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

/* the version that the SYSCURRENT stage of secret row s marks, or NULL */
#define SYSCURRENT_VERSION \
	"s.stage_versions[pg_catalog.array_position(s.stage_names, 'SYSCURRENT'::pg_catalog.text)]"

/*
 * Secret, version (by number, or SYSCURRENT) and key in one query, by the
 * (name, region) index.  The fast path (fastpath.c) answers the common case
 * without it.
 */
static CsmsStmt q_value = {
	"SELECT s.id, s.name, s.state, s.replica_type, v.version, v.key_id,"
	" v.key_version, v.wrapped_dek, v.ciphertext, k.alias, k.state"
	" FROM csms.secrets s"
	" JOIN csms.versions v ON v.secret_id OPERATOR(pg_catalog.=) s.id"
	"  AND v.version OPERATOR(pg_catalog.=) COALESCE($3, " SYSCURRENT_VERSION ")"
	" LEFT JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" WHERE s.region OPERATOR(pg_catalog.=) $1 AND s.name OPERATOR(pg_catalog.=) $2",
	3, {TEXTOID, TEXTOID, INT4OID}
};

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

static TupleDesc
result_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return tupdesc;
}

static void
version_not_found(const char *secret, int version) pg_attribute_noreturn();

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

/* Resolve "latest" (0) to the SYSCURRENT version; check the version exists. */
static int
resolve_version(CsmsSecret *s, int version)
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

/* Metadata of one version: fills values[0..5]. */
static void
version_metadata(const pg_uuid_t *secret_id, int version, Datum *values, bool *nulls)
{
	Datum		args[2];
	int			i;

	args[0] = UUIDPGetDatum(secret_id);
	args[1] = Int32GetDatum(version);
	if (csms_exec(&q_metadata, args, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "version vanished");
	for (i = 0; i < METADATA_NCOLS; i++)
		values[i] = csms_col(0, i + 1, &nulls[i]);
}

static Datum
metadata_result(CsmsCall *call, FunctionCallInfo fcinfo, const pg_uuid_t *secret_id,
				int version)
{
	TupleDesc	tupdesc = result_tupdesc(fcinfo);
	Datum		values[METADATA_NCOLS];
	bool		nulls[METADATA_NCOLS];
	MemoryContext old;
	HeapTuple	tup;

	version_metadata(secret_id, version, values, nulls);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return HeapTupleGetDatum(tup);
}

/* The read path -------------------------------------------------------------- */

typedef struct ValueRow
{
	bool		found;
	pg_uuid_t	secret_id;
	char	   *name;
	int			version;
	bool		readable;
	CsmsKey    *key;
	bytea	   *wrapped_dek;
	bytea	   *ciphertext;
} ValueRow;

/*
 * One index lookup of the secret `name`, its version (0 = SYSCURRENT) and
 * the version's key.  Does not raise for a missing secret or a state that
 * forbids reading: row->found and row->readable tell.
 */
static void
value_lookup(CsmsCall *call, const char *name, int version, ValueRow *row)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	memset(row, 0, sizeof(*row));
	Assert(call->region[0] != '\0');
	args[0] = csms_text_datum(call->region);
	args[1] = csms_text_datum(name);
	if (version > 0)
		args[2] = Int32GetDatum(version);
	else
	{
		args[2] = (Datum) 0;
		nulls[2] = 'n';
	}
	if (csms_exec(&q_value, args, nulls, SPI_OK_SELECT, 1) != 1)
		return;
	row->found = true;
	row->secret_id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	row->name = csms_col_text(0, 2);
	row->readable = strcmp(csms_col_text(0, 3), "ENABLED") == 0;
	row->version = DatumGetInt32(csms_col(0, 5, &isnull));
	row->key = csms_alloc_sensitive(sizeof(CsmsKey));
	row->key->id = *DatumGetUUIDP(csms_col(0, 6, &isnull));
	strlcpy(row->key->id_text, csms_uuid_text(&row->key->id), sizeof(row->key->id_text));
	row->key->version = DatumGetInt32(csms_col(0, 7, &isnull));
	row->wrapped_dek = csms_col_bytea(0, 8);
	row->ciphertext = csms_col_bytea(0, 9);
	row->key->alias = csms_col_text(0, 10);
	/* no foreign key keeps it (see the install script): a raw edit */
	if (row->key->alias == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("key %s of version \"v%d\" of secret \"%s\" is missing",
						row->key->id_text, row->version, name)));
	row->key->enabled = strcmp(csms_col_text(0, 11), "ENABLED") == 0;

}

/*
 * Raise the right error for a lookup that found nothing or found a secret
 * that cannot be read: the gate knows the state rules.
 */
static void
value_lookup_failed(CsmsCall *call, const char *name, int version) pg_attribute_noreturn();

static void
value_lookup_failed(CsmsCall *call, const char *name, int version)
{
	CsmsSecret *s = csms_secret_open(call, name, CSMS_ACT_READ_VALUE);

	resolve_version(s, version);
	elog(ERROR, "secret \"%s\" could not be read", name);
}

/* Decrypt a found row; the result is wiped when the SPI context goes. */
static bytea *
read_value(CsmsCall *call, ValueRow *row, char *kind)
{
	bytea	   *plain;

	csms_key_require_enabled(row->key);
	csms_key_material(call, row->key, row->key->version);
	plain = csms_open_value(call, &row->secret_id, call->region, row->name,
							row->version, row->key, row->wrapped_dek,
							row->ciphertext, kind);
	csms_wipe(row->key->material, CSMS_KEY_LEN);

	/* last_used_time: in shared memory (usage.c), or here, never waiting for a lock */
	if (!csms_usage_record(&row->secret_id))
		csms_touch_secret(&row->secret_id);
	return plain;
}

/*
 * last_used_time of one secret, written by its reader (no preload, or no
 * room in shared memory): only a time more than a minute old is replaced,
 * and a row another transaction holds is skipped rather than waited for
 * (that transaction records the read), as SELECT ... FOR NO KEY UPDATE SKIP
 * LOCKED would; only the very first read of a secret inserts, and two
 * concurrent first reads meet on the primary key, as INSERT ... ON CONFLICT
 * DO NOTHING would.  By index, without the planner: a plan made while
 * csms.usage was small would scan it whole as it grows.
 */
void
csms_touch_secret(const pg_uuid_t *secret_id)
{
	static const Oid procs[1] = {F_UUID_EQ};
	static const LockTupleMode mode = LockTupleNoKeyExclusive;
	CsmsCall	call;
	Datum		key = UUIDPGetDatum(secret_id);
	TimestampTz now = GetCurrentTransactionStartTimestamp();	/* now() */
	Relation	rel;
	TupleTableSlot *slot;
	bool		found,
				skipped;

	csms_call_enter(&call, "last_used_time");
	rel = table_open(csms_relid("usage"), RowExclusiveLock);
	slot = table_slot_create(rel, NULL);
	csms_snapshot_push();
	found = csms_row_find_wait(rel, csms_relid("usage_pkey"), 1, procs, &key, &mode,
							   LockWaitSkip, slot, &skipped);
	PopActiveSnapshot();
	if (found)
	{
		bool		isnull;
		Datum		last = csms_slot_col(slot, 2, "last_used_time", TIMESTAMPTZOID, &isnull);

		if (isnull || DatumGetTimestampTz(last) < now - USECS_PER_MINUTE)
		{
			CsmsWriter *w = csms_writer_begin("usage", CSMS_WRITE_UPDATE);
			ItemPointerData tid = slot->tts_tid;
			CsmsCol		cols[] = {
				{"last_used_time", TIMESTAMPTZOID, TimestampTzGetDatum(now), false},
			};

			csms_writer_update(w, &tid, cols, lengthof(cols));
			csms_writer_end(w);
		}
	}
	else if (!skipped)
	{
		CsmsCol		cols[] = {
			{"secret_id", UUIDOID, key, false},
			{"last_used_time", TIMESTAMPTZOID, TimestampTzGetDatum(now), false},
		};

		(void) csms_row_insert("usage", "usage_pkey", cols, lengthof(cols));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	csms_call_end(&call);
}

/* Read one value through SPI (the fast path could not answer). */
static bytea *
read_one(CsmsCall *call, const char *name, int version, char *kind, ValueRow *row)
{
	csms_check_name("secret", name);
	value_lookup(call, name, version, row);
	if (!row->found || !row->readable)
		value_lookup_failed(call, name, version);
	return read_value(call, row, kind);
}

static int
version_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return 0;				/* NULL means not given: latest */
	return csms_parse_version_id(text_to_cstring(PG_GETARG_TEXT_PP(argno)), true);
}

/*
 * csms_get_secret_value and csms_get_secret_binary: the fast path first,
 * the SPI path when it cannot answer.  A binary value read as text is an
 * error; a string read as binary gives its bytes.
 */
static bytea *
get_value(FunctionCallInfo fcinfo, const char *fname, bool as_text)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = version_arg(fcinfo, 1);
	CsmsCall	call;
	ValueRow	row;
	bytea	   *plain;
	bytea	   *result;
	char		kind;
	int			found_version;

	csms_check_name("secret", name);
	result = csms_fast_read(name, version, &kind, &found_version);
	if (result == NULL)
	{
		csms_call_begin(&call, fname, CSMS_NEED_ROOT_KEY);
		plain = read_one(&call, name, version, &kind, &row);
		found_version = row.version;
		if (!as_text || kind == CSMS_KIND_STRING)
		{
			result = (bytea *) MemoryContextAlloc(call.caller_cxt, VARSIZE(plain));
			memcpy(result, plain, VARSIZE(plain));
		}
		csms_call_end(&call);
	}
	if (as_text && kind != CSMS_KIND_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version \"v%d\" of secret \"%s\" holds a secret_binary", found_version, name),
				 errhint("Read it with csms_get_secret_binary().")));
	return result;
}

Datum
csms_get_secret_value(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P((text *) get_value(fcinfo, "csms_get_secret_value", true));
}

Datum
csms_get_secret_binary(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(get_value(fcinfo, "csms_get_secret_binary", false));
}

/* A csms_version row: metadata, then exactly one of string and binary. */
static void
version_values(ValueRow *row, bytea *plain, char kind, Datum *values, bool *nulls)
{
	version_metadata(&row->secret_id, row->version, values, nulls);
	values[METADATA_NCOLS] = PointerGetDatum(plain);
	nulls[METADATA_NCOLS] = kind != CSMS_KIND_STRING;
	values[METADATA_NCOLS + 1] = PointerGetDatum(plain);
	nulls[METADATA_NCOLS + 1] = kind != CSMS_KIND_BINARY;
}

Datum
csms_show_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = version_arg(fcinfo, 1);
	TupleDesc	tupdesc = result_tupdesc(fcinfo);
	ValueRow	row;
	bytea	   *plain;
	char		kind;
	Datum		values[METADATA_NCOLS + 2];
	bool		nulls[METADATA_NCOLS + 2];
	MemoryContext old;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_show_secret_version", CSMS_NEED_ROOT_KEY);
	plain = read_one(&call, name, version, &kind, &row);
	version_values(&row, plain, kind, values, nulls);
	old = MemoryContextSwitchTo(call.caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * SYSCURRENT of each name, in the order given.  Unknown names, and secrets
 * that cannot be read, fail the whole call with one error naming them all.
 */
Datum
csms_batch_get_secret_value(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elnulls;
	int			n,
				i;
	CsmsCall	call;
	ValueRow   *rows;
	StringInfoData missing,
				unreadable;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("names must not be NULL")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("names must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elnulls, &n);
	if (n > CSMS_PAGE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many names"),
				 errdetail("One call reads at most %d secrets; %d names were given.",
						   CSMS_PAGE_MAX, n)));
	for (i = 0; i < n; i++)
	{
		if (elnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("names must not contain NULL")));
		csms_check_name("secret", TextDatumGetCString(elems[i]));
	}

	csms_srf_in_memory(fcinfo);
	csms_call_begin(&call, "csms_batch_get_secret_value", CSMS_NEED_ROOT_KEY);
	rows = palloc0(sizeof(ValueRow) * Max(n, 1));
	initStringInfo(&missing);
	initStringInfo(&unreadable);
	for (i = 0; i < n; i++)
	{
		char	   *name = TextDatumGetCString(elems[i]);

		value_lookup(&call, name, 0, &rows[i]);
		if (!rows[i].found)
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", name);
		else if (!rows[i].readable)
			appendStringInfo(&unreadable, "%s%s", unreadable.len ? ", " : "", name);
	}
	if (missing.len)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secrets do not exist in region \"%s\" or have no SYSCURRENT version: %s",
						call.region, missing.data)));
	if (unreadable.len)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secrets are not enabled: %s", unreadable.data),
				 errdetail("Only enabled secrets serve their values.")));

	for (i = 0; i < n; i++)
	{
		char		kind;
		bytea	   *plain = read_value(&call, &rows[i], &kind);
		Datum		values[METADATA_NCOLS + 2];
		bool		nulls[METADATA_NCOLS + 2];

		version_values(&rows[i], plain, kind, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		csms_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_list_secret_versions ------------------------------------------------ */

Datum
csms_list_secret_versions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			page_size = PG_ARGISNULL(1) ? 50 : PG_GETARG_INT32(1);
	char	   *marker = csms_arg_text_opt(fcinfo, 2);
	int			after = 0;
	CsmsCall	call;
	CsmsSecret *s;
	Datum		args[3];
	uint64		n,
				i;

	csms_check_page_size(page_size);
	if (marker)
		after = csms_parse_version_id(marker, true);

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_secret_versions", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META);
	if (marker && after == 0)
		after = resolve_version(s, 0);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(after);
	args[2] = Int32GetDatum(page_size);
	n = csms_exec(&q_metadata_list, args, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[METADATA_NCOLS];
		bool		nulls[METADATA_NCOLS];
		int			c;

		for (c = 0; c < METADATA_NCOLS; c++)
			values[c] = csms_col(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

/* Stages ------------------------------------------------------------------ */

/*
 * A secret's stages are three parallel arrays on its row
 * (csms.secrets.stage_names, stage_versions, stage_times), read by
 * csms_secret_open into CsmsSecret.stages and written back by
 * csms_stages_set with the row's other changes.
 */

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

static void
stages_malformed(const char *secret) pg_attribute_noreturn();

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
void
csms_stages_read(const char *secret, Datum names, Datum versions, Datum times,
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
static void
check_stage_limit(CsmsSecret *s, char **names, int n)
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
			{"stage_names", TEXTARRAYOID, dn, false},
			{"stage_versions", INT4ARRAYOID, dv, false},
			{"stage_times", TIMESTAMPTZARRAYOID, dt, false},
		};

		memcpy(cols, stage_cols, sizeof(stage_cols));
	}
	if (nextra > 0)
		memcpy(&cols[3], extra, sizeof(CsmsCol) * nextra);
	w = csms_writer_begin("secrets", CSMS_WRITE_UPDATE);
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

static void
touch_secret(CsmsSecret *s)
{
	Datum		args[2];

	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(s->last_version);
	csms_exec(&q_secret_touch_version, args, NULL, SPI_OK_UPDATE, 0);
}

/* csms_create_secret_version -------------------------------------------------- */

/*
 * Delete the oldest version of secret s (whose row this transaction has
 * locked) that holds no stage: by its (secret_id, version) index in version
 * order, stopping at the first such version.  False when every version
 * holds a stage.
 */
static bool
prune_oldest_unstaged(CsmsSecret *s)
{
	static const Oid procs[1] = {F_UUID_EQ};
	Datum		key = UUIDPGetDatum(&s->id);
	Relation	rel;
	Relation	index;
	ScanKeyData skey;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			attno;
	bool		found = false;

	Assert(s->locked);
	rel = table_open(csms_relid("versions"), RowExclusiveLock);
	index = index_open(csms_relid("versions_pkey"), RowExclusiveLock);
	attno = csms_attnum(RelationGetDescr(rel), "version", INT4OID);
	slot = table_slot_create(rel, NULL);
	csms_snapshot_push();
	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], procs[0], key);
	scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int			version = DatumGetInt32(slot_getattr(slot, attno, &isnull));
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
		CsmsWriter *w = csms_writer_begin("versions", CSMS_WRITE_DELETE);
		ItemPointerData tid = slot->tts_tid;

		csms_writer_delete(w, &tid);
		csms_writer_end(w);
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

Datum
csms_create_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	ArrayType  *stages_arg = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	char	  **stages = NULL;
	int			nstages = 0;
	int		   *versions;
	const char *value;
	Size		len;
	char		kind;
	CsmsSecret *s;
	CsmsKey    *key;
	int			version,
				current = 0,
				pruned,
				i;
	TimestampTz now_ts = GetCurrentTransactionStartTimestamp();
	Datum		now = TimestampTzGetDatum(now_ts);
	CsmsSealed	sealed;
	TupleDesc	tupdesc;
	bool		cached_tupdesc;
	Datum		values[METADATA_NCOLS];
	bool		nulls[METADATA_NCOLS];
	char	  **result_stages;
	Datum	   *result_names;
	int			nresult;
	MemoryContext old;
	HeapTuple	tup;

	kind = csms_value_arg(fcinfo, 1, 2, &value, &len);
	if (stages_arg)
		csms_check_stage_list(stages_arg, &nstages, &stages);
	if (!PG_ARGISNULL(4) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(4)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expire_time must be finite")));

	csms_call_begin(&call, "csms_create_secret_version", CSMS_NEED_ROOT_KEY | CSMS_CACHED_ACCOUNT);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_VERSION);
	if (s->last_version == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret \"%s\" has run out of version numbers", name)));
	version = s->last_version + 1;

	key = csms_key_by_id(&call, &s->kms_key_id);
	csms_key_require_enabled(key);
	csms_key_material(&call, key, key->version);

	/*
	 * The secret's stages (SYSCURRENT among them) and how many versions it
	 * has are on its row, which csms_secret_open read and locked.
	 */
	current = csms_stages_version(&s->stages, "SYSCURRENT");

	/* which stages move to the new version */
	if (stages == NULL)
	{
		stages = palloc(sizeof(char *) * 2);
		stages[nstages++] = "SYSCURRENT";
		if (current > 0)
			stages[nstages++] = "SYSPREVIOUS";
	}

	/* at most CSMS_MAX_STAGES stages */
	check_stage_limit(s, stages, nstages);

	/* at most CSMS_MAX_VERSIONS: the oldest version without a stage goes */
	pruned = 0;
	if (s->version_count >= CSMS_MAX_VERSIONS)
	{
		if (!prune_oldest_unstaged(s))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("secret \"%s\" has reached the limit of %d versions", name, CSMS_MAX_VERSIONS),
					 errdetail("Every version holds a stage, so none can be removed to make room."),
					 errhint("Delete stages that are no longer used with csms_delete_secret_stage().")));
		pruned = 1;
	}

	{
		Datum		expire = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);

		csms_store_version(&call, &s->id, call.region, version, key, kind, value,
						   len, &now, PG_ARGISNULL(4) ? NULL : &expire, &sealed);
	}

	/*
	 * The stages: by default SYSCURRENT to the new version and SYSPREVIOUS
	 * to the old SYSCURRENT; else exactly those given.
	 */
	versions = palloc(sizeof(int) * nstages);
	result_stages = palloc(sizeof(char *) * nstages);
	nresult = 0;
	for (i = 0; i < nstages; i++)
	{
		versions[i] = strcmp(stages[i], "SYSPREVIOUS") == 0 && stages_arg == NULL ?
			current : version;
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
			{"last_version", INT4OID, Int32GetDatum(version), false},
			{"update_time", TIMESTAMPTZOID, now, false},
			{"version_count", INT4OID, Int32GetDatum(s->version_count + 1 - pruned), false},
			{"current_version", INT4OID, Int32GetDatum(version), false},
			{"current_key_id", UUIDOID, UUIDPGetDatum(&key->id), false},
			{"current_key_version", INT4OID, Int32GetDatum(key->version), false},
			{"current_wrapped_dek", BYTEAOID, PointerGetDatum(sealed.wrapped_dek), false},
			{"current_ciphertext", BYTEAOID, PointerGetDatum(sealed.ciphertext), false},
		};

		csms_stages_set(s, nstages, stages, versions, now_ts, cols,
						i < nresult ? lengthof(cols) : 3, CSMS_STAGES_COPY_WRITTEN);
	}

	/* the result: every value is known, no query */
	qsort(result_stages, nresult, sizeof(char *), stage_name_cmp);
	tupdesc = csms_result_rowtype(fcinfo, &cached_tupdesc);
	old = MemoryContextSwitchTo(call.caller_cxt);
	result_names = palloc(sizeof(Datum) * Max(nresult, 1));
	for (i = 0; i < nresult; i++)
		result_names[i] = CStringGetTextDatum(result_stages[i]);
	memset(nulls, false, sizeof(nulls));
	values[0] = CStringGetTextDatum(csms_version_id(version));
	values[1] = now;
	values[2] = PG_ARGISNULL(4) ? (nulls[2] = true, (Datum) 0) : PG_GETARG_DATUM(4);
	values[3] = CStringGetTextDatum(key->id_text);
	values[4] = CStringGetTextDatum(s->name);
	values[5] = PointerGetDatum(construct_array(result_names, nresult, TEXTOID, -1, false,
												TYPALIGN_INT));
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	if (cached_tupdesc)
		ReleaseTupleDesc(tupdesc);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_update_secret_version -------------------------------------------------- */

Datum
csms_update_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = csms_parse_version_id(csms_arg_text(fcinfo, 1, "version_id"), true);
	CsmsSecret *s;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	Datum		result;

	if (!PG_ARGISNULL(2) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(2)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expire_time must be finite")));

	csms_call_begin(&call, "csms_update_secret_version", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_VERSION);
	version = resolve_version(s, version);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = Int32GetDatum(version);
	if (PG_ARGISNULL(2))
		nulls[2] = 'n';			/* NULL: the version no longer expires */
	else
		args[2] = PG_GETARG_DATUM(2);
	csms_exec(&q_version_expire, args, nulls, SPI_OK_UPDATE, 0);
	touch_secret(s);
	result = metadata_result(&call, fcinfo, &s->id, version);
	csms_call_end(&call);
	PG_RETURN_DATUM(result);
}

/* csms_update_secret_stage, csms_show_secret_stage, csms_delete_secret_stage --- */

static Datum
stage_result(CsmsCall *call, FunctionCallInfo fcinfo, CsmsSecret *s, const char *stage)
{
	TupleDesc	tupdesc = result_tupdesc(fcinfo);
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
	return HeapTupleGetDatum(tup);
}

Datum
csms_update_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	int			version = csms_parse_version_id(csms_arg_text(fcinfo, 2, "version_id"), true);
	CsmsSecret *s;
	char	   *names[2];
	int			versions[2];
	int			n = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	CsmsCol		touch = {"update_time", TIMESTAMPTZOID, TimestampTzGetDatum(now), false};
	Datum		result;

	csms_check_name("stage", stage);
	csms_call_begin(&call, "csms_update_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META);
	version = resolve_version(s, version);
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
	names[n] = stage;
	versions[n++] = version;
	check_stage_limit(s, names, n);
	csms_stages_set(s, n, names, versions, now, &touch, 1, 0);
	result = stage_result(&call, fcinfo, s, stage);
	csms_call_end(&call);
	PG_RETURN_DATUM(result);
}

Datum
csms_show_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	CsmsSecret *s;
	Datum		result;

	csms_check_name("stage", stage);
	csms_call_begin(&call, "csms_show_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META);
	result = stage_result(&call, fcinfo, s, stage);
	csms_call_end(&call);
	PG_RETURN_DATUM(result);
}

Datum
csms_delete_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	CsmsSecret *s;
	int			none = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	CsmsCol		touch = {"update_time", TIMESTAMPTZOID, TimestampTzGetDatum(now), false};

	csms_check_name("stage", stage);
	if (strcmp(stage, "SYSCURRENT") == 0 || strcmp(stage, "SYSPREVIOUS") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stage \"%s\" cannot be deleted", stage),
				 errdetail("SYSCURRENT and SYSPREVIOUS are managed by the extension."),
				 errhint("Move it to another version with csms_update_secret_stage().")));
	csms_call_begin(&call, "csms_delete_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META);
	if (csms_stages_find(&s->stages, stage) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stage \"%s\" of secret \"%s\" does not exist", stage, name)));
	csms_stages_set(s, 1, &stage, &none, now, &touch, 1, 0);
	csms_call_end(&call);
	PG_RETURN_VOID();
}
