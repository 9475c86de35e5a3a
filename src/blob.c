/*-------------------------------------------------------------------------
 *
 * blob.c
 *	  The backup blob codec: prefix + JWE compact serialization with A256KW
 *	  and A256GCM.  See blob.h.
 *
 *	  No PostgreSQL header is included here on purpose: test/test_blob.c
 *	  unit-tests this file and fuzz/fuzz_blob.c fuzzes it, both linked with
 *	  json.c, alloc.c and crypto.c only.
 *
 *	  The protected header is read by the strict JSON parser of json.h
 *	  (parse_header says with which options).
 *
 * src/blob.c
 *
 *-------------------------------------------------------------------------
 */
#include "blob.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "json.h"

/* profiles --------------------------------------------------------------- */

typedef struct jwe_profile_def
{
	const char *alg;
	const char *enc;
	size_t		kek_len;
	size_t		cek_len;
} jwe_profile_def;

static const jwe_profile_def jwe_profiles[] = {
	[CSMS_JWE_A256KW_A256GCM] = {"A256KW", "A256GCM", 32, 32},
	[CSMS_JWE_A128KW_A128GCM] = {"A128KW", "A128GCM", 16, 16},
};

#define NUM_PROFILES (sizeof(jwe_profiles) / sizeof(jwe_profiles[0]))
#define MAX_CEK_LEN 32

/* messages --------------------------------------------------------------- */

/* A short reason for each status */
const char *
csms_blob_strerror(csms_blob_status st)
{
	switch (st)
	{
		case CSMS_BLOB_OK:
			return "success";
		case CSMS_BLOB_ERR_EMPTY:
			return "the blob is empty";
		case CSMS_BLOB_ERR_TOO_LONG:
			return "the blob is longer than 5242880 characters";
		case CSMS_BLOB_ERR_PREFIX:
			return "the blob does not start with the backup prefix";
		case CSMS_BLOB_ERR_SEGMENTS:
			return "the blob does not have exactly five dot-separated segments";
		case CSMS_BLOB_ERR_BASE64:
			return "a segment of the blob is not valid unpadded base64url";
		case CSMS_BLOB_ERR_HEADER_JSON:
			return "the blob header is not a valid JSON object";
		case CSMS_BLOB_ERR_ALG:
			return "the blob header's \"alg\" is missing or is not \"A256KW\"";
		case CSMS_BLOB_ERR_ENC:
			return "the blob header's \"enc\" is missing or is not \"A256GCM\"";
		case CSMS_BLOB_ERR_KID:
			return "the blob header's \"kid\" is missing or is not 1 to 128 printable ASCII characters";
		case CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN:
			return "the blob's encrypted key does not have the expected length";
		case CSMS_BLOB_ERR_IV_LEN:
			return "the blob's initialization vector is not 12 bytes long";
		case CSMS_BLOB_ERR_TAG_LEN:
			return "the blob's authentication tag is not 16 bytes long";
		case CSMS_BLOB_ERR_UNWRAP:
			return "the blob's content key cannot be unwrapped with this backup key";
		case CSMS_BLOB_ERR_DECRYPT:
			return "the blob's content failed authenticated decryption";
		case CSMS_BLOB_ERR_NOMEM:
			return "out of memory";
		case CSMS_BLOB_ERR_RANDOM:
			return "the random number generator failed";
		case CSMS_BLOB_ERR_CRYPTO:
			return "a cryptographic operation failed";
		case CSMS_BLOB_ERR_ARGUMENT:
			return "invalid argument";
	}
	return "unknown blob error";
}

/* kid -------------------------------------------------------------------- */

