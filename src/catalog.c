/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  The relations, indexes and columns of schema csms (see catalog.h).
 *
 * src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "util.h"
#include "catalog.h"

PG_FUNCTION_INFO_V1(csms_cache_invalidate);

static const char *const rel_names[CSMS_NRELS] = {
	[CSMS_ACCOUNT] = "account",
	[CSMS_KEYS] = "keys",
	[CSMS_SECRETS] = "secrets",
	[CSMS_VERSIONS] = "versions",
	[CSMS_GRANTS] = "grants",
	[CSMS_EVENTS] = "events",
};

static const struct
{
	CsmsRel		rel;
	const char *name;
}			index_defs[CSMS_NINDEXES] = {
	[CSMS_ACCOUNT_PKEY] = {CSMS_ACCOUNT, "account_pkey"},
	[CSMS_KEYS_PKEY] = {CSMS_KEYS, "keys_pkey"},
	[CSMS_SECRETS_BY_NAME] = {CSMS_SECRETS, "secrets_name_region_key"},
	[CSMS_VERSIONS_PKEY] = {CSMS_VERSIONS, "versions_pkey"},
	[CSMS_SECRETS_PKEY] = {CSMS_SECRETS, "secrets_pkey"},
};

static const struct
{
	CsmsRel		rel;
	const char *name;
	Oid			type;
}			attr_defs[CSMS_NATTRS] = {
	[CSMS_ACCOUNT_DOMAIN_ID] = {CSMS_ACCOUNT, "domain_id", TEXTOID},
	[CSMS_ACCOUNT_ROOT_CHECK] = {CSMS_ACCOUNT, "root_check", BYTEAOID},
	[CSMS_ACCOUNT_HOME_REGION] = {CSMS_ACCOUNT, "home_region", TEXTOID},
	[CSMS_KEYS_ALIAS] = {CSMS_KEYS, "alias", TEXTOID},
	[CSMS_KEYS_STATE] = {CSMS_KEYS, "state", TEXTOID},
	[CSMS_KEYS_CURRENT_VERSION] = {CSMS_KEYS, "current_version", INT4OID},
	[CSMS_KEYS_OWNER] = {CSMS_KEYS, "owner", REGROLEOID},
	[CSMS_SECRETS_CURRENT_VERSION] = {CSMS_SECRETS, "current_version", INT4OID},
	[CSMS_SECRETS_CURRENT_KEY_VERSION] = {CSMS_SECRETS, "current_key_version", INT4OID},
	[CSMS_SECRETS_CURRENT_KEY_ID] = {CSMS_SECRETS, "current_key_id", UUIDOID},
	[CSMS_SECRETS_STATE] = {CSMS_SECRETS, "state", TEXTOID},
	[CSMS_SECRETS_CURRENT_WRAPPED_DEK] = {CSMS_SECRETS, "current_wrapped_dek", BYTEAOID},
	[CSMS_SECRETS_CURRENT_CIPHERTEXT] = {CSMS_SECRETS, "current_ciphertext", BYTEAOID},
	[CSMS_SECRETS_ID] = {CSMS_SECRETS, "id", UUIDOID},
	[CSMS_SECRETS_REGION] = {CSMS_SECRETS, "region", TEXTOID},
	[CSMS_SECRETS_NAME] = {CSMS_SECRETS, "name", TEXTOID},
	[CSMS_SECRETS_KMS_KEY_ID] = {CSMS_SECRETS, "kms_key_id", UUIDOID},
	[CSMS_SECRETS_DESCRIPTION] = {CSMS_SECRETS, "description", TEXTOID},
	[CSMS_SECRETS_SECRET_TYPE] = {CSMS_SECRETS, "secret_type", TEXTOID},
	[CSMS_SECRETS_AUTO_ROTATION] = {CSMS_SECRETS, "auto_rotation", BOOLOID},
	[CSMS_SECRETS_ROTATION_PERIOD] = {CSMS_SECRETS, "rotation_period", TEXTOID},
	[CSMS_SECRETS_ROTATION_CONFIG] = {CSMS_SECRETS, "rotation_config", JSONBOID},
	[CSMS_SECRETS_ROTATION_TIME] = {CSMS_SECRETS, "rotation_time", TIMESTAMPTZOID},
	[CSMS_SECRETS_NEXT_ROTATION_TIME] = {CSMS_SECRETS, "next_rotation_time", TIMESTAMPTZOID},
	[CSMS_SECRETS_EVENT_SUBSCRIPTIONS] = {CSMS_SECRETS, "event_subscriptions", TEXTARRAYOID},
	[CSMS_SECRETS_ENTERPRISE_PROJECT_ID] = {CSMS_SECRETS, "enterprise_project_id", TEXTOID},
	[CSMS_SECRETS_ROTATION_FUNC_URN] = {CSMS_SECRETS, "rotation_func_urn", TEXTOID},
	[CSMS_SECRETS_CREATE_TIME] = {CSMS_SECRETS, "create_time", TIMESTAMPTZOID},
	[CSMS_SECRETS_UPDATE_TIME] = {CSMS_SECRETS, "update_time", TIMESTAMPTZOID},
	[CSMS_SECRETS_SCHEDULED_DELETE_TIME] = {CSMS_SECRETS, "scheduled_delete_time", TIMESTAMPTZOID},
	[CSMS_SECRETS_REPLICA_TYPE] = {CSMS_SECRETS, "replica_type", TEXTOID},
	[CSMS_SECRETS_PRIMARY_ID] = {CSMS_SECRETS, "primary_id", UUIDOID},
	[CSMS_SECRETS_LAST_VERSION] = {CSMS_SECRETS, "last_version", INT4OID},
	[CSMS_SECRETS_STAGE_NAMES] = {CSMS_SECRETS, "stage_names", TEXTARRAYOID},
	[CSMS_SECRETS_STAGE_VERSIONS] = {CSMS_SECRETS, "stage_versions", INT4ARRAYOID},
	[CSMS_SECRETS_STAGE_TIMES] = {CSMS_SECRETS, "stage_times", TIMESTAMPTZARRAYOID},
	[CSMS_SECRETS_VERSION_COUNT] = {CSMS_SECRETS, "version_count", INT4OID},
	[CSMS_SECRETS_OWNER] = {CSMS_SECRETS, "owner", REGROLEOID},
	[CSMS_SECRETS_LAST_USED_TIME] = {CSMS_SECRETS, "last_used_time", TIMESTAMPTZOID},
	[CSMS_VERSIONS_SECRET_ID] = {CSMS_VERSIONS, "secret_id", UUIDOID},
	[CSMS_VERSIONS_VERSION] = {CSMS_VERSIONS, "version", INT4OID},
	[CSMS_VERSIONS_CREATE_TIME] = {CSMS_VERSIONS, "create_time", TIMESTAMPTZOID},
	[CSMS_VERSIONS_EXPIRE_TIME] = {CSMS_VERSIONS, "expire_time", TIMESTAMPTZOID},
	[CSMS_VERSIONS_KEY_ID] = {CSMS_VERSIONS, "key_id", UUIDOID},
	[CSMS_VERSIONS_KEY_VERSION] = {CSMS_VERSIONS, "key_version", INT4OID},
	[CSMS_VERSIONS_WRAPPED_DEK] = {CSMS_VERSIONS, "wrapped_dek", BYTEAOID},
	[CSMS_VERSIONS_CIPHERTEXT] = {CSMS_VERSIONS, "ciphertext", BYTEAOID},
	[CSMS_GRANTS_OBJECT_TYPE] = {CSMS_GRANTS, "object_type", TEXTOID},
	[CSMS_GRANTS_OBJECT_ID] = {CSMS_GRANTS, "object_id", UUIDOID},
	[CSMS_GRANTS_REGION] = {CSMS_GRANTS, "region", TEXTOID},
	[CSMS_GRANTS_PREFIX] = {CSMS_GRANTS, "prefix", TEXTOID},
	[CSMS_GRANTS_GRANTEE] = {CSMS_GRANTS, "grantee", REGROLEOID},
	[CSMS_GRANTS_PRIVILEGES] = {CSMS_GRANTS, "privileges", TEXTARRAYOID},
};

