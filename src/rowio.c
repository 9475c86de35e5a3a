/*-------------------------------------------------------------------------
 *
 * rowio.c
 *	  Row inserts of the write paths without the planner and the executor's
 *	  plan tree: the executor's simple-relation routines, as the logical
 *	  replication apply worker uses them (ExecSimpleRelationInsert, and the
 *	  speculative insertion of INSERT ... ON CONFLICT DO NOTHING), with the
 *	  relation's indexes, NOT NULL constraints and triggers, and the trigger
 *	  queue of one query around them so that any row trigger fires as in an
 *	  INSERT statement.
 *
 *	  A row is given by column name and type, checked against the table, so
 *	  that a table that does not look as the code expects is an error, never
 *	  a wrong row.  The tables belong to the extension, and the call frame
 *	  runs as their owner (secrets.c): no privilege check is needed.
 *
 * src/rowio.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/genam.h"
#include "catalog/index.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "utils/inval.h"
#include "utils/syscache.h"

#include "secrets.h"

/* The values of one row of `rel`, by attribute number, from cols. */
static void
fill_slot(Relation rel, TupleTableSlot *slot, const CsmsCol *cols, int ncols)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i,
				c = 0,
				k;
	int			used = 0;

	ExecClearTuple(slot);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
		if (att->attisdropped)
			continue;

		/*
		 * Callers mostly list columns in table order: look from the one
		 * after the last match, so a row costs one comparison per column.
		 */
		for (k = 0; k < ncols; k++, c = (c + 1) % ncols)
			if (strcmp(NameStr(att->attname), cols[c].name) == 0)
				break;
		if (k == ncols)
		{
			/* every column with a default is given: the code decides */
			if (att->atthasdef)
				elog(ERROR, "no value for column \"%s\" of \"%s\"",
					 NameStr(att->attname), RelationGetRelationName(rel));
			continue;
		}
		if (att->atttypid != cols[c].type)
			elog(ERROR, "column \"%s\" of \"%s\" is not of the expected type",
				 cols[c].name, RelationGetRelationName(rel));
		slot->tts_values[i] = cols[c].value;
		slot->tts_isnull[i] = cols[c].isnull;
		used++;
		c = (c + 1) % ncols;
	}
	if (used != ncols)
		elog(ERROR, "\"%s\" lacks a column the code writes",
			 RelationGetRelationName(rel));
	ExecStoreVirtualTuple(slot);
}

/* The executor state of one write to csms.<table>. */
struct CsmsWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epq;
	TupleTableSlot *slot;		/* the row written */
	TupleTableSlot *oldslot;	/* the row an update replaces or a delete removes */
	int			cmds;
};

/*
 * OIDs of the relations of schema csms by name, looked up once per backend
 * and forgotten on any change to pg_class (a few names; a change is rare).
 */
#define RELID_CACHE_SIZE 16

static struct
{
	char		name[NAMEDATALEN];
	Oid			relid;
}			relid_cache[RELID_CACHE_SIZE];
static int	relid_cache_used = 0;
static bool relid_callback_registered = false;

static void
relid_cache_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	relid_cache_used = 0;
}

Oid
csms_relid(const char *name)
{
	Oid			relid;
	int			i;

	for (i = 0; i < relid_cache_used; i++)
		if (strcmp(relid_cache[i].name, name) == 0)
			return relid_cache[i].relid;

	relid = get_relname_relid(name, get_namespace_oid("csms", false));
	if (!OidIsValid(relid))
		elog(ERROR, "relation \"csms.%s\" does not exist", name);
	if (!relid_callback_registered)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, relid_cache_reset, (Datum) 0);
		relid_callback_registered = true;
	}
	if (relid_cache_used < RELID_CACHE_SIZE && strlen(name) < NAMEDATALEN)
	{
		strlcpy(relid_cache[relid_cache_used].name, name, NAMEDATALEN);
		relid_cache[relid_cache_used].relid = relid;
		relid_cache_used++;
	}
	return relid;
}

/*
 * Begin writes to csms.<table>: the statement of cmds (CSMS_WRITE_INSERT,
 * CSMS_WRITE_UPDATE or both, as INSERT ... ON CONFLICT DO UPDATE) with its
 * indexes, its statement triggers and the trigger queue of one query.  For
 * a speculative insertion, what it needs of the arbiter index `arbiter`
 * (ExecOpenIndices would build that for every unique index, but
 * ExecInsertIndexTuples and ExecCheckIndexConstraints use it for arbiters
 * only).
 */
