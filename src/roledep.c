/*-------------------------------------------------------------------------
 *
 * roledep.c
 *	  Shared dependencies of the extension's tables on roles (roledep.h).
 *
 * src/roledep.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_shdepend.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "roledep.h"

/* the column of rel that names a role */
static CsmsAttr
role_column(CsmsRel rel)
{
	switch (rel)
	{
		case CSMS_SECRETS:
			return CSMS_SECRETS_OWNER;
		case CSMS_KEYS:
			return CSMS_KEYS_OWNER;
		case CSMS_GRANTS:
			return CSMS_GRANTS_GRANTEE;
		default:
			elog(ERROR, "table %d names no roles", (int) rel);
	}
	return CSMS_NATTRS;			/* keep the compiler quiet */
}

/* Does role have its entry for the table relid in this database? */
static bool
has_dependency(Oid relid, Oid role)
{
	Relation	shdep = table_open(SharedDependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key[0], Anum_pg_shdepend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(AuthIdRelationId));
	ScanKeyInit(&key[1], Anum_pg_shdepend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(role));
	scan = systable_beginscan(shdep, SharedDependReferenceIndexId, true, NULL, 2, key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_shdepend d = (Form_pg_shdepend) GETSTRUCT(tup);

		found = d->dbid == MyDatabaseId && d->classid == RelationRelationId &&
			d->objid == relid && d->objsubid == 0 && d->deptype == SHARED_DEPENDENCY_ACL;
	}
	systable_endscan(scan);
	table_close(shdep, AccessShareLock);
	return found;
}

/* the owner of relid, whom PostgreSQL already records as its owner */
static Oid
rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* role as the palloc'd one-member array updateAclDependencies takes (and frees) */
static Oid *
role_array(Oid role)
{
	Oid		   *a = palloc(sizeof(Oid));

	a[0] = role;
	return a;
}

/*
 * The (table, role) pairs this backend saw recorded, so that the creates of
 * one role do not search pg_shdepend every time.  A removal
 * (csms_role_undepend) sends an invalidation of the table, which every
 * backend applies when it next locks a role (LockSharedObject accepts
 * invalidations) and which forgets them all; so does an abort here (an
 * entry this transaction added is gone then).
 */
#define RECORDED_MAX 32

static struct
{
	int			n;
	Oid			relid[RECORDED_MAX];
	Oid			role[RECORDED_MAX];
}			recorded;

static void
recorded_forget(Oid relid)
{
	recorded.n = 0;
}

static void
recorded_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		recorded.n = 0;
}

static void
recorded_subxact(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		recorded.n = 0;
}

static bool
recorded_has(Oid relid, Oid role)
{
	int			i;

	for (i = 0; i < recorded.n; i++)
		if (recorded.relid[i] == relid && recorded.role[i] == role)
			return true;
	return false;
}

static void
recorded_add(Oid relid, Oid role)
{
	static bool registered = false;

	if (!registered)
	{
		csms_catalog_on_invalidate(recorded_forget);
		RegisterXactCallback(recorded_xact, NULL);
		RegisterSubXactCallback(recorded_subxact, NULL);
		registered = true;
	}
	if (recorded.n < RECORDED_MAX)
	{
		recorded.relid[recorded.n] = relid;
		recorded.role[recorded.n++] = role;
	}
}

/* Lock, check, record (roledep.h) */
void
csms_role_depend(CsmsRel rel, Oid role)
{
	Oid			relid;

	csms_catalog_require();
	relid = csms_rel(rel);
	(void) role_column(rel);

	/* as PostgreSQL does for an object it makes an owner or ACL entry of */
	LockSharedObject(AuthIdRelationId, role, 0, AccessShareLock);
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role with OID %u does not exist", role)));
	if (recorded_has(relid, role))
		return;
	if (has_dependency(relid, role))
	{
		recorded_add(relid, role);
		return;
	}
	/*
	 * adds it unless role owns the table (or is the bootstrap superuser);
	 * it frees the member arrays it is given
	 */
	updateAclDependencies(RelationRelationId, relid, 0, rel_owner(relid), 0, NULL,
						  1, role_array(role));
	CommandCounterIncrement();
	/* recorded now (or never needed: the table's owner, a pinned role) */
	recorded_add(relid, role);
}

/* Every role of rel's rows (roledep.h) */
void
csms_role_depend_all(CsmsRel rel)
{
	Relation	r;
	TableScanDesc scan;
	TupleTableSlot *slot;
	List	   *seen = NIL;
	bool		isnull;

	csms_catalog_require();
	r = table_open(csms_rel(rel), AccessShareLock);
	slot = table_slot_create(r, NULL);
	/* the rows of the statement that fires the caller's trigger too */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	scan = table_beginscan(r, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		Oid			role = DatumGetObjectId(csms_slot_attr(slot, role_column(rel), &isnull));

		if (!isnull && !list_member_oid(seen, role))
			seen = lappend_oid(seen, role);
	}
	table_endscan(scan);
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(slot);
	table_close(r, AccessShareLock);
	{
		ListCell   *lc;

		foreach(lc, seen)
			csms_role_depend(rel, lfirst_oid(lc));
	}
}

/* Remove role's entry for rel (roledep.h) */
void
csms_role_undepend(CsmsRel rel, Oid role)
{
	Oid			relid;

	csms_catalog_require();
	relid = csms_rel(rel);
	(void) role_column(rel);
	if (has_dependency(relid, role))
	{
		updateAclDependencies(RelationRelationId, relid, 0, rel_owner(relid),
							  1, role_array(role), 0, NULL);
		CommandCounterIncrement();
		/* every backend forgets what it saw recorded */
		CacheInvalidateRelcacheByRelid(relid);
		recorded.n = 0;
	}
}
