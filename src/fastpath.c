/*-------------------------------------------------------------------------
 *
 * fastpath.c
 *	  The read path of csms_get_secret_value and csms_get_secret_binary,
 *	  without the executor: one direct index lookup of the secret by
 *	  (name, region), whose row carries a copy of its SYSCURRENT version
 *	  (a second lookup only for an older version), then the two AES-GCM
 *	  opens with cached CMK material.
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
 *	  Per backend it caches what rarely changes: the OIDs of the tables and
 *	  indexes and the positions of the columns it reads (found by name), the
 *	  account row, and the state and alias of the keys it has used.  The
 *	  caches follow the relcache: DDL on the tables, and every write to
 *	  csms.account or csms.keys (a statement trigger, csms_cache_invalidate,
 *	  sends a relcache invalidation), clear them in every backend when the
 *	  change commits, and in the writing backend at once.  They are filled
 *	  from the latest committed state, as the system caches are, never from
 *	  an older snapshot that a REPEATABLE READ transaction may hold -- a
 *	  cache filled from an old snapshot would outlive the invalidation that
 *	  should have cleared it.
 *
 *	  Reading the tables directly needs no privilege check: the extension
 *	  owns them, and the entry point has already passed the caller's EXECUTE
 *	  privilege.
 *
 * src/fastpath.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "secrets.h"

PG_FUNCTION_INFO_V1(csms_cache_invalidate);

/* Relations of schema csms, by OID; valid until a relcache invalidation. */
static struct
{
	bool		valid;
	Oid			account;
	Oid			account_pkey;
	Oid			secrets;
	Oid			secrets_by_name;
	Oid			versions;
	Oid			versions_pkey;
	Oid			keys;
	Oid			keys_pkey;
	/* the columns the read uses, found by name and type */
	AttrNumber	account_domain_id;
	AttrNumber	account_root_check;
	AttrNumber	account_home_region;
	AttrNumber	secrets_id;
	AttrNumber	secrets_name;
	AttrNumber	secrets_state;
	AttrNumber	secrets_current_version;
	AttrNumber	secrets_current_key_id;
	AttrNumber	secrets_current_key_version;
	AttrNumber	secrets_current_wrapped_dek;
	AttrNumber	secrets_current_ciphertext;
	AttrNumber	versions_key_id;
	AttrNumber	versions_key_version;
	AttrNumber	versions_wrapped_dek;
	AttrNumber	versions_ciphertext;
	AttrNumber	keys_alias;
	AttrNumber	keys_state;
} rels;

/* The account row; valid until csms.account changes. */
static struct
{
	bool		valid;
	char		domain_id[33];
	uint8		root_check[CSMS_HMAC_LEN];
	char		home_region[CSMS_NAME_MAXLEN + 1];
} account;

/* State and alias of keys, by id; emptied when csms.keys changes. */
typedef struct KeyState
{
	pg_uuid_t	id;				/* hash key */
	char		id_text[37];
	bool		enabled;
	char		alias[CSMS_NAME_MAXLEN + 1];
} KeyState;

#define KEY_STATES_MAX 256

static HTAB *key_states = NULL;
static bool callback_registered = false;

/* bumped by every invalidation that clears the caches */
static uint64 inval_generation = 0;

static void
forget_key_states(void)
{
	if (key_states)
	{
		hash_destroy(key_states);
		key_states = NULL;
	}
}

