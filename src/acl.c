/*-------------------------------------------------------------------------
 *
 * acl.c
 *	  Privilege checks on secrets and keys (see acl.h).
 *
 * src/acl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "util.h"
#include "validate.h"
#include "catalog.h"
#include "acl.h"

/* names of the privileges, by bit */
static const struct
{
	int			bit;
	const char *name;
}			priv_names[] = {
	{CSMS_PRIV_READ, "read"},
	{CSMS_PRIV_WRITE, "write"},
	{CSMS_PRIV_DESCRIBE, "describe"},
	{CSMS_PRIV_MANAGE, "manage"},
	{CSMS_PRIV_USE, "use"},
	{CSMS_PRIV_KEY_MANAGE, "manage"},
};

/* One grant, as cached: to whom, what, on secrets or keys */
typedef struct IdGrant
{
	Oid			grantee;
	int16		privs;
	bool		is_key;
} IdGrant;

/* a grant on a pattern */
typedef struct Grant
{
	IdGrant		g;
	char		region[CSMS_NAME_MAXLEN + 1];	/* "" for every region */
	char	   *prefix;
} Grant;

/*
 * The grants on one object id: an open-addressing table (simplehash) with
 * the first grant inline, so that a read finds its grant in one cache line
 * (a dynahash entry and a separate array were three dependent loads, which
 * cost a reader with thousands of grants a few percent of its throughput).
 */
typedef struct IdGrants
{
	pg_uuid_t	id;				/* key */
	char		status;			/* simplehash's */
	int			nmore;
	IdGrant		first;
	IdGrant    *more;			/* the others, if any */
} IdGrants;

static inline uint32
id_hash(const pg_uuid_t *id)
{
	return hash_bytes(id->data, UUID_LEN);
}

#define SH_PREFIX idgrants
#define SH_ELEMENT_TYPE IdGrants
#define SH_KEY_TYPE pg_uuid_t
#define SH_KEY id
#define SH_HASH_KEY(tb, key) id_hash(&(key))
#define SH_EQUAL(tb, a, b) (memcmp((a).data, (b).data, UUID_LEN) == 0)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static struct
{
	bool		valid;
	MemoryContext cxt;
	idgrants_hash *by_id;
	int			npatterns;
	Grant	   *patterns;
}			grants;

/* who listings are filtered for (acl.h) */
static Oid	viewer = InvalidOid;

/* Invalidation listener: csms.grants may have changed */
static void
grants_forget(Oid relid)
{
	/* any csms relation: no catalog lookup here, which may run in an aborted transaction */
	grants.valid = false;
}