static struct
{
	bool		valid;			/* everything below is looked up */
	bool		present;		/* schema csms exists */
	char		version[NAMEDATALEN];	/* of extension secrets */
	Oid			namespace;
	Oid			rels[CSMS_NRELS];
	Oid			indexes[CSMS_NINDEXES];
	AttrNumber	attnums[CSMS_NATTRS];
	const char *problem;		/* what does not look as expected, or NULL */
}			cat;

static uint64 generation = 0;

#define MAX_LISTENERS 8
static void (*listeners[MAX_LISTENERS]) (Oid relid);
static int	nlisteners = 0;

/*
 * Any invalidation of one of the relations (or of all) forgets everything
 * and tells the listeners: they change rarely, and one rule is easier to
 * trust than several.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	int			i;
	bool		ours = relid == InvalidOid;

	for (i = 0; i < CSMS_NRELS && !ours; i++)
		ours = relid == cat.rels[i];
	for (i = 0; i < CSMS_NINDEXES && !ours; i++)
		ours = relid == cat.indexes[i];
	if (!ours)
		return;
	generation++;
	cat.valid = false;
	for (i = 0; i < nlisteners; i++)
		listeners[i] (relid);
}

/* The relcache callback, once per backend */
static void
register_callback(void)
{
	static bool registered = false;

	if (!registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		registered = true;
	}
}

/* Add fn to the listeners (once) */
void
csms_catalog_on_invalidate(void (*fn) (Oid relid))
{
	int			i;

	for (i = 0; i < nlisteners; i++)
		if (listeners[i] == fn)
			return;
	if (nlisteners == MAX_LISTENERS)
		elog(ERROR, "too many caches listen to the catalog of extension \"secrets\"");
	listeners[nlisteners++] = fn;
	register_callback();
}

