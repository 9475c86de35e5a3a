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
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "secrets.h"

/* The values of one row of `rel`, by attribute number, from cols. */
static void
fill_slot(Relation rel, TupleTableSlot *slot, const CsmsCol *cols, int ncols)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i,
				c;
	int			used = 0;

	ExecClearTuple(slot);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
		if (att->attisdropped)
			continue;
		for (c = 0; c < ncols; c++)
			if (strcmp(NameStr(att->attname), cols[c].name) == 0)
				break;
		if (c == ncols)
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
	}
	if (used != ncols)
		elog(ERROR, "\"%s\" lacks a column the code writes",
			 RelationGetRelationName(rel));
	ExecStoreVirtualTuple(slot);
}

/*
 * Insert one row into csms.<table>.  With arbiter_index (the name of a
 * unique index of the table), a row that conflicts on it is not inserted and
 * false is returned, waiting first for a transaction that is inserting one,
 * exactly as INSERT ... ON CONFLICT (its columns) DO NOTHING; any other
 * unique violation is an error.  The row is visible to the next command.
 */
bool
csms_row_insert(const char *table, const char *arbiter_index,
				const CsmsCol *cols, int ncols)
{
	Oid			nsp = get_namespace_oid("csms", false);
	Oid			relid = get_relname_relid(table, nsp);
	Relation	rel;
	EState	   *estate;
	RangeTblEntry *rte;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	List	   *arbiters = NIL;
	bool		inserted = true;

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"csms.%s\" does not exist", table);
	rel = table_open(relid, RowExclusiveLock);

	estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(estate, list_make1(rte));
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	CheckValidResultRel(rri, CMD_INSERT);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(rri, arbiter_index != NULL);

	if (arbiter_index)
	{
		Oid			index = get_relname_relid(arbiter_index, nsp);

		if (!OidIsValid(index))
			elog(ERROR, "index \"csms.%s\" does not exist", arbiter_index);
		arbiters = list_make1_oid(index);
	}

	slot = table_slot_create(rel, &estate->es_tupleTable);
	fill_slot(rel, slot, cols, ncols);

	AfterTriggerBeginQuery();
	ExecBSInsertTriggers(estate, rri);
	if (arbiters == NIL)
		ExecSimpleRelationInsert(rri, estate, slot);
	else
	{
		TransactionId xid = GetCurrentTransactionId();
		TupleTableSlot *tslot = slot;

		if (rri->ri_TrigDesc && rri->ri_TrigDesc->trig_insert_before_row)
			elog(ERROR, "row triggers before insert on \"%s\" are not supported",
				 RelationGetRelationName(rel));
		if (RelationGetDescr(rel)->constr)
			ExecConstraints(rri, tslot, estate);
		for (;;)
		{
			ItemPointerData conflict;
			uint32		token;
			bool		spec_conflict = false;
			List	   *recheck;

			/* a committed or in-progress row with the key: do nothing */
			if (!ExecCheckIndexConstraints(rri, tslot, estate, &conflict, arbiters))
			{
				inserted = false;
				break;
			}
			/* insert, then make sure no one else did meanwhile */
			token = SpeculativeInsertionLockAcquire(xid);
			table_tuple_insert_speculative(rel, tslot, estate->es_output_cid, 0, NULL, token);
			recheck = ExecInsertIndexTuples(rri, tslot, estate, false, true,
											&spec_conflict, arbiters);
			table_tuple_complete_speculative(rel, tslot, token, !spec_conflict);
			SpeculativeInsertionLockRelease(xid);
			if (!spec_conflict)
			{
				ExecARInsertTriggers(estate, rri, tslot, recheck, NULL);
				break;
			}
			list_free(recheck);
		}
	}
	ExecASInsertTriggers(estate, rri, NULL);
	AfterTriggerEndQuery(estate);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(rel, NoLock);

	/* later statements of this call see the row */
	CommandCounterIncrement();
	return inserted;
}
