/*-------------------------------------------------------------------------
 *
 * keyring.c
 *	  The root key and master keys (CMKs).
 *
 *	  Root key: 32 bytes, read from csms.root_key_command, csms.root_key_file
 *	  or the file csms_root.key in the data directory (the first that is set
 *	  wins), never stored in the database.  The account row holds its check
 *	  value, HMAC-SHA-256(root key, "csms/root-key-check/v1"), so a wrong or
 *	  missing root key is one clear error instead of authentication failures
 *	  per secret.  The loaded key is cached per backend and dropped (wiped)
 *	  when either setting changes.
 *
 *	  CMK material: 32 random bytes per key version, stored as
 *	  nonce(12) || AES-256-GCM(root key, material) || tag(16) with AAD
 *	  "csms/cmk/v1|<key id>|<version>".  Unwrapped material is cached per
 *	  backend by (key id, version), once committed, in a small fixed table
 *	  that is wiped on eviction and on reset (telling the listeners); the
 *	  key's state comes from the key cache, which every change to csms.keys
 *	  empties, so disabling a key takes effect at once.
 *
 * src/keyring.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"

#include "util.h"
#include "validate.h"
#include "settings.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "roledep.h"
#include "keymem.h"
#include "keyring.h"

#define ROOT_CHECK_LABEL	"csms/root-key-check/v1"
#define ROOT_KEY_FILENAME	"csms_root.key"
#define CMK_CACHE_SIZE		64

static bool root_loaded = false;
static char root_source[MAXPGPATH + 64];

typedef struct CmkCacheEntry
{
	bool		used;
	pg_uuid_t	key_id;
	int			version;
	uint64		last_use;
	uint8		material[CSMS_KEY_LEN];
} CmkCacheEntry;

/*
 * The root key, its check value and the CMK cache, in pages of their own
 * (keymem.h: left out of core dumps), mapped at first use.
 */
typedef struct KeyringMemory
{
	uint8		root_key[CSMS_KEY_LEN];
	uint8		root_check[CSMS_HMAC_LEN];
	CmkCacheEntry cmk_cache[CMK_CACHE_SIZE];
} KeyringMemory;

static KeyringMemory *km = NULL;
static uint64 cmk_clock = 0;

/*
 * Pages for key material (keymem.h), logged at DEBUG1 with what the
 * platform granted; NULL when none could be mapped and missing_ok, else an
 * error.
 */
void *
csms_key_memory(Size size, const char *what, bool missing_ok)
{
	int			flags;
	void	   *p = csms_keymem_alloc(size, &flags);

	if (p == NULL)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not map %zu bytes for key material.", size)));
	}
	ereport(DEBUG1,
			(errmsg_internal("key memory: %zu bytes for %s%s%s%s", size, what,
							 flags & CSMS_KEYMEM_DONTDUMP ? ", not dumped" : "",
							 flags & CSMS_KEYMEM_WIPEONFORK ? ", wiped on fork" : "",
							 flags & CSMS_KEYMEM_LOCKED ? ", locked" : "")));
	return p;
}

/* The keyring's pages (root key, CMK cache), mapped on first use */
static KeyringMemory *
keyring_memory(void)
{
	if (km == NULL)
		km = csms_key_memory(sizeof(KeyringMemory), "the root key and master keys", false);
	return km;
}

/* who keeps something opened under cached material (csms_keyring_on_forget) */
#define MAX_FORGET_LISTENERS 4
static void (*forget_listeners[MAX_FORGET_LISTENERS]) (void);
static int	nforget_listeners = 0;

/* Add fn to the forget listeners (once) */
void
csms_keyring_on_forget(void (*fn) (void))
{
	int			i;

	for (i = 0; i < nforget_listeners; i++)
		if (forget_listeners[i] == fn)
			return;
	if (nforget_listeners == MAX_FORGET_LISTENERS)
		elog(ERROR, "too many listeners of the keyring of extension \"secrets\"");
	forget_listeners[nforget_listeners++] = fn;
}

/*
 * Cached material goes: the cipher contexts keyed with it (crypto.h) and
 * whatever the listeners opened under it go too.
 */
static void
forget_material(void)
{
	int			i;

	csms_forget_kept_keys(CSMS_KEPT_MASTER);
	for (i = 0; i < nforget_listeners; i++)
		forget_listeners[i] ();
}

