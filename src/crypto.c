/*-------------------------------------------------------------------------
 *
 * crypto.c
 *	  OpenSSL 3 EVP glue for the secrets extension.  See crypto.h.
 *
 *	  No PostgreSQL header is included here on purpose: test/ builds this
 *	  file alone against published test vectors, and fuzzers link it.
 *
 *	  The GCM sequence follows the EVP documentation: clear the error queue,
 *	  set the IV length, then key and IV, feed the AAD with a NULL output,
 *	  then the data, set the expected tag before the final call when
 *	  decrypting, and treat a final call that does not return 1 as an
 *	  authentication failure.
 *
 * src/crypto.c
 *
 *-------------------------------------------------------------------------
 */
/* clock_gettime (csms_uuid7) under -std=c11 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* A short reason for each status */
const char *
csms_crypto_strerror(csms_crypto_status st)
{
	switch (st)
	{
		case CSMS_OK:
			return "success";
		case CSMS_ERR_AUTH:
			return "authentication failed";
		case CSMS_ERR_LENGTH:
			return "input has an invalid length";
		case CSMS_ERR_ENCODING:
			return "input is not validly encoded";
		case CSMS_ERR_RANDOM:
			return "the random number generator failed";
		case CSMS_ERR_OPENSSL:
			return "OpenSSL failed";
	}
	return "unknown error";
}

/* Fill buf with len bytes from fill (RAND_bytes or RAND_priv_bytes). */
static csms_crypto_status
rand_fill(int (*fill) (unsigned char *, int), uint8_t *buf, size_t len)
{
	while (len > 0)
	{
		int			chunk = len > INT_MAX ? INT_MAX : (int) len;

		if (fill(buf, chunk) != 1)
		{
			ERR_clear_error();
			return CSMS_ERR_RANDOM;
		}
		buf += chunk;
		len -= chunk;
	}
	return CSMS_OK;
}

/* Random bytes from RAND_bytes, straight */
csms_crypto_status
csms_random_bytes(uint8_t *buf, size_t len)
{
	return rand_fill(RAND_bytes, buf, len);
}

/* The bytes of a version 7 UUID (crypto.h) */
void
csms_uuid7_layout(uint8_t out[16], uint64_t unix_ts_ms, uint16_t rand_a, uint64_t rand_b)
{
	int			i;

	for (i = 0; i < 6; i++)
		out[i] = (uint8_t) (unix_ts_ms >> (40 - 8 * i));
	out[6] = 0x70 | ((rand_a >> 8) & 0x0f);	/* version 7 */
	out[7] = (uint8_t) rand_a;
	out[8] = 0x80 | ((uint8_t) (rand_b >> 56) & 0x3f);	/* RFC 9562 variant */
	for (i = 9; i < 16; i++)
		out[i] = (uint8_t) (rand_b >> (8 * (15 - i)));
}

/*
 * Random bytes for the hot paths come from per-process buffers that one
 * OpenSSL call fills: each call has a fixed cost (about 6,000 instructions,
 * a third of sealing a value) whatever its length.  Bytes are handed out
 * once and zeroed in the buffer as they go, so a buffer holds only bytes
 * not used yet: what the DRBG's own state in this process already
 * determines.  A buffer belongs to the process that filled it: a forked
 * child zeroes and discards it, so that parent and child never hand out the
 * same bytes.  Requests above a quarter of a buffer go to OpenSSL directly.
 *
 * Two buffers: one for values that are not secret (GCM nonces, ids), filled
 * by RAND_bytes, 256 bytes; one for data keys (one per version written),
 * filled by RAND_priv_bytes (OpenSSL's DRBG for private values), 16 keys.
 *
 * The fork is seen by a pthread_atfork handler in the child, registered at
 * the first take, not by comparing getpid() at every take: that is a system
 * call, four per secret written (bench/profile-issue15.md).  Should the
 * registration fail, every take compares getpid() as before.
 */
typedef struct RandomPool
{
	uint8_t    *bytes;
	size_t		size;
	size_t		left;
	pid_t		pid;
	int			(*fill) (unsigned char *, int);
} RandomPool;