static CsmsWriter *
writer_begin(const char *table, int cmds, Oid arbiter)
{
	CsmsWriter *w = palloc0(sizeof(CsmsWriter));
	Oid			relid = csms_relid(table);
	RangeTblEntry *rte;

	w->cmds = cmds;
	w->rel = table_open(relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	if (cmds & CSMS_WRITE_INSERT)
		CheckValidResultRel(w->rri, CMD_INSERT);
	if (cmds & CSMS_WRITE_UPDATE)
		CheckValidResultRel(w->rri, CMD_UPDATE);
	if (cmds & CSMS_WRITE_DELETE)
		CheckValidResultRel(w->rri, CMD_DELETE);
	w->estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(w->rri, false);
	if (OidIsValid(arbiter))
	{
		int			i;

		for (i = 0; i < w->rri->ri_NumIndices; i++)
			if (RelationGetRelid(w->rri->ri_IndexRelationDescs[i]) == arbiter)
				break;
		if (i == w->rri->ri_NumIndices)
			elog(ERROR, "index %u is not an index of \"%s\"", arbiter,
				 RelationGetRelationName(w->rel));
		BuildSpeculativeIndexInfo(w->rri->ri_IndexRelationDescs[i],
								  w->rri->ri_IndexRelationInfo[i]);
	}
	w->slot = table_slot_create(w->rel, &w->estate->es_tupleTable);
	if (cmds & (CSMS_WRITE_UPDATE | CSMS_WRITE_DELETE))
	{
		w->oldslot = table_slot_create(w->rel, &w->estate->es_tupleTable);
		EvalPlanQualInit(&w->epq, w->estate, NULL, NIL, -1);
	}

	AfterTriggerBeginQuery();
	if (cmds & CSMS_WRITE_INSERT)
		ExecBSInsertTriggers(w->estate, w->rri);
	if (cmds & CSMS_WRITE_UPDATE)
		ExecBSUpdateTriggers(w->estate, w->rri);
	if (cmds & CSMS_WRITE_DELETE)
		ExecBSDeleteTriggers(w->estate, w->rri);
	return w;
}

CsmsWriter *
csms_writer_begin(const char *table, int cmds)
{
	return writer_begin(table, cmds, InvalidOid);
}

/* Insert one row (every column with a default given). */
void
csms_writer_insert(CsmsWriter *w, const CsmsCol *cols, int ncols)
{
	Assert(w->cmds & CSMS_WRITE_INSERT);
	fill_slot(w->rel, w->slot, cols, ncols);
	ExecSimpleRelationInsert(w->rri, w->estate, w->slot);
}

/* The table the writer writes (opened and locked by csms_writer_begin). */
Relation
csms_writer_rel(CsmsWriter *w)
{
	return w->rel;
}

/* w->slot := the row at tid (into w->oldslot) with the given columns changed */
static void
updated_row(CsmsWriter *w, ItemPointer tid, const CsmsCol *cols, int ncols)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	int			c;

	Assert(w->cmds & CSMS_WRITE_UPDATE);
	if (!table_tuple_fetch_row_version(w->rel, tid, SnapshotAny, w->oldslot))
		elog(ERROR, "row (%u,%u) of \"%s\" vanished", ItemPointerGetBlockNumber(tid),
			 ItemPointerGetOffsetNumber(tid), RelationGetRelationName(w->rel));
	slot_getallattrs(w->oldslot);
	ExecClearTuple(w->slot);
	memcpy(w->slot->tts_values, w->oldslot->tts_values, sizeof(Datum) * desc->natts);
	memcpy(w->slot->tts_isnull, w->oldslot->tts_isnull, sizeof(bool) * desc->natts);
	for (c = 0; c < ncols; c++)
	{
		int			attno = csms_attnum(desc, cols[c].name, cols[c].type);

		w->slot->tts_values[attno - 1] = cols[c].value;
		w->slot->tts_isnull[attno - 1] = cols[c].isnull;
	}
	ExecStoreVirtualTuple(w->slot);
}

/*
 * Update the row at tid, which this transaction has locked or is otherwise
 * the only one to write (a concurrent update is an error): the given
 * columns change, the others keep their values.  tid becomes the new row
 * version's.
 */
void
csms_writer_update(CsmsWriter *w, ItemPointer tid, const CsmsCol *cols, int ncols)
{
	updated_row(w, tid, cols, ncols);
	EvalPlanQualSetSlot(&w->epq, w->oldslot);
	ExecSimpleRelationUpdate(w->rri, w->estate, &w->epq, w->oldslot, w->slot);
	*tid = w->slot->tts_tid;
}

