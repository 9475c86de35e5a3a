/*-------------------------------------------------------------------------
 *
 * replicas_api.c
 *	  SQL entry points for regions and replica secrets: csms_create_region,
 *	  csms_list_regions, csms_create_replica, csms_delete_replica,
 *	  csms_promote_replica.
 *
 * src/replicas_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "util.h"
#include "validate.h"
#include "frame.h"
#include "secret.h"
#include "replica.h"

PG_FUNCTION_INFO_V1(csms_create_region);
PG_FUNCTION_INFO_V1(csms_list_regions);
PG_FUNCTION_INFO_V1(csms_create_replica);
PG_FUNCTION_INFO_V1(csms_delete_replica);
PG_FUNCTION_INFO_V1(csms_promote_replica);

/* csms_create_region(name): a new region; its project id */
Datum
csms_create_region(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char		project[33];

	csms_check_name("region", name);
	csms_call_begin(&call, "csms_create_region", 0);
	csms_region_create(name, project);
	csms_call_end(&call);
	PG_RETURN_TEXT_P(cstring_to_text(project));
}

/* The regions where replicas may be created: all but the session's. */
Datum
csms_list_regions(PG_FUNCTION_ARGS)
{
	CsmsCall	call;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	csms_call_begin(&call, "csms_list_regions", 0);
	csms_region_list(&call, (ReturnSetInfo *) fcinfo->resultinfo);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_create_replica(name, region, kms_key_id): a replica; its id */
Datum
csms_create_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *region = csms_arg_text(fcinfo, 1, "region");
	char	   *key_ref = csms_arg_text_opt(fcinfo, 2);
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

	csms_check_name("region", region);
	csms_call_begin(&call, "csms_create_replica", CSMS_NEED_ROOT_KEY);
	csms_replica_create(&call, name, region, key_ref, id);
	csms_call_end(&call);
	PG_RETURN_UUID_P(id);
}

/* Called in the primary's region: removes the replica in `region`. */
Datum
csms_delete_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *region = csms_arg_text(fcinfo, 1, "region");

	csms_check_name("region", region);
	csms_call_begin(&call, "csms_delete_replica", 0);
	csms_replica_delete(&call, name, region);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* Called in the replica's region: it becomes a STANDALONE secret. */
Datum
csms_promote_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	TupleDesc	tupdesc = csms_result_tupdesc(fcinfo);
	pg_uuid_t	id;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_promote_replica", 0);
	csms_replica_promote(&call, name, &id);
	tup = csms_secret_tuple(&call, tupdesc, &id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