/* Fill the cache from the latest committed rows of csms.grants */
static void
grants_load(void)
{
	static bool registered = false;
	uint64		generation;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snap;
	MemoryContext old;
	int			cap = 8;

	AcceptInvalidationMessages();
	if (grants.valid)
		return;
	if (!registered)
	{
		csms_catalog_on_invalidate(grants_forget);
		registered = true;
	}
	csms_catalog_require();
	generation = csms_catalog_generation();
	if (grants.cxt == NULL)
		grants.cxt = AllocSetContextCreate(TopMemoryContext, "csms grants",
										   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(grants.cxt);
	grants.by_id = NULL;
	grants.npatterns = 0;
	grants.patterns = NULL;

	old = MemoryContextSwitchTo(grants.cxt);
	grants.by_id = idgrants_create(grants.cxt, 64, NULL);
	grants.patterns = palloc(sizeof(Grant) * cap);

	rel = table_open(csms_rel(CSMS_GRANTS), AccessShareLock);
	slot = table_slot_create(rel, NULL);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		Grant		pg;
		IdGrant		g;
		bool		isnull;
		Datum		d;
		char	   *type = TextDatumGetCString(csms_slot_attr(slot, CSMS_GRANTS_OBJECT_TYPE, &isnull));

		g.is_key = strcmp(type, "key") == 0;
		g.grantee = DatumGetObjectId(csms_slot_attr(slot, CSMS_GRANTS_GRANTEE, &isnull));
		g.privs = (int16) csms_privs_from_array(DatumGetArrayTypeP(csms_slot_attr(slot,
																				  CSMS_GRANTS_PRIVILEGES,
																				  &isnull)),
												g.is_key);
		d = csms_slot_attr(slot, CSMS_GRANTS_OBJECT_ID, &isnull);
		if (!isnull)
		{
			bool		found;
			IdGrants   *e = idgrants_insert(grants.by_id, *DatumGetUUIDP(d), &found);

			if (!found)
			{
				e->first = g;
				e->nmore = 0;
				e->more = NULL;
				continue;
			}
			e->more = e->more ? repalloc(e->more, sizeof(IdGrant) * (e->nmore + 1)) :
				palloc(sizeof(IdGrant));
			e->more[e->nmore++] = g;
			continue;
		}
		memset(&pg, 0, sizeof(pg));
		pg.g = g;
		d = csms_slot_attr(slot, CSMS_GRANTS_REGION, &isnull);
		if (!isnull)
			strlcpy(pg.region, TextDatumGetCString(d), sizeof(pg.region));
		d = csms_slot_attr(slot, CSMS_GRANTS_PREFIX, &isnull);
		pg.prefix = isnull ? pstrdup("") : TextDatumGetCString(d);
		if (grants.npatterns == cap)
		{
			cap *= 2;
			grants.patterns = repalloc(grants.patterns, sizeof(Grant) * cap);
		}
		grants.patterns[grants.npatterns++] = pg;
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	MemoryContextSwitchTo(old);
	/* an invalidation that came while reading: read again next time */
	grants.valid = generation == csms_catalog_generation();
}

static bool role_holds(Oid role, Oid other);

/* Superuser or csms_admin (acl.h) */
bool
csms_acl_is_admin(Oid role)
{
	Oid			admin;

	if (superuser_arg(role))
		return true;
	admin = get_role_oid("csms_admin", true);
	return OidIsValid(admin) && role_holds(role, admin);
}

/*
 * Memberships: whether one role (the last one asked about, the reader of a
 * session as a rule) has the privileges of each role an owner or a grant
 * names, remembered until pg_authid or pg_auth_members changes (a syscache
 * callback), so that a read asks PostgreSQL once per owner or grantee, not
 * once per read.
 */
#define MEMBERSHIPS_MAX 64

static struct
{
	Oid			role;			/* whom the answers are for; InvalidOid: none */
	int			n;
	Oid			of[MEMBERSHIPS_MAX];
	bool		holds[MEMBERSHIPS_MAX];
}			memberships;

static void
memberships_forget(Datum arg, int cacheid, uint32 hashvalue)
{
	memberships.role = InvalidOid;
}

/* has_privs_of_role(role, other), remembered */
static bool
role_holds(Oid role, Oid other)
{
	static bool registered = false;
	int			i;
	bool		holds;

	if (role == other)
		return true;
	if (!registered)
	{
		CacheRegisterSyscacheCallback(AUTHOID, memberships_forget, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, memberships_forget, (Datum) 0);
		registered = true;
	}
	if (memberships.role != role)
	{
		memberships.role = role;
		memberships.n = 0;
	}
	for (i = 0; i < memberships.n; i++)
		if (memberships.of[i] == other)
			return memberships.holds[i];
	holds = has_privs_of_role(role, other);
	/* an invalidation while asking leaves role unset: ask again next time */
	if (memberships.role == role && memberships.n < MEMBERSHIPS_MAX)
	{
		memberships.of[memberships.n] = other;
		memberships.holds[memberships.n++] = holds;
	}
	return holds;
}

/* Does grant g give priv to role? */
static inline bool
grant_gives(const IdGrant *g, Oid role, const CsmsAclObject *o, int priv)
{
	return g->is_key == o->is_key && (g->privs & priv) != 0 && role_holds(role, g->grantee);
}

/* The check (acl.h) */
bool
csms_acl_allowed(Oid role, const CsmsAclObject *o, int priv)
{
	IdGrants   *e;
	int			i;

	/* the owner, and whoever has its privileges (superusers among them) */
	if (role_holds(role, o->owner))
		return true;
	if (o->is_key && priv == CSMS_PRIV_USE && strcmp(o->name, CSMS_DEFAULT_KEY_ALIAS) == 0)
		return true;
	grants_load();
	e = idgrants_lookup(grants.by_id, o->id);
	if (e)
	{
		if (grant_gives(&e->first, role, o, priv))
			return true;
		for (i = 0; i < e->nmore; i++)
			if (grant_gives(&e->more[i], role, o, priv))
				return true;
	}
	for (i = 0; i < grants.npatterns; i++)
	{
		const Grant *g = &grants.patterns[i];

		if ((g->region[0] == '\0' || strcmp(g->region, o->region) == 0) &&
			strncmp(o->name, g->prefix, strlen(g->prefix)) == 0 &&
			grant_gives(&g->g, role, o, priv))
			return true;
	}
	/* last: an application's reads hold grants, and this check costs a lookup */
	return csms_acl_is_admin(role);
}

/* 42501 unless allowed (acl.h) */
void
csms_acl_check(Oid role, const CsmsAclObject *o, int priv)
{
	if (csms_acl_allowed(role, o, priv))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s \"%s\"", o->is_key ? "key" : "secret", o->name),
			 errdetail("This needs the privilege \"%s\" on the %s.", csms_priv_name(priv),
					   o->is_key ? "key" : "secret"),
			 errhint("Its owner, a role with the privilege \"manage\" on it or a member of csms_admin can grant it with %s().",
					 o->is_key ? "csms_grant_key" : "csms_grant")));
}