static uint8_t public_bytes[256];
static uint8_t key_bytes[16 * CSMS_KEY_LEN];
static RandomPool public_pool = {public_bytes, sizeof(public_bytes), 0, 0, RAND_bytes};
static RandomPool key_pool = {key_bytes, sizeof(key_bytes), 0, 0, RAND_priv_bytes};

/* 0: not registered yet, 1: the atfork handler empties the pools, -1: failed */
static int	pool_atfork = 0;

/* In the child of a fork: neither pool holds its parent's bytes any more */
static void
pools_after_fork(void)
{
	csms_wipe(public_pool.bytes, public_pool.size);
	public_pool.left = 0;
	csms_wipe(key_pool.bytes, key_pool.size);
	key_pool.left = 0;
}

/*
 * len bytes from a pool, refilled when empty (and after a fork); large
 * requests skip it
 */
static csms_crypto_status
pool_take(RandomPool *pool, uint8_t *buf, size_t len)
{
	uint8_t    *from;

	if (pool_atfork == 0)
		pool_atfork = pthread_atfork(NULL, NULL, pools_after_fork) == 0 ? 1 : -1;
	if (pool_atfork < 0 && pool->pid != getpid())
	{
		csms_wipe(pool->bytes, pool->size);
		pool->left = 0;
		pool->pid = getpid();
	}
	if (len > pool->size / 4)
		return rand_fill(pool->fill, buf, len);
	if (pool->left < len)
	{
		csms_crypto_status st;

		csms_wipe(pool->bytes, pool->size);
		pool->left = 0;
		st = rand_fill(pool->fill, pool->bytes, pool->size);
		if (st != CSMS_OK)
		{
			csms_wipe(pool->bytes, pool->size);
			return st;
		}
		pool->left = pool->size;
	}
	from = pool->bytes + pool->size - pool->left;
	memcpy(buf, from, len);
	csms_wipe(from, len);
	pool->left -= len;
	return CSMS_OK;
}

/*
 * A version 7 UUID (crypto.h).  The time is counted in steps of 1/4096 ms
 * since the epoch; a step at or below the last one handed out here becomes
 * the one after it.
 */
csms_crypto_status
csms_uuid7(uint8_t out[16])
{
	static uint64_t last_step = 0;
	struct timespec ts;
	uint64_t	step;
	uint64_t	rand_b;
	csms_crypto_status st;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return CSMS_ERR_RANDOM;
	step = (uint64_t) ts.tv_sec * 1000 * 4096 +
		(uint64_t) ts.tv_nsec * 4096 / 1000000;
	if (step <= last_step)
		step = last_step + 1;
	st = csms_random_public((uint8_t *) &rand_b, sizeof(rand_b));
	if (st != CSMS_OK)
		return st;
	last_step = step;
	csms_uuid7_layout(out, step >> 12, (uint16_t) (step & 0xfff), rand_b);
	return CSMS_OK;
}

/* Non-secret random bytes from the public pool */
csms_crypto_status
csms_random_public(uint8_t *buf, size_t len)
{
	return pool_take(&public_pool, buf, len);
}

/* Key bytes from the private pool, zeroed there as they are handed out */
csms_crypto_status
csms_random_key(uint8_t *buf, size_t len)
{
	return pool_take(&key_pool, buf, len);
}

/*
 * Ciphers are fetched from the provider once per process: with OpenSSL 3,
 * EVP_aes_256_gcm() makes every EVP_*Init look the implementation up again,
 * which is a tenth of the cost of a secret read.  Falls back to the
 * implicit fetch if an explicit one fails.
 */
static const EVP_CIPHER *
fetched_cipher(EVP_CIPHER **slot, const char *name, const EVP_CIPHER *fallback)
{
	if (*slot == NULL)
	{
		*slot = EVP_CIPHER_fetch(NULL, name, NULL);
		ERR_clear_error();
	}
	return *slot ? *slot : fallback;
}