/*
 * Any invalidation of one of the relations (or of all) clears every cache:
 * they change rarely, and one rule is easier to trust than three.  A cache
 * being filled when an invalidation arrives is not marked valid (the
 * generation moved), so it cannot keep the older state.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == rels.account || relid == rels.secrets ||
		relid == rels.versions || relid == rels.keys || relid == rels.account_pkey ||
		relid == rels.secrets_by_name || relid == rels.versions_pkey ||
		relid == rels.keys_pkey)
	{
		inval_generation++;
		rels.valid = false;
		account.valid = false;
		forget_key_states();
	}
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

/* The columns the read uses: table, name, type, where its position goes. */
static const struct
{
	Oid		   *rel;
	const char *name;
	Oid			type;
	AttrNumber *attnum;
}			columns[] = {
	{&rels.account, "domain_id", TEXTOID, &rels.account_domain_id},
	{&rels.account, "root_check", BYTEAOID, &rels.account_root_check},
	{&rels.account, "home_region", TEXTOID, &rels.account_home_region},
	{&rels.secrets, "id", UUIDOID, &rels.secrets_id},
	{&rels.secrets, "name", TEXTOID, &rels.secrets_name},
	{&rels.secrets, "state", TEXTOID, &rels.secrets_state},
	{&rels.secrets, "current_version", INT4OID, &rels.secrets_current_version},
	{&rels.secrets, "current_key_id", UUIDOID, &rels.secrets_current_key_id},
	{&rels.secrets, "current_key_version", INT4OID, &rels.secrets_current_key_version},
	{&rels.secrets, "current_wrapped_dek", BYTEAOID, &rels.secrets_current_wrapped_dek},
	{&rels.secrets, "current_ciphertext", BYTEAOID, &rels.secrets_current_ciphertext},
	{&rels.versions, "key_id", UUIDOID, &rels.versions_key_id},
	{&rels.versions, "key_version", INT4OID, &rels.versions_key_version},
	{&rels.versions, "wrapped_dek", BYTEAOID, &rels.versions_wrapped_dek},
	{&rels.versions, "ciphertext", BYTEAOID, &rels.versions_ciphertext},
	{&rels.keys, "alias", TEXTOID, &rels.keys_alias},
	{&rels.keys, "state", TEXTOID, &rels.keys_state},
};

/*
 * Find the columns by name and type; false when one is missing (a library
 * that does not match its install script falls back to the SQL path
 * instead of misreading).
 */
static bool
find_columns(void)
{
	int			i;

	for (i = 0; i < lengthof(columns); i++)
	{
		Relation	rel = table_open(*columns[i].rel, AccessShareLock);

		*columns[i].attnum = csms_attnum_find(RelationGetDescr(rel), columns[i].name,
											  columns[i].type);
		table_close(rel, AccessShareLock);
		if (*columns[i].attnum == 0)
			return false;
	}
	return true;
}

/* Look the relations up once; false when they are not as expected. */
static bool
load_rels(void)
{
	Oid			nsp;
	uint64		generation = inval_generation;
	if (rels.valid)
		return true;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	account.valid = false;
	forget_key_states();

	nsp = get_namespace_oid("csms", true);
	if (!OidIsValid(nsp))
		return false;
	rels.account = get_relname_relid("account", nsp);
	rels.account_pkey = get_relname_relid("account_pkey", nsp);
	rels.secrets = get_relname_relid("secrets", nsp);
	rels.secrets_by_name = get_relname_relid("secrets_name_region_key", nsp);
	rels.versions = get_relname_relid("versions", nsp);
	rels.versions_pkey = get_relname_relid("versions_pkey", nsp);
	rels.keys = get_relname_relid("keys", nsp);
	rels.keys_pkey = get_relname_relid("keys_pkey", nsp);
	if (!OidIsValid(rels.account) || !OidIsValid(rels.account_pkey) ||
		!OidIsValid(rels.secrets) || !OidIsValid(rels.secrets_by_name) ||
		!OidIsValid(rels.versions) || !OidIsValid(rels.versions_pkey) ||
		!OidIsValid(rels.keys) || !OidIsValid(rels.keys_pkey))
		return false;
	if (!find_columns())
		return false;

	rels.valid = generation == inval_generation;
	return rels.valid;
}

/* Is text datum d (short or long header) equal to the C string s? */
static bool
text_is(Datum d, const char *s)
{
	text	   *t = DatumGetTextPP(d);
	size_t		len = strlen(s);
	bool		same = VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;

	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	return same;
}

/*
 * The one row `index` finds in `relid` under the latest committed state
 * (plus this transaction's own changes), as the system caches read; copied.
 */
static HeapTuple
latest_lookup(Oid relid, Oid index, Oid proc, Datum value, TupleDesc *desc)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	HeapTuple	tup = NULL;

	PushActiveSnapshot(GetLatestSnapshot());
	if (csms_row_find(rel, index, 1, &proc, &value, NULL, slot))
		tup = ExecCopySlotHeapTuple(slot);
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(slot);
	*desc = CreateTupleDescCopy(RelationGetDescr(rel));
	table_close(rel, AccessShareLock);
	return tup;
}

