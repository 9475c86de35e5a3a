/*-------------------------------------------------------------------------
 *
 * maintenance_api.c
 *	  SQL entry point of the due work: the procedure csms_run_maintenance,
 *	  for csms_admin, where the library is not preloaded (from pg_cron, for
 *	  example) or to run the work now.
 *
 * src/maintenance_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"

#include "util.h"
#include "spi.h"
#include "frame.h"
#include "acl.h"
#include "maintenance.h"

PG_FUNCTION_INFO_V1(csms_run_maintenance);

/*
 * CALL csms_run_maintenance(): every batch of due work in the database,
 * each committed on its own when CALLed outside a transaction block
 * (inside one, or from a function, all in that transaction).
 */
Datum
csms_run_maintenance(PG_FUNCTION_ARGS)
{
	bool		nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
	CsmsDueCounts counts;
	int			kind;
	char	   *summary;

	/* the caller's right first, in a frame of its own */
	{
		CsmsCall	call;

		csms_call_begin(&call, "csms_run_maintenance", 0);
		if (!csms_acl_is_admin(call.save_uid))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to run the due work of secrets"),
					 errdetail("The due work purges secrets of every owner, so it is for members of csms_admin.")));
		csms_call_end(&call);
	}

	/*
	 * A non-atomic SPI connection of the procedure's own, so that it may
	 * commit between batches; each batch runs in a call frame of its own,
	 * left before the commit.
	 */
	/*
	 * Each batch in a READ COMMITTED transaction of its own, as the worker's:
	 * under REPEATABLE READ, FOR UPDATE SKIP LOCKED fails (40001) on a row a
	 * concurrent run or a cancel changed.  The CALL's own transaction, whose
	 * level is the caller's, commits before the first batch.
	 */
	if (nonatomic)
	{
		csms_spi_nonatomic_enter();
		csms_spi_commit();
		XactIsoLevel = XACT_READ_COMMITTED;
	}
	memset(&counts, 0, sizeof(counts));
	for (kind = 0; kind < CSMS_DUE_NKINDS; kind++)
	{
		for (;;)
		{
			CsmsCall	call;
			uint64		n;

			CHECK_FOR_INTERRUPTS();
			csms_call_begin(&call, "csms_run_maintenance", 0);
			n = csms_due_batch(&call, (CsmsDueWork) kind, csms_due_now());
			csms_call_end(&call);
			if (nonatomic)
			{
				csms_spi_commit();
				XactIsoLevel = XACT_READ_COMMITTED;
			}
			counts.done[kind] += n;
			if (n < csms_due_batch_size((CsmsDueWork) kind))
				break;
		}
	}
	if (nonatomic)
		csms_spi_nonatomic_leave();
	summary = csms_due_summary(&counts);
	if (summary)
		ereport(NOTICE, (errmsg("%s", summary)));
	PG_RETURN_VOID();
}