/* The fetched AES-GCM cipher for a key length */
static const EVP_CIPHER *
gcm_cipher(size_t keylen)
{
	static EVP_CIPHER *gcm128,
			   *gcm192,
			   *gcm256;

	switch (keylen)
	{
		case 16:
			return fetched_cipher(&gcm128, "AES-128-GCM", EVP_aes_128_gcm());
		case 24:
			return fetched_cipher(&gcm192, "AES-192-GCM", EVP_aes_192_gcm());
		case 32:
			return fetched_cipher(&gcm256, "AES-256-GCM", EVP_aes_256_gcm());
	}
	return NULL;
}

/*
 * One cipher context per direction and key size, made once per process and
 * re-keyed for every operation: making and freeing a context per call (and
 * the provider's state behind it) was a third of the cost of a GCM open.
 * After each operation the context is re-keyed with an all-zero key, so no
 * key schedule outlives the call (EVP_CIPHER_CTX_free would cleanse it the
 * same way).  Backends are single-threaded; so are the tests and fuzzers
 * that link this file.  A context that failed is freed and made afresh.
 */
static const uint8_t zero_key[32];

static EVP_CIPHER_CTX *gcm_ctxs[2][3];
static size_t gcm_ivlens[2][3];	/* the IV length each context is set to; 0: none */

/* Where the IV length a shared context was set up for is kept */
static size_t *
gcm_ivlen_slot(int enc, size_t keylen)
{
	return &gcm_ivlens[enc ? 1 : 0][keylen == 16 ? 0 : keylen == 24 ? 1 : 2];
}

/* The shared context of a direction and key length */
static EVP_CIPHER_CTX **
gcm_ctx_slot(int enc, size_t keylen)
{
	return &gcm_ctxs[enc ? 1 : 0][keylen == 16 ? 0 : keylen == 24 ? 1 : 2];
}

/* The shared context of a direction and key length, made on first use */
static EVP_CIPHER_CTX *
gcm_ctx(int enc, size_t keylen)
{
	EVP_CIPHER_CTX **slot = gcm_ctx_slot(enc, keylen);
	const EVP_CIPHER *cipher = gcm_cipher(keylen);

	if (cipher == NULL)
		return NULL;
	if (*slot == NULL)
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

		if (ctx == NULL)
			return NULL;
		if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1)
		{
			EVP_CIPHER_CTX_free(ctx);
			return NULL;
		}
		*slot = ctx;
		*gcm_ivlen_slot(enc, keylen) = 0;
	}
	return *slot;
}

/*
 * Contexts kept keyed between operations, one per slot and direction, for
 * keys that live in this process's memory anyway: the cached material of
 * master keys (keyring.c, CSMS_KEPT_MASTER) and the data keys that the
 * memo of opened data keys holds (envelope.c, CSMS_KEPT_DATA).  Re-keying
 * per operation and then with zeros is a third of a GCM operation.  The key
 * schedule lives no longer than the owner's copy of the key: the owner
 * calls csms_forget_kept_keys() when it forgets its keys, and
 * csms_forget_kept_key() when it forgets one.  A copy of the key tells
 * whether the next operation is under the same key.
 */
#define KEPT_SLOTS 2

static EVP_CIPHER_CTX *kept_ctxs[KEPT_SLOTS][2];
static uint8_t kept_keys[KEPT_SLOTS][2][CSMS_KEY_LEN];
static bool kept_keyed[KEPT_SLOTS][2];

/* Free a kept context that a failure left in an unknown state; wipe its key */
static void
kept_drop(int slot, int enc)
{
	if (kept_ctxs[slot][enc])
		EVP_CIPHER_CTX_free(kept_ctxs[slot][enc]);	/* cleanses the key schedule */
	kept_ctxs[slot][enc] = NULL;
	kept_keyed[slot][enc] = false;
	csms_wipe(kept_keys[slot][enc], CSMS_KEY_LEN);
	ERR_clear_error();
}

/* Re-key one kept context with zeros (or drop it when that fails). */
static void
kept_forget(int slot, int enc)
{
	if (kept_keyed[slot][enc] &&
		EVP_CipherInit_ex(kept_ctxs[slot][enc], NULL, NULL, zero_key, NULL, enc) != 1)
		kept_drop(slot, enc);
	kept_keyed[slot][enc] = false;
	csms_wipe(kept_keys[slot][enc], CSMS_KEY_LEN);
}