/* 1 to CSMS_BLOB_KID_MAX printable ASCII characters */
static bool
kid_valid(const uint8_t *kid, size_t len)
{
	size_t		i;

	if (len < 1 || len > CSMS_BLOB_KID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (kid[i] < 0x20 || kid[i] > 0x7e)
			return false;
	return true;
}

/* the header ------------------------------------------------------------- */

/*
 * Is member `name` of the header object a string equal to lit?  Strings
 * may hold a NUL byte (\u0000), so lengths are compared.
 */
static bool
member_is(const csms_json *header, const char *name, const char *lit)
{
	const csms_json *v = csms_json_get(header, name);
	size_t		len = strlen(lit);

	return v != NULL && v->type == CSMS_JSON_STRING && v->len == len &&
		memcmp(v->str, lit, len) == 0;
}

/*
 * Parse the decoded header with the JSON parser (json.h): one object, at
 * most CSMS_BLOB_JSON_MAX_DEPTH deep, whose strings may hold \u0000 (a JOSE
 * header may; alg, enc and kid are then simply wrong).  Duplicate member
 * names are rejected in every object, since two JOSE implementations could
 * otherwise read different values from the same header.
 */
static csms_blob_status
parse_header(const uint8_t *s, size_t n, const csms_allocator *a, csms_json **out)
{
	static const csms_json_options opts = {CSMS_BLOB_JSON_MAX_DEPTH, true};
	csms_json_status jst;

	jst = csms_json_parse_opts((const char *) s, n, a, &opts, out);
	if (jst == CSMS_JSON_ERR_NOMEM)
		return CSMS_BLOB_ERR_NOMEM;
	if (jst != CSMS_JSON_OK)
		return CSMS_BLOB_ERR_HEADER_JSON;
	if ((*out)->type != CSMS_JSON_OBJECT)
	{
		csms_json_free(*out, a);
		*out = NULL;
		return CSMS_BLOB_ERR_HEADER_JSON;
	}
	return CSMS_BLOB_OK;
}

/* parse ------------------------------------------------------------------ */

/* An empty result that owns nothing */
static void
parsed_reset(csms_blob_parsed *out)
{
	memset(out, 0, sizeof(*out));
}

/* the JWE body after the length checks; out is zeroed on entry */
static csms_blob_status
jwe_parse_body(const char *jwe, size_t len, csms_jwe_profile profile,
			   const csms_allocator *a, csms_blob_parsed *out)
{
	const jwe_profile_def *prof = &jwe_profiles[profile];
	const char *seg[5];
	size_t		seglen[5];
	size_t		declen[5];
	size_t		total;
	size_t		i;
	const char *p = jwe;
	const char *end = jwe + len;
	uint8_t    *mem;
	uint8_t    *dec[5];
	csms_json  *header;
	const csms_json *kid;
	char		kidbuf[CSMS_BLOB_KID_MAX];
	size_t		kidlen = 0;
	csms_blob_status st;

	/* exactly five segments, i.e. exactly four dots */
	for (i = 0; i < 5; i++)
	{
		const char *dot = (p < end) ? memchr(p, '.', (size_t) (end - p)) : NULL;

		seg[i] = p;
		if (i < 4)
		{
			if (dot == NULL)
				return CSMS_BLOB_ERR_SEGMENTS;
			seglen[i] = (size_t) (dot - p);
			p = dot + 1;
		}
		else
		{
			if (dot != NULL)
				return CSMS_BLOB_ERR_SEGMENTS;
			seglen[i] = (size_t) (end - p);
		}
	}

	/* one allocation: a copy of the encoded header (the AAD), then segments */
	total = seglen[0] + 1;
	for (i = 0; i < 5; i++)
	{
		declen[i] = csms_b64url_declen_max(seglen[i]);
		total += declen[i];
	}
	mem = csms_alloc(a, total);
	if (mem == NULL)
		return CSMS_BLOB_ERR_NOMEM;
	memcpy(mem, seg[0], seglen[0]);
	mem[seglen[0]] = '\0';
	{
		uint8_t    *q = mem + seglen[0] + 1;

		for (i = 0; i < 5; i++)
		{
			dec[i] = q;
			q += declen[i];
		}
	}

	/* strict base64url of every segment */
	for (i = 0; i < 5; i++)
	{
		if (csms_b64url_decode(seg[i], seglen[i], dec[i], &declen[i]) != CSMS_OK)
		{
			st = CSMS_BLOB_ERR_BASE64;
			goto fail;
		}
	}

	/* the header is a JSON object with the profile's alg and enc, and a kid */
	st = parse_header(dec[0], declen[0], a, &header);
	if (st != CSMS_BLOB_OK)
		goto fail;
	kid = csms_json_get(header, "kid");
	if (!member_is(header, "alg", prof->alg))
		st = CSMS_BLOB_ERR_ALG;
	else if (!member_is(header, "enc", prof->enc))
		st = CSMS_BLOB_ERR_ENC;
	else if (kid == NULL || kid->type != CSMS_JSON_STRING ||
			 !kid_valid((const uint8_t *) kid->str, kid->len))
		st = CSMS_BLOB_ERR_KID;
	else
	{
		memcpy(kidbuf, kid->str, kid->len);
		kidlen = kid->len;
	}
	csms_json_free(header, a);
	if (st != CSMS_BLOB_OK)
		goto fail;
	if (declen[1] != prof->cek_len + CSMS_KW_OVERHEAD)
	{
		st = CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN;
		goto fail;
	}
	if (declen[2] != CSMS_BLOB_IV_LEN)
	{
		st = CSMS_BLOB_ERR_IV_LEN;
		goto fail;
	}
	if (declen[4] != CSMS_BLOB_TAG_LEN)
	{
		st = CSMS_BLOB_ERR_TAG_LEN;
		goto fail;
	}

	memcpy(out->kid, kidbuf, kidlen);
	out->kid[kidlen] = '\0';
	out->kid_len = kidlen;
	out->aad = (const char *) mem;
	out->aad_len = seglen[0];
	out->header = dec[0];
	out->header_len = declen[0];
	out->encrypted_key = dec[1];
	out->encrypted_key_len = declen[1];
	out->iv = dec[2];
	out->iv_len = declen[2];
	out->ciphertext = dec[3];
	out->ciphertext_len = declen[3];
	out->tag = dec[4];
	out->tag_len = declen[4];
	out->profile = (int) profile;
	out->mem = mem;
	if (a != NULL)
		out->allocator = *a;
	return CSMS_BLOB_OK;

fail:
	csms_free(a, mem);
	return st;
}

/* A bare JWE: the length limit, then jwe_parse_body */
csms_blob_status
csms_jwe_parse(const char *jwe, size_t len, csms_jwe_profile profile,
			   const csms_allocator *a, csms_blob_parsed *out)
{
	if (out == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	parsed_reset(out);
	if ((jwe == NULL && len > 0) || !csms_allocator_valid(a) ||
		(unsigned) profile >= NUM_PROFILES)
		return CSMS_BLOB_ERR_ARGUMENT;
	if (len == 0)
		return CSMS_BLOB_ERR_EMPTY;
	if (len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	return jwe_parse_body(jwe, len, profile, a, out);
}

/* The prefix, then the JWE after it */
csms_blob_status
csms_blob_parse(const char *blob, size_t len, const csms_allocator *a,
				csms_blob_parsed *out)
{
	if (out == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	parsed_reset(out);
	if ((blob == NULL && len > 0) || !csms_allocator_valid(a))
		return CSMS_BLOB_ERR_ARGUMENT;
	if (len == 0)
		return CSMS_BLOB_ERR_EMPTY;
	if (len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	if (len < CSMS_BLOB_PREFIX_LEN ||
		memcmp(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN) != 0)
		return CSMS_BLOB_ERR_PREFIX;
	return jwe_parse_body(blob + CSMS_BLOB_PREFIX_LEN,
						  len - CSMS_BLOB_PREFIX_LEN,
						  CSMS_JWE_A256KW_A256GCM, a, out);
}

/* Release the one allocation of a parse */
void
csms_blob_parsed_free(csms_blob_parsed *p)
{
	if (p == NULL)
		return;
	if (p->mem != NULL)
	{
		csms_allocator a = p->allocator;

		csms_free(a.alloc != NULL ? &a : NULL, p->mem);
	}
	parsed_reset(p);
}

/* open ------------------------------------------------------------------- */

/* Unwrap the CEK with kek, then open the content with the header as AAD */
csms_blob_status
csms_jwe_open(const csms_blob_parsed *p, const uint8_t *kek, size_t keklen,
			  uint8_t **payload, size_t *payload_len)
{
	const jwe_profile_def *prof;
	const csms_allocator *a;
	uint8_t		cek[MAX_CEK_LEN];
	uint8_t    *out;
	csms_crypto_status cst;
	csms_blob_status st;

	if (payload == NULL || payload_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*payload = NULL;
	*payload_len = 0;
	if (p == NULL || p->mem == NULL || kek == NULL ||
		p->profile < 0 || (size_t) p->profile >= NUM_PROFILES)
		return CSMS_BLOB_ERR_ARGUMENT;
	prof = &jwe_profiles[p->profile];
	if (keklen != prof->kek_len ||
		p->encrypted_key_len != prof->cek_len + CSMS_KW_OVERHEAD ||
		p->iv_len != CSMS_BLOB_IV_LEN || p->tag_len != CSMS_BLOB_TAG_LEN)
		return CSMS_BLOB_ERR_ARGUMENT;
	a = p->allocator.alloc != NULL ? &p->allocator : NULL;

	/* allocate before any key material exists (the allocator may longjmp) */
	out = csms_alloc(a, p->ciphertext_len);
	if (out == NULL)
		return CSMS_BLOB_ERR_NOMEM;

	cst = csms_aes_kw_unwrap(kek, keklen, p->encrypted_key,
							 p->encrypted_key_len, cek);
	if (cst != CSMS_OK)
	{
		st = (cst == CSMS_ERR_AUTH) ? CSMS_BLOB_ERR_UNWRAP : CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}

	cst = csms_gcm_decrypt(cek, prof->cek_len, p->iv, p->iv_len,
						   (const uint8_t *) p->aad, p->aad_len,
						   p->ciphertext, p->ciphertext_len, p->tag, out);
	if (cst != CSMS_OK)
	{
		st = (cst == CSMS_ERR_AUTH) ? CSMS_BLOB_ERR_DECRYPT : CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}
	csms_wipe(cek, sizeof(cek));
	*payload = out;
	*payload_len = p->ciphertext_len;
	return CSMS_BLOB_OK;

fail:
	csms_wipe(cek, sizeof(cek));
	csms_free_secret(a, out, p->ciphertext_len);
	return st;
}

/* csms_jwe_open with the backup key */
csms_blob_status
csms_blob_open(const csms_blob_parsed *p,
			   const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
			   uint8_t **payload, size_t *payload_len)
{
	if (payload == NULL || payload_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*payload = NULL;
	*payload_len = 0;
	if (p == NULL || p->profile != CSMS_JWE_A256KW_A256GCM)
		return CSMS_BLOB_ERR_ARGUMENT;
	return csms_jwe_open(p, backup_key, CSMS_BLOB_KEY_LEN, payload, payload_len);
}

/* seal ------------------------------------------------------------------- */

/*
 * A new blob: a fresh CEK wrapped under the backup key, the payload sealed
 * under it
 */
csms_blob_status
csms_blob_seal(const char *kid, const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
			   const uint8_t *payload, size_t payload_len,
			   const csms_allocator *a,
			   char **out_blob, size_t *out_len)
{
	/* {"alg":"A256KW","enc":"A256GCM","kid":"..."} with kid escaped */
	static const char head[] = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"";
	static const char tail[] = "\"}";
	char		header[sizeof(head) + 2 * CSMS_BLOB_KID_MAX + sizeof(tail)];
	size_t		hlen;
	size_t		kidlen;
	size_t		h64,
				ek64,
				iv64,
				ct64,
				tag64,
				total;
	char	   *blob = NULL;
	uint8_t    *ct = NULL;
	uint8_t		cek[CSMS_BLOB_CEK_LEN];
	uint8_t		ek[CSMS_BLOB_EK_LEN];
	uint8_t		iv[CSMS_BLOB_IV_LEN];
	uint8_t		tag[CSMS_BLOB_TAG_LEN];
	char	   *w;
	csms_crypto_status cst;
	csms_blob_status st;
	size_t		i;

	if (out_blob == NULL || out_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*out_blob = NULL;
	*out_len = 0;
	if (kid == NULL || backup_key == NULL ||
		(payload == NULL && payload_len > 0) || !csms_allocator_valid(a))
		return CSMS_BLOB_ERR_ARGUMENT;

	for (kidlen = 0; kidlen <= CSMS_BLOB_KID_MAX && kid[kidlen] != '\0'; kidlen++)
		;
	if (!kid_valid((const uint8_t *) kid, kidlen))
		return CSMS_BLOB_ERR_KID;

	/* the header JSON */
	memcpy(header, head, sizeof(head) - 1);
	hlen = sizeof(head) - 1;
	for (i = 0; i < kidlen; i++)
	{
		if (kid[i] == '"' || kid[i] == '\\')
			header[hlen++] = '\\';
		header[hlen++] = kid[i];
	}
	memcpy(header + hlen, tail, sizeof(tail) - 1);
	hlen += sizeof(tail) - 1;

	/* the final length, checked before anything is allocated */
	if (payload_len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	h64 = csms_b64url_enclen(hlen);
	ek64 = csms_b64url_enclen(CSMS_BLOB_EK_LEN);
	iv64 = csms_b64url_enclen(CSMS_BLOB_IV_LEN);
	ct64 = csms_b64url_enclen(payload_len);
	tag64 = csms_b64url_enclen(CSMS_BLOB_TAG_LEN);
	total = CSMS_BLOB_PREFIX_LEN + h64 + 1 + ek64 + 1 + iv64 + 1 + ct64 + 1 + tag64;
	if (total > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;

	/* every allocation before any key material exists */
	blob = csms_alloc(a, total + 1);
	if (blob == NULL)
		return CSMS_BLOB_ERR_NOMEM;
	ct = csms_alloc(a, payload_len);
	if (ct == NULL)
	{
		csms_free(a, blob);
		return CSMS_BLOB_ERR_NOMEM;
	}

	/* prefix and encoded header; the latter is the AAD */
	memcpy(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN);
	w = blob + CSMS_BLOB_PREFIX_LEN;
	csms_b64url_encode((const uint8_t *) header, hlen, w);

	cst = csms_random_bytes(cek, sizeof(cek));
	if (cst == CSMS_OK)
		cst = csms_random_bytes(iv, sizeof(iv));
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_RANDOM;
		goto fail;
	}
	cst = csms_aes_kw_wrap(backup_key, CSMS_BLOB_KEY_LEN, cek, sizeof(cek), ek);
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}
	cst = csms_gcm_encrypt(cek, sizeof(cek), iv, sizeof(iv),
						   (const uint8_t *) w, h64,
						   payload, payload_len, ct, tag);
	csms_wipe(cek, sizeof(cek));
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}

	w += h64;
	*w++ = '.';
	csms_b64url_encode(ek, sizeof(ek), w);
	w += ek64;
	*w++ = '.';
	csms_b64url_encode(iv, sizeof(iv), w);
	w += iv64;
	*w++ = '.';
	csms_b64url_encode(ct, payload_len, w);
	w += ct64;
	*w++ = '.';
	csms_b64url_encode(tag, sizeof(tag), w);
	w += tag64;
	*w = '\0';

	csms_free(a, ct);
	*out_blob = blob;
	*out_len = total;
	return CSMS_BLOB_OK;

fail:
	csms_wipe(cek, sizeof(cek));
	csms_free(a, ct);
	csms_free(a, blob);
	return st;
}
