/*-------------------------------------------------------------------------
 *
 * rowio.c
 *	  Row I/O without the planner (see rowio.h).
 *
 * src/rowio.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"
#include "utils/uuid.h"
#include "nodes/bitmapset.h"
#include "access/sysattr.h"
#include "catalog/index.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "access/nbtree.h"
#include "catalog/pg_am.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/inval.h"
#include "utils/memutils.h"


#include "util.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"

/*
 * The values of one row of `rel` (csms table `table`) from cols: every column
 * a default fills must be given, so that what is written is what the code
 * decided; the others are NULL.
 */
static void
fill_slot(Relation rel, CsmsRel table, TupleTableSlot *slot, const CsmsCol *cols,
		  int ncols)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool	   *given = palloc0(sizeof(bool) * desc->natts);
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < desc->natts; i++)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	for (i = 0; i < ncols; i++)
	{
		AttrNumber	attno = csms_attnum(cols[i].attr);

		if (csms_attr_rel(cols[i].attr) != table)
			elog(ERROR, "column \"%s\" is not a column of \"%s\"",
				 csms_attr_name(cols[i].attr), RelationGetRelationName(rel));
		slot->tts_values[attno - 1] = cols[i].value;
		slot->tts_isnull[attno - 1] = cols[i].isnull;
		given[attno - 1] = true;
	}
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!given[i] && att->atthasdef && !att->attisdropped)
			elog(ERROR, "no value for column \"%s\" of \"%s\"",
				 NameStr(att->attname), RelationGetRelationName(rel));
	}
	pfree(given);
	ExecStoreVirtualTuple(slot);
}

/*
 * What a write needs of each index, kept per backend: PostgreSQL's
 * ExecOpenIndices builds an index's IndexInfo for every statement, and its
 * ExecInsertIndexTuples plans and compiles a partial index's predicate the
 * first time the statement inserts a row (csms.secrets has two partial
 * indexes and csms.versions one: 15,000 instructions of a create, a tenth
 * of it, callgrind).  Here they are built once, in a memory context of
 * their own, for plain btree indexes (no expressions): a relcache
 * invalidation of the index or its table, or of everything, forgets them.
 * An entry serves one writer at a time (a predicate's compiled state is not
 * reentrant): a writer that finds it in use, as a nested write from a
 * trigger would, builds its own as PostgreSQL does.  An abandoned writer
 * (an error) leaves its entries in use until the transaction ends.
 */
typedef struct CachedIndex
{
	Oid			indexoid;
	Oid			heapoid;
	MemoryContext cxt;			/* the IndexInfo, its predicate's state */
	IndexInfo  *ii;
	bool		in_use;
	bool		doomed;			/* invalidated while in use: freed when released */
	struct CachedIndex *next;
} CachedIndex;

static CachedIndex *cached_indexes = NULL;	/* valid ones */
static CachedIndex *doomed_indexes = NULL;	/* invalidated ones still in use */

static void
cached_index_free(CachedIndex *e)
{
	MemoryContextDelete(e->cxt);
	pfree(e);
}

/* relcache callback: forget what an invalidation may have changed */
static void
index_cache_invalidate(Datum arg, Oid relid)
{
	CachedIndex **p = &cached_indexes;

	while (*p)
	{
		CachedIndex *e = *p;

		if (relid == InvalidOid || relid == e->indexoid || relid == e->heapoid)
		{
			*p = e->next;
			if (e->in_use)
			{
				e->doomed = true;
				e->next = doomed_indexes;
				doomed_indexes = e;
			}
			else
				cached_index_free(e);
		}
		else
			p = &e->next;
	}
}

/* At the end of a transaction no writer is left: every entry is free again. */
static void
index_cache_xact(XactEvent event, void *arg)
{
	CachedIndex *e;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	for (e = cached_indexes; e; e = e->next)
		e->in_use = false;
	while (doomed_indexes)
	{
		e = doomed_indexes;
		doomed_indexes = e->next;
		cached_index_free(e);
	}
}

/*
 * The IndexInfo of an open index for one writer: the backend's entry
 * (*entry set; release it with index_info_release), or one built in the
 * current context as ExecOpenIndices builds it (*entry NULL).
 */
