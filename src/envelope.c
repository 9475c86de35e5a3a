/*-------------------------------------------------------------------------
 *
 * envelope.c
 *	  Envelope encryption of secret values.
 *
 *	  Every version gets a fresh 32-byte data key (DEK) from the CSPRNG.
 *
 *	  ciphertext  = nonce(12) || AES-256-GCM(DEK, kind || value) || tag(16)
 *	                AAD "csms/value/v1|<domain_id>|<region>|<secret id>|v<N>"
 *	  wrapped_dek = nonce(12) || AES-256-GCM(CMK material, DEK) || tag(16)
 *	                AAD "csms/dek/v1|<secret id>|v<N>|<key id>|<key version>"
 *
 *	  kind is one byte inside the authenticated plaintext: 's' for a
 *	  secret_string, 'b' for a secret_binary, so that the type of a value
 *	  cannot be changed by editing a table either.
 *
 *	  Because the AADs name the account, region, secret, version and key,
 *	  moving a ciphertext or wrapped key to another row, secret, region or
 *	  database fails authentication.  Every buffer that holds a DEK or
 *	  plaintext comes from csms_alloc_sensitive() and is wiped when its memory
 *	  context goes, on error paths too.
 *
 * src/envelope.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "util.h"
#include "context.h"
#include "keyring.h"
#include "envelope.h"

#define DEK_SEALED_LEN	(CSMS_KEY_LEN + CSMS_SEAL_OVERHEAD)

/*
 * The parts joined with '|' (the AADs below, whose format README.md gives
 * and t/008_offline_recovery.pl checks); without psprintf, whose format
 * parsing cost a tenth of a GCM open.
 */
static char *
aad_join(const char *const *parts, int n)
{
	size_t		lens[8];
	size_t		total = 0;
	char	   *out,
			   *p;
	int			i;

	Assert(n <= lengthof(lens));
	for (i = 0; i < n; i++)
		total += (lens[i] = strlen(parts[i])) + 1;
	p = out = palloc(total);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			*p++ = '|';
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	*p = '\0';
	return out;
}

/* 'csms/value/v1|<domain id>|<region>|<secret id>|v<N>' */
static char *
value_aad(CsmsCall *call, const char *region, const pg_uuid_t *secret_id, int version)
{
	char		v[16];
	const char *parts[5];

	v[0] = 'v';
	pg_ltoa(version, v + 1);
	parts[0] = "csms/value/v1";
	parts[1] = call->domain_id;
	parts[2] = region;
	parts[3] = csms_uuid_text(secret_id);
	parts[4] = v;
	return aad_join(parts, lengthof(parts));
}

/* 'csms/dek/v1|<secret id>|v<N>|<key id>|<key version>' */
static char *
dek_aad(const pg_uuid_t *secret_id, int version, CsmsKey *key)
{
	char		v[16],
				kv[16];
	const char *parts[5];

	v[0] = 'v';
	pg_ltoa(version, v + 1);
	pg_ltoa(key->version, kv);
	parts[0] = "csms/dek/v1";
	parts[1] = csms_uuid_text(secret_id);
	parts[2] = v;
	parts[3] = key->id_text;
	parts[4] = kv;
	return aad_join(parts, lengthof(parts));
}

static void
crypto_failed(const char *what) pg_attribute_noreturn();

/* The error of a crypto status: XX001 for a failed authentication */
static void
crypto_failed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not encrypt %s", what)));
}

/*
 * May the master key's material be used with the cipher context that stays
 * keyed between calls?  Only while the CMK cache holds it, which forgets
 * the context's key with its own copy (keyring.c); material that this
 * transaction wrote is not cached, and gets a context wiped after the call.
 */
static bool
master_kept(const CsmsKey *key)
{
	return csms_key_material_kept(&key->id, key->version);
}

/* Seal a data key under a master key's material */
static bytea *
wrap_dek(const pg_uuid_t *secret_id, int version, CsmsKey *key, const uint8 *dek)
{
	bytea	   *out = palloc(VARHDRSZ + DEK_SEALED_LEN);
	char	   *aad = dek_aad(secret_id, version, key);
	csms_crypto_status st;

	if (master_kept(key))
		st = csms_seal_kept(CSMS_KEPT_MASTER, key->material, (const uint8 *) aad,
							strlen(aad), dek, CSMS_KEY_LEN, (uint8 *) VARDATA(out));
	else
		st = csms_seal(key->material, (const uint8 *) aad, strlen(aad),
					   dek, CSMS_KEY_LEN, (uint8 *) VARDATA(out));
	if (st != CSMS_OK)
		crypto_failed("a data key");
	SET_VARSIZE(out, VARHDRSZ + DEK_SEALED_LEN);
	return out;
}

