/*-------------------------------------------------------------------------
 *
 * scram.c
 *	  SCRAM-SHA-256 verifiers as PostgreSQL stores them.  See scram.h.
 *
 *	  No PostgreSQL header is included here on purpose: test/ builds this
 *	  file alone and checks it against RFC 7677 and against verifiers that
 *	  a PostgreSQL 15 server made.
 *
 *	  PBKDF2 goes through EVP_KDF with SHA-256 as its digest, HMAC through
 *	  csms_hmac_sha256, SHA-256 through EVP_Digest.  SaltedPassword,
 *	  ClientKey, StoredKey and ServerKey live in local buffers that are
 *	  wiped on every path out.
 *
 * src/scram.c
 *
 *-------------------------------------------------------------------------
 */
#include "scram.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define SCRAM_PREFIX	"SCRAM-SHA-256$"

/* SCRAM ----------------------------------------------------------------- */

/* The arguments every function here takes, checked once */
static csms_crypto_status
check_args(const char *password, size_t password_len,
		   const uint8_t *salt, size_t salt_len, int iterations)
{
	size_t		i;

	if (password == NULL && password_len > 0)
		return CSMS_ERR_ENCODING;
	for (i = 0; i < password_len; i++)
	{
		unsigned char c = (unsigned char) password[i];

		/* printable ASCII only: there SASLprep is the identity */
		if (c < 0x20 || c > 0x7e)
			return CSMS_ERR_ENCODING;
	}
	if (salt == NULL || salt_len == 0 || salt_len > CSMS_SCRAM_SALT_MAX)
		return CSMS_ERR_LENGTH;
	if (iterations < 1)
		return CSMS_ERR_LENGTH;
	return CSMS_OK;
}

/* SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations, 32) */
static csms_crypto_status
salted_password(const char *password, size_t password_len,
				const uint8_t *salt, size_t salt_len, int iterations,
				uint8_t out[CSMS_SCRAM_KEY_LEN])
{
	EVP_KDF    *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM	params[6];
	OSSL_PARAM *p = params;
	unsigned int iter = (unsigned int) iterations;
	int			no_checks = 1;
	csms_crypto_status st = CSMS_ERR_OPENSSL;

	ERR_clear_error();
	kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	if (kdf == NULL)
		goto done;
	ctx = EVP_KDF_CTX_new(kdf);
	if (ctx == NULL)
		goto done;
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
											 (void *) (password_len > 0 ? password : ""),
											 password_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
											 (void *) salt, salt_len);
	*p++ = OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
											(char *) "SHA256", 0);

	/*
	 * SCRAM fixes its own parameters (any iteration count and salt length
	 * the verifier names), so SP 800-132's lower bounds are not applied.
	 */
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_checks);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, CSMS_SCRAM_KEY_LEN, params) != 1)
		goto done;
	st = CSMS_OK;

done:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	if (st != CSMS_OK)
	{
		ERR_clear_error();
		csms_wipe(out, CSMS_SCRAM_KEY_LEN);
	}
	return st;
}

/* out = SHA-256(in) */
static csms_crypto_status
sha256(const uint8_t *in, size_t inlen, uint8_t out[CSMS_SCRAM_KEY_LEN])
{
	unsigned int outlen = 0;

	ERR_clear_error();
	if (EVP_Digest(in, inlen, out, &outlen, EVP_sha256(), NULL) != 1 ||
		outlen != CSMS_SCRAM_KEY_LEN)
	{
		ERR_clear_error();
		csms_wipe(out, CSMS_SCRAM_KEY_LEN);
		return CSMS_ERR_OPENSSL;
	}
	return CSMS_OK;
}