/* The check for a resolved key (acl.h) */
void
csms_acl_check_key(CsmsCall *call, const CsmsKey *key, const char *region, int priv)
{
	CsmsAclObject o;

	o.is_key = true;
	o.owner = key->owner;
	o.id = key->id;
	o.name = key->alias;
	o.region = region;
	csms_acl_check(call->save_uid, &o, priv);
}

/* Name to bit (acl.h) */
int
csms_priv_parse(const char *name, bool is_key)
{
	if (is_key)
	{
		if (strcmp(name, "use") == 0)
			return CSMS_PRIV_USE;
		if (strcmp(name, "manage") == 0)
			return CSMS_PRIV_KEY_MANAGE;
		return 0;
	}
	if (strcmp(name, "read") == 0)
		return CSMS_PRIV_READ;
	if (strcmp(name, "write") == 0)
		return CSMS_PRIV_WRITE;
	if (strcmp(name, "describe") == 0)
		return CSMS_PRIV_DESCRIBE;
	if (strcmp(name, "manage") == 0)
		return CSMS_PRIV_MANAGE;
	return 0;
}

/* Bit to name (acl.h) */
const char *
csms_priv_name(int priv)
{
	int			i;

	for (i = 0; i < lengthof(priv_names); i++)
		if (priv_names[i].bit == priv)
			return priv_names[i].name;
	return "?";
}

/* text[] to bits (acl.h) */
int
csms_privs_from_array(ArrayType *a, bool is_key)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			privs = 0;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("privileges must be a one-dimensional array")));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *name;
		int			bit;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("privileges must not contain NULL")));
		name = TextDatumGetCString(elems[i]);
		bit = csms_priv_parse(name, is_key);
		if (bit == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown privilege \"%s\"", csms_trunc(name)),
					 errdetail(is_key ? "The privileges on a key are \"use\" and \"manage\"." :
							   "The privileges on a secret are \"read\", \"write\", \"describe\" and \"manage\".")));
		privs |= bit;
	}
	if (privs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("privileges must name at least one privilege")));
	return privs;
}

/* bits to text[] (acl.h) */
ArrayType *
csms_privs_to_array(int privs)
{
	Datum		elems[lengthof(priv_names)];
	int			n = 0;
	int			i;

	for (i = 0; i < lengthof(priv_names); i++)
		if (privs & priv_names[i].bit)
			elems[n++] = CStringGetTextDatum(priv_names[i].name);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* The viewer of listings (acl.h) */
void
csms_acl_set_viewer(Oid role)
{
	viewer = role;
}

/* The viewer of listings (acl.h) */
Oid
csms_acl_viewer(void)
{
	return viewer;
}