/*
 * Data keys opened lately, by everything their opening depends on: the
 * secret, version, key and key version that the AAD names, and the stored
 * wrapped bytes, all compared in full.  Opening the same bytes under the
 * same key and AAD gives the same data key or fails the same way, so a hit
 * is exactly what the open would have given, without its AES-GCM (two
 * fifths of a read's cryptography).  Values are still opened and
 * authenticated on every read; plaintext is never kept.
 *
 * Entries come only from opens under committed CMK material that keyring.c
 * caches, and go with it: forget_data_keys() wipes them all when that
 * cache evicts or resets (root key change, CREATE EXTENSION).  They hold no
 * more than that cache already does -- the material opens every data key
 * under it -- and live in the same place: this process's memory, never a
 * table, shared memory or a file.  The value of a version whose data key
 * is here is opened with the cipher context that stays keyed with the data
 * key (CSMS_KEPT_DATA, crypto.h) instead of one keyed and then wiped for
 * each read; the context forgets the key when the memo does.
 *
 * 4-way set-associative, 16384 entries of 132 bytes (2.3 MB with the
 * sets' tags, touched as used): a working set of ten thousand secret
 * versions per backend hits.
 */
#define DEK_MEMO_WAYS	4
#define DEK_MEMO_SETS	4096

typedef struct DekMemoEntry
{
	pg_uuid_t	secret_id;
	pg_uuid_t	key_id;
	int32		version;
	int32		key_version;
	uint8		wrapped[DEK_SEALED_LEN];
	uint8		dek[CSMS_KEY_LEN];
} DekMemoEntry;

/*
 * A set: the tags (a hash of secret and version, never 0; 0 is an empty
 * way) and use stamps of its ways in the set's first cache line, so that a
 * miss reads one line and a hit one entry more.
 */
typedef struct DekMemoSet
{
	uint32		tag[DEK_MEMO_WAYS];
	uint32		stamp[DEK_MEMO_WAYS];
	DekMemoEntry e[DEK_MEMO_WAYS];
} pg_attribute_aligned(64) DekMemoSet;

/* in pages of their own (keymem.h: left out of core dumps), mapped at first use */
static DekMemoSet *dek_memo = NULL;
static uint32 dek_memo_clock = 0;
static bool dek_memo_used = false;

/* Forget every remembered data key, and the cipher context keyed with one. */
static void
forget_data_keys(void)
{
	csms_forget_kept_keys(CSMS_KEPT_DATA);
	if (!dek_memo_used)
		return;
	csms_wipe(dek_memo, sizeof(DekMemoSet) * DEK_MEMO_SETS);
	dek_memo_clock = 0;
	dek_memo_used = false;
}

/* The set of (secret, version), and its tag there. */
static DekMemoSet *
dek_memo_set(const pg_uuid_t *secret_id, int version, uint32 *tag)
{
	uint64		h = csms_id_hash64(secret_id->data, (uint64) (uint32) version * UINT64CONST(0x9E3779B97F4A7C15));

	*tag = (uint32) (h >> 32) | 1;
	return &dek_memo[(uint32) h % DEK_MEMO_SETS];
}

/*
 * Start loading the memo's set of (secret, version) into the CPU cache.
 * The memo is too large to stay cached across reads of many secrets, and a
 * lookup's loads depend on each other (the tags, then the entry that
 * matched): the read calls this as soon as it knows the secret, so that
 * the loads overlap with the work before the lookup.  Only a hint: it
 * reads and changes nothing.
 */
void
csms_data_key_prefetch(const pg_uuid_t *secret_id, int version)
{
#ifdef __GNUC__
	uint32		tag;
	const char *set;
	size_t		off;

	if (dek_memo == NULL)
		return;
	set = (const char *) dek_memo_set(secret_id, version, &tag);
	for (off = 0; off < sizeof(DekMemoSet); off += 64)
		__builtin_prefetch(set + off);
#endif
}