/* Re-key every kept context with zeros */
void
csms_forget_kept_keys(csms_kept_slot slot)
{
	int			enc;

	for (enc = 0; enc < 2; enc++)
		kept_forget(slot, enc);
}

/* Re-key the kept contexts keyed with key */
void
csms_forget_kept_key(csms_kept_slot slot, const uint8_t key[CSMS_KEY_LEN])
{
	int			enc;

	for (enc = 0; enc < 2; enc++)
		if (kept_keyed[slot][enc] &&
			CRYPTO_memcmp(kept_keys[slot][enc], key, CSMS_KEY_LEN) == 0)
			kept_forget(slot, enc);
}

/*
 * One GCM operation's context: begin keys it (or, kept, finds it keyed)
 * and sets the IV; end forgets a per-operation key, and drops a context
 * that failed.
 */
typedef struct gcm_op
{
	EVP_CIPHER_CTX *ctx;
	int			enc;
	size_t		keylen;
	int			kept;			/* a csms_kept_slot, or -1: a per-operation key */
} gcm_op;

/* Key a context (shared or kept) for one operation */
static bool
gcm_begin(gcm_op *op, int enc, int kept, const uint8_t *key, size_t keylen,
		  const uint8_t *iv, size_t ivlen)
{
	op->enc = enc;
	op->keylen = keylen;
	op->kept = kept;
	if (kept < 0)
	{
		size_t	   *set = gcm_ivlen_slot(enc, keylen);

		op->ctx = gcm_ctx(enc, keylen);
		if (op->ctx == NULL)
			return false;
		/* the IV length only when it changes (nearly always 12) */
		if (*set != ivlen)
		{
			*set = 0;
			if (EVP_CIPHER_CTX_ctrl(op->ctx, EVP_CTRL_GCM_SET_IVLEN, (int) ivlen, NULL) != 1)
				return false;
			*set = ivlen;
		}
		return EVP_CipherInit_ex(op->ctx, NULL, NULL, key, iv, enc) == 1;
	}

	/* kept: AES-256 with 96-bit IVs only (csms_seal_kept, csms_open_kept) */
	if (kept_ctxs[kept][enc] == NULL)
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

		if (ctx == NULL)
			return false;
		kept_ctxs[kept][enc] = ctx;
		if (EVP_CipherInit_ex(ctx, gcm_cipher(CSMS_KEY_LEN), NULL, NULL, NULL, enc) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CSMS_GCM_NONCE_LEN, NULL) != 1)
		{
			kept_drop(kept, enc);
			return false;
		}
	}
	op->ctx = kept_ctxs[kept][enc];
	if (kept_keyed[kept][enc] && CRYPTO_memcmp(kept_keys[kept][enc], key, CSMS_KEY_LEN) == 0)
		return EVP_CipherInit_ex(op->ctx, NULL, NULL, NULL, iv, enc) == 1;

	/* another key: key and IV in one call */
	kept_keyed[kept][enc] = false;
	if (EVP_CipherInit_ex(op->ctx, NULL, NULL, key, iv, enc) != 1)
		return false;
	memcpy(kept_keys[kept][enc], key, CSMS_KEY_LEN);
	kept_keyed[kept][enc] = true;
	return true;
}

/* After an operation: a shared context re-keyed with zeros, or freed */
static void
gcm_end(gcm_op *op, bool failed)
{
	if (op->kept >= 0)
	{
		if (failed)
			kept_drop(op->kept, op->enc);
		return;
	}
	if (op->ctx == NULL)
		return;
	if (failed || EVP_CipherInit_ex(op->ctx, NULL, NULL, zero_key, NULL, op->enc) != 1)
	{
		EVP_CIPHER_CTX_free(op->ctx);	/* also cleanses the key schedule */
		*gcm_ctx_slot(op->enc, op->keylen) = NULL;
		*gcm_ivlen_slot(op->enc, op->keylen) = 0;
		ERR_clear_error();
	}
}

