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
 * src/versions_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "util.h"
#include "validate.h"
#include "frame.h"
#include "secret.h"
#include "version.h"
#include "value.h"
#include "replica.h"
#include "rotation.h"

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

/* A version_id argument: NULL (not given) is 0, the latest. */
static int
version_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return 0;
	return csms_parse_version_id(text_to_cstring(PG_GETARG_TEXT_PP(argno)), true);
}

/* An expire_time argument: NULL, or a finite time. */
static Datum *
expire_arg(FunctionCallInfo fcinfo, int argno)
{
	Datum	   *d;

	if (PG_ARGISNULL(argno))
		return NULL;
	if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(argno)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expire_time must be finite")));
	d = palloc(sizeof(Datum));
	*d = PG_GETARG_DATUM(argno);
	return d;
}

/* The csms_version_metadata row of one version, in the caller's context. */
static Datum
metadata_result(CsmsCall *call, FunctionCallInfo fcinfo, const pg_uuid_t *secret_id,
				int version)
{
	TupleDesc	tupdesc = csms_result_tupdesc(fcinfo);
	Datum		values[CSMS_METADATA_NCOLS];
	bool		nulls[CSMS_METADATA_NCOLS];
	MemoryContext old;
	HeapTuple	tup;

	csms_version_metadata(secret_id, version, values, nulls);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return HeapTupleGetDatum(tup);
}

/* csms_create_secret_version(name, value, version_stages, expire_time) */
Datum
csms_create_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	ArrayType  *stages_arg = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	char	  **stages = NULL;
	int			nstages = 0;
	const char *value;
	Size		len;
	char		kind;
	Datum	   *expire;
	CsmsSecret *s;
	CsmsMade	made;
	TupleDesc	tupdesc;
	bool		cached_tupdesc;
	HeapTuple	tup;

	kind = csms_value_arg(fcinfo, 1, 2, &value, &len);
	if (stages_arg)
		csms_check_stage_list(stages_arg, &nstages, &stages);
	expire = expire_arg(fcinfo, 4);

	csms_call_begin(&call, "csms_create_secret_version", CSMS_NEED_ROOT_KEY | CSMS_CACHED_ACCOUNT);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_VERSION, CSMS_PRIV_WRITE);
	if (strcmp(s->secret_type, "PG-ROLE") == 0)
		csms_pgrole_check_version(&call, s, kind, value, len);
	csms_version_add(&call, s, kind, value, len, stages, nstages, expire, &made);

	/* the result: every value is known, no query */
	tupdesc = csms_result_rowtype(fcinfo, &cached_tupdesc);
	tup = csms_version_made_tuple(&call, tupdesc, s, &made, expire);
	if (cached_tupdesc)
		ReleaseTupleDesc(tupdesc);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_list_secret_versions(name, page_size, marker): versions by number */
Datum
csms_list_secret_versions(PG_FUNCTION_ARGS)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			page_size = PG_ARGISNULL(1) ? 50 : PG_GETARG_INT32(1);
	char	   *marker = csms_arg_text_opt(fcinfo, 2);
	int			after = 0;
	CsmsCall	call;
	CsmsSecret *s;

	csms_check_page_size(page_size);
	if (marker)
		after = csms_parse_version_id(marker, true);

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_secret_versions", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META, CSMS_PRIV_DESCRIBE);
	if (marker && after == 0)
		after = csms_version_resolve(s, 0);
	csms_version_list((ReturnSetInfo *) fcinfo->resultinfo, s, after, page_size);
	csms_call_end(&call);
	return (Datum) 0;
}

/*
 * csms_get_secret_value and csms_get_secret_binary: the fast path first,
 * the SQL path when it cannot answer.  A binary value read as text is an
 * error; a string read as binary gives its bytes.
 */
