/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  The due work and its background workers (see maintenance.h).
 *
 *	  A batch finds its items with an index (secrets_deletion_due,
 *	  versions_expiry_due, notification_records_create_time), locks them
 *	  with SKIP LOCKED (a secret being changed waits for the next batch, and
 *	  two runs at once share the work instead of waiting for each other),
 *	  does them, and commits.  A purged secret is gone and an announced
 *	  expiry is marked on its version (expiry_announced) in the transaction
 *	  that sent the notification, so a crash before the commit leaves the
 *	  batch to do again and one after it leaves nothing to do twice.  Each
 *	  batch allocates in the call frame's memory, freed when it ends: a
 *	  run's memory does not grow with the number of items.
 *
 *	  The launcher (a static background worker, with shared_preload_libraries)
 *	  starts, every csms.maintenance_interval, one worker per database that
 *	  allows connections, one after the other; a worker that finds the
 *	  extension missing there (or at another version) exits at once.
 *
 * src/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "util.h"
#include "settings.h"
#include "workers.h"
#include "catalog.h"
#include "spi.h"
#include "frame.h"
#include "secret.h"
#include "event.h"
#include "rotation.h"
#include "maintenance.h"

/* items per batch (one transaction each) */
static const int batch_sizes[CSMS_DUE_NKINDS] = {
	[CSMS_DUE_PURGE] = 200,		/* secrets, each with up to 20 versions */
	[CSMS_DUE_EXPIRY] = 1000,	/* versions */
	[CSMS_DUE_RECORDS] = 5000,	/* notification records, rotation tasks */
	[CSMS_DUE_ROTATION] = 50,	/* secrets, each rotated in a subtransaction */
};

/* notification records are kept three months (csms-api.md, 4.27) */
#define RECORD_RETENTION_MONTHS 3

TimestampTz
csms_due_now(void)
{
	return GetCurrentTransactionStartTimestamp() + (TimestampTz) csms_now_offset * USECS_PER_SEC;
}

uint64
csms_due_batch_size(CsmsDueWork kind)
{
	return batch_sizes[kind];
}

/* The batches -------------------------------------------------------------- */

/*
 * Secrets due for deletion; FOR UPDATE, as a deletion through the gate
 * locks.  Only standalone ones: the API never schedules a primary or a
 * replica, whose deletion would also have to mend the other side.
 */
static CsmsStmt q_due_deletions = {
	"SELECT s.id FROM csms.secrets s"
	" WHERE s.scheduled_delete_time IS NOT NULL"
	"   AND s.scheduled_delete_time OPERATOR(pg_catalog.<=) $1"
	"   AND s.state OPERATOR(pg_catalog.=) 'PENDING_DELETE'"
	"   AND s.replica_type OPERATOR(pg_catalog.=) 'STANDALONE'"
	" ORDER BY s.scheduled_delete_time LIMIT $2"
	" FOR UPDATE SKIP LOCKED",
	2, {TIMESTAMPTZOID, INT4OID}
};

/* versions whose expiry passed and was not announced: marked, returned */
static CsmsStmt q_due_expiries = {
	"WITH due AS (SELECT v.secret_id, v.version FROM csms.versions v"
	"  WHERE v.expire_time IS NOT NULL"
	"    AND (v.expiry_announced IS NULL"
	"         OR v.expire_time OPERATOR(pg_catalog.<>) v.expiry_announced)"
	"    AND v.expire_time OPERATOR(pg_catalog.<=) $1"
	"  ORDER BY v.expire_time LIMIT $2"
	"  FOR UPDATE SKIP LOCKED)"
	" UPDATE csms.versions v SET expiry_announced = v.expire_time"
	" FROM due JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) due.secret_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) due.secret_id"
	"   AND v.version OPERATOR(pg_catalog.=) due.version"
	" RETURNING v.secret_id, v.version, v.expire_time, s.name, s.region, s.secret_type,"
	"  s.event_subscriptions",
	2, {TIMESTAMPTZOID, INT4OID}
};