/* Forget the root key and all cached material (a setting changed) */
void
csms_keyring_reset(void)
{
	root_loaded = false;
	if (km)
		csms_wipe(km, sizeof(*km));
	forget_material();
}

/* HMAC-SHA-256(root key, "csms/root-key-check/v1") */
void
csms_root_key_check_value(const uint8 *root, uint8 out[CSMS_HMAC_LEN])
{
	if (csms_hmac_sha256(root, CSMS_KEY_LEN, (const uint8 *) ROOT_CHECK_LABEL,
						 strlen(ROOT_CHECK_LABEL), out) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the root key check value")));
}

/*
 * Parse 64 hex characters, optionally surrounded by white space, into key.
 * Returns false on anything else.  buf is wiped by the caller.
 */
static bool
parse_root_key_text(const char *buf, size_t len, uint8 *key)
{
	size_t		start = 0,
				end = len;

	while (start < end && isspace((unsigned char) buf[start]))
		start++;
	while (end > start && isspace((unsigned char) buf[end - 1]))
		end--;
	return csms_hex_decode(buf + start, end - start, key, CSMS_KEY_LEN) == CSMS_OK;
}

static void
root_key_missing(const char *detail_path) pg_attribute_noreturn();

/* XX001: no root key where the settings point */
static void
root_key_missing(const char *detail_path)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("root key is missing"),
			 errdetail("Neither csms.root_key_command nor csms.root_key_file is set, and the file \"%s\" does not exist.",
					   detail_path),
			 errhint("Set csms.root_key_command or csms.root_key_file to the root key this database was created with.")));
}

static void
root_key_unreadable(const char *source, const char *why) pg_attribute_noreturn();

/* XX001: the root key source gave no valid key */
static void
root_key_unreadable(const char *source, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("could not read the root key from %s", source),
			 errdetail("%s", why),
			 errhint("The root key is 64 hexadecimal characters; check csms.root_key_command and csms.root_key_file.")));
}

/* Reads a key file; false when it does not exist and missing_ok. */
static bool
read_root_key_file(const char *path, bool missing_ok, uint8 *key)
{
	char		buf[256];
	struct stat st;
	int			fd;
	ssize_t		n;
	bool		ok;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT && missing_ok)
			return false;
		root_key_unreadable(psprintf("file \"%s\"", path),
							psprintf("The file could not be opened: %m."));
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
		!(st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) == 0))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("root key file \"%s\" has group or world access", path),
				 errdetail("A file owned by the database user must have permissions u=rw (0600) or less; a file owned by root may also be readable by its group (0640)."),
				 errhint("Run chmod 0600 on the file.")));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n == (ssize_t) sizeof(buf) - 1)
	{
		char		more;

		/* a key file holds a key and white space, nothing longer */
		if (read(fd, &more, 1) > 0)
			n = -1;
	}
	CloseTransientFile(fd);
	ok = n > 0 && parse_root_key_text(buf, (size_t) n, key);
	csms_wipe(buf, sizeof(buf));
	if (!ok)
		root_key_unreadable(psprintf("file \"%s\"", path),
							"The file does not hold exactly 64 hexadecimal characters.");
	return true;
}

/* The root key from the output of csms.root_key_command */
static void
read_root_key_command(const char *cmd, uint8 *key)
{
	char		buf[256];
	size_t		n = 0;
	FILE	   *fh;
	int			rc;
	bool		ok;

	fflush(NULL);
	fh = OpenPipeStream(cmd, "r");
	if (fh == NULL)
		root_key_unreadable("csms.root_key_command",
							psprintf("The command could not be started: %m."));
	while (n < sizeof(buf) - 1)
	{
		size_t		r = fread(buf + n, 1, sizeof(buf) - 1 - n, fh);

		if (r == 0)
			break;
		n += r;
	}
	/* drain anything longer, so the command does not die of SIGPIPE */
	if (n == sizeof(buf) - 1)
	{
		char		sink[256];

		while (fread(sink, 1, sizeof(sink), fh) > 0)
			csms_wipe(sink, sizeof(sink));
		csms_wipe(buf, sizeof(buf));
		ClosePipeStream(fh);
		root_key_unreadable("csms.root_key_command",
							"The command printed more than a root key.");
	}
	rc = ClosePipeStream(fh);
	ok = rc == 0 && parse_root_key_text(buf, n, key);
	csms_wipe(buf, sizeof(buf));
	/* a cancel or timeout that killed the command is reported as such */
	CHECK_FOR_INTERRUPTS();
	if (rc != 0)
		root_key_unreadable("csms.root_key_command",
							psprintf("The command failed: %s.", wait_result_to_str(rc)));
	if (!ok)
		root_key_unreadable("csms.root_key_command",
							"The command did not print 64 hexadecimal characters.");
}