/* The data key from the memo into dek; false when it is not there. */
static bool
dek_memo_get(const pg_uuid_t *secret_id, int version, const CsmsKey *key,
			 const uint8 *wrapped, uint8 *dek)
{
	uint32		tag;
	DekMemoSet *set;
	int			i;

	if (dek_memo == NULL)
		return false;
	set = dek_memo_set(secret_id, version, &tag);
	for (i = 0; i < DEK_MEMO_WAYS; i++)
	{
		DekMemoEntry *e = &set->e[i];

		if (set->tag[i] == tag && e->version == version &&
			e->key_version == key->version &&
			memcmp(e->secret_id.data, secret_id->data, UUID_LEN) == 0 &&
			memcmp(e->key_id.data, key->id.data, UUID_LEN) == 0 &&
			memcmp(e->wrapped, wrapped, DEK_SEALED_LEN) == 0)
		{
			set->stamp[i] = ++dek_memo_clock;
			memcpy(dek, e->dek, CSMS_KEY_LEN);
			return true;
		}
	}
	return false;
}

/* Remember an opened data key, in place of the least recently used of its set. */
static void
dek_memo_put(const pg_uuid_t *secret_id, int version, const CsmsKey *key,
			 const uint8 *wrapped, const uint8 *dek)
{
	uint32		tag;
	DekMemoSet *set;
	DekMemoEntry *e;
	int			i,
				victim = 0;

	if (dek_memo == NULL)
	{
		/* without its pages, data keys are not remembered: reads open them */
		dek_memo = csms_key_memory(sizeof(DekMemoSet) * DEK_MEMO_SETS,
								   "remembered data keys", true);
		if (dek_memo == NULL)
			return;
		/* what the memo holds goes with the material it was opened under */
		csms_keyring_on_forget(forget_data_keys);
	}
	if (dek_memo_clock == PG_UINT32_MAX)
		forget_data_keys();	/* stamps would wrap: start afresh */
	set = dek_memo_set(secret_id, version, &tag);
	for (i = 1; i < DEK_MEMO_WAYS && set->tag[victim] != 0; i++)
		if (set->tag[i] == 0 || set->stamp[i] < set->stamp[victim])
			victim = i;
	e = &set->e[victim];
	if (set->tag[victim] != 0)
		csms_forget_kept_key(CSMS_KEPT_DATA, e->dek);	/* evicted */
	e->secret_id = *secret_id;
	e->key_id = key->id;
	e->version = version;
	e->key_version = key->version;
	memcpy(e->wrapped, wrapped, DEK_SEALED_LEN);
	memcpy(e->dek, dek, CSMS_KEY_LEN);
	set->tag[victim] = tag;
	set->stamp[victim] = ++dek_memo_clock;
	dek_memo_used = true;
}

/*
 * The data key of a version, from the memo or opened with the key's
 * material; *remembered says whether the memo holds it (so that the value
 * may be opened with the kept context).
 */
static uint8 *
unwrap_dek(const pg_uuid_t *secret_id, const char *secret_name, int version,
		   CsmsKey *key, const bytea *wrapped, bool *remembered)
{
	uint8	   *dek = csms_alloc_sensitive(CSMS_KEY_LEN);
	const uint8 *in = (const uint8 *) VARDATA_ANY(wrapped);
	char	   *aad;
	size_t		len;
	csms_crypto_status st = CSMS_ERR_LENGTH;

	*remembered = true;
	if (VARSIZE_ANY_EXHDR(wrapped) == DEK_SEALED_LEN &&
		dek_memo_get(secret_id, version, key, in, dek))
		return dek;

	/* the memo holds only data keys opened under material the cache holds */
	*remembered = master_kept(key);
	aad = dek_aad(secret_id, version, key);
	if (VARSIZE_ANY_EXHDR(wrapped) == DEK_SEALED_LEN)
		st = *remembered ?
			csms_open_kept(CSMS_KEPT_MASTER, key->material, (const uint8 *) aad,
						   strlen(aad), in, DEK_SEALED_LEN, dek, &len) :
			csms_open(key->material, (const uint8 *) aad, strlen(aad),
					  in, DEK_SEALED_LEN, dek, &len);
	if (st != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key of version \"v%d\" of secret \"%s\" failed authentication",
						version, secret_name),
				 errdetail("The stored ciphertext was altered or belongs to another version, secret or database.")));
	if (*remembered)
		dek_memo_put(secret_id, version, key, in, dek);
	return dek;
}