static IndexInfo *
index_info_acquire(Relation heap, Relation index, CachedIndex **entry)
{
	static bool registered = false;
	Oid			indexoid = RelationGetRelid(index);
	CachedIndex **p;
	CachedIndex *e;
	MemoryContext old;

	*entry = NULL;
	for (p = &cached_indexes; *p; p = &(*p)->next)
		if ((*p)->indexoid == indexoid)
			break;
	e = *p;
	/* built before the index was ready for inserts (CREATE INDEX CONCURRENTLY) */
	if (e && !e->in_use && e->ii->ii_ReadyForInserts != index->rd_index->indisready)
	{
		*p = e->next;
		cached_index_free(e);
		e = NULL;
	}
	if (e == NULL && index->rd_rel->relam == BTREE_AM_OID &&
		RelationGetIndexExpressions(index) == NIL)
	{
		if (!registered)
		{
			CacheRegisterRelcacheCallback(index_cache_invalidate, (Datum) 0);
			RegisterXactCallback(index_cache_xact, NULL);
			registered = true;
		}
		e = MemoryContextAllocZero(CacheMemoryContext, sizeof(CachedIndex));
		e->cxt = AllocSetContextCreate(CacheMemoryContext, "csms index info",
									   ALLOCSET_SMALL_SIZES);
		old = MemoryContextSwitchTo(e->cxt);
		e->ii = BuildIndexInfo(index);
		/* as ExecPrepareQual would, once */
		if (e->ii->ii_Predicate != NIL)
			e->ii->ii_PredicateState =
				ExecInitQual((List *) expression_planner((Expr *) e->ii->ii_Predicate), NULL);
		MemoryContextSwitchTo(old);
		e->indexoid = indexoid;
		e->heapoid = RelationGetRelid(heap);
		e->next = cached_indexes;
		cached_indexes = e;
	}
	/* not cacheable, or in use: as ExecOpenIndices */
	if (e == NULL || e->in_use)
		return BuildIndexInfo(index);
	/* a hint that one update computes for itself (index_unchanged_by_update) */
	e->ii->ii_CheckedUnchanged = false;
	e->ii->ii_IndexUnchanged = false;
	e->in_use = true;
	*entry = e;
	return e->ii;
}

static void
index_info_release(CachedIndex *e)
{
	if (e == NULL)
		return;
	e->in_use = false;
	if (e->doomed)
	{
		CachedIndex **p = &doomed_indexes;

		while (*p && *p != e)
			p = &(*p)->next;
		if (*p)
			*p = e->next;
		cached_index_free(e);
	}
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
	CsmsRel		table;
	bool		indexes_open;
	CachedIndex **entries;		/* per index: the cache entry of its IndexInfo */
	Oid		   *skipped;		/* partial indexes not opened: no row is in them yet */
	int			nskipped;
	Oid			arbiter;		/* of a speculative insertion, or InvalidOid */
	bool		ar_update_ri_pk_only;	/* the row triggers after update: foreign keys' checks of a referenced table */
};

/* Open one index of the writer's table (room for it is made) */
static void
writer_open_index(CsmsWriter *w, Oid indexoid)
{
	ResultRelInfo *rri = w->rri;
	int			i = rri->ri_NumIndices;
	Relation	index = index_open(indexoid, RowExclusiveLock);

	rri->ri_IndexRelationDescs[i] = index;
	rri->ri_IndexRelationInfo[i] = index_info_acquire(w->rel, index, &w->entries[i]);
	/* counted as it goes, so that an error closes what is open */
	rri->ri_NumIndices = i + 1;
}

/*
 * Is row `slot` outside partial index indexoid, by the backend's IndexInfo
 * of it?  Only for a cached entry of an index ready for inserts: the entry
 * is as the relcache has the index, the invalidations of this transaction's
 * locks applied, and a predicate never changes.
 */