/* A new random root key in a new file (mode 0600), for CREATE EXTENSION */
static void
generate_root_key_file(const char *path, uint8 *key)
{
	char		hex[CSMS_KEY_LEN * 2 + 2];
	int			fd;
	bool		ok;

	if (csms_random_bytes(key, CSMS_KEY_LEN) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	csms_hex_encode(key, CSMS_KEY_LEN, hex);
	hex[CSMS_KEY_LEN * 2] = '\n';
	hex[CSMS_KEY_LEN * 2 + 1] = '\0';

	fd = OpenTransientFilePerm(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY,
							   S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		csms_wipe(hex, sizeof(hex));
		csms_wipe(key, CSMS_KEY_LEN);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create root key file \"%s\": %m", path)));
	}
	ok = write(fd, hex, CSMS_KEY_LEN * 2 + 1) == CSMS_KEY_LEN * 2 + 1 &&
		pg_fsync(fd) == 0;
	csms_wipe(hex, sizeof(hex));
	CloseTransientFile(fd);
	if (!ok)
	{
		unlink(path);
		csms_wipe(key, CSMS_KEY_LEN);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write root key file \"%s\": %m", path)));
	}
	ereport(WARNING,
			(errmsg("generated a new root key in file \"%s\"", path),
			 errdetail("The root key protects every secret of this database: without it the secrets are lost, and anyone holding it and a copy of the data can read them."),
			 errhint("Back up this file apart from the database and its backups, then move it out of the data directory and point csms.root_key_file (or csms.root_key_command) at it.")));
}

/*
 * Return the root key, loading it if needed.  With expected_check, the key
 * must match it (XX001 otherwise).  generate_if_missing is for CREATE
 * EXTENSION only: when no setting is set and the data directory has no key
 * file, a new key file is written.
 */
const uint8 *
csms_root_key_load(const uint8 *expected_check, bool generate_if_missing)
{
	keyring_memory();
	if (!root_loaded)
	{
		uint8		key[CSMS_KEY_LEN];

		if (csms_root_key_command && csms_root_key_command[0])
		{
			read_root_key_command(csms_root_key_command, key);
			snprintf(root_source, sizeof(root_source), "csms.root_key_command");
		}
		else if (csms_root_key_file && csms_root_key_file[0])
		{
			read_root_key_file(csms_root_key_file, false, key);
			snprintf(root_source, sizeof(root_source), "file \"%s\" (csms.root_key_file)",
					 csms_root_key_file);
		}
		else
		{
			char	   *path = psprintf("%s/%s", DataDir, ROOT_KEY_FILENAME);

			if (!read_root_key_file(path, true, key))
			{
				if (!generate_if_missing)
					root_key_missing(path);
				generate_root_key_file(path, key);
			}
			snprintf(root_source, sizeof(root_source), "file \"%s\"", path);
		}
		memcpy(km->root_key, key, CSMS_KEY_LEN);
		csms_wipe(key, sizeof(key));
		csms_root_key_check_value(km->root_key, km->root_check);
		root_loaded = true;
	}

	if (expected_check && !csms_ct_equal(expected_check, km->root_check, CSMS_HMAC_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("root key does not match this database"),
				 errdetail("The root key was read from %s; its check value differs from the one stored when the extension was created.",
						   root_source),
				 errhint("Set csms.root_key_command or csms.root_key_file to the root key this database was created with; csms_root_key_fingerprint() shows the fingerprint it expects.")));
	return km->root_key;
}

/* Key references ---------------------------------------------------------- */

