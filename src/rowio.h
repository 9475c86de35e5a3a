/*-------------------------------------------------------------------------
 *
 * rowio.h
 *	  Reads and writes of rows of schema csms without the planner and the
 *	  executor's plan tree, for the paths where a query's set-up would cost
 *	  more than the work: the executor's simple-relation routines, as the
 *	  logical replication apply worker uses them (ExecSimpleRelationInsert,
 *	  Update, Delete, and the speculative insertion of INSERT ... ON
 *	  CONFLICT DO NOTHING), with the relation's indexes, constraints and
 *	  triggers, and the trigger queue of one query around them; and index
 *	  lookups under the active snapshot, with the row locks a SELECT ... FOR
 *	  UPDATE would take.
 *
 *	  Columns are named by catalog.h's CsmsAttr, whose type the catalog has
 *	  checked.  The tables belong to the extension, and the call frame runs
 *	  as their owner: no privilege check is needed.
 *
 * src/rowio.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ROWIO_H
#define CSMS_ROWIO_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "nodes/lockoptions.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "utils/uuid.h"

#include "catalog.h"

/* one column's value of a row to write */
typedef struct CsmsCol
{
	CsmsAttr	attr;
	Datum		value;
	bool		isnull;
} CsmsCol;

/*
 * Insert one row into `table`.  With arbiter_index (a CsmsIndex; -1 for
 * none), a row that conflicts on it is not inserted and false is returned,
 * waiting first for a transaction that is inserting one, exactly as INSERT
 * ... ON CONFLICT (its columns) DO NOTHING; any other unique violation is
 * an error.  The row is visible to the next command.
 */
extern bool csms_row_insert(CsmsRel table, int arbiter_index, const CsmsCol *cols,
							int ncols);

/* several writes to one table in one statement's executor state */
typedef struct CsmsWriter CsmsWriter;

#define CSMS_WRITE_INSERT	0x01
#define CSMS_WRITE_UPDATE	0x02
#define CSMS_WRITE_DELETE	0x04
extern CsmsWriter *csms_writer_begin(CsmsRel table, int cmds);
extern void csms_writer_update(CsmsWriter *w, ItemPointer tid, const CsmsCol *cols,
							   int ncols);
extern void csms_writer_delete(CsmsWriter *w, ItemPointer tid);
/* insert a row (a writer of CSMS_WRITE_INSERT; no arbiter) */
extern void csms_writer_insert(CsmsWriter *w, const CsmsCol *cols, int ncols);
extern Relation csms_writer_rel(CsmsWriter *w);
extern void csms_writer_end(CsmsWriter *w);

/*
 * Overwrite timestamptz column `attr` of the row of `rel` at `tid` with `t`
 * in place -- no new row version, no transaction id, no row lock kept: as
 * VACUUM writes pg_class's statistics, for bookkeeping that a change of the
 * row must not wait for -- when the stored value is older.  Never waits:
 * false, having written nothing, when the table, the row or its page is
 * held (another transaction changing or locking the row, or DDL), when the
 * row is not the latest version or not the one whose uuid column `id_attr`
 * is `id`, when an index covers the column, or during recovery.  Not
 * transactional: it stays when the caller's transaction rolls back, unless
 * that transaction made the row version.  The caller holds a lock on rel.
 */
extern bool csms_row_overwrite_time(Relation rel, ItemPointer tid, CsmsAttr id_attr,
									const pg_uuid_t *id, CsmsAttr attr, TimestampTz t);

/* a snapshot as SPI takes one for each statement; pop it with PopActiveSnapshot */
extern void csms_snapshot_push(void);

/*
 * The one row of `rel` that unique btree index `indexoid` finds for the
 * equality keys (procs: their equality functions) under the active
 * snapshot, into slot; with lockmode, locked as SELECT ... FOR UPDATE (or
 * FOR NO KEY UPDATE) locks it; with LockWaitSkip, a row another transaction
 * holds is no row, and *skipped says so.
 */
extern bool csms_row_find(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
						  const Datum *values, const LockTupleMode *lockmode,
						  TupleTableSlot *slot);
extern bool csms_row_find_wait(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
							   const Datum *values, const LockTupleMode *lockmode,
							   LockWaitPolicy wait, TupleTableSlot *slot, bool *skipped);

/* many lookups by one index: one scan, restarted with each key */
typedef struct CsmsFinder CsmsFinder;
extern CsmsFinder *csms_finder_begin(Relation rel, Oid indexoid, int nkeys,
									 const Oid *procs);
extern bool csms_finder_get(CsmsFinder *f, const Datum *values, TupleTableSlot *slot);
extern void csms_finder_end(CsmsFinder *f);

/*
 * The row `index` finds for one key in the latest committed state (and this
 * transaction's changes): a copy and the table's descriptor; NULL if none.
 */
extern HeapTuple csms_row_latest(CsmsRel table, CsmsIndex index, Oid proc, Datum value,
								 TupleDesc *desc);

#endif							/* CSMS_ROWIO_H */