static uint64
purge_batch(TimestampTz now, int limit)
{
	Datum		args[2];
	uint64		n,
				i;
	pg_uuid_t  *ids;
	bool		isnull;

	args[0] = TimestampTzGetDatum(now);
	args[1] = Int32GetDatum(limit);
	n = csms_exec(&q_due_deletions, args, NULL, SPI_OK_SELECT, 0);
	if (n == 0)
		return 0;
	ids = palloc(sizeof(pg_uuid_t) * n);
	for (i = 0; i < n; i++)
		ids[i] = *DatumGetUUIDP(csms_col(i, 1, &isnull));
	csms_secrets_delete(ids, (int) n);
	return n;
}

static uint64
expiry_batch(TimestampTz now, int limit)
{
	Datum		args[2];
	uint64		n,
				i;
	CsmsEventSubject *expired;
	bool		isnull;

	args[0] = TimestampTzGetDatum(now);
	args[1] = Int32GetDatum(limit);
	n = csms_exec(&q_due_expiries, args, NULL, SPI_OK_UPDATE_RETURNING, 0);
	if (n == 0)
		return 0;
	expired = palloc0(sizeof(CsmsEventSubject) * n);
	for (i = 0; i < n; i++)
	{
		expired[i].id = *DatumGetUUIDP(csms_col(i, 1, &isnull));
		expired[i].version = DatumGetInt32(csms_col(i, 2, &isnull));
		expired[i].expire_time = DatumGetTimestampTz(csms_col(i, 3, &isnull));
		expired[i].name = csms_col_text(i, 4);
		expired[i].region = csms_col_text(i, 5);
		expired[i].secret_type = csms_col_text(i, 6);
		expired[i].event = csms_event_subscribed(csms_col(i, 7, &isnull));
	}
	csms_events_fire(CSMS_EVENT_VERSION_EXPIRED, expired, (int) n);
	return n;
}

/* One batch of `kind` (maintenance.h) */
uint64
csms_due_batch(CsmsCall *call, CsmsDueWork kind, TimestampTz now)
{
	int			limit = batch_sizes[kind];

	switch (kind)
	{
		case CSMS_DUE_PURGE:
			return purge_batch(now, limit);
		case CSMS_DUE_EXPIRY:
			return expiry_batch(now, limit);
		case CSMS_DUE_RECORDS:
			{
				Interval	months;

				TimestampTz cutoff;
				uint64		n;

				memset(&months, 0, sizeof(months));
				months.month = RECORD_RETENTION_MONTHS;
				cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																 TimestampTzGetDatum(now),
																 IntervalPGetDatum(&months)));
				n = csms_notification_retire(cutoff, limit);
				/* tasks are kept as long (CSMS_TASK_RETENTION_MONTHS) */
				if (n < (uint64) limit)
					n += csms_task_retire(cutoff, limit - (int) n);
				return n;
			}
		case CSMS_DUE_ROTATION:
			return csms_rotation_batch(call, now, limit);
		case CSMS_DUE_NKINDS:
			break;
	}
	elog(ERROR, "unknown kind of due work %d", (int) kind);
	return 0;
}

char *
csms_due_summary(const CsmsDueCounts *c)
{
	StringInfoData buf;

	if (c->done[CSMS_DUE_PURGE] + c->done[CSMS_DUE_EXPIRY] + c->done[CSMS_DUE_RECORDS] +
		c->done[CSMS_DUE_ROTATION] == 0)
		return NULL;
	initStringInfo(&buf);
	appendStringInfo(&buf, "secrets purged: " UINT64_FORMAT ", version expiries announced: "
					 UINT64_FORMAT ", notification records and tasks removed: " UINT64_FORMAT
					 ", rotations attempted: " UINT64_FORMAT,
					 c->done[CSMS_DUE_PURGE], c->done[CSMS_DUE_EXPIRY],
					 c->done[CSMS_DUE_RECORDS], c->done[CSMS_DUE_ROTATION]);
	return buf.data;
}

/* The launcher ------------------------------------------------------------- */

void
csms_maintenance_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	/* where writes are possible: a promoted standby starts it */
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "secrets", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "csms_maintenance_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "csms maintenance launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "csms maintenance launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* The databases that allow connections, but templates, now */
static Oid *
open_databases(int *n)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	int			size = 16;
	Oid		   *dbs = palloc(sizeof(Oid) * size);

	*n = 0;
	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (!db->datallowconn || db->datistemplate)
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (db->datconnlimit == DATCONNLIMIT_INVALID_DB)
			continue;
