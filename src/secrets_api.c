/*-------------------------------------------------------------------------
 *
 * secrets_api.c
 *	  SQL entry points for secrets: csms_create_secret, csms_show_secret,
 *	  csms_list_secrets, csms_update_secret, csms_delete_secret,
 *	  csms_enable_secret, csms_disable_secret, csms_schedule_secret_deletion,
 *	  csms_cancel_secret_deletion.
 *
 * src/secrets_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "util.h"
#include "validate.h"
#include "frame.h"
#include "secret.h"
#include "version.h"
#include "replica.h"
#include "rotation.h"
#include "event.h"

PG_FUNCTION_INFO_V1(csms_create_secret);
PG_FUNCTION_INFO_V1(csms_show_secret);
PG_FUNCTION_INFO_V1(csms_list_secrets);
PG_FUNCTION_INFO_V1(csms_update_secret);
PG_FUNCTION_INFO_V1(csms_delete_secret);
PG_FUNCTION_INFO_V1(csms_enable_secret);
PG_FUNCTION_INFO_V1(csms_disable_secret);
PG_FUNCTION_INFO_V1(csms_schedule_secret_deletion);
PG_FUNCTION_INFO_V1(csms_cancel_secret_deletion);

/*
 * csms_create_secret(name, secret_string | secret_binary, ...): a secret
 * with v1
 */
