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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "secrets.h"

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

static void
crypto_failed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not encrypt %s", what)));
}

static bytea *
wrap_dek(const pg_uuid_t *secret_id, int version, CsmsKey *key, const uint8 *dek)
{
	bytea	   *out = palloc(VARHDRSZ + DEK_SEALED_LEN);
	char	   *aad = dek_aad(secret_id, version, key);

	/* key->material is a copy of the per-backend cache's (keyring.c) */
	if (csms_seal_kept(key->material, (const uint8 *) aad, strlen(aad),
					   dek, CSMS_KEY_LEN, (uint8 *) VARDATA(out)) != CSMS_OK)
		crypto_failed("a data key");
	SET_VARSIZE(out, VARHDRSZ + DEK_SEALED_LEN);
	return out;
}

static uint8 *
unwrap_dek(const pg_uuid_t *secret_id, const char *secret_name, int version,
		   CsmsKey *key, const bytea *wrapped)
{
	uint8	   *dek = csms_alloc_sensitive(CSMS_KEY_LEN);
	char	   *aad = dek_aad(secret_id, version, key);
	size_t		len;

	if (VARSIZE_ANY_EXHDR(wrapped) != DEK_SEALED_LEN ||
		csms_open_kept(key->material, (const uint8 *) aad, strlen(aad),
					   (const uint8 *) VARDATA_ANY(wrapped), DEK_SEALED_LEN,
					   dek, &len) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key of version \"v%d\" of secret \"%s\" failed authentication",
						version, secret_name),
				 errdetail("The stored ciphertext was altered or belongs to another version, secret or database.")));
	return dek;
}

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

	csms_key_require_enabled(key);
	dek = unwrap_dek(secret_id, secret_name, version, key, wrapped_dek);
	aad = value_aad(call, region, secret_id, version);

	if (inlen < CSMS_SEAL_OVERHEAD + 1)
		goto corrupt;

	/*
	 * Decrypt so that the kind byte lands on the last byte of the varlena
	 * header and the value right after the header: no copy of the plaintext
	 * is ever made.
	 */
	buf = csms_alloc_sensitive(VARHDRSZ + inlen - CSMS_SEAL_OVERHEAD);
	if (csms_open(dek, (const uint8 *) aad, strlen(aad),
				  (const uint8 *) VARDATA_ANY(ciphertext), inlen,
				  buf + VARHDRSZ - 1, &outlen) != CSMS_OK)
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

	csms_key_require_enabled(from);
	csms_key_require_enabled(to);
	dek = unwrap_dek(secret_id, secret_name, version, from, wrapped_dek);
	out = wrap_dek(secret_id, version, to, dek);
	csms_wipe(dek, CSMS_KEY_LEN);
	return out;
}

/*
 * Encrypt a value as version `version` of secret `secret_id` in `region`
 * under `key` (material loaded) and store the version row: the one place
 * where a version is written.  create_time NULL means now; expire_time NULL
 * means the version does not expire.  The caller wipes its value.  With
 * sealed_out, the stored wrapped key and ciphertext are handed back, for the
 * copy of the SYSCURRENT version on the secret's row.
 */
void
csms_store_version(CsmsCall *call, const pg_uuid_t *secret_id, const char *region,
				   int version, CsmsKey *key, char kind, const char *value,
				   Size len, const Datum *create_time, const Datum *expire_time,
				   CsmsSealed *sealed_out)
{
	CsmsSealed	sealed;
	CsmsCol		cols[8] = {
		{"secret_id", UUIDOID, UUIDPGetDatum(secret_id), false},
		{"version", INT4OID, Int32GetDatum(version), false},
		{"create_time", TIMESTAMPTZOID,
		 create_time ? *create_time : TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
		false},
		{"expire_time", TIMESTAMPTZOID, expire_time ? *expire_time : (Datum) 0, expire_time == NULL},
		{"key_id", UUIDOID, UUIDPGetDatum(&key->id), false},
		{"key_version", INT4OID, Int32GetDatum(key->version), false},
		{"wrapped_dek", BYTEAOID, (Datum) 0, false},
		{"ciphertext", BYTEAOID, (Datum) 0, false},
	};

	csms_seal_value(call, secret_id, region, version, key, kind, value, len, &sealed);
	cols[6].value = PointerGetDatum(sealed.wrapped_dek);
	cols[7].value = PointerGetDatum(sealed.ciphertext);
	csms_row_insert("versions", NULL, cols, lengthof(cols));
	if (sealed_out)
		*sealed_out = sealed;
}
