/*-------------------------------------------------------------------------
 *
 * crypto.h
 *	  The crypto layer of the secrets extension: AES-256-GCM sealing with
 *	  random nonces, AES key wrap (RFC 3394), HMAC-SHA-256, random bytes,
 *	  base64url (RFC 4648 section 5, no padding), hex, constant-time
 *	  comparison, wiping and the unbiased password generator.
 *
 *	  This file and crypto.c include no PostgreSQL header, so that the C unit
 *	  tests in test/ and fuzzers can build them alone.  Nothing here raises or
 *	  allocates through PostgreSQL; every function returns a status.  Callers
 *	  turn a failed status into one ereport() with a stable message, so a
 *	  caller never learns which check of an authenticated decryption failed.
 *
 *	  Uses the OpenSSL 3 EVP API only.
 *
 * src/crypto.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_CRYPTO_H
#define CSMS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define CSMS_KEY_LEN		32		/* AES-256 key, root key, CMK, DEK */
#define CSMS_GCM_NONCE_LEN	12
#define CSMS_GCM_TAG_LEN	16
#define CSMS_SEAL_OVERHEAD	(CSMS_GCM_NONCE_LEN + CSMS_GCM_TAG_LEN)
#define CSMS_HMAC_LEN		32
#define CSMS_KW_OVERHEAD	8		/* RFC 3394 adds one 64-bit block */

typedef enum csms_crypto_status
{
	CSMS_OK = 0,
	CSMS_ERR_AUTH,				/* authentication failed: wrong key, tampered
								 * data or wrong AAD; deliberately one code */
	CSMS_ERR_LENGTH,			/* input too short or too long for the format */
	CSMS_ERR_ENCODING,			/* malformed base64url or hex text */
	CSMS_ERR_RANDOM,			/* the CSPRNG failed */
	CSMS_ERR_OPENSSL			/* any other OpenSSL failure */
} csms_crypto_status;

/* A short English reason for a status, for logs and errdetail. */
extern const char *csms_crypto_strerror(csms_crypto_status st);

/* Fill buf with len bytes from OpenSSL's CSPRNG (RAND_bytes). */
extern csms_crypto_status csms_random_bytes(uint8_t *buf, size_t len);

/*
 * The same for bytes that are not secret (nonces, ids), from a per-process
 * buffer that one RAND_bytes call fills; never for keys.
 */
extern csms_crypto_status csms_random_public(uint8_t *buf, size_t len);

/*
 * Random bytes for data keys, from a per-process buffer that one
 * RAND_priv_bytes call fills and that is zeroed as it is handed out.
 */
extern csms_crypto_status csms_random_key(uint8_t *buf, size_t len);

/*
 * UUIDs of version 7 (RFC 9562): 48 bits of Unix time in milliseconds, 12
 * bits of the millisecond's fraction (RFC 9562 section 6.2, method 3), 62
 * random bits.  The ids of rows: time-ordered, so that index entries of new
 * rows go to the right edge of their indexes rather than to a random page.
 * csms_uuid7 reads the clock (CLOCK_REALTIME) and never returns a value at
 * or below the last one of this process (a clock that steps back does not
 * reorder them); csms_uuid7_layout is its deterministic part:
 * unix_ts_ms (48 bits), the fraction rand_a (12 bits) and rand_b (the
 * low 62 bits of rand_b are used).
 */
extern csms_crypto_status csms_uuid7(uint8_t out[16]);
extern void csms_uuid7_layout(uint8_t out[16], uint64_t unix_ts_ms,
							  uint16_t rand_a, uint64_t rand_b);

/*
 * 64 mixed bits of a 16-byte id (and `salt`), for the per-process tables
 * that pick a set by id (the data-key memo, the reads noted).  Never the
 * id's leading bytes: a version 7 id leads with its time, the same for all
 * ids made within a minute; a version 4 id (1.0's) with random bits; both
 * end with 62 random bits.  splitmix64's finalizer over both halves.
 */