static bool
row_outside_partial_index(CsmsWriter *w, Oid indexoid, TupleTableSlot *slot)
{
	CachedIndex *e;
	ExprContext *econtext;
	bool		outside;

	for (e = cached_indexes; e; e = e->next)
		if (e->indexoid == indexoid)
			break;
	if (e == NULL || e->in_use || e->ii->ii_PredicateState == NULL ||
		!e->ii->ii_ReadyForInserts)
		return false;
	econtext = GetPerTupleExprContext(w->estate);
	econtext->ecxt_scantuple = slot;
	/* a predicate's state is not reentrant (an error leaves it in use: see above) */
	e->in_use = true;
	outside = !ExecQual(e->ii->ii_PredicateState, econtext);
	e->in_use = false;
	return outside;
}

/*
 * Open the indexes of the writer's table, as ExecOpenIndices does (every
 * index of the table, RowExclusiveLock), with the IndexInfos of the cache.
 * With slot, the row about to be inserted: a partial index it is outside of
 * is not opened (ExecInsertIndexTuples would skip it; a third of a create's
 * index opens), until a row that belongs in it comes.  Without, every index.
 */
static void
writer_open_indexes(CsmsWriter *w, TupleTableSlot *slot)
{
	ResultRelInfo *rri = w->rri;
	List	   *indexoids;
	ListCell   *lc;
	int			n,
				i;

	if (w->indexes_open)
	{
		/* the partial indexes left out so far that this row belongs in */
		for (i = 0; i < w->nskipped;)
		{
			if (slot && row_outside_partial_index(w, w->skipped[i], slot))
			{
				i++;
				continue;
			}
			writer_open_index(w, w->skipped[i]);
			w->skipped[i] = w->skipped[--w->nskipped];
		}
		return;
	}
	w->indexes_open = true;
	rri->ri_NumIndices = 0;
	if (!RelationGetForm(w->rel)->relhasindex)
		return;
	indexoids = RelationGetIndexList(w->rel);
	n = list_length(indexoids);
	if (n == 0)
		return;
	rri->ri_IndexRelationDescs = palloc(sizeof(Relation) * n);
	rri->ri_IndexRelationInfo = palloc(sizeof(IndexInfo *) * n);
	w->entries = palloc0(sizeof(CachedIndex *) * n);
	w->skipped = palloc(sizeof(Oid) * n);
	foreach(lc, indexoids)
	{
		if (slot && row_outside_partial_index(w, lfirst_oid(lc), slot))
			w->skipped[w->nskipped++] = lfirst_oid(lc);
		else
			writer_open_index(w, lfirst_oid(lc));
	}
	list_free(indexoids);
}

static void
writer_close_indexes(CsmsWriter *w)
{
	int			i;

	if (!w->indexes_open)
		return;
	for (i = 0; i < w->rri->ri_NumIndices; i++)
		index_info_release(w->entries[i]);
	ExecCloseIndices(w->rri);
	w->indexes_open = false;
}

/*
 * The trigger csms.role_dependencies() records the owners of rows that
 * arrive otherwise than through the API (pg_restore's COPY) and returns at
 * once inside a call of the extension, which records them itself
 * (roledep.h): its statement trigger is left out of the API's writes, and
 * with it the trigger queue's round trip (4,000 instructions of a create).
 * Every other trigger fires.
 */
static Oid	role_dependencies_fn = InvalidOid;

static void
role_dependencies_forget(Oid relid)
{
	role_dependencies_fn = InvalidOid;
}