/*
 * What a key reference resolves to -- id, alias, state, current material
 * version -- cached per backend, so that a new secret or version, and a
 * read, does not look its key up with a query: by "<region>/<ref>" (a
 * region name holds no "/") for csms_key_resolve, and by id for
 * csms_key_lookup.  Emptied by the catalog's invalidation path, which every
 * write to csms.keys takes (csms.cache_invalidate), in every backend when
 * the write commits and in the writing one at its next command or when it
 * rolls back; filled from the latest committed state only, so that no
 * invalidation can be missed.  Keys are never deleted.  Calls that lock the
 * key (enable, disable, rotate) do not use it.
 */
#define KEY_REF_LEN		(CSMS_NAME_MAXLEN + 1 + 255 + 1)
#define KEY_CACHE_MAX	256

typedef struct KeyRefEntry
{
	char		ref[KEY_REF_LEN];	/* hash key */
	pg_uuid_t	id;
	char		alias[256];
	bool		enabled;
	int			version;
	Oid			owner;
} KeyRefEntry;

typedef struct KeyIdEntry
{
	pg_uuid_t	id;				/* hash key */
	char		id_text[37];
	char		alias[256];
	bool		enabled;
	int			version;
	Oid			owner;
} KeyIdEntry;

static HTAB *key_refs = NULL;
static HTAB *key_ids = NULL;

/* Invalidation listener: csms.keys may have changed */
static void
key_caches_forget(Oid relid)
{
	if (key_refs)
		hash_destroy(key_refs);
	if (key_ids)
		hash_destroy(key_ids);
	key_refs = NULL;
	key_ids = NULL;
}

/* A new cache table (after the previous one, if any, is dropped). */
static HTAB *
key_cache_create(HTAB *old, const char *name, Size keysize, Size entrysize, int flags)
{
	HASHCTL		ctl;

	csms_catalog_on_invalidate(key_caches_forget);
	if (old)
		hash_destroy(old);
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 16, &ctl, HASH_ELEM | HASH_CONTEXT | flags);
}

/* A CsmsKey (material not loaded) from what a cache holds. */
static CsmsKey *
key_from(const pg_uuid_t *id, const char *id_text, const char *alias, bool enabled,
		 int version, Oid owner)
{
	CsmsKey    *key = csms_alloc_sensitive(sizeof(CsmsKey));

	key->id = *id;
	if (id_text)
		memcpy(key->id_text, id_text, sizeof(key->id_text));
	else
		strlcpy(key->id_text, csms_uuid_text(id), sizeof(key->id_text));
	key->alias = pstrdup(alias);
	key->enabled = enabled;
	key->version = version;
	key->owner = owner;
	return key;
}

/* A key by "<region>/<ref>" from the cache, or NULL */
static CsmsKey *
key_ref_get(const char *ref)
{
	KeyRefEntry *e;

	/* a key disabled a moment ago in another session */
	AcceptInvalidationMessages();
	if (key_refs == NULL || strlen(ref) >= KEY_REF_LEN)
		return NULL;
	e = hash_search(key_refs, ref, HASH_FIND, NULL);
	return e ? key_from(&e->id, NULL, e->alias, e->enabled, e->version, e->owner) : NULL;
}

/* Remember `key` under `ref` if no invalidation came since `generation`. */
static void
key_ref_put(const char *ref, const CsmsKey *key, uint64 generation)
{
	KeyRefEntry *e;

	if (generation != csms_catalog_generation() ||
		strlen(ref) >= KEY_REF_LEN || strlen(key->alias) >= sizeof(e->alias))
		return;
	if (key_refs == NULL || hash_get_num_entries(key_refs) >= KEY_CACHE_MAX)
		key_refs = key_cache_create(key_refs, "csms key references", KEY_REF_LEN,
									sizeof(KeyRefEntry), HASH_STRINGS);
	e = hash_search(key_refs, ref, HASH_ENTER, NULL);
	e->id = key->id;
	strlcpy(e->alias, key->alias, sizeof(e->alias));
	e->enabled = key->enabled;
	e->version = key->version;
	e->owner = key->owner;
}