#endif
		if (*n == size)
		{
			size *= 2;
			dbs = repalloc(dbs, sizeof(Oid) * size);
		}
		dbs[(*n)++] = db->oid;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/* Run the worker of database dbid and wait for it; false: no free slot */
static bool
run_worker(Oid dbid)
{
	static bool start_failed = false;	/* say it once, not every round */

	if (!csms_run_database_worker("csms_maintenance_worker_main", "csms maintenance", dbid))
	{
		if (!start_failed)
			ereport(LOG,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start a background worker for the due work of secrets"),
					 errdetail("Every slot of max_worker_processes is in use; the work waits for the next round."),
					 errhint("Raise max_worker_processes.")));
		start_failed = true;
		return false;
	}
	start_failed = false;
	return true;
}

static void
launcher_round(void)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "csms maintenance round",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Oid		   *dbs;
	int			n,
				i;

	dbs = open_databases(&n);
	for (i = 0; i < n && !ShutdownRequestPending; i++)
		if (!run_worker(dbs[i]))
			break;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

void
csms_maintenance_launcher_main(Datum arg)
{
	TimestampTz last_round = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	/* connected to no database: it reads the shared catalog pg_database */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	for (;;)
	{
		long		wait_ms = -1;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (csms_maintenance_interval > 0)
		{
			TimestampTz now = GetCurrentTimestamp();

			wait_ms = (long) csms_maintenance_interval * 1000 -
				(long) ((now - last_round) / 1000);
			if (last_round == 0 || wait_ms <= 0)
			{
				last_round = now;
				launcher_round();
				continue;
			}
		}
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (wait_ms > 0 ? WL_TIMEOUT : 0),
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(1);
}

/* The worker of one database ----------------------------------------------- */

static void
worker_error_context(void *arg)
{
	errcontext("due work of secrets in database \"%s\"", (const char *) arg);
}

/* Whether extension secrets is installed here as this library expects */
static bool
installed_here(char *dbname)
{
	bool		ok;
	char	   *name;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	name = get_database_name(MyDatabaseId);
	strlcpy(dbname, name ? name : "?", NAMEDATALEN);
	ok = csms_catalog_ok();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ok;
}

void
csms_maintenance_worker_main(Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);
	char		dbname[NAMEDATALEN];
	CsmsDueCounts counts;
	ErrorContextCallback errcallback;
	int			kind;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);

	/* the database's settings must not change what the work does */
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);

	if (!installed_here(dbname))
		proc_exit(0);

	memset(&counts, 0, sizeof(counts));
	errcallback.callback = worker_error_context;
	errcallback.arg = dbname;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	pgstat_report_activity(STATE_RUNNING, "due work of secrets");

	/*
	 * An error (a lock timeout behind DDL, say) ends this run with an ERROR
	 * in the log; committed batches stay done, the rest waits for the next
	 * round.
	 */
	PG_TRY();
	{
		for (kind = 0; kind < CSMS_DUE_NKINDS && !ShutdownRequestPending; kind++)
		{
			for (;;)
			{
				CsmsCall	call;
				uint64		n;

				CHECK_FOR_INTERRUPTS();
				if (ShutdownRequestPending)
					break;
				StartTransactionCommand();
				PushActiveSnapshot(GetTransactionSnapshot());
				/* the account too: a rotation needs the root key */
				csms_call_begin(&call, "csms maintenance", 0);
				n = csms_due_batch(&call, (CsmsDueWork) kind, csms_due_now());
				csms_call_end(&call);
				PopActiveSnapshot();
				CommitTransactionCommand();
				counts.done[kind] += n;
				if (n < csms_due_batch_size((CsmsDueWork) kind))
					break;
			}
		}
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();
		proc_exit(1);
	}
	PG_END_TRY();
	error_context_stack = errcallback.previous;
	{
		char	   *summary = csms_due_summary(&counts);

		if (summary)
			ereport(LOG,
					(errmsg("due work of secrets in database \"%s\": %s", dbname, summary)));
	}
	proc_exit(0);
}