/* AES-GCM encryption with a tag of CSMS_GCM_TAG_LEN bytes */
static csms_crypto_status
gcm_encrypt(int kept, const uint8_t *key, size_t keylen,
			const uint8_t *iv, size_t ivlen,
			const uint8_t *aad, size_t aadlen,
			const uint8_t *pt, size_t ptlen,
			uint8_t *out, uint8_t *tag)
{
	gcm_op		op = {0};
	csms_crypto_status st = CSMS_ERR_OPENSSL;
	int			len;

	if (gcm_cipher(keylen) == NULL || ivlen == 0 || ivlen > INT_MAX ||
		aadlen > INT_MAX || ptlen > INT_MAX)
		return CSMS_ERR_LENGTH;

	if (!gcm_begin(&op, 1, kept, key, keylen, iv, ivlen))
		goto done;
	if (aadlen > 0 &&
		EVP_EncryptUpdate(op.ctx, NULL, &len, aad, (int) aadlen) != 1)
		goto done;
	if (ptlen > 0 &&
		EVP_EncryptUpdate(op.ctx, out, &len, pt, (int) ptlen) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(op.ctx, ptlen ? out + ptlen : out, &len) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(op.ctx, EVP_CTRL_GCM_GET_TAG, CSMS_GCM_TAG_LEN, tag) != 1)
		goto done;
	st = CSMS_OK;

done:
	gcm_end(&op, st != CSMS_OK);
	if (st != CSMS_OK)
	{
		ERR_clear_error();
		if (ptlen > 0)
			csms_wipe(out, ptlen);
	}
	return st;
}

/* AES-GCM decryption; CSMS_ERR_AUTH for any tag mismatch */
static csms_crypto_status
gcm_decrypt(int kept, const uint8_t *key, size_t keylen,
			const uint8_t *iv, size_t ivlen,
			const uint8_t *aad, size_t aadlen,
			const uint8_t *ct, size_t ctlen,
			const uint8_t *tag, uint8_t *out)
{
	gcm_op		op = {0};
	csms_crypto_status st = CSMS_ERR_OPENSSL;
	uint8_t		tagcopy[CSMS_GCM_TAG_LEN];
	int			len;

	if (gcm_cipher(keylen) == NULL || ivlen == 0 || ivlen > INT_MAX ||
		aadlen > INT_MAX || ctlen > INT_MAX)
		return CSMS_ERR_LENGTH;

	memcpy(tagcopy, tag, CSMS_GCM_TAG_LEN);
	if (!gcm_begin(&op, 0, kept, key, keylen, iv, ivlen))
		goto done;
	if (aadlen > 0 &&
		EVP_DecryptUpdate(op.ctx, NULL, &len, aad, (int) aadlen) != 1)
		goto done;
	if (ctlen > 0 &&
		EVP_DecryptUpdate(op.ctx, out, &len, ct, (int) ctlen) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(op.ctx, EVP_CTRL_GCM_SET_TAG, CSMS_GCM_TAG_LEN,
							tagcopy) != 1)
		goto done;
	/* Final verifies the tag: anything but 1 is an authentication failure */
	if (EVP_DecryptFinal_ex(op.ctx, ctlen ? out + ctlen : out, &len) != 1)
	{
		st = CSMS_ERR_AUTH;
		goto done;
	}
	st = CSMS_OK;

done:
	/* a failed tag check leaves the context usable; other failures do not */
	gcm_end(&op, st == CSMS_ERR_OPENSSL);
	if (st != CSMS_OK)
	{
		ERR_clear_error();
		/* never hand out unauthenticated plaintext */
		if (ctlen > 0)
			csms_wipe(out, ctlen);
		if (st == CSMS_ERR_OPENSSL)
			st = CSMS_ERR_AUTH;
	}
	return st;
}

/* AES-GCM with the caller's IV (test vectors, the blob) */
csms_crypto_status
csms_gcm_encrypt(const uint8_t *key, size_t keylen,
				 const uint8_t *iv, size_t ivlen,
				 const uint8_t *aad, size_t aadlen,
				 const uint8_t *pt, size_t ptlen,
				 uint8_t *out, uint8_t *tag)
{
	return gcm_encrypt(-1, key, keylen, iv, ivlen, aad, aadlen, pt, ptlen, out, tag);
}