static inline uint64_t
csms_id_hash64(const uint8_t id[16], uint64_t salt)
{
	uint64_t	hi,
				lo,
				x;

	memcpy(&hi, id, sizeof(hi));
	memcpy(&lo, id + 8, sizeof(lo));
	x = hi ^ ((lo << 32) | (lo >> 32)) ^ salt;
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * Raw AES-256-GCM with a caller-chosen 96-bit IV and a 16-byte tag: out gets
 * ptlen bytes of ciphertext, tag gets the tag.  For test vectors and for the
 * JWE A256GCM content encryption; everything else uses csms_seal/csms_open.
 * keylen may be 16, 24 or 32 (AES-128/192/256), so that published vectors
 * for every key size run against the same code.
 */
extern csms_crypto_status csms_gcm_encrypt(const uint8_t *key, size_t keylen,
										   const uint8_t *iv, size_t ivlen,
										   const uint8_t *aad, size_t aadlen,
										   const uint8_t *pt, size_t ptlen,
										   uint8_t *out, uint8_t *tag);
extern csms_crypto_status csms_gcm_decrypt(const uint8_t *key, size_t keylen,
										   const uint8_t *iv, size_t ivlen,
										   const uint8_t *aad, size_t aadlen,
										   const uint8_t *ct, size_t ctlen,
										   const uint8_t *tag, uint8_t *out);

/*
 * Seal: out = nonce(12) || AES-256-GCM(key, pt) || tag(16), with a fresh
 * random nonce.  out must hold ptlen + CSMS_SEAL_OVERHEAD bytes.
 */
extern csms_crypto_status csms_seal(const uint8_t key[CSMS_KEY_LEN],
									const uint8_t *aad, size_t aadlen,
									const uint8_t *pt, size_t ptlen,
									uint8_t *out);

/*
 * Open what csms_seal made.  out must hold inlen - CSMS_SEAL_OVERHEAD bytes;
 * *outlen gets that length.  On any failure out is wiped and CSMS_ERR_AUTH
 * (or CSMS_ERR_LENGTH for an input shorter than the overhead) is returned.
 */
extern csms_crypto_status csms_open(const uint8_t key[CSMS_KEY_LEN],
									const uint8_t *aad, size_t aadlen,
									const uint8_t *in, size_t inlen,
									uint8_t *out, size_t *outlen);

/*
 * The same for a key that stays in this process's memory between calls: the
 * cipher context of the slot stays keyed with it until the next call under
 * another key, or until the owner of the key, when it forgets the key, calls
 * csms_forget_kept_key() (that one key) or csms_forget_kept_keys() (all of
 * the slot's).  A slot per owner, so that one owner's keys do not push out
 * the other's: the cached material of master keys (keyring.c), and the data
 * keys the memo of opened data keys holds (envelope.c).
 */
typedef enum csms_kept_slot
{
	CSMS_KEPT_MASTER = 0,
	CSMS_KEPT_DATA = 1
} csms_kept_slot;

extern csms_crypto_status csms_seal_kept(csms_kept_slot slot,
										 const uint8_t key[CSMS_KEY_LEN],
										 const uint8_t *aad, size_t aadlen,
										 const uint8_t *pt, size_t ptlen,
										 uint8_t *out);
extern csms_crypto_status csms_open_kept(csms_kept_slot slot,
										 const uint8_t key[CSMS_KEY_LEN],
										 const uint8_t *aad, size_t aadlen,
										 const uint8_t *in, size_t inlen,
										 uint8_t *out, size_t *outlen);
extern void csms_forget_kept_keys(csms_kept_slot slot);
extern void csms_forget_kept_key(csms_kept_slot slot, const uint8_t key[CSMS_KEY_LEN]);

/*
 * AES key wrap, RFC 3394, default IV A6A6A6A6A6A6A6A6.  kek is 16, 24 or 32
 * bytes; the key data is a multiple of 8 bytes, at least 16.  Wrap writes
 * inlen + 8 bytes; unwrap writes inlen - 8 bytes and fails with
 * CSMS_ERR_AUTH when the integrity check fails.
 */
extern csms_crypto_status csms_aes_kw_wrap(const uint8_t *kek, size_t keklen,
										   const uint8_t *in, size_t inlen,
										   uint8_t *out);
extern csms_crypto_status csms_aes_kw_unwrap(const uint8_t *kek, size_t keklen,
											 const uint8_t *in, size_t inlen,
											 uint8_t *out);

/* HMAC-SHA-256 of msg under key. */
extern csms_crypto_status csms_hmac_sha256(const uint8_t *key, size_t keylen,
										   const uint8_t *msg, size_t msglen,
										   uint8_t out[CSMS_HMAC_LEN]);

/* Constant-time equality of two buffers of the same length. */
extern bool csms_ct_equal(const void *a, const void *b, size_t len);

/* Wipe a buffer in a way the compiler cannot drop (OPENSSL_cleanse). */
extern void csms_wipe(void *p, size_t len);

/*
 * base64url without padding (RFC 4648 section 5, as JWS/JWE use it).
 * Encoded length of n bytes: csms_b64url_enclen(n); out gets that many
 * characters plus a NUL.  Decoding is strict: only A-Z a-z 0-9 - _, no
 * padding, no white space, no length of 1 mod 4, and unused trailing bits
 * must be zero (so every byte string has exactly one encoding).  out must
 * hold csms_b64url_declen_max(inlen) bytes; *outlen gets the real length.
 */
extern size_t csms_b64url_enclen(size_t n);
extern size_t csms_b64url_declen_max(size_t n);
extern void csms_b64url_encode(const uint8_t *in, size_t n, char *out);
extern csms_crypto_status csms_b64url_decode(const char *in, size_t inlen,
											 uint8_t *out, size_t *outlen);

/*
 * Standard base64 with padding (RFC 4648 section 4, alphabet A-Z a-z 0-9
 * + /, as SCRAM verifiers write it).  out gets csms_b64_enclen(n) =
 * CSMS_B64_ENCLEN(n) characters plus a NUL.
 */
#define CSMS_B64_ENCLEN(n)		((((n) + 2) / 3) * 4)
extern size_t csms_b64_enclen(size_t n);
extern void csms_b64_encode(const uint8_t *in, size_t n, char *out);

/* The value of one hex digit (either case), or -1. */
extern int	csms_hex_digit(unsigned char c);

/* Lower-case hex; decode accepts either case, exactly 2*n characters. */
extern void csms_hex_encode(const uint8_t *in, size_t n, char *out);
extern csms_crypto_status csms_hex_decode(const char *in, size_t inlen,
										  uint8_t *out, size_t n);

/*
 * Pick an index in [0, n) uniformly from the CSPRNG (rejection sampling, no
 * modulo bias).  n must be between 1 and 65536.
 */
extern csms_crypto_status csms_random_index(uint32_t n, uint32_t *out);

#endif							/* CSMS_CRYPTO_H */
