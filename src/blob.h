/*-------------------------------------------------------------------------
 *
 * blob.h
 *	  The backup blob codec of the secrets extension (design.md section 3).
 *
 *	  A blob is the 34-character ASCII prefix
 *	  ")CloudSecretManagementBackupV1.com" followed by a JWE compact
 *	  serialization (RFC 7516):
 *
 *		BASE64URL(header).BASE64URL(encrypted_key).BASE64URL(iv).
 *		BASE64URL(ciphertext).BASE64URL(tag)
 *
 *	  with unpadded base64url, header {"alg":"A256KW","enc":"A256GCM",
 *	  "kid":"<backup key id>"} (more members allowed when parsing), a fresh
 *	  32-byte content encryption key (CEK) per blob wrapped with the 32-byte
 *	  backup key by AES key wrap (RFC 3394), and AES-256-GCM content
 *	  encryption with a random 96-bit IV, a 128-bit tag and, as AAD, the
 *	  ASCII of the encoded header (RFC 7516 section 5.1 step 14).  Anyone
 *	  holding the backup key can open a blob (after removing the prefix) with
 *	  a standard JOSE library.
 *
 *	  Like crypto.h, this file and blob.c include no PostgreSQL header, so
 *	  that test/ and fuzz/ build them alone.  Nothing here raises; every
 *	  function returns a status, and csms_blob_strerror() gives a short
 *	  lower-case reason for an errdetail.
 *
 *	  Memory.  Every function that allocates takes a csms_allocator
 *	  (alloc.h); NULL means malloc/free.  The PostgreSQL side passes a pair that wraps
 *	  palloc/pfree in the memory context of its choice.  The allocator may
 *	  return NULL (reported as CSMS_BLOB_ERR_NOMEM) or may not return at all
 *	  (palloc's ereport): the codec makes every allocation of an operation
 *	  before any key material or plaintext exists in memory it owns, so an
 *	  allocator that longjmps never strands an unwiped secret.  Buffers that
 *	  held the CEK or plaintext are wiped with csms_wipe before being freed
 *	  or abandoned; a payload handed to the caller must be released with
 *	  csms_free_secret() (or wiped by the caller before pfree).
 *
 * src/blob.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_BLOB_H
#define CSMS_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "alloc.h"

#define CSMS_BLOB_PREFIX		")CloudSecretManagementBackupV1.com"
#define CSMS_BLOB_PREFIX_LEN	34
#define CSMS_BLOB_MAX_LEN		5242880 /* characters, prefix included */
#define CSMS_BLOB_KID_MAX		128 /* kid: 1..128 printable ASCII */
#define CSMS_BLOB_KEY_LEN		32	/* backup key (A256KW KEK) */
#define CSMS_BLOB_CEK_LEN		32	/* A256GCM content encryption key */
#define CSMS_BLOB_EK_LEN		40	/* wrapped CEK */
#define CSMS_BLOB_IV_LEN		12
#define CSMS_BLOB_TAG_LEN		16
#define CSMS_BLOB_JSON_MAX_DEPTH 32 /* nesting limit of the header JSON */

/*
 * Statuses.  The parse checks run in the order of the codes below, each with
 * its own code, so that a restore can tell the user exactly what is wrong.
 */
typedef enum csms_blob_status
{
	CSMS_BLOB_OK = 0,
	CSMS_BLOB_ERR_EMPTY,		/* empty input */
	CSMS_BLOB_ERR_TOO_LONG,		/* longer than CSMS_BLOB_MAX_LEN */
	CSMS_BLOB_ERR_PREFIX,		/* does not start with CSMS_BLOB_PREFIX */
	CSMS_BLOB_ERR_SEGMENTS,		/* not exactly five segments */
	CSMS_BLOB_ERR_BASE64,		/* a segment is not strict base64url */
	CSMS_BLOB_ERR_HEADER_JSON,	/* header is not a valid JSON object */
	CSMS_BLOB_ERR_ALG,			/* "alg" missing or not "A256KW" */
	CSMS_BLOB_ERR_ENC,			/* "enc" missing or not "A256GCM" */
	CSMS_BLOB_ERR_KID,			/* "kid" missing or not 1..128 printable
								 * ASCII characters */
	CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN,	/* encrypted key is not 40 bytes */
	CSMS_BLOB_ERR_IV_LEN,		/* iv is not 12 bytes */
	CSMS_BLOB_ERR_TAG_LEN,		/* tag is not 16 bytes */
	CSMS_BLOB_ERR_UNWRAP,		/* AES key wrap integrity check failed:
								 * wrong backup key or tampered key */
	CSMS_BLOB_ERR_DECRYPT,		/* AES-GCM authentication failed */
	CSMS_BLOB_ERR_NOMEM,		/* the allocator returned NULL */
	CSMS_BLOB_ERR_RANDOM,		/* the CSPRNG failed */
	CSMS_BLOB_ERR_CRYPTO,		/* any other OpenSSL failure */
	CSMS_BLOB_ERR_ARGUMENT		/* a caller error: NULL pointer, bad kid
								 * passed to seal, and the like */
} csms_blob_status;