/*
 * The same, unless another transaction holds the row (a lock or a change
 * in progress) or changed it since the active snapshot: then nothing is
 * written and the answer is false, and the caller skips the row as SKIP
 * LOCKED would -- without waiting, and without first writing a row lock of
 * its own (a second WAL record for every row).  For tables without row
 * triggers or generated columns (csms.usage).
 */
bool
csms_writer_update_nowait(CsmsWriter *w, ItemPointer tid, const CsmsCol *cols, int ncols)
{
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	bool		update_indexes;

	if ((w->rri->ri_TrigDesc && (w->rri->ri_TrigDesc->trig_update_before_row ||
								 w->rri->ri_TrigDesc->trig_update_after_row ||
								 w->rri->ri_TrigDesc->trig_update_instead_row)) ||
		(w->rel->rd_att->constr && w->rel->rd_att->constr->has_generated_stored))
		elog(ERROR, "table \"%s\" has row triggers or generated columns",
			 RelationGetRelationName(w->rel));
	updated_row(w, tid, cols, ncols);
	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, w->slot, w->estate);
	if (table_tuple_update(w->rel, tid, w->slot, w->estate->es_output_cid,
						   GetActiveSnapshot(), InvalidSnapshot, false,
						   &tmfd, &lockmode, &update_indexes) != TM_Ok)
		return false;			/* being modified, updated, deleted: skipped */
	if (update_indexes && w->rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(w->rri, w->slot, w->estate, true, false,
										NULL, NIL));
	*tid = w->slot->tts_tid;
	return true;
}

/*
 * Delete the row at tid, which this transaction has locked or is otherwise
 * the only one to write (a concurrent update is an error).
 */
void
csms_writer_delete(CsmsWriter *w, ItemPointer tid)
{
	Assert(w->cmds & CSMS_WRITE_DELETE);
	if (!table_tuple_fetch_row_version(w->rel, tid, SnapshotAny, w->oldslot))
		elog(ERROR, "row (%u,%u) of \"%s\" vanished", ItemPointerGetBlockNumber(tid),
			 ItemPointerGetOffsetNumber(tid), RelationGetRelationName(w->rel));
	EvalPlanQualSetSlot(&w->epq, w->oldslot);
	ExecSimpleRelationDelete(w->rri, w->estate, &w->epq, w->oldslot);
}

/* End the writes: statement triggers, the trigger queue; the next command sees them. */
void
csms_writer_end(CsmsWriter *w)
{
	if (w->cmds & CSMS_WRITE_INSERT)
		ExecASInsertTriggers(w->estate, w->rri, NULL);
	if (w->cmds & CSMS_WRITE_UPDATE)
		ExecASUpdateTriggers(w->estate, w->rri, NULL);
	if (w->cmds & CSMS_WRITE_DELETE)
		ExecASDeleteTriggers(w->estate, w->rri, NULL);
	AfterTriggerEndQuery(w->estate);
	if (w->cmds & (CSMS_WRITE_UPDATE | CSMS_WRITE_DELETE))
		EvalPlanQualEnd(&w->epq);
	ExecCloseIndices(w->rri);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
	pfree(w);

	/* later statements of this call see the rows */
	CommandCounterIncrement();
}

/*
 * Insert one row into csms.<table>.  With arbiter_index (the name of a
 * unique index of the table), a row that conflicts on it is not inserted and
 * false is returned, waiting first for a transaction that is inserting one,
 * exactly as INSERT ... ON CONFLICT (its columns) DO NOTHING; any other
 * unique violation is an error.  The row is visible to the next command.
 *
 * The speculative insertion goes first and the check for a conflicting row
 * (which waits for its inserter) only when it finds one: the order of
 * ExecInsert's is an optimisation for conflicts, which are rare here.
 */