/* A key by id from the cache or the latest committed row (keyring.h) */
CsmsKey *
csms_key_lookup(const pg_uuid_t *id)
{
	uint64		generation;
	KeyIdEntry *e;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *alias;
	bool		enabled;
	int			version;
	Oid			owner;

	AcceptInvalidationMessages();
	if (key_ids && (e = hash_search(key_ids, id, HASH_FIND, NULL)) != NULL)
		return key_from(&e->id, e->id_text, e->alias, e->enabled, e->version, e->owner);

	generation = csms_catalog_generation();
	csms_catalog_require();
	tup = csms_row_latest(CSMS_KEYS, CSMS_KEYS_PKEY, F_UUID_EQ, UUIDPGetDatum(id), &desc);
	if (!HeapTupleIsValid(tup))
		return NULL;
	alias = TextDatumGetCString(heap_getattr(tup, csms_attnum(CSMS_KEYS_ALIAS), desc, &isnull));
	enabled = strcmp(TextDatumGetCString(heap_getattr(tup, csms_attnum(CSMS_KEYS_STATE),
													  desc, &isnull)), "ENABLED") == 0;
	version = DatumGetInt32(heap_getattr(tup, csms_attnum(CSMS_KEYS_CURRENT_VERSION),
										 desc, &isnull));
	owner = DatumGetObjectId(heap_getattr(tup, csms_attnum(CSMS_KEYS_OWNER), desc, &isnull));
	if (generation == csms_catalog_generation() && strlen(alias) < sizeof(e->alias))
	{
		if (key_ids == NULL || hash_get_num_entries(key_ids) >= KEY_CACHE_MAX)
			key_ids = key_cache_create(key_ids, "csms keys by id", sizeof(pg_uuid_t),
									   sizeof(KeyIdEntry), HASH_BLOBS);
		e = hash_search(key_ids, id, HASH_ENTER, NULL);
		strlcpy(e->id_text, csms_uuid_text(id), sizeof(e->id_text));
		strlcpy(e->alias, alias, sizeof(e->alias));
		e->enabled = enabled;
		e->version = version;
		e->owner = owner;
		return key_from(id, e->id_text, alias, enabled, version, owner);
	}
	return key_from(id, NULL, alias, enabled, version, owner);
}

/* csms_key_lookup, an error when the key is missing */
CsmsKey *
csms_key_by_id(const pg_uuid_t *id)
{
	CsmsKey    *key = csms_key_lookup(id);

	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("key %s is missing", csms_uuid_text(id))));
	return key;
}

/* Master keys ----------------------------------------------------------- */

static CsmsKey *key_create(CsmsCall *call, const char *alias,
						   const char *description, const pg_uuid_t *id,
						   const char *purpose);

static CsmsStmt q_key_by_ref = {
	"SELECT id, alias, state, current_version, owner FROM csms.keys"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND purpose OPERATOR(pg_catalog.=) 'secret'"
	"   AND (alias OPERATOR(pg_catalog.=) $2 OR id OPERATOR(pg_catalog.=) $3)"
	" ORDER BY (id OPERATOR(pg_catalog.=) $3) DESC NULLS LAST LIMIT 1",
	3, {TEXTOID, TEXTOID, UUIDOID}
};

static CsmsStmt q_key_by_ref_lock = {
	"SELECT id, alias, state, current_version, owner FROM csms.keys"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND purpose OPERATOR(pg_catalog.=) 'secret'"
	"   AND (alias OPERATOR(pg_catalog.=) $2 OR id OPERATOR(pg_catalog.=) $3)"
	" ORDER BY (id OPERATOR(pg_catalog.=) $3) DESC NULLS LAST LIMIT 1 FOR NO KEY UPDATE",
	3, {TEXTOID, TEXTOID, UUIDOID}
};

static CsmsStmt q_key_insert = {
	"INSERT INTO csms.keys (id, region, alias, purpose, state, description,"
	" current_version, create_time, update_time, owner)"
	" VALUES ($1, $2, $3, $5, 'ENABLED', $4, 1, pg_catalog.now(), pg_catalog.now(), $6)"
	" ON CONFLICT DO NOTHING",
	6, {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, REGROLEOID}
};

static CsmsStmt q_key_version_insert = {
	"INSERT INTO csms.key_versions (key_id, version, material, create_time)"
	" VALUES ($1, $2, $3, pg_catalog.now())",
	3, {UUIDOID, INT4OID, BYTEAOID}
};

static CsmsStmt q_key_material = {
	"SELECT material, xmin FROM csms.key_versions"
	" WHERE key_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, INT4OID}
};

/* The AAD of a master key's material sealed under the root key */
static char *
cmk_aad(const char *key_id, int version)
{
	return psprintf("csms/cmk/v1|%s|%d", key_id, version);
}