/* AES-GCM decryption with the caller's IV */
csms_crypto_status
csms_gcm_decrypt(const uint8_t *key, size_t keylen,
				 const uint8_t *iv, size_t ivlen,
				 const uint8_t *aad, size_t aadlen,
				 const uint8_t *ct, size_t ctlen,
				 const uint8_t *tag, uint8_t *out)
{
	return gcm_decrypt(-1, key, keylen, iv, ivlen, aad, aadlen, ct, ctlen, tag, out);
}

/* nonce || ciphertext || tag, with a random nonce */
static csms_crypto_status
seal(int kept, const uint8_t key[CSMS_KEY_LEN],
	 const uint8_t *aad, size_t aadlen,
	 const uint8_t *pt, size_t ptlen,
	 uint8_t *out)
{
	csms_crypto_status st;

	st = csms_random_public(out, CSMS_GCM_NONCE_LEN);
	if (st != CSMS_OK)
		return st;
	return gcm_encrypt(kept, key, CSMS_KEY_LEN, out, CSMS_GCM_NONCE_LEN,
					   aad, aadlen, pt, ptlen,
					   out + CSMS_GCM_NONCE_LEN,
					   out + CSMS_GCM_NONCE_LEN + ptlen);
}

/* The inverse of seal */
static csms_crypto_status
open_sealed(int kept, const uint8_t key[CSMS_KEY_LEN],
			const uint8_t *aad, size_t aadlen,
			const uint8_t *in, size_t inlen,
			uint8_t *out, size_t *outlen)
{
	size_t		ctlen;
	csms_crypto_status st;

	*outlen = 0;
	if (inlen < CSMS_SEAL_OVERHEAD)
		return CSMS_ERR_LENGTH;
	ctlen = inlen - CSMS_SEAL_OVERHEAD;
	st = gcm_decrypt(kept, key, CSMS_KEY_LEN, in, CSMS_GCM_NONCE_LEN,
					 aad, aadlen, in + CSMS_GCM_NONCE_LEN, ctlen,
					 in + CSMS_GCM_NONCE_LEN + ctlen, out);
	if (st == CSMS_OK)
		*outlen = ctlen;
	return st;
}

/* seal with a per-operation context */
csms_crypto_status
csms_seal(const uint8_t key[CSMS_KEY_LEN], const uint8_t *aad, size_t aadlen,
		  const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	return seal(-1, key, aad, aadlen, pt, ptlen, out);
}

/* open_sealed with a per-operation context */
csms_crypto_status
csms_open(const uint8_t key[CSMS_KEY_LEN], const uint8_t *aad, size_t aadlen,
		  const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	return open_sealed(-1, key, aad, aadlen, in, inlen, out, outlen);
}

/* seal with a kept context (a key the caller keeps keyed) */
csms_crypto_status
csms_seal_kept(csms_kept_slot slot, const uint8_t key[CSMS_KEY_LEN],
			   const uint8_t *aad, size_t aadlen,
			   const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	return seal((int) slot, key, aad, aadlen, pt, ptlen, out);
}

/* open_sealed with a kept context */
csms_crypto_status
csms_open_kept(csms_kept_slot slot, const uint8_t key[CSMS_KEY_LEN],
			   const uint8_t *aad, size_t aadlen,
			   const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	return open_sealed((int) slot, key, aad, aadlen, in, inlen, out, outlen);
}

/* The AES key wrap cipher for a key length */
static const EVP_CIPHER *
kw_cipher(size_t keklen)
{
	switch (keklen)
	{
		case 16:
			return EVP_aes_128_wrap();
		case 24:
			return EVP_aes_192_wrap();
		case 32:
			return EVP_aes_256_wrap();
	}
	return NULL;
}

