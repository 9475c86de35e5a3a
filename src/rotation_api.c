/*-------------------------------------------------------------------------
 *
 * rotation_api.c
 *	  SQL entry points of rotation: csms_rotate_secret and
 *	  csms_list_secret_tasks.
 *
 * src/rotation_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "util.h"
#include "validate.h"
#include "frame.h"
#include "rotation.h"

PG_FUNCTION_INFO_V1(csms_rotate_secret);
PG_FUNCTION_INFO_V1(csms_list_secret_tasks);

/* csms_rotate_secret(name): a new SYSCURRENT version, now */
Datum
csms_rotate_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsRotation r;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	MemoryContext old;
	HeapTuple	tup;

	csms_check_name("secret", name);
	csms_call_begin(&call, "csms_rotate_secret", CSMS_NEED_ROOT_KEY | CSMS_CACHED_ACCOUNT);
	csms_secret_rotate(&call, name, &r);
	old = MemoryContextSwitchTo(call.caller_cxt);
	tupdesc = csms_result_tupdesc(fcinfo);
	values[0] = UUIDPGetDatum(&r.task_id);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(csms_version_id(r.version));
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * csms_list_secret_tasks(secret_name, status, task_id, page_size, marker):
 * rotation tasks of the region, newest first
 */
Datum
csms_list_secret_tasks(PG_FUNCTION_ARGS)
{
	char	   *secret_name = csms_arg_text_opt(fcinfo, 0);
	char	   *status = csms_arg_text_opt(fcinfo, 1);
	pg_uuid_t  *task_id = PG_ARGISNULL(2) ? NULL : PG_GETARG_UUID_P(2);
	int			page_size = PG_ARGISNULL(3) ? 50 : PG_GETARG_INT32(3);
	pg_uuid_t  *marker = PG_ARGISNULL(4) ? NULL : PG_GETARG_UUID_P(4);
	CsmsCall	call;

	if (secret_name)
		csms_check_name("secret", secret_name);
	if (status && strcmp(status, "SUCCESS") != 0 && strcmp(status, "FAILED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid task status \"%s\"", csms_trunc(status)),
				 errdetail("A task's status is SUCCESS or FAILED.")));
	if (task_id && (secret_name || status || marker))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task_id cannot be combined with secret_name, status or marker"),
				 errdetail("A task_id names one task.")));
	csms_check_page_size(page_size);
	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_secret_tasks", 0);
	csms_task_list(&call, (ReturnSetInfo *) fcinfo->resultinfo, secret_name, status, task_id,
				   page_size, marker);
	csms_call_end(&call);
	return (Datum) 0;
}
