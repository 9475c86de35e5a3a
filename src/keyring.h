/*-------------------------------------------------------------------------
 *
 * keyring.h
 *	  The root key and the master keys (CMKs): loading and checking the root
 *	  key, the material of key versions (opened with the root key, cached
 *	  per backend once committed), and what a key reference (id or alias)
 *	  resolves to, with its state (cached per backend, forgotten when
 *	  csms.keys changes).
 *
 *	  The cached material lives in pages left out of core dumps (keymem.h);
 *	  whoever keeps something opened under it (the data keys the envelope
 *	  remembers) registers with csms_keyring_on_forget and forgets it when
 *	  the keyring forgets material (an eviction, a root key change).
 *
 * src/keyring.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_KEYRING_H
#define CSMS_KEYRING_H

#include "postgres.h"

#include "utils/uuid.h"

#include "context.h"

typedef struct CsmsKey
{
	pg_uuid_t	id;
	char		id_text[37];
	char	   *alias;
	bool		enabled;
	int			version;		/* the material version used */
	Oid			owner;			/* the role that owns it */
	uint8		material[CSMS_KEY_LEN];
} CsmsKey;

/* Forget the root key and every cached material (a setting changed). */
extern void csms_keyring_reset(void);

/* Call fn whenever the keyring forgets cached material. */
extern void csms_keyring_on_forget(void (*fn) (void));

/* pages for key material (keymem.h), logged at DEBUG1 */
extern void *csms_key_memory(Size size, const char *what, bool missing_ok);

/*
 * The root key, loaded if needed; with expected_check it must match (XX001
 * otherwise).  generate_if_missing is for CREATE EXTENSION only.
 */
extern const uint8 *csms_root_key_load(const uint8 *expected_check,
									   bool generate_if_missing);
extern void csms_root_key_check_value(const uint8 *root, uint8 out[CSMS_HMAC_LEN]);

/* keys of the call's region by reference (SQL); csms/default made on first use */
extern CsmsKey *csms_key_resolve(CsmsCall *call, const char *ref,
								 bool create_default, bool for_update);
extern CsmsKey *csms_key_create(CsmsCall *call, const char *alias,
								const char *description, const pg_uuid_t *id);
extern void csms_key_add_version(CsmsCall *call, CsmsKey *key, int version);

/*
 * A key by id, any region, at its current version, from the cache or the
 * latest committed row (no SQL): NULL when there is none (lookup), or
 * XX001 (by_id).
 */
extern CsmsKey *csms_key_lookup(const pg_uuid_t *id);
extern CsmsKey *csms_key_by_id(const pg_uuid_t *id);

/* the key that wrapped a stored version, with that version's material loaded */
extern CsmsKey *csms_key_for_version(CsmsCall *call, const pg_uuid_t *id,
									 const char *alias, const char *state, int version);

/* the backup key of the call's region, material loaded (made when create) */
extern CsmsKey *csms_backup_key(CsmsCall *call, bool create);

/* material of (key, version) into key->material: through the cache (SQL), or the cache only */
extern void csms_key_material(CsmsCall *call, CsmsKey *key, int version);
extern bool csms_key_material_cached(CsmsKey *key, int version);
extern bool csms_key_material_kept(const pg_uuid_t *id, int version);

extern void csms_key_require_enabled(CsmsKey *key);

#endif							/* CSMS_KEYRING_H */