Datum
csms_create_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	CsmsNewSecret ns;
	CsmsMade	made;
	TupleDesc	tupdesc;
	bool		cached_tupdesc;
	HeapTuple	tup;

	/* arguments, all checked before anything is touched */
	memset(&ns, 0, sizeof(ns));
	ns.name = csms_arg_text(fcinfo, 0, "name");
	csms_check_name("secret", ns.name);
	ns.kind = csms_value_arg(fcinfo, 1, 2, &ns.value, &ns.len);
	ns.key_ref = csms_arg_text_opt(fcinfo, 3);
	ns.description = csms_arg_text_opt(fcinfo, 4);
	if (ns.description)
		csms_check_description(ns.description);
	ns.secret_type = PG_ARGISNULL(5) ? "COMMON" : csms_arg_text(fcinfo, 5, "secret_type");
	if (strcmp(ns.secret_type, "COMMON") != 0 && strcmp(ns.secret_type, "RDS-FG") != 0 &&
		strcmp(ns.secret_type, "GaussDB-FG") != 0 && strcmp(ns.secret_type, "PG-ROLE") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret type \"%s\"", csms_trunc(ns.secret_type)),
				 errdetail("The secret types are COMMON, RDS-FG, GaussDB-FG and PG-ROLE.")));
	ns.auto_rotation = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);
	ns.rotation_period = csms_arg_text_opt(fcinfo, 7);
	if (ns.rotation_period)
		csms_check_rotation_period(ns.rotation_period, &ns.period);
	if (ns.auto_rotation && ns.rotation_period == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_period is required when auto_rotation is true")));
	ns.rotation_config = PG_ARGISNULL(8) ? NULL : PG_GETARG_JSONB_P(8);
	csms_check_rotation_config(ns.rotation_config, ns.secret_type);
	ns.subscriptions = PG_ARGISNULL(9) ? NULL : PG_GETARG_ARRAYTYPE_P(9);
	if (ns.subscriptions)
		csms_check_event_subscriptions(ns.subscriptions);
	ns.enterprise_project_id = PG_ARGISNULL(10) ? "0" :
		csms_arg_text(fcinfo, 10, "enterprise_project_id");
	csms_check_printable("enterprise project id", ns.enterprise_project_id, 36);
	ns.rotation_func_urn = csms_arg_text_opt(fcinfo, 11);
	if (ns.rotation_func_urn)
		ns.rotation_func_urn = csms_rotation_function_resolve(ns.rotation_func_urn);
	ns.tags = PG_ARGISNULL(12) ? NULL : PG_GETARG_JSONB_P(12);
	if (ns.tags)
		csms_check_tags(ns.tags);

	csms_call_begin(&call, "csms_create_secret", CSMS_NEED_ROOT_KEY | CSMS_CACHED_ACCOUNT);
	if (strcmp(ns.secret_type, "PG-ROLE") == 0)
		csms_pgrole_check_value(call.save_uid, ns.name, ns.rotation_config, ns.kind,
								ns.value, ns.len);
	if (ns.subscriptions)
		csms_events_check_subscriptions(&call, ns.subscriptions);
	csms_secret_create(&call, &ns, &made);
	tupdesc = csms_result_rowtype(fcinfo, &cached_tupdesc);
	tup = csms_secret_created_tuple(&call, tupdesc, &ns, &made);
	if (cached_tupdesc)
		ReleaseTupleDesc(tupdesc);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_show_secret(name): a secret's metadata */
Datum
csms_show_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_show_secret", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META, CSMS_PRIV_DESCRIBE);
	tup = csms_secret_tuple(&call, csms_result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * csms_list_secrets(page_size, marker, event_name): secrets of the region,
 * by name
 */
Datum
csms_list_secrets(PG_FUNCTION_ARGS)
{
	int			page_size = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	char	   *marker = csms_arg_text_opt(fcinfo, 1);
	char	   *event = csms_arg_text_opt(fcinfo, 2);
	CsmsCall	call;

	csms_check_page_size(page_size);
	if (marker)
		csms_check_name("secret", marker);
	if (event)
		csms_check_name("event", event);

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_secrets", 0);
	csms_secret_list(&call, (ReturnSetInfo *) fcinfo->resultinfo, page_size, marker, event);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_update_secret(name, ...): change a secret's metadata or key */
Datum
csms_update_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecretChange c;
	CsmsSecret *s;
	HeapTuple	tup;

	memset(&c, 0, sizeof(c));
	c.key_ref = csms_arg_text_opt(fcinfo, 1);
	c.description = csms_arg_text_opt(fcinfo, 2);
	if (c.description)
		csms_check_description(c.description);
	c.set_auto_rotation = !PG_ARGISNULL(3);
	c.auto_rotation = c.set_auto_rotation && PG_GETARG_BOOL(3);
	c.rotation_period = csms_arg_text_opt(fcinfo, 4);
	if (c.rotation_period)
		csms_check_rotation_period(c.rotation_period, NULL);
	c.subscriptions = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	if (c.subscriptions)
		csms_check_event_subscriptions(c.subscriptions);
	c.rotation_func_urn = csms_arg_text_opt(fcinfo, 6);
	if (c.rotation_func_urn && c.rotation_func_urn[0] != '\0')
		c.rotation_func_urn = csms_rotation_function_resolve(c.rotation_func_urn);

	csms_call_begin(&call, "csms_update_secret", CSMS_NEED_ROOT_KEY);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_MANAGE);
	if (c.subscriptions)
		csms_events_check_subscriptions(&call, c.subscriptions);
	csms_secret_update(&call, s, &c);
	tup = csms_secret_tuple(&call, csms_result_tupdesc(fcinfo), &s->id);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_delete_secret(name): the secret and its versions go */
Datum
csms_delete_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;

	csms_call_begin(&call, "csms_delete_secret", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_DELETE, CSMS_PRIV_MANAGE);
	csms_secrets_delete(&s->id, 1);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* csms_enable_secret and csms_disable_secret */
static Datum
secret_set_state(FunctionCallInfo fcinfo, const char *fname, const char *state)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	HeapTuple	tup;

	csms_call_begin(&call, fname, 0);
	s = csms_secret_open(&call, name, CSMS_ACT_SET_STATE, CSMS_PRIV_MANAGE);
	csms_secret_set_state(s, state);
	tup = csms_secret_tuple(&call, csms_result_tupdesc(fcinfo), &s->id);
	csms_replicas_follow(&call, s);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_enable_secret(name): the secret serves its values again */
Datum
csms_enable_secret(PG_FUNCTION_ARGS)
{
	return secret_set_state(fcinfo, "csms_enable_secret", "ENABLED");
}

/* csms_disable_secret(name): the secret keeps its versions but serves none */
Datum
csms_disable_secret(PG_FUNCTION_ARGS)
{
	return secret_set_state(fcinfo, "csms_disable_secret", "DISABLED");
}

/*
 * csms_schedule_secret_deletion(name, recovery_window_in_days): the secret
 * goes in 7 to 30 days; until then it serves no value and takes no change
 */
Datum
csms_schedule_secret_deletion(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	int			days = PG_ARGISNULL(1) ? 30 : PG_GETARG_INT32(1);
	CsmsSecret *s;
	HeapTuple	tup;

	if (days < 7 || days > 30)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recovery_window_in_days must be between 7 and 30"),
				 errdetail("%d was given.", days)));
	csms_call_begin(&call, "csms_schedule_secret_deletion", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_SCHEDULE_DELETION, CSMS_PRIV_MANAGE);
	csms_secret_schedule_deletion(s, days);
	tup = csms_secret_tuple(&call, csms_result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_cancel_secret_deletion(name): the secret gets back the state it had */
Datum
csms_cancel_secret_deletion(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_cancel_secret_deletion", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_CANCEL_DELETION, CSMS_PRIV_MANAGE);
	csms_secret_cancel_deletion(s);
	tup = csms_secret_tuple(&call, csms_result_tupdesc(fcinfo), &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