/* ClientKey, StoredKey and ServerKey of a password; see scram.h */
csms_crypto_status
csms_scram_keys(const char *password, size_t password_len,
				const uint8_t *salt, size_t salt_len, int iterations,
				uint8_t *client_key, uint8_t *stored_key, uint8_t *server_key)
{
	uint8_t		salted[CSMS_SCRAM_KEY_LEN];
	uint8_t		ckey[CSMS_SCRAM_KEY_LEN];
	uint8_t		stkey[CSMS_SCRAM_KEY_LEN];
	uint8_t		svkey[CSMS_SCRAM_KEY_LEN];
	csms_crypto_status st;

	st = check_args(password, password_len, salt, salt_len, iterations);
	if (st != CSMS_OK)
		goto done;
	st = salted_password(password, password_len, salt, salt_len, iterations,
						 salted);
	if (st != CSMS_OK)
		goto done;
	st = csms_hmac_sha256(salted, sizeof(salted),
						  (const uint8_t *) "Client Key", 10, ckey);
	if (st != CSMS_OK)
		goto done;
	st = sha256(ckey, sizeof(ckey), stkey);
	if (st != CSMS_OK)
		goto done;
	st = csms_hmac_sha256(salted, sizeof(salted),
						  (const uint8_t *) "Server Key", 10, svkey);
	if (st != CSMS_OK)
		goto done;
	if (client_key != NULL)
		memcpy(client_key, ckey, CSMS_SCRAM_KEY_LEN);
	if (stored_key != NULL)
		memcpy(stored_key, stkey, CSMS_SCRAM_KEY_LEN);
	if (server_key != NULL)
		memcpy(server_key, svkey, CSMS_SCRAM_KEY_LEN);

done:
	csms_wipe(salted, sizeof(salted));
	csms_wipe(ckey, sizeof(ckey));
	csms_wipe(stkey, sizeof(stkey));
	csms_wipe(svkey, sizeof(svkey));
	if (st != CSMS_OK)
	{
		/* csms_wipe skips a NULL output */
		csms_wipe(client_key, CSMS_SCRAM_KEY_LEN);
		csms_wipe(stored_key, CSMS_SCRAM_KEY_LEN);
		csms_wipe(server_key, CSMS_SCRAM_KEY_LEN);
	}
	return st;
}

/* The verifier text for a given salt and iteration count; see scram.h */
csms_crypto_status
csms_scram_verifier(const char *password, size_t password_len,
					const uint8_t *salt, size_t salt_len, int iterations,
					char *out, size_t outlen)
{
	uint8_t		stored_key[CSMS_SCRAM_KEY_LEN];
	uint8_t		server_key[CSMS_SCRAM_KEY_LEN];
	char		buf[CSMS_SCRAM_VERIFIER_MAX];
	char	   *p;
	int			n;
	size_t		len;
	csms_crypto_status st;

	if (out == NULL || outlen == 0)
		return CSMS_ERR_LENGTH;
	out[0] = '\0';
	st = csms_scram_keys(password, password_len, salt, salt_len, iterations,
						 NULL, stored_key, server_key);
	if (st != CSMS_OK)
		goto done;

	/* salt_len <= CSMS_SCRAM_SALT_MAX (checked), so buf holds it all */
	n = snprintf(buf, sizeof(buf), SCRAM_PREFIX "%d:", iterations);
	if (n < 0 || (size_t) n >= sizeof(buf))
	{
		st = CSMS_ERR_LENGTH;
		goto done;
	}
	p = buf + n;
	csms_b64_encode(salt, salt_len, p);
	p += csms_b64_enclen(salt_len);
	*p++ = '$';
	csms_b64_encode(stored_key, sizeof(stored_key), p);
	p += csms_b64_enclen(sizeof(stored_key));
	*p++ = ':';
	csms_b64_encode(server_key, sizeof(server_key), p);
	p += csms_b64_enclen(sizeof(server_key));
	len = (size_t) (p - buf);
	if (len >= outlen)
	{
		st = CSMS_ERR_LENGTH;
		goto done;
	}
	memcpy(out, buf, len + 1);

done:
	csms_wipe(stored_key, sizeof(stored_key));
	csms_wipe(server_key, sizeof(server_key));
	csms_wipe(buf, sizeof(buf));
	if (st != CSMS_OK)
		csms_wipe(out, outlen);
	return st;
}

/* The same with a fresh random salt */
csms_crypto_status
csms_scram_verifier_random(const char *password, size_t password_len,
						   int iterations, char *out, size_t outlen)
{
	uint8_t		salt[CSMS_SCRAM_SALT_LEN];
	csms_crypto_status st;

	if (out == NULL || outlen == 0)
		return CSMS_ERR_LENGTH;
	out[0] = '\0';
	st = csms_random_bytes(salt, sizeof(salt));
	if (st == CSMS_OK)
		st = csms_scram_verifier(password, password_len, salt, sizeof(salt),
								 iterations, out, outlen);
	else
		csms_wipe(out, outlen);
	csms_wipe(salt, sizeof(salt));
	return st;
}