/* Fill the account cache. */
static bool
load_account(void)
{
	uint64		generation = inval_generation;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *s;
	bytea	   *check;

	if (account.valid)
		return true;
	tup = latest_lookup(rels.account, rels.account_pkey, F_BOOLEQ, BoolGetDatum(true), &desc);
	if (!HeapTupleIsValid(tup) || generation != inval_generation)
		return false;
	s = TextDatumGetCString(heap_getattr(tup, rels.account_domain_id, desc, &isnull));
	check = DatumGetByteaPP(heap_getattr(tup, rels.account_root_check, desc, &isnull));
	if (strlen(s) >= sizeof(account.domain_id) || VARSIZE_ANY_EXHDR(check) != CSMS_HMAC_LEN)
		return false;
	strlcpy(account.domain_id, s, sizeof(account.domain_id));
	memcpy(account.root_check, VARDATA_ANY(check), CSMS_HMAC_LEN);
	s = TextDatumGetCString(heap_getattr(tup, rels.account_home_region, desc, &isnull));
	if (strlen(s) > CSMS_NAME_MAXLEN)
		return false;
	strlcpy(account.home_region, s, sizeof(account.home_region));
	account.valid = true;
	return true;
}

/*
 * The account row for the call frame of the write paths (secrets.c,
 * CSMS_CACHED_ACCOUNT); false when the cache cannot be filled.
 */
bool
csms_account_cached(char *domain_id, uint8 *root_check, char *home_region)
{
	AcceptInvalidationMessages();
	if (!load_rels() || !load_account())
		return false;
	strlcpy(domain_id, account.domain_id, sizeof(account.domain_id));
	memcpy(root_check, account.root_check, CSMS_HMAC_LEN);
	strlcpy(home_region, account.home_region, sizeof(account.home_region));
	return true;
}