/* A fresh data key seals kind || value, and is itself sealed under the key */
void
csms_seal_value(CsmsCall *call, const pg_uuid_t *secret_id, const char *region,
				int version, CsmsKey *key, char kind, const char *value,
				Size len, CsmsSealed *out)
{
	uint8	   *dek = csms_alloc_sensitive(CSMS_KEY_LEN);
	uint8	   *plain = csms_alloc_sensitive(len + 1);
	char	   *aad = value_aad(call, region, secret_id, version);
	bytea	   *ct = palloc(VARHDRSZ + len + 1 + CSMS_SEAL_OVERHEAD);

	csms_key_require_enabled(key);
	if (csms_random_key(dek, CSMS_KEY_LEN) != CSMS_OK)
		crypto_failed("a value");
	plain[0] = (uint8) kind;
	if (len > 0)
		memcpy(plain + 1, value, len);
	if (csms_seal(dek, (const uint8 *) aad, strlen(aad), plain, len + 1,
				  (uint8 *) VARDATA(ct)) != CSMS_OK)
		crypto_failed("a value");
	SET_VARSIZE(ct, VARHDRSZ + len + 1 + CSMS_SEAL_OVERHEAD);
	csms_wipe(plain, len + 1);

	out->ciphertext = ct;
	out->wrapped_dek = wrap_dek(secret_id, version, key, dek);
	csms_wipe(dek, CSMS_KEY_LEN);
}

/*
 * Decrypt a version.  Returns the value as a varlena (text or bytea layout,
 * the caller decides by *kind), allocated in the current memory context
 * with a wipe-on-reset callback.
 */
bytea *
csms_open_value(CsmsCall *call, const pg_uuid_t *secret_id, const char *region,
				const char *secret_name, int version, CsmsKey *key,
				const bytea *wrapped_dek, const bytea *ciphertext, char *kind)
{
	uint8	   *dek;
	char	   *aad;
	size_t		inlen = VARSIZE_ANY_EXHDR(ciphertext);
	size_t		outlen;
	uint8	   *buf;
	bytea	   *result;
	bool		remembered;
	csms_crypto_status st;

	csms_key_require_enabled(key);
	dek = unwrap_dek(secret_id, secret_name, version, key, wrapped_dek, &remembered);
	aad = value_aad(call, region, secret_id, version);

	if (inlen < CSMS_SEAL_OVERHEAD + 1)
		goto corrupt;

	/*
	 * Decrypt so that the kind byte lands on the last byte of the varlena
	 * header and the value right after the header: no copy of the plaintext
	 * is ever made.
	 */
	buf = csms_alloc_sensitive(VARHDRSZ + inlen - CSMS_SEAL_OVERHEAD);
	if (remembered)
		st = csms_open_kept(CSMS_KEPT_DATA, dek, (const uint8 *) aad, strlen(aad),
							(const uint8 *) VARDATA_ANY(ciphertext), inlen,
							buf + VARHDRSZ - 1, &outlen);
	else
		st = csms_open(dek, (const uint8 *) aad, strlen(aad),
					   (const uint8 *) VARDATA_ANY(ciphertext), inlen,
					   buf + VARHDRSZ - 1, &outlen);
	if (st != CSMS_OK)
		goto corrupt;
	csms_wipe(dek, CSMS_KEY_LEN);
	*kind = (char) buf[VARHDRSZ - 1];
	if (*kind != CSMS_KIND_STRING && *kind != CSMS_KIND_BINARY)
		goto corrupt;
	result = (bytea *) buf;
	SET_VARSIZE(result, VARHDRSZ + outlen - 1);
	return result;

corrupt:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("value of version \"v%d\" of secret \"%s\" failed authentication",
					version, secret_name),
			 errdetail("The stored ciphertext was altered or belongs to another version, secret or database.")));
	return NULL;				/* keep compiler quiet */
}

/* Re-wrap the DEK of one version under another key: values stay as they are. */
bytea *
csms_rewrap_dek(CsmsCall *call, const pg_uuid_t *secret_id,
				const char *secret_name, int version, CsmsKey *from,
				const bytea *wrapped_dek, CsmsKey *to)
{
	uint8	   *dek;
	bytea	   *out;
	bool		remembered;

	csms_key_require_enabled(from);
	csms_key_require_enabled(to);
	dek = unwrap_dek(secret_id, secret_name, version, from, wrapped_dek, &remembered);
	out = wrap_dek(secret_id, version, to, dek);
	csms_wipe(dek, CSMS_KEY_LEN);
	return out;
}
