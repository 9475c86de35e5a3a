/*-------------------------------------------------------------------------
 *
 * events_api.c
 *	  SQL entry points for events and their records: csms_create_event,
 *	  csms_show_event, csms_list_events, csms_update_event,
 *	  csms_delete_event, csms_list_notification_records.
 *
 * src/events_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"

#include "util.h"
#include "validate.h"
#include "frame.h"
#include "event.h"

PG_FUNCTION_INFO_V1(csms_create_event);
PG_FUNCTION_INFO_V1(csms_show_event);
PG_FUNCTION_INFO_V1(csms_list_events);
PG_FUNCTION_INFO_V1(csms_update_event);
PG_FUNCTION_INFO_V1(csms_delete_event);
PG_FUNCTION_INFO_V1(csms_list_notification_records);

/* the arguments of create (all given) and update (NULL: unchanged) */
static void
event_spec(FunctionCallInfo fcinfo, CsmsEventSpec *spec, bool create)
{
	memset(spec, 0, sizeof(*spec));
	spec->name = csms_arg_text(fcinfo, 0, "name");
	csms_check_name("event", spec->name);
	if (!PG_ARGISNULL(1))
	{
		spec->types = PG_GETARG_ARRAYTYPE_P(1);
		csms_event_check_types(spec->types);
	}
	else if (create)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event_types must not be NULL")));
	if (!PG_ARGISNULL(2))
	{
		spec->state = csms_arg_text(fcinfo, 2, "state");
		csms_event_check_state(spec->state);
	}
	else if (create)
		spec->state = "ENABLED";
	if (!PG_ARGISNULL(3))
		spec->target_name = csms_event_check_notification(PG_GETARG_JSONB_P(3));
	else if (create)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("notification must not be NULL"),
				 errhint("Name the channel to notify: notification => '{\"target_type\": \"NOTIFY\", \"target_name\": \"secrets_events\"}'.")));
}

/* csms_create_event(name, event_types, state, notification) */
Datum
csms_create_event(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	CsmsEventSpec spec;
	HeapTuple	tup;

	event_spec(fcinfo, &spec, true);
	csms_call_begin(&call, "csms_create_event", 0);
	tup = csms_event_create(&call, csms_result_tupdesc(fcinfo), &spec);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_show_event(name) */
Datum
csms_show_event(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	HeapTuple	tup;

	csms_check_name("event", name);
	csms_call_begin(&call, "csms_show_event", 0);
	tup = csms_event_show(&call, csms_result_tupdesc(fcinfo), name);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_list_events(page_size, marker): by name, after marker */
Datum
csms_list_events(PG_FUNCTION_ARGS)
{
	int			page_size = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	char	   *marker = csms_arg_text_opt(fcinfo, 1);
	CsmsCall	call;

	csms_check_page_size(page_size);
	if (marker)
		csms_check_name("event", marker);
	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_events", 0);
	csms_event_list(&call, (ReturnSetInfo *) fcinfo->resultinfo, page_size, marker);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_update_event(name, event_types, state, notification) */
Datum
csms_update_event(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	CsmsEventSpec spec;
	HeapTuple	tup;

	event_spec(fcinfo, &spec, false);
	csms_call_begin(&call, "csms_update_event", 0);
	tup = csms_event_update(&call, csms_result_tupdesc(fcinfo), &spec);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_delete_event(name): refused while a secret subscribes to it */
Datum
csms_delete_event(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");

	csms_check_name("event", name);
	csms_call_begin(&call, "csms_delete_event", 0);
	csms_event_delete(&call, name);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* csms_list_notification_records(page_size, marker): newest first, ids below marker */
Datum
csms_list_notification_records(PG_FUNCTION_ARGS)
{
	int			page_size = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	int64		marker = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	CsmsCall	call;

	csms_check_page_size(page_size);
	if (!PG_ARGISNULL(1) && marker < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid marker " INT64_FORMAT, marker),
				 errdetail("The marker is the id of the last record of the previous page.")));
	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_notification_records", 0);
	csms_notification_list(&call, (ReturnSetInfo *) fcinfo->resultinfo, page_size, marker);
	csms_call_end(&call);
	return (Datum) 0;
}