static void
set_trigger_flags(TriggerDesc *td)
{
	int			i;

	memset(&td->trig_insert_before_row, 0,
		   sizeof(TriggerDesc) - offsetof(TriggerDesc, trig_insert_before_row));
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		int16		tgtype = t->tgtype;

#define M(level, timing, event) TRIGGER_TYPE_MATCHES(tgtype, TRIGGER_TYPE_##level, TRIGGER_TYPE_##timing, TRIGGER_TYPE_##event)
		td->trig_insert_before_row |= M(ROW, BEFORE, INSERT);
		td->trig_insert_after_row |= M(ROW, AFTER, INSERT);
		td->trig_insert_instead_row |= M(ROW, INSTEAD, INSERT);
		td->trig_insert_before_statement |= M(STATEMENT, BEFORE, INSERT);
		td->trig_insert_after_statement |= M(STATEMENT, AFTER, INSERT);
		td->trig_update_before_row |= M(ROW, BEFORE, UPDATE);
		td->trig_update_after_row |= M(ROW, AFTER, UPDATE);
		td->trig_update_instead_row |= M(ROW, INSTEAD, UPDATE);
		td->trig_update_before_statement |= M(STATEMENT, BEFORE, UPDATE);
		td->trig_update_after_statement |= M(STATEMENT, AFTER, UPDATE);
		td->trig_delete_before_row |= M(ROW, BEFORE, DELETE);
		td->trig_delete_after_row |= M(ROW, AFTER, DELETE);
		td->trig_delete_instead_row |= M(ROW, INSTEAD, DELETE);
		td->trig_delete_before_statement |= M(STATEMENT, BEFORE, DELETE);
		td->trig_delete_after_statement |= M(STATEMENT, AFTER, DELETE);
		td->trig_truncate_before_statement |= M(STATEMENT, BEFORE, TRUNCATE);
		td->trig_truncate_after_statement |= M(STATEMENT, AFTER, TRUNCATE);
#undef M
		td->trig_insert_new_table |= TRIGGER_FOR_INSERT(tgtype) && t->tgnewtable != NULL;
		td->trig_update_old_table |= TRIGGER_FOR_UPDATE(tgtype) && t->tgoldtable != NULL;
		td->trig_update_new_table |= TRIGGER_FOR_UPDATE(tgtype) && t->tgnewtable != NULL;
		td->trig_delete_old_table |= TRIGGER_FOR_DELETE(tgtype) && t->tgoldtable != NULL;
	}
}

static void
writer_skip_role_dependencies(ResultRelInfo *rri)
{
	static bool listening = false;
	TriggerDesc *td = rri->ri_TrigDesc;
	int			i,
				n = 0;

	if (td == NULL || !td->trig_insert_after_statement || csms_sql_scope_depth() == 0)
		return;
	if (!OidIsValid(role_dependencies_fn))
	{
		if (!listening)
		{
			csms_catalog_on_invalidate(role_dependencies_forget);
			listening = true;
		}
		role_dependencies_fn = LookupFuncName(list_make2(makeString("csms"),
														 makeString("role_dependencies")),
											  0, NULL, true);
		if (!OidIsValid(role_dependencies_fn))
			return;
	}
	/* ri_TrigDesc is the writer's own copy (InitResultRelInfo) */
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (t->tgfoid == role_dependencies_fn && t->tgenabled != TRIGGER_DISABLED &&
			t->tgtype == (TRIGGER_TYPE_INSERT | TRIGGER_TYPE_AFTER) &&
			t->tgqual == NULL)
			continue;
		if (n != i)
			td->triggers[n] = *t;
		n++;
	}
	if (n == td->numtriggers)
		return;
	td->numtriggers = n;
	set_trigger_flags(td);
}

/*
 * Begin writes to csms.<table>: the statement of cmds (CSMS_WRITE_INSERT,
 * CSMS_WRITE_UPDATE or both, as INSERT ... ON CONFLICT DO UPDATE) with its
 * indexes, its statement triggers and the trigger queue of one query.  For
 * a speculative insertion, what it needs of the arbiter index `arbiter`
 * (ExecOpenIndices would build that for every unique index, but
 * ExecInsertIndexTuples and ExecCheckIndexConstraints use it for arbiters
 * only).  The indexes are opened with the first row inserted (but for
 * partial indexes it is outside of); an update opens them only when it is
 * not HOT, and a delete never does (nor does PostgreSQL's executor for a
 * DELETE).
 */