/* RFC 3394 key wrap or unwrap in one EVP call */
static csms_crypto_status
aes_kw(bool wrap, const uint8_t *kek, size_t keklen,
	   const uint8_t *in, size_t inlen, uint8_t *out)
{
	const EVP_CIPHER *cipher = kw_cipher(keklen);
	EVP_CIPHER_CTX *ctx;
	csms_crypto_status st = CSMS_ERR_OPENSSL;
	size_t		outlen = wrap ? inlen + CSMS_KW_OVERHEAD : inlen - CSMS_KW_OVERHEAD;
	int			len1 = 0,
				len2 = 0;

	if (cipher == NULL || inlen % 8 != 0 || inlen > INT_MAX - 8 ||
		inlen < (wrap ? 16 : 24))
		return CSMS_ERR_LENGTH;

	ERR_clear_error();
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return CSMS_ERR_OPENSSL;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);

	if (EVP_CipherInit_ex(ctx, cipher, NULL, kek, NULL, wrap ? 1 : 0) != 1)
		goto done;
	if (EVP_CipherUpdate(ctx, out, &len1, in, (int) inlen) != 1)
	{
		st = wrap ? CSMS_ERR_OPENSSL : CSMS_ERR_AUTH;
		goto done;
	}
	if (EVP_CipherFinal_ex(ctx, out + len1, &len2) != 1)
	{
		st = wrap ? CSMS_ERR_OPENSSL : CSMS_ERR_AUTH;
		goto done;
	}
	if ((size_t) len1 + (size_t) len2 != outlen)
		goto done;
	st = CSMS_OK;

done:
	EVP_CIPHER_CTX_free(ctx);
	if (st != CSMS_OK)
	{
		ERR_clear_error();
		csms_wipe(out, outlen);
	}
	return st;
}

/* AES key wrap (RFC 3394) */
csms_crypto_status
csms_aes_kw_wrap(const uint8_t *kek, size_t keklen,
				 const uint8_t *in, size_t inlen, uint8_t *out)
{
	return aes_kw(true, kek, keklen, in, inlen, out);
}

/* AES key unwrap; CSMS_ERR_AUTH when the integrity check fails */
csms_crypto_status
csms_aes_kw_unwrap(const uint8_t *kek, size_t keklen,
				   const uint8_t *in, size_t inlen, uint8_t *out)
{
	return aes_kw(false, kek, keklen, in, inlen, out);
}