bool
csms_row_insert(const char *table, const char *arbiter_index,
				const CsmsCol *cols, int ncols)
{
	Oid			arbiter = arbiter_index ? csms_relid(arbiter_index) : InvalidOid;
	CsmsWriter *w = writer_begin(table, CSMS_WRITE_INSERT, arbiter);
	ResultRelInfo *rri = w->rri;
	EState	   *estate = w->estate;
	TupleTableSlot *tslot = w->slot;
	bool		inserted = true;

	fill_slot(w->rel, tslot, cols, ncols);
	if (arbiter_index == NULL)
		ExecSimpleRelationInsert(rri, estate, tslot);
	else
	{
		TransactionId xid = GetCurrentTransactionId();
		List	   *arbiters = list_make1_oid(arbiter);
		bool		check_first = false;

		if (rri->ri_TrigDesc && rri->ri_TrigDesc->trig_insert_before_row)
			elog(ERROR, "row triggers before insert on \"%s\" are not supported",
				 RelationGetRelationName(w->rel));
		if (RelationGetDescr(w->rel)->constr)
			ExecConstraints(rri, tslot, estate);
		for (;;)
		{
			ItemPointerData conflict;
			uint32		token;
			bool		spec_conflict = false;
			List	   *recheck;

			/* a committed or in-progress row with the key: do nothing */
			if (check_first &&
				!ExecCheckIndexConstraints(rri, tslot, estate, &conflict, arbiters))
			{
				inserted = false;
				break;
			}
			/* insert, then make sure no one else did meanwhile */
			token = SpeculativeInsertionLockAcquire(xid);
			table_tuple_insert_speculative(w->rel, tslot, estate->es_output_cid, 0, NULL, token);
			recheck = ExecInsertIndexTuples(rri, tslot, estate, false, true,
											&spec_conflict, arbiters);
			table_tuple_complete_speculative(w->rel, tslot, token, !spec_conflict);
			SpeculativeInsertionLockRelease(xid);
			if (!spec_conflict)
			{
				ExecARInsertTriggers(estate, rri, tslot, recheck, NULL);
				break;
			}
			list_free(recheck);
			check_first = true;
		}
	}
	csms_writer_end(w);
	return inserted;
}

/* Reads --------------------------------------------------------------------- */

/* The attribute number of column `name` of type `type`; 0 if there is none. */
int
csms_attnum_find(TupleDesc desc, const char *name, Oid type)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->atttypid == type ? i + 1 : 0;
	}
	return 0;
}

/* The same; an error if there is none. */
int
csms_attnum(TupleDesc desc, const char *name, Oid type)
{
	int			attnum = csms_attnum_find(desc, name, type);

	if (attnum == 0)
		elog(ERROR, "table has no column \"%s\" of the expected type", name);
	return attnum;
}

/*
 * Column `name` of the row in slot; guess is where the install script puts
 * it, checked by name and type, and the column is searched for when that is
 * not so.
 */
Datum
csms_slot_col(TupleTableSlot *slot, int guess, const char *name, Oid type, bool *isnull)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Form_pg_attribute att;

	if (guess > desc->natts ||
		(att = TupleDescAttr(desc, guess - 1))->attisdropped ||
		att->atttypid != type || strcmp(NameStr(att->attname), name) != 0)
		guess = csms_attnum(desc, name, type);
	return slot_getattr(slot, guess, isnull);
}

/*
 * A snapshot as SPI takes one for each statement of a call: what this call
 * wrote so far is visible, and in READ COMMITTED what has committed.  Pop
 * it with PopActiveSnapshot.
 */
void
csms_snapshot_push(void)
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
}

static void
scan_keys(Relation index, ScanKey keys, int nkeys, const Oid *procs, const Datum *values)
{
	int			i;

	for (i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&keys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i],
							   procs[i], values[i]);
}

/* Does the row in slot still have the keys the index scan looked for? */
static bool
keys_match(Relation index, TupleTableSlot *slot, ScanKey keys, int nkeys)
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, index->rd_index->indkey.values[i], &isnull);

		if (isnull || !DatumGetBool(FunctionCall2Coll(&keys[i].sk_func, keys[i].sk_collation,
													  d, keys[i].sk_argument)))
			return false;
	}
	return true;
}

/*
 * Lookups by a btree index under the active snapshot: one scan, restarted
 * with each key (many lookups then cost their descents only, not an index
 * open and a scan set up and torn down each).
 */
struct CsmsFinder
{
	Relation	index;
	IndexScanDesc scan;
	int			nkeys;
	Oid			procs[INDEX_MAX_KEYS];
	ScanKeyData keys[INDEX_MAX_KEYS];	/* of the last lookup */
};

static void
finder_open(CsmsFinder *f, Relation rel, Oid indexoid, int nkeys, const Oid *procs)
{
	Assert(nkeys <= INDEX_MAX_KEYS);
	f->index = index_open(indexoid, AccessShareLock);
	f->scan = index_beginscan(rel, f->index, GetActiveSnapshot(), nkeys, 0);
	f->nkeys = nkeys;
	memcpy(f->procs, procs, sizeof(Oid) * nkeys);
}

static void
finder_close(CsmsFinder *f)
{
	index_endscan(f->scan);
	index_close(f->index, NoLock);	/* held to the end of the transaction */
}