/* Seal fresh material for (key id, version) and store it. */
static void
key_add_material(CsmsCall *call, const pg_uuid_t *id, int version)
{
	uint8	   *material = csms_alloc_sensitive(CSMS_KEY_LEN);
	bytea	   *sealed = palloc(VARHDRSZ + CSMS_KEY_LEN + CSMS_SEAL_OVERHEAD);
	char	   *aad = cmk_aad(csms_uuid_text(id), version);
	Datum		args[3];

	if (csms_random_bytes(material, CSMS_KEY_LEN) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	if (csms_seal(call->root_key, (const uint8 *) aad, strlen(aad),
				  material, CSMS_KEY_LEN, (uint8 *) VARDATA(sealed)) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt master key material")));
	csms_wipe(material, CSMS_KEY_LEN);
	SET_VARSIZE(sealed, VARHDRSZ + CSMS_KEY_LEN + CSMS_SEAL_OVERHEAD);

	args[0] = UUIDPGetDatum(id);
	args[1] = Int32GetDatum(version);
	args[2] = PointerGetDatum(sealed);
	csms_exec(&q_key_version_insert, args, NULL, SPI_OK_INSERT, 0);
}

/*
 * Create a master key in the call's region.  id may be NULL (a random one).
 * Returns NULL when the alias or id is taken (the caller reports that).
 */
CsmsKey *
csms_key_create(CsmsCall *call, const char *alias, const char *description,
				const pg_uuid_t *id)
{
	return key_create(call, alias, description, id, "secret");
}

/* A new key with material version 1 (NULL when the alias is taken) */
static CsmsKey *
key_create(CsmsCall *call, const char *alias, const char *description,
		   const pg_uuid_t *id, const char *purpose)
{
	CsmsKey    *key = csms_alloc_sensitive(sizeof(CsmsKey));
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	if (id)
		key->id = *id;
	else
		csms_new_uuid(&key->id);
	strlcpy(key->id_text, csms_uuid_text(&key->id), sizeof(key->id_text));
	key->alias = pstrdup(alias);
	key->enabled = true;
	key->version = 1;

	args[0] = UUIDPGetDatum(&key->id);
	args[1] = csms_text_datum(call->region);
	args[2] = csms_text_datum(alias);
	if (description)
		args[3] = csms_text_datum(description);
	else
		nulls[3] = 'n';
	args[4] = csms_text_datum(purpose);

	/*
	 * The keys the extension makes for everyone belong to its owner, so
	 * that whoever used csms/default first cannot disable it for the others.
	 */
	if (strcmp(purpose, "secret") == 0 && strcmp(alias, CSMS_DEFAULT_KEY_ALIAS) != 0)
		key->owner = call->save_uid;
	else
		key->owner = csms_schema_owner();
	args[5] = ObjectIdGetDatum(key->owner);
	if (csms_exec(&q_key_insert, args, nulls, SPI_OK_INSERT, 0) != 1)
		return NULL;
	csms_role_depend(CSMS_KEYS, key->owner);
	key_add_material(call, &key->id, 1);
	return key;
}

/*
 * Find a secret-encryption key of the call's region by id or alias.  With
 * ref NULL, the region's csms/default, created on first use when
 * create_default.  Unknown references are 42704, ill-formed ones 22023.
 */
CsmsKey *
csms_key_resolve(CsmsCall *call, const char *ref, bool create_default,
				 bool for_update)
{
	pg_uuid_t	uuid;
	bool		is_uuid;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	CsmsKey    *key;
	const char *p;
	bool		isnull;
	char	   *cache_ref = NULL;
	uint64		generation;

	if (ref == NULL)
		ref = CSMS_DEFAULT_KEY_ALIAS;
	else
	{
		size_t		len = strlen(ref);

		for (p = ref; *p; p++)
			if (!(isalnum((unsigned char) *p) || *p == ':' || *p == '/' ||
				  *p == '_' || *p == '-'))
				break;
		if (len == 0 || len > 255 || *p != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid key reference \"%s\"", csms_trunc(ref)),
					 errdetail("A key is named by its id (a UUID) or by its alias (1 to 255 characters from a-z, A-Z, 0-9, \":\", \"/\", \"_\" and \"-\").")));
	}
	is_uuid = csms_parse_uuid(ref, &uuid);

	if (!for_update)
	{
		cache_ref = psprintf("%s/%s", call->region, ref);
		key = key_ref_get(cache_ref);
		if (key)
			return key;
	}
	generation = csms_catalog_generation();

	args[0] = csms_text_datum(call->region);
	args[1] = csms_text_datum(ref);
	if (is_uuid)
		args[2] = UUIDPGetDatum(&uuid);
	else
		nulls[2] = 'n';

	if ((for_update ? csms_exec(&q_key_by_ref_lock, args, nulls, SPI_OK_SELECT, 1) :
		 csms_exec_latest(&q_key_by_ref, args, nulls, 1)) == 0)
	{
		if (create_default && strcmp(ref, CSMS_DEFAULT_KEY_ALIAS) == 0)
		{
			key = csms_key_create(call, CSMS_DEFAULT_KEY_ALIAS,
								  "Default master key of the region, created on first use", NULL);
			if (key != NULL)
				return key;
			/* created concurrently: read it */
			if ((for_update ? csms_exec(&q_key_by_ref_lock, args, nulls, SPI_OK_SELECT, 1) :
				 csms_exec_latest(&q_key_by_ref, args, nulls, 1)) == 0)
				elog(ERROR, "default key vanished");
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("key \"%s\" does not exist in region \"%s\"",
							ref, call->region)));
	}

	key = csms_alloc_sensitive(sizeof(CsmsKey));
	key->id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	strlcpy(key->id_text, csms_uuid_text(&key->id), sizeof(key->id_text));
	key->alias = csms_col_text(0, 2);
	key->enabled = strcmp(csms_col_text(0, 3), "ENABLED") == 0;
	key->version = DatumGetInt32(csms_col(0, 4, &isnull));
	key->owner = DatumGetObjectId(csms_col(0, 5, &isnull));
	if (cache_ref)
		key_ref_put(cache_ref, key, generation);
	return key;
}

