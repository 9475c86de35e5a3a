/*-------------------------------------------------------------------------
 *
 * scram.h
 *	  SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in the text form that
 *	  PostgreSQL stores in pg_authid.rolpassword:
 *
 *		SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 *
 *	  with salt and keys in standard base64 with padding (RFC 4648 section
 *	  4).  SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations),
 *	  ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey =
 *	  SHA-256(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key").
 *
 *	  Passwords are restricted to printable ASCII (0x20 .. 0x7e), and a
 *	  password with any other byte (NUL included) is refused with
 *	  CSMS_ERR_ENCODING.  PostgreSQL runs the password through SASLprep
 *	  (RFC 4013) before hashing it; for printable ASCII SASLprep is the
 *	  identity (no mapping, no prohibited character, NFKC leaves ASCII
 *	  alone), so on this set our verifier is the one PostgreSQL computes,
 *	  and this file needs no Unicode tables.
 *
 *	  Like crypto.h this file and scram.c include no PostgreSQL header, so
 *	  that test/ builds them alone; every function returns a status.  Every
 *	  intermediate key is wiped before a function returns.  Uses the OpenSSL
 *	  3 EVP API only (PBKDF2 through EVP_KDF, HMAC through crypto.c).
 *
 * src/scram.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SCRAM_H
#define CSMS_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CSMS_SCRAM_ITERATIONS	4096	/* PostgreSQL's scram_iterations */
#define CSMS_SCRAM_SALT_LEN		16		/* PostgreSQL's SCRAM_DEFAULT_SALT_LEN */
#define CSMS_SCRAM_SALT_MAX		64		/* longest salt accepted */
#define CSMS_SCRAM_KEY_LEN		32		/* SHA-256 output */

/* Characters of the padded base64 encoding of n bytes, without the NUL */

/*
 * Buffer size that holds any verifier with its NUL: the prefix
 * "SCRAM-SHA-256$", up to 10 digits of iterations, ":", the salt, "$",
 * StoredKey, ":", ServerKey.
 */
#define CSMS_SCRAM_VERIFIER_MAX \
	(14 + 10 + 1 + CSMS_B64_ENCLEN(CSMS_SCRAM_SALT_MAX) + 1 + \
	 CSMS_B64_ENCLEN(CSMS_SCRAM_KEY_LEN) + 1 + \
	 CSMS_B64_ENCLEN(CSMS_SCRAM_KEY_LEN) + 1)

/*
 * The SCRAM keys of a password: ClientKey, StoredKey and ServerKey, each
 * CSMS_SCRAM_KEY_LEN bytes; any of the three outputs may be NULL.  The
 * password is password_len bytes of printable ASCII (not NUL-terminated
 * necessarily); salt is 1 .. CSMS_SCRAM_SALT_MAX bytes; iterations is at
 * least 1.  Fails with CSMS_ERR_ENCODING for a password outside printable
 * ASCII, CSMS_ERR_LENGTH for a bad salt length or iteration count,
 * CSMS_ERR_OPENSSL when OpenSSL fails; on failure the outputs are wiped.
 */
extern csms_crypto_status csms_scram_keys(const char *password,
										  size_t password_len,
										  const uint8_t *salt, size_t salt_len,
										  int iterations,
										  uint8_t *client_key,
										  uint8_t *stored_key,
										  uint8_t *server_key);

/*
 * The verifier text of a password with a given salt and iteration count,
 * NUL-terminated in out (outlen bytes; CSMS_SCRAM_VERIFIER_MAX always
 * suffices).  The same checks as csms_scram_keys, and CSMS_ERR_LENGTH when
 * out is too small; on any failure out holds an empty string (when outlen
 * is at least 1) and nothing of a partial verifier.
 */
extern csms_crypto_status csms_scram_verifier(const char *password,
											  size_t password_len,
											  const uint8_t *salt,
											  size_t salt_len,
											  int iterations,
											  char *out, size_t outlen);

/*
 * The same with a fresh random salt of CSMS_SCRAM_SALT_LEN bytes from
 * csms_random_bytes (CSMS_ERR_RANDOM when the CSPRNG fails).
 */
extern csms_crypto_status csms_scram_verifier_random(const char *password,
													 size_t password_len,
													 int iterations,
													 char *out, size_t outlen);

#endif							/* CSMS_SCRAM_H */
