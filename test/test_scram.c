/*-------------------------------------------------------------------------
 *
 * test_scram.c
 *	  Standalone unit tests for src/scram.c (SCRAM-SHA-256 verifiers).
 *
 *	  No PostgreSQL header and no test library: a tiny harness counts checks,
 *	  prints one line per failed check and ends with exactly one line
 *	  "N passed, M failed".  The exit status is 0 only when M is 0.
 *
 *	  Vector sources (none is computed by this program or by the code under
 *	  test):
 *	  - base64: RFC 4648 section 10.
 *	  - SCRAM-SHA-256: RFC 7677 section 3 (user "user", password "pencil"):
 *	    ClientProof and ServerSignature of the example exchange, computed
 *	    here from the keys csms_scram_keys returns.
 *	  - verifiers: pg_authid.rolpassword of roles that a PostgreSQL 15.x
 *	    server (Debian 12 postgresql-15, pg_virtualenv) made with
 *	    SET password_encryption = 'scram-sha-256'; CREATE ROLE r PASSWORD
 *	    '...'; SELECT rolpassword FROM pg_authid (default 4096 iterations:
 *	    PostgreSQL 15 has no scram_iterations setting).
 *
 *	  ./test_scram --check PASSWORD VERIFIER recomputes VERIFIER from
 *	  PASSWORD with VERIFIER's salt and iteration count, and exits 0 when
 *	  it is the same string, 1 when not (or VERIFIER is malformed), 2 on
 *	  wrong usage; for TAP tests against a running server.
 *
 * test/test_scram.c
 *
 *-------------------------------------------------------------------------
 */
#include "crypto.h"
#include "scram.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* harness ----------------------------------------------------------------- */

static unsigned long n_pass;
static unsigned long n_fail;

static void check_at(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
check_at(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	if (ok)
	{
		n_pass++;
		return;
	}
	n_fail++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s:%d)\n", file, line);
	fflush(stdout);
}

#define CHECK(cond, ...) check_at((cond), __FILE__, __LINE__, __VA_ARGS__)