/* 55000 for a disabled key */
void
csms_key_require_enabled(CsmsKey *key)
{
	if (!key->enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("key \"%s\" is disabled", key->alias),
				 errdetail("Key %s neither encrypts nor decrypts while it is disabled.", key->id_text),
				 errhint("Enable it with csms_enable_key().")));
}

/* The cache entry of (key id, version), or NULL. */
static CmkCacheEntry *
cmk_find(const pg_uuid_t *id, int version)
{
	int			i;

	if (km == NULL)
		return NULL;
	for (i = 0; i < CMK_CACHE_SIZE; i++)
		if (km->cmk_cache[i].used && km->cmk_cache[i].version == version &&
			memcmp(km->cmk_cache[i].key_id.data, id->data, UUID_LEN) == 0)
			return &km->cmk_cache[i];
	return NULL;
}

/*
 * Copy cached material of (key, version) into key->material, without any
 * query; false when it is not cached.  For the read fast path.
 */
bool
csms_key_material_cached(CsmsKey *key, int version)
{
	CmkCacheEntry *e = cmk_find(&key->id, version);

	if (e == NULL)
		return false;
	e->last_use = ++cmk_clock;
	key->version = version;
	memcpy(key->material, e->material, CSMS_KEY_LEN);
	return true;
}

/* Does the cache hold the (committed) material of key `id`, version `version`? */
bool
csms_key_material_kept(const pg_uuid_t *id, int version)
{
	return cmk_find(id, version) != NULL;
}

/*
 * Load the material of (key, version) into key->material, through the
 * per-backend cache.  Sets key->version.
 *
 * Only committed material is cached: a version this transaction wrote (a
 * rotation, a new key) is used but not kept, since a rollback takes it away
 * and the next rotation or key with the same id and version gets other
 * material -- a cached copy would then seal data keys that no other session
 * can open.
 */
