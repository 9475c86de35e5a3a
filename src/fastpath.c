/*-------------------------------------------------------------------------
 *
 * fastpath.c
 *	  The read path of csms_get_secret_value and csms_get_secret_binary,
 *	  without the executor: direct index lookups of the secret by (region,
 *	  name), of its SYSCURRENT stage, of the version and of its key, under
 *	  the statement's snapshot, then the two AES-GCM opens with cached CMK
 *	  material.
 *
 *	  It handles only the common case and answers NULL for anything else --
 *	  no such secret or version, a secret that is not ENABLED, a region that
 *	  does not exist, CMK material not cached yet, a table that does not look
 *	  as this library expects -- so that the SPI path (versions_api.c), which
 *	  knows every error, decides.  It never raises for those cases itself;
 *	  it raises only what the SPI path would raise for the same row (a
 *	  disabled key, a wrong root key, a ciphertext that fails
 *	  authentication).
 *
 *	  Reading the tables directly needs no privilege check: the extension
 *	  owns them, and the entry point has already passed the caller's EXECUTE
 *	  privilege.  Column positions come from the install script and are
 *	  checked by name on every open, so a library that does not match its
 *	  SQL script falls back to the SPI path instead of misreading.
 *
 * src/fastpath.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "access/detoast.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "secrets.h"

/* column positions of the install script (checked by name when opened) */
#define ACCOUNT_DOMAIN_ID	2
#define ACCOUNT_ROOT_CHECK	3
#define ACCOUNT_HOME_REGION 4
#define SECRETS_ID			1
#define SECRETS_NAME		3
#define SECRETS_STATE		4
#define SECRETS_LAST_USED	13
#define STAGES_VERSION		3
#define VERSIONS_KEY_ID		5
#define VERSIONS_KEY_VERSION 6
#define VERSIONS_WRAPPED_DEK 7
#define VERSIONS_CIPHERTEXT 8
#define KEYS_ALIAS			3
#define KEYS_STATE			5

static bool
att_is(Relation rel, int attnum, const char *name)
{
	return attnum <= RelationGetNumberOfAttributes(rel) &&
		strcmp(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname), name) == 0;
}

/*
 * Fetch the one tuple of `rel` that index `indexname` finds for the given
 * keys (btree equality), copied; NULL when there is none.
 */
static HeapTuple
index_lookup(Oid nsp, Relation rel, const char *indexname, int nkeys,
			 const Oid *procs, const Datum *values, Snapshot snapshot)
{
	Oid			indexoid = get_relname_relid(indexname, nsp);
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData keys[2];
	HeapTuple	result = NULL;
	int			i;

	if (!OidIsValid(indexoid))
		return NULL;
	index = index_open(indexoid, AccessShareLock);
	for (i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&keys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i],
							   procs[i], values[i]);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
		result = ExecCopySlotHeapTuple(slot);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	return result;
}

static Relation
open_table(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	return OidIsValid(relid) ? table_open(relid, AccessShareLock) : NULL;
}

/*
 * Read and decrypt one value the fast way; NULL when the SPI path must
 * decide.  The result is allocated in the current memory context and wiped
 * when it is reset.
 */