/*
 * What csms_blob_parse found.  All pointers point into one allocation owned
 * by the struct; release it with csms_blob_parsed_free().  Segment lengths
 * are decoded byte counts.
 */
typedef struct csms_blob_parsed
{
	char		kid[CSMS_BLOB_KID_MAX + 1];	/* NUL-terminated */
	size_t		kid_len;
	const uint8_t *header;		/* decoded protected header (JSON text) */
	size_t		header_len;
	const char *aad;			/* the encoded header: the GCM AAD */
	size_t		aad_len;
	const uint8_t *encrypted_key;
	size_t		encrypted_key_len;
	const uint8_t *iv;
	size_t		iv_len;
	const uint8_t *ciphertext;
	size_t		ciphertext_len;
	const uint8_t *tag;
	size_t		tag_len;

	/* private */
	int			profile;
	void	   *mem;
	csms_allocator allocator;
} csms_blob_parsed;

/* A short lower-case English reason, for errdetail; never key material. */
extern const char *csms_blob_strerror(csms_blob_status st);

/*
 * Seal payload into a new blob for backup key kid.  *out_blob gets a
 * NUL-terminated string of *out_len (<= CSMS_BLOB_MAX_LEN) characters,
 * allocated with a (NULL: malloc); free it with a->free (not secret).  The
 * header is exactly {"alg":"A256KW","enc":"A256GCM","kid":"<kid>"}.  kid must
 * be 1..128 printable ASCII characters (CSMS_BLOB_ERR_KID otherwise); a
 * payload too big for the maximum blob length gives CSMS_BLOB_ERR_TOO_LONG.
 * payload may be NULL when payload_len is 0.  On failure *out_blob is NULL.
 */
extern csms_blob_status csms_blob_seal(const char *kid,
									   const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
									   const uint8_t *payload, size_t payload_len,
									   const csms_allocator *a,
									   char **out_blob, size_t *out_len);

/*
 * Check the form of a blob without any key: runs every check up to
 * CSMS_BLOB_ERR_TAG_LEN, in order.  blob need not be NUL-terminated and need
 * not outlive *out.  On success *out owns memory from a (NULL: malloc):
 * call csms_blob_parsed_free().  On failure *out is zeroed and owns nothing.
 */
extern csms_blob_status csms_blob_parse(const char *blob, size_t len,
										const csms_allocator *a,
										csms_blob_parsed *out);

/*
 * Unwrap the CEK with the backup key and decrypt.  On success *payload is a
 * new allocation from p's allocator (never NULL, even for an empty payload)
 * holding *payload_len bytes; release it with csms_free_secret() (alloc.h).  On
 * failure *payload is NULL, *payload_len is 0 and nothing is left behind.
 */
extern csms_blob_status csms_blob_open(const csms_blob_parsed *p,
									   const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
									   uint8_t **payload, size_t *payload_len);

/* Release what csms_blob_parse kept; safe on a zeroed struct, idempotent. */
extern void csms_blob_parsed_free(csms_blob_parsed *p);

/*
 * Lower level: a bare JWE compact serialization (no prefix) under a given
 * key-management/content-encryption profile.  csms_blob_parse/open use
 * CSMS_JWE_A256KW_A256GCM only; the A128 profile exists so that the
 * published RFC 7520 section 5.8 example (A128KW + A128GCM) can run through
 * the same parser and decryption code in the unit tests.  The blob-level
 * length limit also applies here.
 */
typedef enum csms_jwe_profile
{
	CSMS_JWE_A256KW_A256GCM = 0,
	CSMS_JWE_A128KW_A128GCM
} csms_jwe_profile;

extern csms_blob_status csms_jwe_parse(const char *jwe, size_t len,
									   csms_jwe_profile profile,
									   const csms_allocator *a,
									   csms_blob_parsed *out);
extern csms_blob_status csms_jwe_open(const csms_blob_parsed *p,
									  const uint8_t *kek, size_t keklen,
									  uint8_t **payload, size_t *payload_len);

#endif							/* CSMS_BLOB_H */