void
csms_key_material(CsmsCall *call, CsmsKey *key, int version)
{
	int			i,
				victim = 0;
	bytea	   *sealed;
	size_t		outlen;
	char	   *aad;
	Datum		args[2];
	csms_crypto_status st;
	TransactionId xmin;
	bool		isnull;

	Assert(call->root_key != NULL);
	key->version = version;
	if (csms_key_material_cached(key, version))
		return;
	for (i = 0; i < CMK_CACHE_SIZE; i++)
	{
		CmkCacheEntry *e = &km->cmk_cache[i];

		if (!e->used)
		{
			if (km->cmk_cache[victim].used)
				victim = i;
		}
		else if (km->cmk_cache[victim].used &&
				 e->last_use < km->cmk_cache[victim].last_use)
			victim = i;
	}

	args[0] = UUIDPGetDatum(&key->id);
	args[1] = Int32GetDatum(version);
	if (csms_exec(&q_key_material, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("material version %d of key \"%s\" is missing", version, key->alias)));
	sealed = csms_col_bytea(0, 1);
	xmin = DatumGetTransactionId(csms_col(0, 2, &isnull));
	aad = cmk_aad(key->id_text, version);
	if (VARSIZE_ANY_EXHDR(sealed) != CSMS_KEY_LEN + CSMS_SEAL_OVERHEAD)
		st = CSMS_ERR_LENGTH;
	else
		st = csms_open(call->root_key, (const uint8 *) aad, strlen(aad),
					   (const uint8 *) VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed),
					   key->material, &outlen);
	if (st != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("material version %d of key \"%s\" failed authentication",
						version, key->alias),
				 errdetail("The stored key material was altered or belongs to another key.")));

	if (TransactionIdIsCurrentTransactionId(xmin))
		return;

	/*
	 * The cipher contexts (crypto.h) and the data keys opened with it
	 * (envelope.c) forget an evicted key with the cache.
	 */
	if (km->cmk_cache[victim].used)
		forget_material();
	km->cmk_cache[victim].used = true;
	km->cmk_cache[victim].key_id = key->id;
	km->cmk_cache[victim].version = version;
	km->cmk_cache[victim].last_use = ++cmk_clock;
	memcpy(km->cmk_cache[victim].material, key->material, CSMS_KEY_LEN);
}

/* A new material version of an existing key (csms_rotate_key). */
void
csms_key_add_version(CsmsCall *call, CsmsKey *key, int version)
{
	key_add_material(call, &key->id, version);
}

static CsmsStmt q_backup_key = {
	"SELECT id, current_version FROM csms.keys"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND purpose OPERATOR(pg_catalog.=) 'backup'",
	1, {TEXTOID}
};

/*
 * The backup key of the call's region (created on first use when create),
 * with its material loaded; NULL when it does not exist and !create.
 * Backup keys are stored like CMKs but serve only backup blobs: they are
 * never listed and never accepted as a kms_key_id.
 */
static CsmsKey *
backup_key_from_row(void)
{
	CsmsKey    *key = csms_alloc_sensitive(sizeof(CsmsKey));
	bool		isnull;

	key->id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	strlcpy(key->id_text, csms_uuid_text(&key->id), sizeof(key->id_text));
	key->version = DatumGetInt32(csms_col(0, 2, &isnull));
	return key;
}

/* The backup key of the call's region (keyring.h) */
CsmsKey *
csms_backup_key(CsmsCall *call, bool create)
{
	Datum		arg = csms_text_datum(call->region);
	CsmsKey    *key;

	if (csms_exec(&q_backup_key, &arg, NULL, SPI_OK_SELECT, 1) == 1)
		key = backup_key_from_row();
	else if (!create)
		return NULL;
	else
	{
		key = key_create(call, "csms/backup",
						 "Backup key of the region: seals backup blobs", NULL, "backup");
		if (key == NULL)
		{
			/* made concurrently: read it */
			if (csms_exec(&q_backup_key, &arg, NULL, SPI_OK_SELECT, 1) != 1)
				elog(ERROR, "backup key vanished");
			key = backup_key_from_row();
		}
	}
	key->alias = "csms/backup";
	key->enabled = true;
	csms_key_material(call, key, key->version);
	return key;
}

/*
 * The key that wrapped a stored version, from the columns the caller read
 * with it (id, alias, state), with the material of `version` loaded; a
 * disabled key is refused.
 */
CsmsKey *
csms_key_for_version(CsmsCall *call, const pg_uuid_t *id, const char *alias,
					 const char *state, int version)
{
	CsmsKey    *key = csms_alloc_sensitive(sizeof(CsmsKey));

	key->id = *id;
	strlcpy(key->id_text, csms_uuid_text(id), sizeof(key->id_text));
	key->alias = pstrdup(alias);
	key->enabled = strcmp(state, "ENABLED") == 0;
	csms_key_require_enabled(key);
	csms_key_material(call, key, version);
	return key;
}