/* The count of invalidations so far */
uint64
csms_catalog_generation(void)
{
	return generation;
}

/* The installed version of extension secrets into cat.version ("" if none). */
static void
read_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	cat.version[0] = '\0';
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("secrets"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			strlcpy(cat.version, TextDatumGetCString(d), sizeof(cat.version));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* Look everything up; cat.problem says what is wrong, if anything. */
static void
load(void)
{
	uint64		gen = generation;
	int			i;

	register_callback();
	memset(&cat, 0, sizeof(cat));
	cat.namespace = get_namespace_oid("csms", true);
	if (!OidIsValid(cat.namespace))
	{
		cat.problem = "schema";
		return;
	}
	cat.present = true;
	read_version();
	for (i = 0; i < CSMS_NRELS; i++)
		if (!OidIsValid(cat.rels[i] = get_relname_relid(rel_names[i], cat.namespace)))
			cat.problem = rel_names[i];
	for (i = 0; i < CSMS_NINDEXES; i++)
		if (!OidIsValid(cat.indexes[i] = get_relname_relid(index_defs[i].name, cat.namespace)))
			cat.problem = index_defs[i].name;
	if (cat.problem)
		return;
	for (i = 0; i < CSMS_NATTRS; i++)
	{
		Oid			relid = cat.rels[attr_defs[i].rel];

		cat.attnums[i] = get_attnum(relid, attr_defs[i].name);
		if (cat.attnums[i] == InvalidAttrNumber ||
			get_atttype(relid, cat.attnums[i]) != attr_defs[i].type)
		{
			cat.problem = attr_defs[i].name;
			return;
		}
	}
	/*
	 * Kept only when all is as expected and no invalidation came while
	 * looking: a schema that is being created or updated is looked at again
	 * at the next call.
	 */
	cat.valid = gen == generation && strcmp(cat.version, CSMS_SCHEMA_VERSION) == 0;
}

/* Everything looked up and as expected? */
bool
csms_catalog_ok(void)
{
	if (!cat.valid)
		load();
	return cat.present && cat.problem == NULL &&
		strcmp(cat.version, CSMS_SCHEMA_VERSION) == 0;
}

/* csms_catalog_ok, or the error that says what is wrong */
void
csms_catalog_require(void)
{
	if (csms_catalog_ok())
		return;
	if (!cat.present)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"csms\" of extension \"secrets\" does not exist"),
				 errhint("Run CREATE EXTENSION secrets.")));
	if (strcmp(cat.version, CSMS_SCHEMA_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"secrets\" is at version %s, but its library is for version %s",
						cat.version[0] ? cat.version : "(none)", CSMS_SCHEMA_VERSION),
				 errhint("Run ALTER EXTENSION secrets UPDATE.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("schema \"csms\" of extension \"secrets\" does not look as its library expects"),
			 errdetail("\"%s\" is missing or has another type.", cat.problem),
			 errhint("Install the library that matches the extension, or run ALTER EXTENSION secrets UPDATE.")));
}

/* The installed version of extension secrets, "" if none (catalog.h) */
const char *
csms_catalog_version(void)
{
	(void) csms_catalog_ok();
	return cat.version;
}

/* The OID of a relation (after csms_catalog_ok) */
Oid
csms_rel(CsmsRel rel)
{
	Assert(cat.valid || cat.rels[rel] != InvalidOid);
	return cat.rels[rel];
}

/* The OID of an index (after csms_catalog_ok) */
Oid
csms_index(CsmsIndex index)
{
	return cat.indexes[index];
}

/* The column number of an attribute (after csms_catalog_ok) */
AttrNumber
csms_attnum(CsmsAttr attr)
{
	return cat.attnums[attr];
}

/* The relation of an attribute */
CsmsRel
csms_attr_rel(CsmsAttr attr)
{
	return attr_defs[attr].rel;
}

/* The name of an attribute */
const char *
csms_attr_name(CsmsAttr attr)
{
	return attr_defs[attr].name;
}

/* An attribute of a row of its table in slot */
Datum
csms_slot_attr(TupleTableSlot *slot, CsmsAttr attr, bool *isnull)
{
	return slot_getattr(slot, cat.attnums[attr], isnull);
}

/* The owner of schema csms, from the syscache */
Oid
csms_schema_owner(void)
{
	HeapTuple	tup;
	Oid			owner;

	csms_catalog_ok();
	if (!cat.present)
		csms_catalog_require();
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(cat.namespace));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", cat.namespace);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * csms.cache_invalidate(): statement trigger on csms.account and csms.keys.
 * A relcache invalidation of the table reaches every backend when the
 * writing transaction commits (and this one at its next command); the
 * relation's own relcache entry is rebuilt too, which is cheap and rare.
 */
Datum
csms_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("csms.cache_invalidate() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