bytea *
csms_fast_read(const char *name, int version, char *kind, int *version_out)
{
	Oid			nsp = get_namespace_oid("csms", true);
	Snapshot	snapshot;
	Relation	account = NULL,
				secrets = NULL,
				stages = NULL,
				versions = NULL,
				keys = NULL;
	bytea	   *result = NULL;
	HeapTuple	tup;
	bool		isnull;
	Datum		d;
	CsmsCall	call;
	CsmsKey    *key;
	pg_uuid_t	secret_id;
	char	   *region;
	bytea	   *check;
	bytea	   *wrapped;
	bytea	   *ciphertext;
	bool		touch;
	Oid			procs[2];
	Datum		values[2];

	if (!OidIsValid(nsp))
		return NULL;

	/*
	 * A snapshot taken now, as SPI takes one for each query: a read sees
	 * what the same statement wrote before it (and, in READ COMMITTED, what
	 * committed before it), exactly like the SPI path.
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	snapshot = GetActiveSnapshot();
	memset(&call, 0, sizeof(call));

	account = open_table(nsp, "account");
	secrets = open_table(nsp, "secrets");
	stages = open_table(nsp, "stages");
	versions = open_table(nsp, "versions");
	keys = open_table(nsp, "keys");
	if (!account || !secrets || !stages || !versions || !keys ||
		!att_is(account, ACCOUNT_DOMAIN_ID, "domain_id") ||
		!att_is(account, ACCOUNT_ROOT_CHECK, "root_check") ||
		!att_is(account, ACCOUNT_HOME_REGION, "home_region") ||
		!att_is(secrets, SECRETS_ID, "id") || !att_is(secrets, SECRETS_NAME, "name") ||
		!att_is(secrets, SECRETS_STATE, "state") ||
		!att_is(secrets, SECRETS_LAST_USED, "last_used_time") ||
		!att_is(stages, STAGES_VERSION, "version") ||
		!att_is(versions, VERSIONS_KEY_ID, "key_id") ||
		!att_is(versions, VERSIONS_KEY_VERSION, "key_version") ||
		!att_is(versions, VERSIONS_WRAPPED_DEK, "wrapped_dek") ||
		!att_is(versions, VERSIONS_CIPHERTEXT, "ciphertext") ||
		!att_is(keys, KEYS_ALIAS, "alias") || !att_is(keys, KEYS_STATE, "state"))
		goto done;

	/* the account: one row, by its primary key */
	procs[0] = F_BOOLEQ;
	values[0] = BoolGetDatum(true);
	tup = index_lookup(nsp, account, "account_pkey", 1, procs, values, snapshot);
	if (!HeapTupleIsValid(tup))
		goto done;
	strlcpy(call.domain_id,
			TextDatumGetCString(heap_getattr(tup, ACCOUNT_DOMAIN_ID, RelationGetDescr(account), &isnull)),
			sizeof(call.domain_id));
	check = DatumGetByteaPP(heap_getattr(tup, ACCOUNT_ROOT_CHECK, RelationGetDescr(account), &isnull));
	if (VARSIZE_ANY_EXHDR(check) != CSMS_HMAC_LEN)
		goto done;
	memcpy(call.root_check, VARDATA_ANY(check), CSMS_HMAC_LEN);
	region = (csms_region_guc && csms_region_guc[0]) ? csms_region_guc :
		TextDatumGetCString(heap_getattr(tup, ACCOUNT_HOME_REGION, RelationGetDescr(account), &isnull));
	if (strlen(region) > CSMS_NAME_MAXLEN)
		goto done;
	strlcpy(call.region, region, sizeof(call.region));

	/* the secret, by (region, name) */
	procs[0] = F_TEXTEQ;
	procs[1] = F_TEXTEQ;
	values[0] = CStringGetTextDatum(call.region);
	values[1] = CStringGetTextDatum(name);
	tup = index_lookup(nsp, secrets, "secrets_region_name_key", 2, procs, values, snapshot);
	if (!HeapTupleIsValid(tup))
		goto done;
	if (strcmp(TextDatumGetCString(heap_getattr(tup, SECRETS_STATE, RelationGetDescr(secrets), &isnull)),
			   "ENABLED") != 0)
		goto done;
	secret_id = *DatumGetUUIDP(heap_getattr(tup, SECRETS_ID, RelationGetDescr(secrets), &isnull));
	d = heap_getattr(tup, SECRETS_LAST_USED, RelationGetDescr(secrets), &isnull);
	touch = isnull || DatumGetTimestampTz(d) < GetCurrentTransactionStartTimestamp() - USECS_PER_MINUTE;

	/* latest: the version SYSCURRENT marks */
	procs[0] = F_UUID_EQ;
	values[0] = UUIDPGetDatum(&secret_id);
	if (version == 0)
	{
		values[1] = CStringGetTextDatum("SYSCURRENT");
		tup = index_lookup(nsp, stages, "stages_pkey", 2, procs, values, snapshot);
		if (!HeapTupleIsValid(tup))
			goto done;
		version = DatumGetInt32(heap_getattr(tup, STAGES_VERSION, RelationGetDescr(stages), &isnull));
	}

	/* the version */
	procs[1] = F_INT4EQ;
	values[1] = Int32GetDatum(version);
	tup = index_lookup(nsp, versions, "versions_pkey", 2, procs, values, snapshot);
	if (!HeapTupleIsValid(tup))
		goto done;
	key = csms_alloc_sensitive(sizeof(CsmsKey));
	key->id = *DatumGetUUIDP(heap_getattr(tup, VERSIONS_KEY_ID, RelationGetDescr(versions), &isnull));
	strlcpy(key->id_text, csms_uuid_text(&key->id), sizeof(key->id_text));
	key->version = DatumGetInt32(heap_getattr(tup, VERSIONS_KEY_VERSION, RelationGetDescr(versions), &isnull));
	wrapped = DatumGetByteaPP(heap_getattr(tup, VERSIONS_WRAPPED_DEK, RelationGetDescr(versions), &isnull));
	ciphertext = DatumGetByteaPP(heap_getattr(tup, VERSIONS_CIPHERTEXT, RelationGetDescr(versions), &isnull));
	ciphertext = (bytea *) detoast_attr((struct varlena *) ciphertext);

	/* its key: state honoured at once, material from the cache only */
	values[0] = UUIDPGetDatum(&key->id);
	tup = index_lookup(nsp, keys, "keys_pkey", 1, procs, values, snapshot);
	if (!HeapTupleIsValid(tup))
		goto done;
	key->alias = TextDatumGetCString(heap_getattr(tup, KEYS_ALIAS, RelationGetDescr(keys), &isnull));
	key->enabled = strcmp(TextDatumGetCString(heap_getattr(tup, KEYS_STATE, RelationGetDescr(keys), &isnull)),
						  "ENABLED") == 0;
	csms_key_require_enabled(key);

	/* the root key must match before cached material is used */
	call.root_key = csms_root_key_load(call.root_check, false);
	if (!csms_key_material_cached(key, key->version))
		goto done;
	result = csms_open_value(&call, &secret_id, call.region, name, version, key,
							 wrapped, ciphertext, kind);
	*version_out = version;
	csms_wipe(key->material, CSMS_KEY_LEN);

	/* last_used_time: in shared memory (usage.c), or here through SPI */
	if (!csms_usage_record(&secret_id, touch))
		csms_touch_secret(&secret_id);

done:
	if (keys)
		table_close(keys, AccessShareLock);
	if (versions)
		table_close(versions, AccessShareLock);
	if (stages)
		table_close(stages, AccessShareLock);
	if (secrets)
		table_close(secrets, AccessShareLock);
	if (account)
		table_close(account, AccessShareLock);
	PopActiveSnapshot();
	return result;
}