static bytea *
get_value(FunctionCallInfo fcinfo, const char *fname, bool as_text)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = version_arg(fcinfo, 1);
	bytea	   *result;
	char		kind;
	int			found_version;

	csms_check_name("secret", name);
	result = csms_value_read_fast(name, version, &kind, &found_version);
	if (result == NULL)
	{
		CsmsCall	call;
		CsmsValue	v;

		csms_call_begin(&call, fname, CSMS_NEED_ROOT_KEY);
		csms_value_read(&call, name, version, &v);
		kind = v.kind;
		found_version = v.version;
		if (!as_text || kind == CSMS_KIND_STRING)
		{
			result = (bytea *) MemoryContextAlloc(call.caller_cxt, VARSIZE(v.plain));
			memcpy(result, v.plain, VARSIZE(v.plain));
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

/* csms_get_secret_value(name, version_id): the string value */
Datum
csms_get_secret_value(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P((text *) get_value(fcinfo, "csms_get_secret_value", true));
}

/* csms_get_secret_binary(name, version_id): the value's bytes */
Datum
csms_get_secret_binary(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(get_value(fcinfo, "csms_get_secret_binary", false));
}

/* csms_show_secret_version(name, version_id): metadata and value */
Datum
csms_show_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = version_arg(fcinfo, 1);
	TupleDesc	tupdesc = csms_result_tupdesc(fcinfo);
	CsmsValue	v;
	Datum		values[CSMS_METADATA_NCOLS + 2];
	bool		nulls[CSMS_METADATA_NCOLS + 2];
	MemoryContext old;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_show_secret_version", CSMS_NEED_ROOT_KEY);
	csms_value_read(&call, name, version, &v);
	csms_value_row(&v, values, nulls);
	old = MemoryContextSwitchTo(call.caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_batch_get_secret_value(names): SYSCURRENT of each name, in order */
Datum
csms_batch_get_secret_value(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elnulls;
	char	  **names;
	int			n,
				i;
	CsmsCall	call;

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
	names = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (elnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("names must not contain NULL")));
		names[i] = TextDatumGetCString(elems[i]);
		csms_check_name("secret", names[i]);
	}

	csms_srf_in_memory(fcinfo);
	csms_call_begin(&call, "csms_batch_get_secret_value", CSMS_NEED_ROOT_KEY);
	csms_value_batch(&call, names, n, (ReturnSetInfo *) fcinfo->resultinfo);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_update_secret_version(name, version_id, expire_time) */
Datum
csms_update_secret_version(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			version = csms_parse_version_id(csms_arg_text(fcinfo, 1, "version_id"), true);
	Datum	   *expire = expire_arg(fcinfo, 2);
	CsmsSecret *s;
	Datum		result;

	csms_call_begin(&call, "csms_update_secret_version", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_VERSION, CSMS_PRIV_WRITE);
	version = csms_version_resolve(s, version);
	csms_version_set_expiry(s, version, expire);
	result = metadata_result(&call, fcinfo, &s->id, version);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_DATUM(result);
}

/* csms_update_secret_stage(name, stage_name, version_id) */
Datum
csms_update_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	int			version = csms_parse_version_id(csms_arg_text(fcinfo, 2, "version_id"), true);
	CsmsSecret *s;
	HeapTuple	tup;

	csms_check_name("stage", stage);
	csms_call_begin(&call, "csms_update_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_WRITE);
	version = csms_version_resolve(s, version);
	csms_stage_move(s, stage, version);
	tup = csms_stage_tuple(&call, csms_result_tupdesc(fcinfo), s, stage);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_show_secret_stage(name, stage_name) */
Datum
csms_show_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	CsmsSecret *s;
	HeapTuple	tup;

	csms_check_name("stage", stage);
	csms_call_begin(&call, "csms_show_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META, CSMS_PRIV_DESCRIBE);
	tup = csms_stage_tuple(&call, csms_result_tupdesc(fcinfo), s, stage);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_delete_secret_stage(name, stage_name): not SYSCURRENT or SYSPREVIOUS */
Datum
csms_delete_secret_stage(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *stage = csms_arg_text(fcinfo, 1, "stage_name");
	CsmsSecret *s;

	csms_check_name("stage", stage);
	if (strcmp(stage, "SYSCURRENT") == 0 || strcmp(stage, "SYSPREVIOUS") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stage \"%s\" cannot be deleted", stage),
				 errdetail("SYSCURRENT and SYSPREVIOUS are managed by the extension."),
				 errhint("Move it to another version with csms_update_secret_stage().")));
	csms_call_begin(&call, "csms_delete_secret_stage", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_WRITE);
	csms_stage_delete(s, stage);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_VOID();
}