/* State and alias of a key, from the cache or the latest committed row. */
static KeyState *
key_state(const pg_uuid_t *id)
{
	uint64		generation = inval_generation;
	KeyState   *ks;
	bool		found;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *alias;
	bool		enabled;

	if (key_states)
	{
		ks = hash_search(key_states, id, HASH_FIND, NULL);
		if (ks)
			return ks;
	}

	tup = latest_lookup(rels.keys, rels.keys_pkey, F_UUID_EQ, UUIDPGetDatum(id), &desc);
	if (!HeapTupleIsValid(tup) || generation != inval_generation)
		return NULL;
	alias = TextDatumGetCString(heap_getattr(tup, rels.keys_alias, desc, &isnull));
	enabled = strcmp(TextDatumGetCString(heap_getattr(tup, rels.keys_state, desc, &isnull)),
					 "ENABLED") == 0;
	if (strlen(alias) > CSMS_NAME_MAXLEN)
		return NULL;

	if (key_states == NULL || hash_get_num_entries(key_states) >= KEY_STATES_MAX)
	{
		HASHCTL		ctl;

		forget_key_states();
		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(KeyState);
		ctl.hcxt = TopMemoryContext;
		key_states = hash_create("csms key states", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	ks = hash_search(key_states, id, HASH_ENTER, &found);
	ks->enabled = enabled;
	strlcpy(ks->id_text, csms_uuid_text(id), sizeof(ks->id_text));
	strlcpy(ks->alias, alias, sizeof(ks->alias));
	return ks;
}

/*
 * Read and decrypt one value the fast way; NULL when the SPI path must
 * decide.  The result is allocated in the current memory context and wiped
 * when it is reset.
 */
bytea *
csms_fast_read(const char *name, int version, char *kind, int *version_out)
{
	Relation	secrets = NULL,
				versions = NULL;
	bytea	   *result = NULL;
	TupleTableSlot *slot = NULL;
	bool		isnull;
	Datum		d;
	CsmsCall	call;
	CsmsKey    *key;
	KeyState   *ks;
	pg_uuid_t	secret_id;
	const char *region;
	bytea	   *wrapped = NULL;
	bytea	   *ciphertext = NULL;
	Oid			procs[2];
	Datum		values[2];

	/*
	 * Apply what other sessions committed since this session last looked
	 * (a key disabled a moment ago), as a new statement's snapshot would
	 * see it; cheap when nothing is pending.
	 */
	csms_redact_note_call();
	AcceptInvalidationMessages();
	if (!load_rels())
		return NULL;

	secrets = table_open(rels.secrets, AccessShareLock);
	if (!rels.valid || !load_account())
	{
		table_close(secrets, NoLock);
		return NULL;
	}

	/*
	 * A snapshot taken now, as SPI takes one for each query: a read sees
	 * what the same statement wrote before it (and, in READ COMMITTED, what
	 * committed before it), exactly like the SPI path.
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	memset(&call, 0, sizeof(call));
	strlcpy(call.domain_id, account.domain_id, sizeof(call.domain_id));
	memcpy(call.root_check, account.root_check, CSMS_HMAC_LEN);
	region = (csms_region_guc && csms_region_guc[0]) ? csms_region_guc : account.home_region;
	if (strlen(region) > CSMS_NAME_MAXLEN)
		goto done;
	strlcpy(call.region, region, sizeof(call.region));

	/*
	 * The secret, by (name, region), read in the slot: the row stays in its
	 * pinned buffer, deformed once up to the last column read.
	 */
	procs[0] = F_TEXTEQ;
	procs[1] = F_TEXTEQ;
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(call.region);
	slot = table_slot_create(secrets, NULL);
	if (!csms_row_find(secrets, rels.secrets_by_name, 2, procs, values, NULL, slot))
		goto done;
	d = slot_getattr(slot, rels.secrets_state, &isnull);
	if (isnull || !text_is(d, "ENABLED"))
		goto done;
	secret_id = *DatumGetUUIDP(slot_getattr(slot, rels.secrets_id, &isnull));
	key = csms_alloc_sensitive(sizeof(CsmsKey));

	d = slot_getattr(slot, rels.secrets_current_version, &isnull);
	/*
	 * the per-backend tables this read will look the secret up in, for the
	 * version asked for or else the SYSCURRENT one
	 */
	csms_data_key_prefetch(&secret_id, version > 0 || isnull ? version : DatumGetInt32(d));
	if (csms_track_last_used)
		csms_usage_prefetch(&secret_id);
	if (!isnull && (version == 0 || version == DatumGetInt32(d)))
	{
		/* the SYSCURRENT version: its copy on the secret's row */
		version = DatumGetInt32(d);
		d = slot_getattr(slot, rels.secrets_current_key_id, &isnull);
		if (isnull)
			goto done;
		key->id = *DatumGetUUIDP(d);
		d = slot_getattr(slot, rels.secrets_current_key_version, &isnull);
		if (isnull)
			goto done;
		key->version = DatumGetInt32(d);
		d = slot_getattr(slot, rels.secrets_current_wrapped_dek, &isnull);
		if (isnull)
			goto done;
		wrapped = DatumGetByteaPP(d);
		d = slot_getattr(slot, rels.secrets_current_ciphertext, &isnull);
		if (isnull)
			goto done;
		ciphertext = DatumGetByteaPP(d);
	}
	else if (version > 0)
	{
		/* an older version: its row */
		versions = table_open(rels.versions, AccessShareLock);
		ExecDropSingleTupleTableSlot(slot);
		slot = table_slot_create(versions, NULL);
		procs[0] = F_UUID_EQ;
		values[0] = UUIDPGetDatum(&secret_id);
		procs[1] = F_INT4EQ;
		values[1] = Int32GetDatum(version);
		if (!csms_row_find(versions, rels.versions_pkey, 2, procs, values, NULL, slot))
			goto done;
		key->id = *DatumGetUUIDP(slot_getattr(slot, rels.versions_key_id, &isnull));
		key->version = DatumGetInt32(slot_getattr(slot, rels.versions_key_version, &isnull));
		wrapped = DatumGetByteaPP(slot_getattr(slot, rels.versions_wrapped_dek, &isnull));
		ciphertext = DatumGetByteaPP(slot_getattr(slot, rels.versions_ciphertext, &isnull));
	}
	else
		goto done;				/* no SYSCURRENT version: the SPI path says so */
	ciphertext = (bytea *) detoast_attr((struct varlena *) ciphertext);

	/* its key: state as last committed, material from the cache only */
	ks = key_state(&key->id);
	if (ks == NULL)
		goto done;
	memcpy(key->id_text, ks->id_text, sizeof(key->id_text));
	key->alias = pstrdup(ks->alias);
	key->enabled = ks->enabled;
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
	if (!csms_usage_record(&secret_id))
		csms_touch_secret(&secret_id);

done:
	if (slot)
		ExecDropSingleTupleTableSlot(slot);
	/* the locks are held to the end of the transaction, as a query's are */
	if (versions)
		table_close(versions, NoLock);
	table_close(secrets, NoLock);
	PopActiveSnapshot();
	return result;
}