/* HMAC-SHA-256 through EVP_MAC */
csms_crypto_status
csms_hmac_sha256(const uint8_t *key, size_t keylen,
				 const uint8_t *msg, size_t msglen,
				 uint8_t out[CSMS_HMAC_LEN])
{
	EVP_MAC    *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM	params[2];
	size_t		outlen = 0;
	csms_crypto_status st = CSMS_ERR_OPENSSL;

	ERR_clear_error();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		goto done;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
												 (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto done;
	if (EVP_MAC_update(ctx, msg, msglen) != 1)
		goto done;
	if (EVP_MAC_final(ctx, out, &outlen, CSMS_HMAC_LEN) != 1 ||
		outlen != CSMS_HMAC_LEN)
		goto done;
	st = CSMS_OK;

done:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (st != CSMS_OK)
	{
		ERR_clear_error();
		csms_wipe(out, CSMS_HMAC_LEN);
	}
	return st;
}

/* Compare in time that does not depend on where the bytes differ */
bool
csms_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* Zero memory in a way the compiler keeps (OPENSSL_cleanse) */
void
csms_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

/* base64url ------------------------------------------------------------ */

static const char b64url_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Characters of the unpadded encoding of n bytes */
size_t
csms_b64url_enclen(size_t n)
{
	return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/* Bytes that n characters can decode to, at most */
size_t
csms_b64url_declen_max(size_t n)
{
	return (n / 4) * 3 + (n % 4 == 0 ? 0 : (n % 4) - 1 + (n % 4 == 1));
}

static const char b64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of in[0..n-1] in `alphabet`, padded with '=' when pad, NUL-terminated */
static void
b64_encode(const uint8_t *in, size_t n, char *out, const char *alphabet, bool pad)
{
	size_t		i = 0;
	char	   *p = out;

	while (i + 3 <= n)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		*p++ = alphabet[v & 63];
		i += 3;
	}
	if (n - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		if (pad)
		{
			*p++ = '=';
			*p++ = '=';
		}
	}
	else if (n - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		if (pad)
			*p++ = '=';
	}
	*p = '\0';
}

/* Unpadded base64url, NUL-terminated */
void
csms_b64url_encode(const uint8_t *in, size_t n, char *out)
{
	b64_encode(in, n, out, b64url_alphabet, false);
}

/* Characters of the padded standard encoding of n bytes */
size_t
csms_b64_enclen(size_t n)
{
	return CSMS_B64_ENCLEN(n);
}

/* Padded standard base64, NUL-terminated */
void
csms_b64_encode(const uint8_t *in, size_t n, char *out)
{
	b64_encode(in, n, out, b64_alphabet, true);
}

/* The 6-bit value of a base64url character, or -1 */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict unpadded base64url (one encoding per byte string) */
csms_crypto_status
csms_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	size_t		i = 0;
	size_t		o = 0;
	size_t		rem = inlen % 4;

	*outlen = 0;
	if (rem == 1)
		return CSMS_ERR_ENCODING;

	while (i + 4 <= inlen)
	{
		int			a = b64url_value((unsigned char) in[i]),
					b = b64url_value((unsigned char) in[i + 1]),
					c = b64url_value((unsigned char) in[i + 2]),
					d = b64url_value((unsigned char) in[i + 3]);
		uint32_t	v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return CSMS_ERR_ENCODING;
		v = ((uint32_t) a << 18) | ((uint32_t) b << 12) | ((uint32_t) c << 6) | (uint32_t) d;
		out[o++] = (v >> 16) & 0xff;
		out[o++] = (v >> 8) & 0xff;
		out[o++] = v & 0xff;
		i += 4;
	}
	if (rem == 2)
	{
		int			a = b64url_value((unsigned char) in[i]),
					b = b64url_value((unsigned char) in[i + 1]);

		if (a < 0 || b < 0 || (b & 0x0f) != 0)
			return CSMS_ERR_ENCODING;
		out[o++] = (uint8_t) ((a << 2) | (b >> 4));
	}
	else if (rem == 3)
	{
		int			a = b64url_value((unsigned char) in[i]),
					b = b64url_value((unsigned char) in[i + 1]),
					c = b64url_value((unsigned char) in[i + 2]);

		if (a < 0 || b < 0 || c < 0 || (c & 0x03) != 0)
			return CSMS_ERR_ENCODING;
		out[o++] = (uint8_t) ((a << 2) | (b >> 4));
		out[o++] = (uint8_t) (((b & 0x0f) << 4) | (c >> 2));
	}
	*outlen = o;
	return CSMS_OK;
}

/* hex ------------------------------------------------------------------ */

/* Lower-case hex, NUL-terminated */
void
csms_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < n; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* The value of a hex digit, or -1 */
int
csms_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex of either case into bytes */
csms_crypto_status
csms_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n)
{
	size_t		i;

	if (inlen != 2 * n)
		return CSMS_ERR_LENGTH;
	for (i = 0; i < n; i++)
	{
		int			hi = csms_hex_digit((unsigned char) in[2 * i]),
					lo = csms_hex_digit((unsigned char) in[2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			csms_wipe(out, n);
			return CSMS_ERR_ENCODING;
		}
		out[i] = (uint8_t) ((hi << 4) | lo);
	}
	return CSMS_OK;
}

/* unbiased random index -------------------------------------------------- */

/* A uniform index below n, by rejection (no modulo bias) */
csms_crypto_status
csms_random_index(uint32_t n, uint32_t *out)
{
	uint32_t	limit;

	if (n == 0 || n > 65536)
		return CSMS_ERR_LENGTH;
	/* the largest multiple of n that fits in 2^32; draws at or above it are
	 * rejected, so every residue is equally likely */
	limit = (uint32_t) ((UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % n));
	for (;;)
	{
		uint32_t	r;
		csms_crypto_status st = csms_random_bytes((uint8_t *) &r, sizeof(r));

		if (st != CSMS_OK)
			return st;
		if (limit == 0 || r < limit)
		{
			*out = r % n;
			return CSMS_OK;
		}
	}
}