/* A malformed vector is a bug in this file: report it and stop. */
static void
fatal(const char *what)
{
	printf("FAIL: malformed test vector: %s\n", what);
	printf("%lu passed, %lu failed\n", n_pass, n_fail + 1);
	exit(1);
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t		i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* base64 decoding of the test itself, independent of scram.c ------------- */

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Padded standard base64 of inlen characters into out (cap bytes); the
 * decoded length, or -1 when the text is malformed or does not fit.
 */
static long
unb64(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	size_t		i;
	size_t		n = 0;

	if (inlen % 4 != 0)
		return -1;
	for (i = 0; i < inlen; i += 4)
	{
		int			v[4];
		int			k;
		int			pad = 0;
		bool		last = (i + 4 == inlen);

		for (k = 0; k < 4; k++)
		{
			if (last && k >= 2 && in[i + k] == '=')
			{
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -1;		/* data after padding */
			v[k] = b64_value(in[i + k]);
			if (v[k] < 0)
				return -1;
		}
		if (n + 3 - pad > cap)
			return -1;
		out[n++] = (uint8_t) ((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			out[n++] = (uint8_t) (((v[1] & 15) << 4) | (v[2] >> 2));
		if (pad < 1)
			out[n++] = (uint8_t) (((v[2] & 3) << 6) | v[3]);
	}
	return (long) n;
}

/*
 * Split a PostgreSQL SCRAM-SHA-256 verifier: its iteration count and salt
 * (decoded); false when it is not of the form
 * SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
 */
static bool
parse_verifier(const char *v, int *iterations, uint8_t *salt, size_t cap,
			   size_t *salt_len)
{
	static const char prefix[] = "SCRAM-SHA-256$";
	const char *p;
	const char *colon;
	const char *dollar;
	long		iter = 0;
	long		n;

	if (strncmp(v, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = v + sizeof(prefix) - 1;
	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		iter = iter * 10 + (*p - '0');
		if (iter > 0x7fffffffL)
			return false;
		p++;
	}
	if (*p != ':')
		return false;
	p++;
	dollar = strchr(p, '$');
	if (dollar == NULL)
		return false;
	n = unb64(p, (size_t) (dollar - p), salt, cap);
	if (n <= 0)
		return false;
	colon = strchr(dollar + 1, ':');
	if (colon == NULL || colon - (dollar + 1) != 44 || strlen(colon + 1) != 44)
		return false;
	*iterations = (int) iter;
	*salt_len = (size_t) n;
	return true;
}

/* The recomputation of a verifier from its own salt and iteration count */
static bool
verifier_matches(const char *password, const char *verifier)
{
	uint8_t		salt[CSMS_SCRAM_SALT_MAX];
	size_t		salt_len = 0;
	int			iterations = 0;
	char		out[CSMS_SCRAM_VERIFIER_MAX];

	if (!parse_verifier(verifier, &iterations, salt, sizeof(salt), &salt_len))
		return false;
	if (csms_scram_verifier(password, strlen(password), salt, salt_len,
							iterations, out, sizeof(out)) != CSMS_OK)
		return false;
	return strcmp(out, verifier) == 0;
}

/* base64: RFC 4648 section 10 --------------------------------------------- */

static void
test_b64(void)
{
	static const char *const vec[][2] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	size_t		i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
	{
		char		out[16];
		size_t		n = strlen(vec[i][0]);

		memset(out, 'x', sizeof(out));
		CHECK(csms_b64_enclen(n) == strlen(vec[i][1]),
			  "b64 enclen(%zu) = %zu", n, csms_b64_enclen(n));
		csms_b64_encode((const uint8_t *) vec[i][0], n, out);
		CHECK(strcmp(out, vec[i][1]) == 0, "b64(\"%s\") = \"%s\", want \"%s\"",
			  vec[i][0], out, vec[i][1]);
	}
	{
		/* the two characters where base64 and base64url differ */
		static const uint8_t in[] = {0xfb, 0xff, 0xbf};
		char		out[8];

		csms_b64_encode(in, sizeof(in), out);
		CHECK(strcmp(out, "+/+/") == 0, "b64 of fb ff bf = \"%s\"", out);
	}
}

/* RFC 7677 section 3 --------------------------------------------------- */

static void
test_rfc7677(void)
{
	static const char client_first_bare[] = "n=user,r=rOprNGfwEbeRWgbNEkqO";
	static const char server_first[] =
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	static const char client_final_wo_proof[] =
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
	static const char want_proof[] = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	static const char want_server_sig[] = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	uint8_t		salt[32];
	long		salt_len;
	uint8_t		client_key[CSMS_SCRAM_KEY_LEN];
	uint8_t		stored_key[CSMS_SCRAM_KEY_LEN];
	uint8_t		server_key[CSMS_SCRAM_KEY_LEN];
	uint8_t		stored_only[CSMS_SCRAM_KEY_LEN];
	uint8_t		client_sig[CSMS_HMAC_LEN];
	uint8_t		server_sig[CSMS_HMAC_LEN];
	uint8_t		proof[CSMS_SCRAM_KEY_LEN];
	char		auth_message[256];
	char		b64[64];
	char		verifier[CSMS_SCRAM_VERIFIER_MAX];
	int			n;
	size_t		i;

	salt_len = unb64("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));
	if (salt_len != 16)
		fatal("RFC 7677 salt");
	n = snprintf(auth_message, sizeof(auth_message), "%s,%s,%s",
				 client_first_bare, server_first, client_final_wo_proof);
	if (n < 0 || (size_t) n >= sizeof(auth_message))
		fatal("RFC 7677 AuthMessage");

	CHECK(csms_scram_keys("pencil", 6, salt, (size_t) salt_len, 4096,
						  client_key, stored_key, server_key) == CSMS_OK,
		  "rfc7677: csms_scram_keys");
	CHECK(csms_hmac_sha256(stored_key, sizeof(stored_key),
						   (const uint8_t *) auth_message, (size_t) n,
						   client_sig) == CSMS_OK,
		  "rfc7677: ClientSignature");
	for (i = 0; i < sizeof(proof); i++)
		proof[i] = client_key[i] ^ client_sig[i];
	csms_b64_encode(proof, sizeof(proof), b64);
	CHECK(strcmp(b64, want_proof) == 0, "rfc7677: ClientProof %s, want %s",
		  b64, want_proof);
	CHECK(csms_hmac_sha256(server_key, sizeof(server_key),
						   (const uint8_t *) auth_message, (size_t) n,
						   server_sig) == CSMS_OK,
		  "rfc7677: ServerSignature");
	csms_b64_encode(server_sig, sizeof(server_sig), b64);
	CHECK(strcmp(b64, want_server_sig) == 0,
		  "rfc7677: ServerSignature %s, want %s", b64, want_server_sig);

	/* NULL outputs are skipped, and the others are the same */
	CHECK(csms_scram_keys("pencil", 6, salt, (size_t) salt_len, 4096,
						  NULL, stored_only, NULL) == CSMS_OK &&
		  memcmp(stored_only, stored_key, sizeof(stored_key)) == 0,
		  "rfc7677: csms_scram_keys with only StoredKey");

	/* the verifier holds the same keys */
	CHECK(csms_scram_verifier("pencil", 6, salt, (size_t) salt_len, 4096,
							  verifier, sizeof(verifier)) == CSMS_OK,
		  "rfc7677: csms_scram_verifier");
	{
		char		want[CSMS_SCRAM_VERIFIER_MAX];
		char		sk[64],
					svk[64];

		csms_b64_encode(stored_key, sizeof(stored_key), sk);
		csms_b64_encode(server_key, sizeof(server_key), svk);
		snprintf(want, sizeof(want), "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$%s:%s",
				 sk, svk);
		CHECK(strcmp(verifier, want) == 0, "rfc7677: verifier %s, want %s",
			  verifier, want);
	}
	CHECK(verifier_matches("pencil", verifier), "rfc7677: verifier parses back");
	CHECK(!verifier_matches("pencil2", verifier), "rfc7677: other password");
}

/* verifiers made by PostgreSQL 15 --------------------------------------- */

typedef struct pg_fixture
{
	const char *role;
	const char *password;
	const char *verifier;
} pg_fixture;

static const pg_fixture pg_fixtures[] = {
	/* spaces and punctuation */
	{"r1", "correct horse, battery! staple?",
	"SCRAM-SHA-256$4096:irjQHKkN+gRBJJDmTTcNMA==$i8u3XDxPRV646jTAnP8DwzGUSs4/Bqkz5nPlu0qve7w=:qOo8Wkh4zS7RYnArvFtVEwZCKbuFraLJ/RAVbcsf8fo="},
	/* 32 characters */
	{"r2", "Zx9#kL2$mQ7@pR4&vT1*wY8^nB3%cF6!",
	"SCRAM-SHA-256$4096:1ClhYeGmOzslNJLyNQs3qg==$beJTitcSWWsJW8xPH08bmWtcdaCXxIKtrFfykh3U+Bo=:IW3pKlSjH4kxHHGe4dnQ0XOlH4Iwx981oMRq3lrzGw0="},
	/* the RFC 7677 password under another salt */
	{"r3", "pencil",
	"SCRAM-SHA-256$4096:trV2rYoL+O+0Xo2VywDLpg==$e/hcyKKlaccYafOs5EM2F8t3b/cnqEsgcE/4CWF0X2k=:CGWqNHx5HqFgDDQlFfU/rDB9nKZtgAeNv6PL64xtGr8="},
	/* a leading space, quotes, backslashes and the ends of the range */
	{"r4", " ~`\"\\\\{}[]|<>;:'/=+-_()",
	"SCRAM-SHA-256$4096:4CBEiXoPwweHmIyCcDduTg==$bojhR+uiHIFQu63QIdnr0nGvIy+eD4dWHl04gTr2TMU=:mVgcswb+/RbqleYXI+/Dx8X75CLeBtFjRgeI1fvcK3o="},
};

static void
test_postgres(void)
{
	size_t		i;

	for (i = 0; i < sizeof(pg_fixtures) / sizeof(pg_fixtures[0]); i++)
	{
		const pg_fixture *f = &pg_fixtures[i];
		uint8_t		salt[CSMS_SCRAM_SALT_MAX];
		size_t		salt_len = 0;
		int			iterations = 0;
		char		out[CSMS_SCRAM_VERIFIER_MAX];
		csms_crypto_status st;

		if (!parse_verifier(f->verifier, &iterations, salt, sizeof(salt), &salt_len))
			fatal(f->role);
		CHECK(iterations == CSMS_SCRAM_ITERATIONS && salt_len == CSMS_SCRAM_SALT_LEN,
			  "postgres %s: %d iterations, %zu-byte salt", f->role,
			  iterations, salt_len);
		st = csms_scram_verifier(f->password, strlen(f->password), salt,
								 salt_len, iterations, out, sizeof(out));
		CHECK(st == CSMS_OK, "postgres %s: %s", f->role, csms_crypto_strerror(st));
		CHECK(strcmp(out, f->verifier) == 0, "postgres %s: %s, want %s",
			  f->role, out, f->verifier);
		CHECK(strlen(out) + 1 <= CSMS_SCRAM_VERIFIER_MAX,
			  "postgres %s: fits CSMS_SCRAM_VERIFIER_MAX", f->role);

		/* exactly as long a buffer is enough, one less is not */
		{
			size_t		len = strlen(f->verifier);

			st = csms_scram_verifier(f->password, strlen(f->password), salt,
									 salt_len, iterations, out, len + 1);
			CHECK(st == CSMS_OK && strcmp(out, f->verifier) == 0,
				  "postgres %s: buffer of %zu", f->role, len + 1);
			memset(out, 'x', sizeof(out));
			st = csms_scram_verifier(f->password, strlen(f->password), salt,
									 salt_len, iterations, out, len);
			CHECK(st == CSMS_ERR_LENGTH && all_zero(out, len),
				  "postgres %s: buffer of %zu: %s", f->role, len,
				  csms_crypto_strerror(st));
		}

		/* a password one character off gives another verifier */
		{
			char		other[64];

			snprintf(other, sizeof(other), "%sx", f->password);
			CHECK(!verifier_matches(other, f->verifier),
				  "postgres %s: other password matches", f->role);
			CHECK(!verifier_matches(f->password + 1, f->verifier),
				  "postgres %s: shorter password matches", f->role);
		}
	}
}

/* errors ---------------------------------------------------------------- */

static void
test_errors(void)
{
	static const uint8_t salt[CSMS_SCRAM_SALT_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t		long_salt[CSMS_SCRAM_SALT_MAX + 1];
	char		out[CSMS_SCRAM_VERIFIER_MAX];
	uint8_t		k1[CSMS_SCRAM_KEY_LEN],
				k2[CSMS_SCRAM_KEY_LEN],
				k3[CSMS_SCRAM_KEY_LEN];
	csms_crypto_status st;
	static const char *const bad_passwords[] = {
		"caf\xc3\xa9",			/* UTF-8 e-acute: SASLprep would apply */
		"tab\there",
		"new\nline",
		"del\x7f",
		"\xff",
	};
	size_t		i;

	/* the call gets outlen bytes of out, which must be zeroes after it */
#define EXPECT(call, outlen, want, what) \
	do { \
		memset(out, 'x', sizeof(out)); \
		st = (call); \
		CHECK(st == (want) && all_zero(out, (outlen)), \
			  "%s: %s, want %s", (what), csms_crypto_strerror(st), \
			  csms_crypto_strerror(want)); \
	} while (0)

	for (i = 0; i < sizeof(bad_passwords) / sizeof(bad_passwords[0]); i++)
		EXPECT(csms_scram_verifier(bad_passwords[i], strlen(bad_passwords[i]),
								   salt, sizeof(salt), 4096, out, sizeof(out)),
			   sizeof(out), CSMS_ERR_ENCODING, "non-printable-ASCII password");
	EXPECT(csms_scram_verifier("a\0b", 3, salt, sizeof(salt), 4096,
							   out, sizeof(out)),
		   sizeof(out), CSMS_ERR_ENCODING, "NUL in password");
	EXPECT(csms_scram_verifier(NULL, 3, salt, sizeof(salt), 4096,
							   out, sizeof(out)),
		   sizeof(out), CSMS_ERR_ENCODING, "NULL password");
	EXPECT(csms_scram_verifier("pencil", 6, salt, 0, 4096, out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "empty salt");
	EXPECT(csms_scram_verifier("pencil", 6, NULL, 16, 4096, out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "NULL salt");
	memset(long_salt, 7, sizeof(long_salt));
	EXPECT(csms_scram_verifier("pencil", 6, long_salt, sizeof(long_salt), 4096,
							   out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "salt longer than CSMS_SCRAM_SALT_MAX");
	EXPECT(csms_scram_verifier("pencil", 6, salt, sizeof(salt), 0,
							   out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "zero iterations");
	EXPECT(csms_scram_verifier("pencil", 6, salt, sizeof(salt), -1,
							   out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "negative iterations");
	EXPECT(csms_scram_verifier("pencil", 6, salt, sizeof(salt), 4096, out, 100),
		   100, CSMS_ERR_LENGTH, "too small output buffer");
	EXPECT(csms_scram_verifier("pencil", 6, salt, sizeof(salt), 4096, out, 1),
		   1, CSMS_ERR_LENGTH, "output buffer of 1");
	st = csms_scram_verifier("pencil", 6, salt, sizeof(salt), 4096, out, 0);
	CHECK(st == CSMS_ERR_LENGTH, "output buffer of 0: %s", csms_crypto_strerror(st));
	st = csms_scram_verifier("pencil", 6, salt, sizeof(salt), 4096, NULL, 10);
	CHECK(st == CSMS_ERR_LENGTH, "NULL output: %s", csms_crypto_strerror(st));
	EXPECT(csms_scram_verifier_random("caf\xc3\xa9", 5, 4096, out, sizeof(out)),
		   sizeof(out), CSMS_ERR_ENCODING, "random: non-ASCII password");
	EXPECT(csms_scram_verifier_random("pencil", 6, 0, out, sizeof(out)),
		   sizeof(out), CSMS_ERR_LENGTH, "random: zero iterations");
	EXPECT(csms_scram_verifier_random("pencil", 6, 4096, out, 50),
		   50, CSMS_ERR_LENGTH, "random: too small output buffer");
#undef EXPECT

	/* failed key derivations wipe the outputs */
	memset(k1, 0xaa, sizeof(k1));
	memset(k2, 0xaa, sizeof(k2));
	memset(k3, 0xaa, sizeof(k3));
	st = csms_scram_keys("caf\xc3\xa9", 5, salt, sizeof(salt), 4096, k1, k2, k3);
	CHECK(st == CSMS_ERR_ENCODING && all_zero(k1, sizeof(k1)) &&
		  all_zero(k2, sizeof(k2)) && all_zero(k3, sizeof(k3)),
		  "keys: non-ASCII password: %s", csms_crypto_strerror(st));

	/* the edges that work: one iteration, a 1-byte and a 64-byte salt */
	st = csms_scram_verifier("pencil", 6, salt, sizeof(salt), 1, out, sizeof(out));
	CHECK(st == CSMS_OK && strncmp(out, "SCRAM-SHA-256$1:AQIDBAUGBwgJCgsMDQ4PEA==$", 41) == 0 &&
		  verifier_matches("pencil", out),
		  "one iteration: %s %s", csms_crypto_strerror(st), out);
	st = csms_scram_verifier("pencil", 6, salt, 1, 4096, out, sizeof(out));
	CHECK(st == CSMS_OK && strncmp(out, "SCRAM-SHA-256$4096:AQ==$", 24) == 0 &&
		  verifier_matches("pencil", out),
		  "1-byte salt: %s %s", csms_crypto_strerror(st), out);
	st = csms_scram_verifier("pencil", 6, long_salt, CSMS_SCRAM_SALT_MAX,
							 0x7fffffff / 100000, out, sizeof(out));
	CHECK(st == CSMS_OK && verifier_matches("pencil", out),
		  "64-byte salt: %s %s", csms_crypto_strerror(st), out);
	st = csms_scram_verifier("", 0, salt, sizeof(salt), 4096, out, sizeof(out));
	CHECK(st == CSMS_OK && verifier_matches("", out),
		  "empty password: %s %s", csms_crypto_strerror(st), out);
	st = csms_scram_verifier(NULL, 0, salt, sizeof(salt), 4096, out, sizeof(out));
	CHECK(st == CSMS_OK && verifier_matches("", out),
		  "NULL empty password: %s %s", csms_crypto_strerror(st), out);
}

/* random salts ----------------------------------------------------------- */

static void
test_random(void)
{
	char		v1[CSMS_SCRAM_VERIFIER_MAX];
	char		v2[CSMS_SCRAM_VERIFIER_MAX];
	uint8_t		s1[CSMS_SCRAM_SALT_MAX],
				s2[CSMS_SCRAM_SALT_MAX];
	size_t		l1 = 0,
				l2 = 0;
	int			i1 = 0,
				i2 = 0;
	csms_crypto_status st1,
				st2;
	static const char pw[] = "correct horse, battery! staple?";

	st1 = csms_scram_verifier_random(pw, strlen(pw), CSMS_SCRAM_ITERATIONS, v1, sizeof(v1));
	st2 = csms_scram_verifier_random(pw, strlen(pw), CSMS_SCRAM_ITERATIONS, v2, sizeof(v2));
	CHECK(st1 == CSMS_OK && st2 == CSMS_OK, "random: %s, %s",
		  csms_crypto_strerror(st1), csms_crypto_strerror(st2));
	CHECK(parse_verifier(v1, &i1, s1, sizeof(s1), &l1) &&
		  parse_verifier(v2, &i2, s2, sizeof(s2), &l2),
		  "random: verifiers parse: %s %s", v1, v2);
	CHECK(i1 == CSMS_SCRAM_ITERATIONS && i2 == CSMS_SCRAM_ITERATIONS &&
		  l1 == CSMS_SCRAM_SALT_LEN && l2 == CSMS_SCRAM_SALT_LEN,
		  "random: %d and %d iterations, %zu and %zu-byte salts",
		  i1, i2, l1, l2);
	CHECK(l1 == l2 && memcmp(s1, s2, l1) != 0, "random: the same salt twice");
	CHECK(strcmp(v1, v2) != 0, "random: the same verifier twice");
	CHECK(verifier_matches(pw, v1) && verifier_matches(pw, v2),
		  "random: verifiers recompute from their salts");
	CHECK(!verifier_matches("correct horse, battery! staple!", v1),
		  "random: other password matches");
	st1 = csms_scram_verifier_random(pw, strlen(pw), 10, v1, sizeof(v1));
	CHECK(st1 == CSMS_OK && strncmp(v1, "SCRAM-SHA-256$10:", 17) == 0 &&
		  verifier_matches(pw, v1),
		  "random: 10 iterations: %s %s", csms_crypto_strerror(st1), v1);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--check") == 0)
	{
		if (argc != 4)
		{
			fprintf(stderr, "usage: %s --check PASSWORD VERIFIER\n", argv[0]);
			return 2;
		}
		return verifier_matches(argv[2], argv[3]) ? 0 : 1;
	}
	if (argc > 1)
	{
		fprintf(stderr, "usage: %s [--check PASSWORD VERIFIER]\n", argv[0]);
		return 2;
	}

	test_b64();
	test_rfc7677();
	test_postgres();
	test_errors();
	test_random();

	printf("%lu passed, %lu failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
