/*-------------------------------------------------------------------------
 *
 * backup_api.c
 *	  SQL entry points for backup blobs: csms_backup_secret, csms_restore.
 *
 * src/backup_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "util.h"
#include "frame.h"
#include "secret.h"
#include "backup.h"

PG_FUNCTION_INFO_V1(csms_backup_secret);
PG_FUNCTION_INFO_V1(csms_restore);

/* csms_backup_secret(name): the backup blob of a secret */
Datum
csms_backup_secret(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	text	   *blob;

	csms_call_begin(&call, "csms_backup_secret", CSMS_NEED_ROOT_KEY);
	blob = csms_backup_make(&call, name);
	csms_call_end(&call);
	PG_RETURN_TEXT_P(blob);
}

/* csms_restore(secret_blob): a secret from its backup blob */
Datum
csms_restore(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	TupleDesc	tupdesc = NULL;
	csms_blob_parsed parsed;
	pg_uuid_t	id;
	HeapTuple	tup;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret_blob must not be NULL")));
	tupdesc = csms_result_tupdesc(fcinfo);

	/* the form of the blob: no key needed */
	csms_backup_parse(PG_GETARG_TEXT_PP(0), &parsed);

	csms_call_begin(&call, "csms_restore", CSMS_NEED_ROOT_KEY);
	csms_backup_restore(&call, &parsed, &id);
	tup = csms_secret_tuple(&call, tupdesc, &id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
