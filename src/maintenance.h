/*-------------------------------------------------------------------------
 *
 * maintenance.h
 *	  The due work: purging secrets whose scheduled deletion has come,
 *	  announcing versions whose expiry has passed (SECRET_VERSION_EXPIRED),
 *	  dropping notification records older than three months.  Each kind
 *	  goes in batches, one transaction each, that can run again after a
 *	  crash without doing anything twice: what a batch did is in the rows
 *	  it changed, committed with it.  With shared_preload_libraries a
 *	  launcher runs it in every database that has the extension every
 *	  csms.maintenance_interval; csms_run_maintenance() runs it on demand.
 *
 * src/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_MAINTENANCE_H
#define CSMS_MAINTENANCE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "context.h"

typedef enum CsmsDueWork
{
	CSMS_DUE_PURGE,				/* secrets whose deletion time has come */
	CSMS_DUE_EXPIRY,			/* versions whose expiry has passed */
	CSMS_DUE_RECORDS,			/* notification records and rotation tasks older than 3 months */
	CSMS_DUE_ROTATION,			/* automatic rotations whose time has come */
	CSMS_DUE_NKINDS
} CsmsDueWork;

/* what one kind of work did in a run, for the messages */
typedef struct CsmsDueCounts
{
	uint64		done[CSMS_DUE_NKINDS];
} CsmsDueCounts;

/* now, as the due work sees it: the transaction's start plus csms.now_offset */
extern TimestampTz csms_due_now(void);

/*
 * One batch of `kind` in the call's frame (and transaction): how many items
 * it did.  Fewer than the batch size means none is left.
 */
extern uint64 csms_due_batch(CsmsCall *call, CsmsDueWork kind, TimestampTz now);
extern uint64 csms_due_batch_size(CsmsDueWork kind);

/* "purged 3 secrets, announced 1 expired version" (or NULL: nothing done) */
extern char *csms_due_summary(const CsmsDueCounts *counts);

/* With shared_preload_libraries: register the launcher (from _PG_init) */
extern void csms_maintenance_init(void);

extern PGDLLEXPORT void csms_maintenance_launcher_main(Datum arg);
extern PGDLLEXPORT void csms_maintenance_worker_main(Datum arg);

#endif							/* CSMS_MAINTENANCE_H */