static CsmsWriter *
writer_begin(CsmsRel table, int cmds, Oid arbiter)
{
	CsmsWriter *w = palloc0(sizeof(CsmsWriter));
	Oid			relid;
	RangeTblEntry *rte;

	csms_catalog_require();
	relid = csms_rel(table);
	w->cmds = cmds;
	w->table = table;
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
	writer_skip_role_dependencies(w->rri);
	if (cmds & CSMS_WRITE_INSERT)
		CheckValidResultRel(w->rri, CMD_INSERT);
	if (cmds & CSMS_WRITE_UPDATE)
		CheckValidResultRel(w->rri, CMD_UPDATE);
	if (cmds & CSMS_WRITE_DELETE)
		CheckValidResultRel(w->rri, CMD_DELETE);
	w->estate->es_output_cid = GetCurrentCommandId(true);
	w->arbiter = arbiter;
	if ((cmds & CSMS_WRITE_UPDATE) && w->rri->ri_TrigDesc &&
		w->rri->ri_TrigDesc->trig_update_after_row)
	{
		TriggerDesc *td = w->rri->ri_TrigDesc;
		int			i;

		w->ar_update_ri_pk_only = true;
		for (i = 0; i < td->numtriggers; i++)
			if (TRIGGER_TYPE_MATCHES(td->triggers[i].tgtype, TRIGGER_TYPE_ROW,
									 TRIGGER_TYPE_AFTER, TRIGGER_TYPE_UPDATE) &&
				RI_FKey_trigger_type(td->triggers[i].tgfoid) != RI_TRIGGER_PK)
				w->ar_update_ri_pk_only = false;
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

/*
 * What a speculative insertion needs of the arbiter index (open: a unique
 * index is never left out), built once for a cached IndexInfo, in its
 * context
 */
static void
writer_prepare_arbiter(CsmsWriter *w)
{
	int			i;

	for (i = 0; i < w->rri->ri_NumIndices; i++)
		if (RelationGetRelid(w->rri->ri_IndexRelationDescs[i]) == w->arbiter)
			break;
	if (i == w->rri->ri_NumIndices)
		elog(ERROR, "index %u is not an index of \"%s\"", w->arbiter,
			 RelationGetRelationName(w->rel));
	if (w->rri->ri_IndexRelationInfo[i]->ii_UniqueOps == NULL)
	{
		MemoryContext old = CurrentMemoryContext;

		if (w->entries[i])
			MemoryContextSwitchTo(w->entries[i]->cxt);
		BuildSpeculativeIndexInfo(w->rri->ri_IndexRelationDescs[i],
								  w->rri->ri_IndexRelationInfo[i]);
		MemoryContextSwitchTo(old);
	}
}

/* A writer for the commands cmds of table */
CsmsWriter *
csms_writer_begin(CsmsRel table, int cmds)
{
	return writer_begin(table, cmds, InvalidOid);
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
		AttrNumber	attno = csms_attnum(cols[c].attr);

		Assert(csms_attr_rel(cols[c].attr) == w->table);
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
	ResultRelInfo *rri = w->rri;
	EState	   *estate = w->estate;
	Relation	rel = w->rel;
	ItemPointer otid = &w->oldslot->tts_tid;
	bool		update_indexes;
	List	   *recheck = NIL;

	updated_row(w, tid, cols, ncols);
	EvalPlanQualSetSlot(&w->epq, w->oldslot);

	/*
	 * ExecSimpleRelationUpdate's steps, but for the indexes: opened only
	 * when the new row version needs entries (not a HOT update).
	 */
	CheckCmdReplicaIdentity(rel, CMD_UPDATE);
	if (rri->ri_TrigDesc && rri->ri_TrigDesc->trig_update_before_row &&
		!ExecBRUpdateTriggers(estate, &w->epq, rri, otid, NULL, w->slot, NULL))
	{
		*tid = w->slot->tts_tid;
		return;					/* "do nothing" */
	}
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(rri, estate, w->slot, CMD_UPDATE);
	if (rel->rd_att->constr)
		ExecConstraints(rri, w->slot, estate);
	if (rel->rd_rel->relispartition)
		ExecPartitionCheck(rri, w->slot, estate, true);
	simple_table_tuple_update(rel, otid, w->slot, estate->es_snapshot, &update_indexes);
	if (update_indexes)
	{
		writer_open_indexes(w, w->slot);
		if (rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(rri, w->slot, estate, true, false, NULL, NIL);
	}

	/*
	 * A HOT update changed no indexed column, so none of the key a foreign
	 * key references (a unique index's): the checks of a referenced table
	 * would find the keys equal and queue nothing
	 * (RI_FKey_pk_upd_check_required), and, when they are all the row
	 * triggers after update there are, need not be asked.
	 */
	if (update_indexes || !w->ar_update_ri_pk_only)
		ExecARUpdateTriggers(estate, rri, NULL, NULL, otid, NULL, w->slot, recheck, NULL,
							 false);
	list_free(recheck);
	*tid = w->slot->tts_tid;
}

/* Insert a row (rowio.h) */
void
csms_writer_insert(CsmsWriter *w, const CsmsCol *cols, int ncols)
{
	Assert(w->cmds & CSMS_WRITE_INSERT);
	fill_slot(w->rel, w->table, w->slot, cols, ncols);
	writer_open_indexes(w, w->slot);
	ExecSimpleRelationInsert(w->rri, w->estate, w->slot);
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
	/* the relations the trigger queue opened to fire them */
	ExecCloseResultRelations(w->estate);
	if (w->cmds & (CSMS_WRITE_UPDATE | CSMS_WRITE_DELETE))
		EvalPlanQualEnd(&w->epq);
	writer_close_indexes(w);
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
csms_row_insert(CsmsRel table, int arbiter_index, const CsmsCol *cols, int ncols)
{
	CsmsWriter *w;
	Oid			arbiter;
	ResultRelInfo *rri;
	EState	   *estate;
	TupleTableSlot *tslot;
	bool		inserted = true;

	csms_catalog_require();
	arbiter = arbiter_index >= 0 ? csms_index((CsmsIndex) arbiter_index) : InvalidOid;
	w = writer_begin(table, CSMS_WRITE_INSERT, arbiter);
	rri = w->rri;
	estate = w->estate;
	tslot = w->slot;

	fill_slot(w->rel, table, tslot, cols, ncols);
	writer_open_indexes(w, tslot);
	if (OidIsValid(arbiter))
		writer_prepare_arbiter(w);
	if (!OidIsValid(arbiter))
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

/*
 * May the row whose header is `tup` be overwritten in place now?  Only the
 * latest version, changed by nobody else: TM_Ok, or held by key-share
 * locks only (a foreign key check's) or by this transaction's own lock.
 * The buffer is locked exclusively.
 */
static bool
overwritable(HeapTuple tup, Buffer buf)
{
	TM_Result	r = HeapTupleSatisfiesUpdate(tup, GetCurrentCommandId(false), buf);
	uint16		infomask = tup->t_data->t_infomask;

	if (r == TM_Ok)
		return true;
	if (r != TM_BeingModified || !HEAP_XMAX_IS_LOCKED_ONLY(infomask) ||
		(infomask & HEAP_XMAX_IS_MULTI))
		return false;
	return HEAP_XMAX_IS_KEYSHR_LOCKED(infomask) ||
		TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmax(tup->t_data));
}

/* In-place overwrite of a timestamptz (rowio.h) */
bool
csms_row_overwrite_time(Relation rel, ItemPointer tid, CsmsAttr id_attr,
						const pg_uuid_t *id, CsmsAttr attr, TimestampTz t)
{
	AttrNumber	attno = csms_attnum(attr);
	AttrNumber	id_attno = csms_attnum(id_attr);
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTupleData tup;
	HeapTuple	newtup;
	Buffer		buf;
	Page		page;
	ItemId		lp;
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Datum		stored;
	Datum		value = TimestampTzGetDatum(t);
	bool		isnull;
	bool		replace = false;
	int			cols[1];

	if (RecoveryInProgress() || IsInParallelMode())
		return false;

	/*
	 * An index entry is made from the row's values when the row version is:
	 * an index that covers the column (CREATE INDEX on it, or an expression
	 * or predicate using it) would no longer match the row.
	 */
	{
		Bitmapset  *indexed = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_ALL);
		bool		covered = bms_is_member(attno - FirstLowInvalidHeapAttributeNumber,
											indexed);

		bms_free(indexed);
		if (covered)
			return false;
	}

	/*
	 * The tuple lock an in-place update takes (as heap_inplace_lock does),
	 * but never waited for; then the page.
	 */
	if (!ConditionalLockTuple(rel, tid, InplaceUpdateTupleLock))
		return false;
	buf = ReadBuffer(rel, ItemPointerGetBlockNumber(tid));
	if (!ConditionalLockBuffer(buf))
	{
		ReleaseBuffer(buf);
		UnlockTuple(rel, tid, InplaceUpdateTupleLock);
		return false;
	}
	page = BufferGetPage(buf);
	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page) ||
		!ItemIdIsNormal(lp = PageGetItemId(page, off)))
		goto refuse;
	tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tup.t_len = ItemIdGetLength(lp);
	tup.t_self = *tid;
	tup.t_tableOid = RelationGetRelid(rel);

	/*
	 * Only a value stored in the tuple itself can change in place: not one
	 * the tuple is too old to have (a column added later), not a NULL.
	 */
	if (HeapTupleHeaderGetNatts(tup.t_data) < attno || !overwritable(&tup, buf))
		goto refuse;

	/* the row it was meant for: a slot pruned and reused holds another */
	stored = heap_getattr(&tup, id_attno, desc, &isnull);
	if (isnull || memcmp(DatumGetUUIDP(stored)->data, id->data, UUID_LEN) != 0)
		goto refuse;
	stored = heap_getattr(&tup, attno, desc, &isnull);
	if (isnull)
		goto refuse;
	if (DatumGetTimestampTz(stored) >= t)
	{
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		ReleaseBuffer(buf);
		UnlockTuple(rel, tid, InplaceUpdateTupleLock);
		return true;			/* nothing newer to write */
	}
	cols[0] = attno;
	isnull = false;
	newtup = heap_modify_tuple_by_cols(&tup, desc, 1, cols, &value, &isnull);
	replace = newtup->t_len == tup.t_len && newtup->t_data->t_hoff == tup.t_data->t_hoff;
	if (!replace)
	{
		heap_freetuple(newtup);
		goto refuse;
	}
	/* writes the data portion and its WAL record, unlocks buffer and tuple */
	heap_inplace_update_and_unlock(rel, &tup, newtup, buf);
	ReleaseBuffer(buf);
	heap_freetuple(newtup);
	return true;

refuse:
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buf);
	UnlockTuple(rel, tid, InplaceUpdateTupleLock);
	return false;
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

/* Scan keys for the equality keys of an index */
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

/* Open an index scan for lookups by one key */
static void
finder_open(CsmsFinder *f, Relation rel, Oid indexoid, int nkeys, const Oid *procs)
{
	Assert(nkeys <= INDEX_MAX_KEYS);
	f->index = index_open(indexoid, AccessShareLock);
	f->scan = index_beginscan(rel, f->index, GetActiveSnapshot(), nkeys, 0);
	f->nkeys = nkeys;
	memcpy(f->procs, procs, sizeof(Oid) * nkeys);
}

/* End a finder's scan */
static void
finder_close(CsmsFinder *f)
{
	index_endscan(f->scan);
	index_close(f->index, NoLock);	/* held to the end of the transaction */
}

/* Many lookups by one index: one scan, rescanned per key */
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

/* End the scan and close the index */
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
 * The one row of `table` that `index` finds for one key under the latest
 * committed state (plus this transaction's own changes), as the system
 * caches read: a copy, and the table's descriptor, in the current memory
 * context; NULL when there is none.  For caches that invalidations clear:
 * one filled from an older snapshot (REPEATABLE READ) would outlive the
 * invalidation that should have cleared it.
 */
HeapTuple
csms_row_latest(CsmsRel table, CsmsIndex index, Oid proc, Datum value, TupleDesc *desc)
{
	Relation	rel = table_open(csms_rel(table), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	HeapTuple	tup = NULL;

	PushActiveSnapshot(GetLatestSnapshot());
	if (csms_row_find(rel, csms_index(index), 1, &proc, &value, NULL, slot))
		tup = ExecCopySlotHeapTuple(slot);
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(slot);
	*desc = CreateTupleDescCopy(RelationGetDescr(rel));
	table_close(rel, AccessShareLock);
	return tup;
}