CsmsFinder *
csms_finder_begin(Relation rel, Oid indexoid, int nkeys, const Oid *procs)
{
	CsmsFinder *f = palloc(sizeof(CsmsFinder));

	finder_open(f, rel, indexoid, nkeys, procs);
	return f;
}

/* The row with these keys into slot; false (slot cleared) when there is none. */
bool
csms_finder_get(CsmsFinder *f, const Datum *values, TupleTableSlot *slot)
{
	scan_keys(f->index, f->keys, f->nkeys, f->procs, values);
	index_rescan(f->scan, f->keys, f->nkeys, NULL, 0);
	if (index_getnext_slot(f->scan, ForwardScanDirection, slot))
		return true;
	ExecClearTuple(slot);
	return false;
}

void
csms_finder_end(CsmsFinder *f)
{
	finder_close(f);
	pfree(f);
}

/*
 * The one row of `rel` that unique btree index `index` finds for the
 * equality keys under the active snapshot, into slot; false when there is
 * none.  With lockmode, the row is locked as SELECT ... FOR UPDATE (or FOR
 * NO KEY UPDATE) locks it: waiting for a transaction that writes it; in
 * READ COMMITTED the row's latest version is locked and must still have the
 * keys (else there is no row), and a deleted row is no row; in REPEATABLE
 * READ and SERIALIZABLE a row updated or deleted since the snapshot is a
 * serialization failure (40001), as ExecLockRows raises it.
 */
bool
csms_row_find(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
			  const Datum *values, const LockTupleMode *lockmode, TupleTableSlot *slot)
{
	return csms_row_find_wait(rel, indexoid, nkeys, procs, values, lockmode,
							  LockWaitBlock, slot, NULL);
}

/*
 * The same with a wait policy for the lock: with LockWaitSkip, a row that
 * another transaction holds is no row, as SKIP LOCKED has it, and *skipped
 * says so.
 */
bool
csms_row_find_wait(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
				   const Datum *values, const LockTupleMode *lockmode,
				   LockWaitPolicy wait, TupleTableSlot *slot, bool *skipped)
{
	CsmsFinder	f;
	Snapshot	snapshot = GetActiveSnapshot();
	bool		found;

	if (skipped)
		*skipped = false;
	finder_open(&f, rel, indexoid, nkeys, procs);
	found = csms_finder_get(&f, values, slot);
	index_endscan(f.scan);

	if (found && lockmode)
	{
		ItemPointerData tid = slot->tts_tid;
		TM_FailureData tmfd;
		TM_Result	res;
		int			flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS;

		if (!IsolationUsesXactSnapshot())
			flags |= TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
		res = table_tuple_lock(rel, &tid, snapshot, slot, GetCurrentCommandId(false),
							   *lockmode, wait, flags, &tmfd);
		switch (res)
		{
			case TM_WouldBlock:
				/* LockWaitSkip: another transaction holds it */
				Assert(wait == LockWaitSkip);
				if (skipped)
					*skipped = true;
				found = false;
				break;
			case TM_Ok:
				/* READ COMMITTED, a newer version: is it still the row looked for? */
				if (tmfd.traversed && !keys_match(f.index, slot, f.keys, nkeys))
					found = false;
				break;
			case TM_SelfModified:
				/* changed by a later command of this transaction: no row */
				found = false;
				break;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					ereport(ERROR,
							(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							 errmsg("could not serialize access due to concurrent update")));
				if (res == TM_Updated)
					elog(ERROR, "unexpected table_tuple_lock status: %u", res);
				found = false;	/* deleted: no row */
				break;
			case TM_Invisible:
				elog(ERROR, "attempted to lock invisible tuple");
				break;
			default:
				elog(ERROR, "unexpected table_tuple_lock status: %u", res);
				break;
		}
	}
	index_close(f.index, NoLock);	/* held to the end of the transaction */
	if (!found)
		ExecClearTuple(slot);
	return found;
}

/*
 * Every row of `rel` that btree index `index` finds for the equality keys
 * (a prefix of its columns) under the active snapshot: a list of copies,
 * each with its TID in t_self.
 */
List *
csms_row_scan(Relation rel, Oid indexoid, int nkeys, const Oid *procs, const Datum *values)
{
	Relation	index = index_open(indexoid, AccessShareLock);
	ScanKeyData keys[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	List	   *rows = NIL;

	Assert(nkeys <= INDEX_MAX_KEYS);
	scan_keys(index, keys, nkeys, procs, values);
	scan = index_beginscan(rel, index, GetActiveSnapshot(), nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
		rows = lappend(rows, ExecCopySlotHeapTuple(slot));
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);	/* held to the end of the transaction */
	return rows;
}
