/*-------------------------------------------------------------------------
 *
 * test_crypto.c
 *	  Standalone unit tests for src/crypto.c against published test vectors.
 *
 *	  No PostgreSQL header and no test library: a tiny harness counts checks,
 *	  prints one line per failed check and ends with exactly one line
 *	  "N passed, M failed".  The exit status is 0 only when M is 0.
 *
 *	  Vector sources (every hex string below is copied from them; none is
 *	  computed by this program or by the code under test):
 *	  - AES-GCM: D. McGrew, J. Viega, "The Galois/Counter Mode of Operation
 *	    (GCM)", revised submission to NIST, Appendix B, test cases 1-18
 *	    (AES-128: 1-6, AES-192: 7-12, AES-256: 13-18; 5/11/17 use a 64-bit
 *	    IV, 6/12/18 a 480-bit IV).
 *	  - AES key wrap: RFC 3394 section 4 (4.1 .. 4.6).
 *	  - HMAC-SHA-256: RFC 4231 section 4 (4.2 .. 4.8 = test cases 1-7,
 *	    without case 5, which is truncated output); plus the widely
 *	    published HMAC-SHA-256("", "") value (empty key).
 *	  - base64: RFC 4648 section 10, turned into base64url (section 5)
 *	    without padding.
 *
 * test/test_crypto.c
 *
 *-------------------------------------------------------------------------
 */
/* clock_gettime (csms_uuid7) under -std=c11 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "crypto.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* hex helpers of the test itself, independent of csms_hex_* -------------- */

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t		n = strlen(s);
	size_t		i;

	if (n % 2 != 0 || n / 2 > cap)
		fatal(s);
	for (i = 0; i < n / 2; i++)
	{
		int			hi = nibble(s[2 * i]),
					lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			fatal(s);
		out[i] = (uint8_t) ((hi << 4) | lo);
	}
	return n / 2;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static bool
all_byte(const uint8_t *p, size_t n, uint8_t b)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

/* deterministic test data (splitmix64), so failures reproduce */
static uint64_t prng_state = UINT64_C(0x0123456789abcdef);

static uint64_t
prng_next(void)
{
	uint64_t	z = (prng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
prng_fill(uint8_t *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t) prng_next();
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
	{
		printf("FAIL: out of memory\n");
		printf("%lu passed, %lu failed\n", n_pass, n_fail + 1);
		exit(1);
	}
	return p;
}

/* AES-GCM: McGrew/Viega GCM spec, Appendix B ------------------------------- */

#define GCM_K128 "feffe9928665731c6d6a8f9467308308"
#define GCM_K192 "feffe9928665731c6d6a8f9467308308feffe9928665731c"
#define GCM_K256 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define GCM_P64 \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_P60 \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_IV96 "cafebabefacedbaddecaf888"
#define GCM_IV64 "cafebabefacedbad"
#define GCM_IV480 \
	"9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728" \
	"c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b"
#define Z12 "000000000000000000000000"
#define Z16 "00000000000000000000000000000000"

typedef struct gcm_vec
{
	const char *name;
	const char *key;
	const char *iv;
	const char *aad;
	const char *pt;
	const char *ct;
	const char *tag;
} gcm_vec;

static const gcm_vec gcm_vecs[] = {
	{"GCM TC1 (AES-128)", Z16, Z12, "", "", "",
	"58e2fccefa7e3061367f1d57a4e7455a"},
	{"GCM TC2 (AES-128)", Z16, Z12, "", Z16,
		"0388dace60b6a392f328c2b971b2fe78",
	"ab6e47d42cec13bdf53a67b21257bddf"},
	{"GCM TC3 (AES-128)", GCM_K128, GCM_IV96, "", GCM_P64,
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	"4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"GCM TC4 (AES-128)", GCM_K128, GCM_IV96, GCM_A, GCM_P60,
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	"5bc94fbc3221a5db94fae95ae7121a47"},
	{"GCM TC5 (AES-128, 64-bit IV)", GCM_K128, GCM_IV64, GCM_A, GCM_P60,
		"61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
		"73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
	"3612d2e79e3b0785561be14aaca2fccb"},
	{"GCM TC6 (AES-128, 480-bit IV)", GCM_K128, GCM_IV480, GCM_A, GCM_P60,
		"8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
		"01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
	"619cc5aefffe0bfa462af43c1699d050"},
	{"GCM TC7 (AES-192)", "000000000000000000000000000000000000000000000000",
		Z12, "", "", "",
	"cd33b28ac773f74ba00ed1f312572435"},
	{"GCM TC8 (AES-192)", "000000000000000000000000000000000000000000000000",
		Z12, "", Z16,
		"98e7247c07f0fe411c267e4384b0f600",
	"2ff58d80033927ab8ef4d4587514f0fb"},
	{"GCM TC9 (AES-192)", GCM_K192, GCM_IV96, "", GCM_P64,
		"3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
		"7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
	"9924a7c8587336bfb118024db8674a14"},
	{"GCM TC10 (AES-192)", GCM_K192, GCM_IV96, GCM_A, GCM_P60,
		"3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
		"7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
	"2519498e80f1478f37ba55bd6d27618c"},
	{"GCM TC11 (AES-192, 64-bit IV)", GCM_K192, GCM_IV64, GCM_A, GCM_P60,
		"0f10f599ae14a154ed24b36e25324db8c566632ef2bbb34f8347280fc4507057"
		"fddc29df9a471f75c66541d4d4dad1c9e93a19a58e8b473fa0f062f7",
	"65dcc57fcf623a24094fcca40d3533f8"},
	{"GCM TC12 (AES-192, 480-bit IV)", GCM_K192, GCM_IV480, GCM_A, GCM_P60,
		"d27e88681ce3243c4830165a8fdcf9ff1de9a1d8e6b447ef6ef7b79828666e45"
		"81e79012af34ddd9e2f037589b292db3e67c036745fa22e7e9b7373b",
	"dcf566ff291c25bbb8568fc3d376a6d9"},
	{"GCM TC13 (AES-256)", Z16 Z16, Z12, "", "", "",
	"530f8afbc74536b9a963b4f1c4cb738b"},
	{"GCM TC14 (AES-256)", Z16 Z16, Z12, "", Z16,
		"cea7403d4d606b6e074ec5d3baf39d18",
	"d0d1c8a799996bf0265b98b5d48ab919"},
	{"GCM TC15 (AES-256)", GCM_K256, GCM_IV96, "", GCM_P64,
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	"b094dac5d93471bdec1a502270e3cc6c"},
	{"GCM TC16 (AES-256)", GCM_K256, GCM_IV96, GCM_A, GCM_P60,
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	"76fc6ece0f4e1768cddf8853bb2d551b"},
	{"GCM TC17 (AES-256, 64-bit IV)", GCM_K256, GCM_IV64, GCM_A, GCM_P60,
		"c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
		"feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
	"3a337dbf46a792c45e454913fe2ea8f2"},
	{"GCM TC18 (AES-256, 480-bit IV)", GCM_K256, GCM_IV480, GCM_A, GCM_P60,
		"5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
		"0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
	"a44a8266ee1c8eb0c8b5d4cf5ae9f19a"},
};

#define GCM_BUF 80				/* all vectors have at most 64 data bytes */
#define GCM_FILL 0xa5			/* what decrypt buffers hold before a call */

/*
 * Decrypt that is expected to fail authentication.  Returns true when the
 * status is CSMS_ERR_AUTH and the output buffer (prefilled with GCM_FILL)
 * holds only zeros afterwards, i.e. it was wiped.
 */
static bool
gcm_rejects(const uint8_t *key, size_t keylen, const uint8_t *iv, size_t ivlen,
			const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t ctlen,
			const uint8_t *tag)
{
	uint8_t		out[GCM_BUF];
	csms_crypto_status st;

	memset(out, GCM_FILL, sizeof(out));
	st = csms_gcm_decrypt(key, keylen, iv, ivlen, aad, aadlen, ct, ctlen, tag, out);
	return st == CSMS_ERR_AUTH && all_zero(out, ctlen) &&
		all_byte(out + ctlen, sizeof(out) - ctlen, GCM_FILL);
}

static void
test_gcm_vector(const gcm_vec *v)
{
	uint8_t		key[32],
				iv[64],
				aad[64],
				pt[GCM_BUF],
				ct[GCM_BUF],
				tag[16];
	uint8_t		out[GCM_BUF],
				outtag[16],
				mod[GCM_BUF];
	size_t		keylen = unhex(v->key, key, sizeof(key));
	size_t		ivlen = unhex(v->iv, iv, sizeof(iv));
	size_t		aadlen = unhex(v->aad, aad, sizeof(aad));
	size_t		ptlen = unhex(v->pt, pt, 64);
	size_t		ctlen = unhex(v->ct, ct, 64);
	size_t		i;
	unsigned	bad;
	csms_crypto_status st;

	if (unhex(v->tag, tag, sizeof(tag)) != 16 || ctlen != ptlen)
		fatal(v->name);

	/* encrypt: ciphertext and tag, nothing written past the ciphertext */
	memset(out, 0x5a, sizeof(out));
	memset(outtag, 0, sizeof(outtag));
	st = csms_gcm_encrypt(key, keylen, iv, ivlen, aadlen ? aad : NULL, aadlen,
						  pt, ptlen, out, outtag);
	CHECK(st == CSMS_OK, "%s: encrypt status %d", v->name, (int) st);
	CHECK(memcmp(out, ct, ctlen) == 0, "%s: encrypt ciphertext", v->name);
	CHECK(memcmp(outtag, tag, 16) == 0, "%s: encrypt tag", v->name);
	CHECK(all_byte(out + ctlen, sizeof(out) - ctlen, 0x5a),
		  "%s: encrypt wrote past the ciphertext", v->name);

	/* decrypt: plaintext */
	memset(out, GCM_FILL, sizeof(out));
	st = csms_gcm_decrypt(key, keylen, iv, ivlen, aadlen ? aad : NULL, aadlen,
						  ct, ctlen, tag, out);
	CHECK(st == CSMS_OK, "%s: decrypt status %d", v->name, (int) st);
	CHECK(memcmp(out, pt, ptlen) == 0, "%s: decrypt plaintext", v->name);
	CHECK(all_byte(out + ptlen, sizeof(out) - ptlen, GCM_FILL),
		  "%s: decrypt wrote past the plaintext", v->name);

	/* every single-bit flip of the tag is rejected and the output wiped */
	bad = 0;
	for (i = 0; i < 16 * 8; i++)
	{
		memcpy(mod, tag, 16);
		mod[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (!gcm_rejects(key, keylen, iv, ivlen, aad, aadlen, ct, ctlen, mod))
			bad++;
	}
	CHECK(bad == 0, "%s: %u tag bit flips not rejected/wiped", v->name, bad);

	/* every single-bit flip of the ciphertext */
	if (ctlen > 0)
	{
		bad = 0;
		for (i = 0; i < ctlen * 8; i++)
		{
			memcpy(mod, ct, ctlen);
			mod[i / 8] ^= (uint8_t) (1u << (i % 8));
			if (!gcm_rejects(key, keylen, iv, ivlen, aad, aadlen, mod, ctlen, tag))
				bad++;
		}
		CHECK(bad == 0, "%s: %u ciphertext bit flips not rejected/wiped",
			  v->name, bad);
	}

	/* changed AAD: every bit flip, AAD dropped, AAD added */
	if (aadlen > 0)
	{
		bad = 0;
		for (i = 0; i < aadlen * 8; i++)
		{
			memcpy(mod, aad, aadlen);
			mod[i / 8] ^= (uint8_t) (1u << (i % 8));
			if (!gcm_rejects(key, keylen, iv, ivlen, mod, aadlen, ct, ctlen, tag))
				bad++;
		}
		CHECK(bad == 0, "%s: %u AAD bit flips not rejected/wiped", v->name, bad);
		CHECK(gcm_rejects(key, keylen, iv, ivlen, NULL, 0, ct, ctlen, tag),
			  "%s: AAD dropped not rejected/wiped", v->name);
		CHECK(gcm_rejects(key, keylen, iv, ivlen, aad, aadlen - 1, ct, ctlen, tag),
			  "%s: AAD truncated not rejected/wiped", v->name);
	}
	else
	{
		const uint8_t extra[1] = {0};

		CHECK(gcm_rejects(key, keylen, iv, ivlen, extra, 1, ct, ctlen, tag),
			  "%s: AAD added not rejected/wiped", v->name);
	}

	/* changed IV and changed key */
	memcpy(mod, iv, ivlen);
	mod[ivlen - 1] ^= 0x01;
	CHECK(gcm_rejects(key, keylen, mod, ivlen, aad, aadlen, ct, ctlen, tag),
		  "%s: changed IV not rejected/wiped", v->name);
	memcpy(mod, key, keylen);
	mod[0] ^= 0x80;
	CHECK(gcm_rejects(mod, keylen, iv, ivlen, aad, aadlen, ct, ctlen, tag),
		  "%s: changed key not rejected/wiped", v->name);
}

static void
test_gcm(void)
{
	size_t		i;
	uint8_t		key[32] = {0},
				iv[12] = {0},
				tag[16],
				out[16],
				pt[16] = {0};
	uint8_t		expect_tag[16];
	csms_crypto_status st;

	for (i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++)
		test_gcm_vector(&gcm_vecs[i]);

	/*
	 * TC13 again with NULL pointers for the empty plaintext/ciphertext and
	 * AAD.  The output pointer stays non-NULL: crypto.c computes out + len,
	 * and NULL + 0 is undefined behaviour in C (clang's UBSan reports it).
	 */
	unhex("530f8afbc74536b9a963b4f1c4cb738b", expect_tag, sizeof(expect_tag));
	st = csms_gcm_encrypt(key, 32, iv, 12, NULL, 0, NULL, 0, out, tag);
	CHECK(st == CSMS_OK && memcmp(tag, expect_tag, 16) == 0,
		  "GCM TC13 with NULL plaintext and AAD");
	st = csms_gcm_decrypt(key, 32, iv, 12, NULL, 0, NULL, 0, expect_tag, out);
	CHECK(st == CSMS_OK, "GCM TC13 decrypt with NULL ciphertext and AAD");
	tag[0] = expect_tag[0] ^ 1;
	memcpy(tag + 1, expect_tag + 1, 15);
	st = csms_gcm_decrypt(key, 32, iv, 12, NULL, 0, NULL, 0, tag, out);
	CHECK(st == CSMS_ERR_AUTH, "GCM TC13 bad tag with NULL ciphertext");

	/* invalid key and IV lengths */
	st = csms_gcm_encrypt(key, 31, iv, 12, NULL, 0, pt, 16, out, tag);
	CHECK(st == CSMS_ERR_LENGTH, "GCM encrypt keylen 31 -> LENGTH (got %d)", (int) st);
	st = csms_gcm_encrypt(key, 0, iv, 12, NULL, 0, pt, 16, out, tag);
	CHECK(st == CSMS_ERR_LENGTH, "GCM encrypt keylen 0 -> LENGTH (got %d)", (int) st);
	st = csms_gcm_encrypt(key, 32, iv, 0, NULL, 0, pt, 16, out, tag);
	CHECK(st == CSMS_ERR_LENGTH, "GCM encrypt ivlen 0 -> LENGTH (got %d)", (int) st);
	st = csms_gcm_decrypt(key, 33, iv, 12, NULL, 0, pt, 16, tag, out);
	CHECK(st == CSMS_ERR_LENGTH, "GCM decrypt keylen 33 -> LENGTH (got %d)", (int) st);
	st = csms_gcm_decrypt(key, 32, iv, 0, NULL, 0, pt, 16, tag, out);
	CHECK(st == CSMS_ERR_LENGTH, "GCM decrypt ivlen 0 -> LENGTH (got %d)", (int) st);
}

/* csms_seal / csms_open ---------------------------------------------------- */

#define SEAL_FILL 0xc3

/* open expected to fail authentication; output prefilled, must be wiped */
static bool
open_rejects(const uint8_t *key, const uint8_t *aad, size_t aadlen,
			 const uint8_t *in, size_t inlen, uint8_t *out)
{
	size_t		outlen = 12345;
	size_t		ptlen = inlen - CSMS_SEAL_OVERHEAD;
	csms_crypto_status st;

	memset(out, SEAL_FILL, ptlen);
	st = csms_open(key, aad, aadlen, in, inlen, out, &outlen);
	return st == CSMS_ERR_AUTH && all_zero(out, ptlen);
}

static void
test_seal_len(const uint8_t key[CSMS_KEY_LEN], size_t len)
{
	static const uint8_t aad[] = "secrets:table=vault:id=42";
	static const uint8_t aad2[] = "secrets:table=vault:id=43";
	uint8_t    *pt = xmalloc(len);
	uint8_t    *sealed = xmalloc(len + CSMS_SEAL_OVERHEAD);
	uint8_t    *sealed2 = xmalloc(len + CSMS_SEAL_OVERHEAD);
	uint8_t    *mod = xmalloc(len + CSMS_SEAL_OVERHEAD);
	uint8_t    *out = xmalloc(len);
	uint8_t		key2[CSMS_KEY_LEN];
	size_t		total = len + CSMS_SEAL_OVERHEAD;
	size_t		outlen = 0;
	size_t		i;
	size_t		step;
	unsigned	bad;
	csms_crypto_status st;

	prng_fill(pt, len);

	/* round trip with AAD */
	st = csms_seal(key, aad, sizeof(aad) - 1, pt, len, sealed);
	CHECK(st == CSMS_OK, "seal len %zu: status %d", len, (int) st);
	memset(out, SEAL_FILL, len);
	st = csms_open(key, aad, sizeof(aad) - 1, sealed, total, out, &outlen);
	CHECK(st == CSMS_OK, "open len %zu: status %d", len, (int) st);
	CHECK(outlen == len, "open len %zu: outlen %zu", len, outlen);
	CHECK(memcmp(out, pt, len) == 0, "open len %zu: plaintext differs", len);

	/* round trip without AAD */
	st = csms_seal(key, NULL, 0, pt, len, sealed2);
	CHECK(st == CSMS_OK, "seal len %zu no AAD: status %d", len, (int) st);
	st = csms_open(key, NULL, 0, sealed2, total, out, &outlen);
	CHECK(st == CSMS_OK && outlen == len && memcmp(out, pt, len) == 0,
		  "open len %zu no AAD: round trip", len);
	CHECK(open_rejects(key, aad, sizeof(aad) - 1, sealed2, total, out),
		  "open len %zu: AAD added not rejected/wiped", len);

	/* two seals of the same input differ (fresh random nonce each time) */
	st = csms_seal(key, aad, sizeof(aad) - 1, pt, len, sealed2);
	CHECK(st == CSMS_OK, "seal len %zu (second): status %d", len, (int) st);
	CHECK(memcmp(sealed, sealed2, CSMS_GCM_NONCE_LEN) != 0,
		  "seal len %zu: two seals share a nonce", len);
	CHECK(memcmp(sealed, sealed2, total) != 0,
		  "seal len %zu: two seals are identical", len);

	/* any single flipped byte fails: all bytes for small inputs, for the
	 * large one all of nonce and tag and a stride through the ciphertext */
	step = len > 4096 ? 257 : 1;
	bad = 0;
	for (i = 0; i < total; i++)
	{
		bool		in_ct = i >= CSMS_GCM_NONCE_LEN && i < CSMS_GCM_NONCE_LEN + len;

		if (in_ct && step > 1 && (i - CSMS_GCM_NONCE_LEN) % step != 0 &&
			i != CSMS_GCM_NONCE_LEN + len - 1)
			continue;
		memcpy(mod, sealed, total);
		mod[i] ^= (uint8_t) (1u << (i % 8));
		if (!open_rejects(key, aad, sizeof(aad) - 1, mod, total, out))
		{
			if (bad == 0)
				printf("  (first unrejected flip at byte %zu of %zu)\n", i, total);
			bad++;
		}
		memcpy(mod, sealed, total);
		mod[i] ^= 0xff;
		if (!open_rejects(key, aad, sizeof(aad) - 1, mod, total, out))
			bad++;
	}
	CHECK(bad == 0, "open len %zu: %u flipped bytes not rejected/wiped", len, bad);

	/* wrong AAD, no AAD, wrong key, truncated, extended */
	CHECK(open_rejects(key, aad2, sizeof(aad2) - 1, sealed, total, out),
		  "open len %zu: wrong AAD not rejected/wiped", len);
	CHECK(open_rejects(key, NULL, 0, sealed, total, out),
		  "open len %zu: missing AAD not rejected/wiped", len);
	CHECK(open_rejects(key, aad, sizeof(aad) - 2, sealed, total, out),
		  "open len %zu: truncated AAD not rejected/wiped", len);
	memcpy(key2, key, CSMS_KEY_LEN);
	key2[CSMS_KEY_LEN - 1] ^= 0x01;
	CHECK(open_rejects(key2, aad, sizeof(aad) - 1, sealed, total, out),
		  "open len %zu: wrong key not rejected/wiped", len);
	if (len > 0)
		CHECK(open_rejects(key, aad, sizeof(aad) - 1, sealed, total - 1, out),
			  "open len %zu: truncated input not rejected/wiped", len);

	free(pt);
	free(sealed);
	free(sealed2);
	free(mod);
	free(out);
}

/*
 * csms_seal_kept / csms_open_kept: the same format as csms_seal/csms_open
 * (each opens what the other sealed), under alternating keys, after a
 * failed tag check, and after csms_forget_kept_keys.
 */
static void
test_seal_kept(void)
{
	static const uint8_t aad[] = "csms/dek/v1|id|v1|key|1";
	uint8_t		k1[CSMS_KEY_LEN],
				k2[CSMS_KEY_LEN],
				pt[32],
				out[32],
				s1[32 + CSMS_SEAL_OVERHEAD],
				s2[32 + CSMS_SEAL_OVERHEAD];
	size_t		outlen;
	int			round;

	prng_fill(k1, sizeof(k1));
	prng_fill(k2, sizeof(k2));
	prng_fill(pt, sizeof(pt));
	for (round = 0; round < 3; round++)
	{
		/* kept seal, plain open; plain seal, kept open; two keys in turn */
		CHECK(csms_seal_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, pt, sizeof(pt), s1) == CSMS_OK,
			  "seal_kept k1 round %d", round);
		CHECK(csms_open(k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
			  outlen == sizeof(pt) && memcmp(out, pt, sizeof(pt)) == 0,
			  "open of seal_kept k1 round %d", round);
		CHECK(csms_seal(k2, aad, sizeof(aad) - 1, pt, sizeof(pt), s2) == CSMS_OK,
			  "seal k2 round %d", round);
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k2, aad, sizeof(aad) - 1, s2, sizeof(s2), out, &outlen) == CSMS_OK &&
			  memcmp(out, pt, sizeof(pt)) == 0, "open_kept of seal k2 round %d", round);
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
			  memcmp(out, pt, sizeof(pt)) == 0, "open_kept k1 after k2 round %d", round);
		/* the wrong key, then a tampered input: refused, and the context still works */
		memset(out, 0x5a, sizeof(out));
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k2, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_ERR_AUTH &&
			  outlen == 0 && out[0] == 0 && out[31] == 0, "open_kept under the wrong key round %d", round);
		s1[CSMS_GCM_NONCE_LEN] ^= 1;
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_ERR_AUTH,
			  "open_kept of a tampered input round %d", round);
		s1[CSMS_GCM_NONCE_LEN] ^= 1;
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, (const uint8_t *) "other", 5, s1, sizeof(s1), out, &outlen) == CSMS_ERR_AUTH,
			  "open_kept under another AAD round %d", round);
		CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
			  memcmp(out, pt, sizeof(pt)) == 0, "open_kept after failures round %d", round);
		if (round == 1)
			csms_forget_kept_keys(CSMS_KEPT_MASTER);
	}
	/* after forgetting, the same key is keyed afresh */
	csms_forget_kept_keys(CSMS_KEPT_MASTER);
	CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
		  memcmp(out, pt, sizeof(pt)) == 0, "open_kept after forget");
	CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, 5, out, &outlen) == CSMS_ERR_LENGTH,
		  "open_kept of a short input");
	csms_forget_kept_keys(CSMS_KEPT_MASTER);

	/*
	 * Slots are independent: a key kept in one does not answer for the
	 * other, and forgetting one key (csms_forget_kept_key) leaves another
	 * key's context as it is.
	 */
	CHECK(csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
		  csms_open_kept(CSMS_KEPT_DATA, k2, aad, sizeof(aad) - 1, s2, sizeof(s2), out, &outlen) == CSMS_OK &&
		  csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s2, sizeof(s2), out, &outlen) == CSMS_ERR_AUTH &&
		  csms_open_kept(CSMS_KEPT_DATA, k2, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_ERR_AUTH,
		  "open_kept in two slots under two keys");
	csms_forget_kept_key(CSMS_KEPT_DATA, k1);	/* not its key: nothing to forget */
	csms_forget_kept_key(CSMS_KEPT_MASTER, k1);
	CHECK(csms_open_kept(CSMS_KEPT_DATA, k2, aad, sizeof(aad) - 1, s2, sizeof(s2), out, &outlen) == CSMS_OK &&
		  memcmp(out, pt, sizeof(pt)) == 0 &&
		  csms_open_kept(CSMS_KEPT_MASTER, k1, aad, sizeof(aad) - 1, s1, sizeof(s1), out, &outlen) == CSMS_OK &&
		  memcmp(out, pt, sizeof(pt)) == 0, "open_kept after forgetting one key");
	csms_forget_kept_keys(CSMS_KEPT_MASTER);
	csms_forget_kept_keys(CSMS_KEPT_DATA);
}

static void
test_seal(void)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 32768};
	uint8_t		key[CSMS_KEY_LEN];
	uint8_t		buf[CSMS_SEAL_OVERHEAD];
	uint8_t		out[1];
	size_t		i;
	size_t		outlen;
	unsigned	bad;
	csms_crypto_status st;

	prng_fill(key, sizeof(key));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		test_seal_len(key, lens[i]);

	/* input shorter than nonce + tag: CSMS_ERR_LENGTH, for every length */
	memset(buf, 0, sizeof(buf));
	bad = 0;
	for (i = 0; i < CSMS_SEAL_OVERHEAD; i++)
	{
		outlen = 999;
		st = csms_open(key, NULL, 0, buf, i, out, &outlen);
		if (st != CSMS_ERR_LENGTH || outlen != 0)
			bad++;
	}
	CHECK(bad == 0, "open of 0..27 bytes: %u lengths not CSMS_ERR_LENGTH", bad);

	/* exactly 28 bytes of garbage: right length, fails authentication */
	st = csms_open(key, NULL, 0, buf, CSMS_SEAL_OVERHEAD, out, &outlen);
	CHECK(st == CSMS_ERR_AUTH, "open of 28 zero bytes -> AUTH (got %d)", (int) st);
}

/* AES key wrap: RFC 3394 section 4 ----------------------------------------- */

typedef struct kw_vec
{
	const char *name;
	const char *kek;
	const char *data;
	const char *wrapped;
} kw_vec;

#define KEK128 "000102030405060708090A0B0C0D0E0F"
#define KEK192 "000102030405060708090A0B0C0D0E0F1011121314151617"
#define KEK256 "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

static const kw_vec kw_vecs[] = {
	{"RFC 3394 4.1", KEK128, "00112233445566778899AABBCCDDEEFF",
	"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
	{"RFC 3394 4.2", KEK192, "00112233445566778899AABBCCDDEEFF",
	"96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
	{"RFC 3394 4.3", KEK256, "00112233445566778899AABBCCDDEEFF",
	"64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
	{"RFC 3394 4.4", KEK192, "00112233445566778899AABBCCDDEEFF0001020304050607",
	"031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
	{"RFC 3394 4.5", KEK256, "00112233445566778899AABBCCDDEEFF0001020304050607",
	"A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
	{"RFC 3394 4.6", KEK256,
		"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
	"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
};

#define KW_FILL 0x3c

static void
test_kw_vector(const kw_vec *v)
{
	uint8_t		kek[32],
				data[32],
				wrapped[40],
				out[64],
				mod[40],
				kek2[32];
	size_t		keklen = unhex(v->kek, kek, sizeof(kek));
	size_t		datalen = unhex(v->data, data, sizeof(data));
	size_t		wlen = unhex(v->wrapped, wrapped, sizeof(wrapped));
	size_t		i;
	unsigned	bad;
	csms_crypto_status st;

	if (wlen != datalen + CSMS_KW_OVERHEAD)
		fatal(v->name);

	memset(out, KW_FILL, sizeof(out));
	st = csms_aes_kw_wrap(kek, keklen, data, datalen, out);
	CHECK(st == CSMS_OK, "%s: wrap status %d", v->name, (int) st);
	CHECK(memcmp(out, wrapped, wlen) == 0, "%s: wrap output", v->name);
	CHECK(all_byte(out + wlen, sizeof(out) - wlen, KW_FILL),
		  "%s: wrap wrote past its output", v->name);

	memset(out, KW_FILL, sizeof(out));
	st = csms_aes_kw_unwrap(kek, keklen, wrapped, wlen, out);
	CHECK(st == CSMS_OK, "%s: unwrap status %d", v->name, (int) st);
	CHECK(memcmp(out, data, datalen) == 0, "%s: unwrap output", v->name);
	CHECK(all_byte(out + datalen, sizeof(out) - datalen, KW_FILL),
		  "%s: unwrap wrote past its output", v->name);

	/* every flipped byte of the wrapped key fails the integrity check */
	bad = 0;
	for (i = 0; i < wlen; i++)
	{
		memcpy(mod, wrapped, wlen);
		mod[i] ^= (uint8_t) (1u << (i % 8));
		memset(out, KW_FILL, sizeof(out));
		st = csms_aes_kw_unwrap(kek, keklen, mod, wlen, out);
		if (st != CSMS_ERR_AUTH || !all_zero(out, datalen))
			bad++;
	}
	CHECK(bad == 0, "%s: %u tampered wraps not AUTH/wiped", v->name, bad);

	/* wrong KEK */
	memcpy(kek2, kek, keklen);
	kek2[keklen - 1] ^= 0x01;
	memset(out, KW_FILL, sizeof(out));
	st = csms_aes_kw_unwrap(kek2, keklen, wrapped, wlen, out);
	CHECK(st == CSMS_ERR_AUTH && all_zero(out, datalen),
		  "%s: wrong KEK not AUTH/wiped (got %d)", v->name, (int) st);

	/* dropping the last block leaves a well-formed but unauthentic input */
	if (wlen >= 32)
	{
		st = csms_aes_kw_unwrap(kek, keklen, wrapped, wlen - 8, out);
		CHECK(st == CSMS_ERR_AUTH, "%s: truncated wrap not AUTH (got %d)",
			  v->name, (int) st);
	}
}

static void
test_kw(void)
{
	uint8_t		kek[32] = {0},
				in[48] = {0},
				out[64];
	size_t		i;
	csms_crypto_status st;

	for (i = 0; i < sizeof(kw_vecs) / sizeof(kw_vecs[0]); i++)
		test_kw_vector(&kw_vecs[i]);

	/* wrap: key data must be a multiple of 8 bytes and at least 16 */
	{
		static const size_t badlen[] = {0, 1, 7, 8, 15, 17, 23, 25, 33};

		for (i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++)
		{
			st = csms_aes_kw_wrap(kek, 32, in, badlen[i], out);
			CHECK(st == CSMS_ERR_LENGTH, "kw wrap of %zu bytes -> LENGTH (got %d)",
				  badlen[i], (int) st);
		}
	}
	/* unwrap: a multiple of 8 bytes and at least 24 */
	{
		static const size_t badlen[] = {0, 1, 7, 8, 15, 16, 17, 23, 25, 31, 33};

		for (i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++)
		{
			st = csms_aes_kw_unwrap(kek, 32, in, badlen[i], out);
			CHECK(st == CSMS_ERR_LENGTH,
				  "kw unwrap of %zu bytes -> LENGTH (got %d)", badlen[i], (int) st);
		}
	}
	/* KEK must be 16, 24 or 32 bytes */
	{
		static const size_t badkek[] = {0, 8, 15, 17, 31, 33, 64};

		for (i = 0; i < sizeof(badkek) / sizeof(badkek[0]); i++)
		{
			st = csms_aes_kw_wrap(kek, badkek[i], in, 16, out);
			CHECK(st == CSMS_ERR_LENGTH, "kw wrap with %zu-byte KEK -> LENGTH (got %d)",
				  badkek[i], (int) st);
			st = csms_aes_kw_unwrap(kek, badkek[i], in, 24, out);
			CHECK(st == CSMS_ERR_LENGTH,
				  "kw unwrap with %zu-byte KEK -> LENGTH (got %d)", badkek[i], (int) st);
		}
	}
	/* 24 bytes of zeros are a valid length but not a valid wrap */
	st = csms_aes_kw_unwrap(kek, 32, in, 24, out);
	CHECK(st == CSMS_ERR_AUTH, "kw unwrap of 24 zero bytes -> AUTH (got %d)", (int) st);

	/* round trip of a 32-byte key (the DEK size) under each KEK size */
	{
		static const size_t keklens[] = {16, 24, 32};
		uint8_t		dek[CSMS_KEY_LEN],
					w[CSMS_KEY_LEN + CSMS_KW_OVERHEAD],
					back[CSMS_KEY_LEN];

		prng_fill(kek, sizeof(kek));
		prng_fill(dek, sizeof(dek));
		for (i = 0; i < 3; i++)
		{
			st = csms_aes_kw_wrap(kek, keklens[i], dek, sizeof(dek), w);
			CHECK(st == CSMS_OK, "kw round trip KEK %zu: wrap", keklens[i]);
			st = csms_aes_kw_unwrap(kek, keklens[i], w, sizeof(w), back);
			CHECK(st == CSMS_OK && memcmp(back, dek, sizeof(dek)) == 0,
				  "kw round trip KEK %zu: unwrap", keklens[i]);
		}
	}
}

/* HMAC-SHA-256: RFC 4231 section 4 ---------------------------------------- */

static void
hmac_case(const char *name, const uint8_t *key, size_t keylen,
		  const void *msg, size_t msglen, const char *expect_hex)
{
	uint8_t		expect[CSMS_HMAC_LEN],
				out[CSMS_HMAC_LEN];
	csms_crypto_status st;

	if (unhex(expect_hex, expect, sizeof(expect)) != CSMS_HMAC_LEN)
		fatal(name);
	memset(out, 0, sizeof(out));
	st = csms_hmac_sha256(key, keylen, msg, msglen, out);
	CHECK(st == CSMS_OK, "%s: status %d", name, (int) st);
	CHECK(memcmp(out, expect, CSMS_HMAC_LEN) == 0, "%s: value", name);
}

static void
test_hmac(void)
{
	uint8_t		key[131];
	uint8_t		data[50];
	size_t		i;

	/* 4.2 Test Case 1 */
	memset(key, 0x0b, 20);
	hmac_case("RFC 4231 TC1", key, 20, "Hi There", 8,
			  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	/* 4.3 Test Case 2 */
	hmac_case("RFC 4231 TC2", (const uint8_t *) "Jefe", 4,
			  "what do ya want for nothing?", 28,
			  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* 4.4 Test Case 3 */
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hmac_case("RFC 4231 TC3", key, 20, data, 50,
			  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

	/* 4.5 Test Case 4 */
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t) (i + 1);
	memset(data, 0xcd, 50);
	hmac_case("RFC 4231 TC4", key, 25, data, 50,
			  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");

	/* 4.6 Test Case 5 is truncated to 128 bits: skipped */

	/* 4.7 Test Case 6 */
	memset(key, 0xaa, 131);
	hmac_case("RFC 4231 TC6", key, 131,
			  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
			  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

	/* 4.8 Test Case 7 */
	{
		static const char m7[] =
		"This is a test using a larger than block-size key and a larger "
		"than block-size data. The key needs to be hashed before being "
		"used by the HMAC algorithm.";

		hmac_case("RFC 4231 TC7", key, 131, m7, sizeof(m7) - 1,
				  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	}

	/* empty key, empty message (the commonly published HMAC_SHA256("", "")) */
	hmac_case("HMAC-SHA-256 empty key and message", (const uint8_t *) "", 0, "", 0,
			  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

/* base64url (RFC 4648 section 5 alphabet, no padding) --------------------- */

static const char b64u_alpha[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64_encode_case(const char *name, const uint8_t *in, size_t n, const char *expect)
{
	char		out[128];
	uint8_t		back[128];
	size_t		backlen = 999;
	size_t		elen = strlen(expect);
	csms_crypto_status st;

	CHECK(csms_b64url_enclen(n) == elen, "%s: enclen %zu != %zu", name,
		  csms_b64url_enclen(n), elen);
	memset(out, '#', sizeof(out));
	csms_b64url_encode(in, n, out);
	CHECK(memcmp(out, expect, elen + 1) == 0, "%s: encode gives \"%.*s\"", name,
		  (int) elen, out);
	CHECK(csms_b64url_declen_max(elen) >= n, "%s: declen_max too small", name);
	st = csms_b64url_decode(expect, elen, back, &backlen);
	CHECK(st == CSMS_OK && backlen == n && memcmp(back, in, n) == 0,
		  "%s: decode (status %d, len %zu)", name, (int) st, backlen);
}

static void
b64_reject(const char *name, const char *in, size_t inlen)
{
	uint8_t		out[64];
	size_t		outlen = 0;
	csms_crypto_status st;

	st = csms_b64url_decode(in, inlen, out, &outlen);
	CHECK(st == CSMS_ERR_ENCODING, "b64url rejects %s (got %d)", name, (int) st);
}

static bool
b64_accepts(const char *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	return csms_b64url_decode(in, inlen, out, outlen) == CSMS_OK;
}

static void
test_b64url(void)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			rfc[] = {
		/* RFC 4648 section 10, padding removed */
		{"", ""},
		{"f", "Zg"},
		{"fo", "Zm8"},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg"},
		{"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"},
	};
	static const uint8_t fbff[] = {0xfb, 0xff};
	static const uint8_t fbefbe[] = {0xfb, 0xef, 0xbe};
	static const uint8_t ffffff[] = {0xff, 0xff, 0xff};
	size_t		i;
	size_t		n;
	unsigned	bad;
	char		name[64];

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
	{
		snprintf(name, sizeof(name), "b64url RFC 4648 \"%s\"", rfc[i].in);
		b64_encode_case(name, (const uint8_t *) rfc[i].in, strlen(rfc[i].in),
						rfc[i].out);
	}
	/* the two characters where base64url differs from base64 */
	b64_encode_case("b64url fb ff", fbff, 2, "-_8");
	b64_encode_case("b64url fb ef be", fbefbe, 3, "----");
	b64_encode_case("b64url ff ff ff", ffffff, 3, "____");

	/* strict decoding */
	b64_reject("padding \"Zg==\"", "Zg==", 4);
	b64_reject("padding \"Zm8=\"", "Zm8=", 4);
	b64_reject("padding \"Zg=\"", "Zg=", 3);
	b64_reject("padding \"Zm9vYg==\"", "Zm9vYg==", 8);
	b64_reject("\"+\" (\"+/8\")", "+/8", 3);
	b64_reject("\"+\" (\"Zm9+\")", "Zm9+", 4);
	b64_reject("\"/\" (\"Zm9/\")", "Zm9/", 4);
	b64_reject("\"/\" (\"-/8\")", "-/8", 3);
	b64_reject("space inside", "Zm 9", 4);
	b64_reject("leading space", " Zm9", 4);
	b64_reject("trailing newline", "Zm9v\n\n", 6);
	b64_reject("CRLF at the end", "Zm9vYg\r\n", 8);
	b64_reject("tab inside", "Zm9v\tZg", 7);
	b64_reject("length 1", "Z", 1);
	b64_reject("length 5", "Zm9vY", 5);
	b64_reject("length 9", "Zm9vYmFyZ", 9);
	b64_reject("non-canonical \"Zh\" (canonical \"Zg\")", "Zh", 2);
	b64_reject("non-canonical \"Zm9\" (canonical \"Zm8\")", "Zm9", 3);
	b64_reject("non-canonical \"Zm9vYh\"", "Zm9vYh", 6);
	b64_reject("non-canonical \"Zm9vYmF\" (canonical \"Zm9vYmE\")", "Zm9vYmF", 7);
	b64_reject("non-canonical \"-_9\" (canonical \"-_8\")", "-_9", 3);
	b64_reject("embedded NUL \"Zm\\0v\"", "Zm\0v", 4);
	b64_reject("embedded NUL \"Zg\\0\"", "Zg\0", 3);
	b64_reject("trailing NULs \"Zm9v\\0\\0\"", "Zm9v\0\0", 6);
	b64_reject("high-bit byte", "Zm9\xc3", 4);

	/* every byte outside the alphabet, at every position of a full group
	 * and of both kinds of tail */
	bad = 0;
	for (i = 0; i < 256; i++)
	{
		char		s[8];
		size_t		pos;

		if (i != 0 && strchr(b64u_alpha, (int) i) != NULL)
			continue;
		for (pos = 0; pos < 4; pos++)
		{
			memcpy(s, "Zm9v", 4);
			s[pos] = (char) i;
			if (b64_accepts(s, 4, (uint8_t[3]) {0}, &n))
				bad++;
		}
		for (pos = 4; pos < 7; pos++)
		{
			memcpy(s, "Zm9vYmE", 7);
			s[pos] = (char) i;
			if (b64_accepts(s, 7, (uint8_t[6]) {0}, &n))
				bad++;
			if (pos < 6)
			{
				memcpy(s, "Zm9vYg", 6);
				s[pos] = (char) i;
				if (b64_accepts(s, 6, (uint8_t[6]) {0}, &n))
					bad++;
			}
		}
	}
	CHECK(bad == 0, "b64url: %u non-alphabet bytes accepted", bad);

	/* every 2-character string: accepted iff the 4 unused bits are zero,
	 * and then it is the encoding of what it decodes to */
	bad = 0;
	for (i = 0; i < 64 * 64; i++)
	{
		char		s[2] = {b64u_alpha[i / 64], b64u_alpha[i % 64]};
		uint8_t		o[1];
		char		re[4];
		bool		canon = ((i % 64) & 0x0f) == 0;

		if (b64_accepts(s, 2, o, &n) != canon)
			bad++;
		else if (canon)
		{
			csms_b64url_encode(o, 1, re);
			if (n != 1 || o[0] != (uint8_t) (((i / 64) << 2) | ((i % 64) >> 4)) ||
				memcmp(re, s, 2) != 0)
				bad++;
		}
	}
	CHECK(bad == 0, "b64url: %u of 4096 two-char strings wrongly handled", bad);

	/* every 3-character string: accepted iff the 2 unused bits are zero */
	bad = 0;
	for (i = 0; i < 64 * 64 * 64; i++)
	{
		char		s[3] = {b64u_alpha[i / 4096], b64u_alpha[(i / 64) % 64],
		b64u_alpha[i % 64]};
		uint8_t		o[2];
		char		re[4];
		bool		canon = ((i % 64) & 0x03) == 0;

		if (b64_accepts(s, 3, o, &n) != canon)
			bad++;
		else if (canon)
		{
			csms_b64url_encode(o, 2, re);
			if (n != 2 || memcmp(re, s, 3) != 0)
				bad++;
		}
	}
	CHECK(bad == 0, "b64url: %u of 262144 three-char strings wrongly handled", bad);

	/* random 4-character groups always decode and re-encode identically */
	bad = 0;
	for (i = 0; i < 20000; i++)
	{
		uint64_t	r = prng_next();
		char		s[4] = {b64u_alpha[r & 63], b64u_alpha[(r >> 6) & 63],
		b64u_alpha[(r >> 12) & 63], b64u_alpha[(r >> 18) & 63]};
		uint8_t		o[3];
		char		re[5];

		if (!b64_accepts(s, 4, o, &n) || n != 3)
			bad++;
		else
		{
			csms_b64url_encode(o, 3, re);
			if (memcmp(re, s, 4) != 0)
				bad++;
		}
	}
	CHECK(bad == 0, "b64url: %u random 4-char groups not round-tripped", bad);

	/* random bytes, lengths 0..64, in exactly-sized heap buffers */
	for (n = 0; n <= 64; n++)
	{
		uint8_t    *in = xmalloc(n);
		size_t		elen = csms_b64url_enclen(n);
		char	   *enc = xmalloc(elen + 1);
		size_t		dmax = csms_b64url_declen_max(elen);
		uint8_t    *dec = xmalloc(dmax);
		size_t		dlen = 999;
		size_t		j;
		bool		alpha_ok = true;
		csms_crypto_status st;

		prng_fill(in, n);
		csms_b64url_encode(in, n, enc);
		for (j = 0; j < elen; j++)
			if (enc[j] == '\0' || strchr(b64u_alpha, enc[j]) == NULL)
				alpha_ok = false;
		CHECK(elen == (4 * n + 2) / 3, "b64url len %zu: enclen %zu", n, elen);
		CHECK(alpha_ok && enc[elen] == '\0' && strlen(enc) == elen,
			  "b64url len %zu: encoding not alphabet + NUL", n);
		CHECK(dmax >= n, "b64url len %zu: declen_max %zu too small", n, dmax);
		st = csms_b64url_decode(enc, elen, dec, &dlen);
		CHECK(st == CSMS_OK && dlen == n && memcmp(dec, in, n) == 0,
			  "b64url len %zu: round trip (status %d, len %zu)", n, (int) st, dlen);
		free(in);
		free(enc);
		free(dec);
	}

	/* declen_max never below the real decoded length of any valid length */
	bad = 0;
	for (n = 0; n <= 4096; n++)
	{
		if (n % 4 == 1)
			continue;
		if (csms_b64url_declen_max(n) < (3 * n) / 4)
			bad++;
	}
	CHECK(bad == 0, "b64url: declen_max too small for %u lengths", bad);
}

/* hex ---------------------------------------------------------------------- */

static void
test_hex(void)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	uint8_t		all[256],
				back[256];
	char		text[513];
	uint8_t		out[8];
	size_t		i;
	unsigned	bad;
	csms_crypto_status st;

	memset(text, '#', sizeof(text));
	csms_hex_encode(bytes, sizeof(bytes), text);
	CHECK(strcmp(text, "00017f80abff") == 0, "hex encode gives \"%s\"", text);
	memset(text, '#', sizeof(text));
	csms_hex_encode(bytes, 0, text);
	CHECK(text[0] == '\0', "hex encode of nothing is \"\"");

	st = csms_hex_decode("00017f80abff", 12, out, 6);
	CHECK(st == CSMS_OK && memcmp(out, bytes, 6) == 0, "hex decode lower case");
	st = csms_hex_decode("00017F80ABFF", 12, out, 6);
	CHECK(st == CSMS_OK && memcmp(out, bytes, 6) == 0, "hex decode upper case");
	st = csms_hex_decode("00017f80aBfF", 12, out, 6);
	CHECK(st == CSMS_OK && memcmp(out, bytes, 6) == 0, "hex decode mixed case");
	st = csms_hex_decode("", 0, out, 0);
	CHECK(st == CSMS_OK, "hex decode of nothing");

	/* all byte values round trip */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t) i;
	csms_hex_encode(all, 256, text);
	CHECK(strlen(text) == 512, "hex encode of 256 bytes has 512 chars");
	st = csms_hex_decode(text, 512, back, 256);
	CHECK(st == CSMS_OK && memcmp(back, all, 256) == 0, "hex round trip 0..255");

	/* bad characters: ENCODING, output wiped */
	{
		static const char *const badin[] = {
			"0g", "g0", "zz", " 1", "1 ", "0x", "-1", "+1", "1\n", "\3770",
			"G0", "0G", "::", "@@", "``", "//",
		};

		for (i = 0; i < sizeof(badin) / sizeof(badin[0]); i++)
		{
			memset(out, 0x77, sizeof(out));
			st = csms_hex_decode(badin[i], 2, out, 1);
			CHECK(st == CSMS_ERR_ENCODING && out[0] == 0,
				  "hex rejects \"%s\" (got %d)", badin[i], (int) st);
		}
	}
	memset(out, 0x77, sizeof(out));
	st = csms_hex_decode("00\0" "0", 4, out, 2);
	CHECK(st == CSMS_ERR_ENCODING && all_zero(out, 2), "hex rejects embedded NUL");
	memset(out, 0x77, sizeof(out));
	st = csms_hex_decode("0011223x", 8, out, 4);
	CHECK(st == CSMS_ERR_ENCODING && all_zero(out, 4),
		  "hex bad last char: ENCODING and all output wiped");

	/* every non-hex byte in either position */
	bad = 0;
	for (i = 0; i < 256; i++)
	{
		char		s[2];

		if (nibble((char) i) >= 0)
			continue;
		s[0] = (char) i;
		s[1] = '0';
		if (csms_hex_decode(s, 2, out, 1) != CSMS_ERR_ENCODING)
			bad++;
		s[0] = '0';
		s[1] = (char) i;
		if (csms_hex_decode(s, 2, out, 1) != CSMS_ERR_ENCODING)
			bad++;
	}
	CHECK(bad == 0, "hex: %u non-hex bytes accepted", bad);

	/* wrong lengths: exactly 2*n characters are required */
	st = csms_hex_decode("001", 3, out, 2);
	CHECK(st == CSMS_ERR_LENGTH, "hex 3 chars for 2 bytes -> LENGTH (got %d)", (int) st);
	st = csms_hex_decode("00112", 5, out, 2);
	CHECK(st == CSMS_ERR_LENGTH, "hex 5 chars for 2 bytes -> LENGTH (got %d)", (int) st);
	st = csms_hex_decode("001122", 6, out, 2);
	CHECK(st == CSMS_ERR_LENGTH, "hex 6 chars for 2 bytes -> LENGTH (got %d)", (int) st);
	st = csms_hex_decode("", 0, out, 2);
	CHECK(st == CSMS_ERR_LENGTH, "hex 0 chars for 2 bytes -> LENGTH (got %d)", (int) st);
	st = csms_hex_decode("00", 2, out, 0);
	CHECK(st == CSMS_ERR_LENGTH, "hex 2 chars for 0 bytes -> LENGTH (got %d)", (int) st);
	st = csms_hex_decode("0", 1, out, 0);
	CHECK(st == CSMS_ERR_LENGTH, "hex 1 char -> LENGTH (got %d)", (int) st);
}

/* csms_ct_equal, csms_wipe -------------------------------------------------- */

static void
test_ct_equal_wipe(void)
{
	uint8_t		a[64],
				b[64];
	uint8_t		buf[48];
	size_t		i;
	unsigned	bad;

	prng_fill(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(csms_ct_equal(a, b, sizeof(a)), "ct_equal: equal buffers");
	CHECK(csms_ct_equal(a, a, sizeof(a)), "ct_equal: same buffer");
	CHECK(csms_ct_equal(a, b, 0), "ct_equal: length 0 is equal");
	b[0] ^= 1;
	CHECK(csms_ct_equal(a, b, 0), "ct_equal: length 0 ignores contents");
	CHECK(!csms_ct_equal(a, b, sizeof(a)), "ct_equal: first byte differs");
	CHECK(csms_ct_equal(a + 1, b + 1, sizeof(a) - 1), "ct_equal: equal tails");

	/* every single-bit difference anywhere is noticed */
	bad = 0;
	for (i = 0; i < sizeof(a) * 8; i++)
	{
		memcpy(b, a, sizeof(b));
		b[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (csms_ct_equal(a, b, sizeof(a)) || csms_ct_equal(b, a, sizeof(a)))
			bad++;
	}
	CHECK(bad == 0, "ct_equal: %u single-bit differences missed", bad);
	memcpy(b, a, sizeof(b));
	b[63] ^= 0x80;
	CHECK(!csms_ct_equal(a, b, 64), "ct_equal: last byte differs");
	CHECK(csms_ct_equal(a, b, 63), "ct_equal: difference beyond len ignored");

	/* wipe zeroes exactly the given range */
	memset(buf, 0xee, sizeof(buf));
	csms_wipe(buf + 8, 32);
	CHECK(all_byte(buf, 8, 0xee) && all_zero(buf + 8, 32) &&
		  all_byte(buf + 40, 8, 0xee), "wipe: zeroes exactly [8, 40)");
	memset(buf, 0xee, sizeof(buf));
	csms_wipe(buf, sizeof(buf));
	CHECK(all_zero(buf, sizeof(buf)), "wipe: whole buffer");
	memset(buf, 0xee, sizeof(buf));
	csms_wipe(buf, 0);
	CHECK(all_byte(buf, sizeof(buf), 0xee), "wipe: length 0 changes nothing");
	csms_wipe(NULL, 0);
	csms_wipe(NULL, 16);
	CHECK(true, "wipe: NULL pointer does not crash");
}

/* csms_random_bytes, csms_random_key, csms_random_index ---------------------- */

static void
test_random(void)
{
	uint8_t		r1[32],
				r2[32];
	uint32_t	v;
	size_t		i;
	csms_crypto_status st;

	CHECK(csms_random_bytes(r1, 0) == CSMS_OK, "random_bytes of 0 bytes");
	CHECK(csms_random_bytes(r1, sizeof(r1)) == CSMS_OK &&
		  csms_random_bytes(r2, sizeof(r2)) == CSMS_OK, "random_bytes status");
	CHECK(memcmp(r1, r2, sizeof(r1)) != 0, "random_bytes: two draws differ");

	/* data keys from the pool: distinct across refills, none left behind */
	{
		static uint8_t keys[100][32];
		uint8_t		zero[32] = {0};
		uint8_t		big[300];
		unsigned	same = 0,
					zeros = 0;
		size_t		j;

		for (i = 0; i < 100; i++)
		{
			CHECK(csms_random_key(keys[i], 32) == CSMS_OK, "random_key %zu status", i);
			if (memcmp(keys[i], zero, 32) == 0)
				zeros++;
			for (j = 0; j < i; j++)
				if (memcmp(keys[i], keys[j], 32) == 0)
					same++;
		}
		CHECK(same == 0 && zeros == 0, "random_key: 100 keys, %u equal pairs, %u zero", same, zeros);
		memset(big, 0, sizeof(big));
		CHECK(csms_random_key(big, sizeof(big)) == CSMS_OK &&
			  memcmp(big + 200, zero, 32) != 0, "random_key of %zu bytes", sizeof(big));
		CHECK(csms_random_key(r1, 0) == CSMS_OK, "random_key of 0 bytes");
	}

	/*
	 * a forked child never hands out the keys or nonces its parent will:
	 * both pools are partly used when the process forks
	 */
	{
		int			fds[2];
		pid_t		pid;
		uint8_t		parent[64],
					child[64];

		CHECK(csms_random_key(r1, 16) == CSMS_OK && csms_random_public(r2, 12) == CSMS_OK,
			  "random_key and random_public before fork");
		if (pipe(fds) == 0 && (pid = fork()) >= 0)
		{
			if (pid == 0)
			{
				uint8_t		k[64];

				close(fds[0]);
				if (csms_random_key(k, 32) != CSMS_OK ||
					csms_random_public(k + 32, 32) != CSMS_OK ||
					write(fds[1], k, sizeof(k)) != (ssize_t) sizeof(k))
					_exit(1);
				_exit(0);
			}
			close(fds[1]);
			CHECK(read(fds[0], child, sizeof(child)) == (ssize_t) sizeof(child),
				  "random pools: the child's bytes");
			close(fds[0]);
			waitpid(pid, NULL, 0);
			CHECK(csms_random_key(parent, 32) == CSMS_OK &&
				  memcmp(parent, child, 32) != 0,
				  "random_key: parent and forked child draw different keys");
			CHECK(csms_random_public(parent + 32, 32) == CSMS_OK &&
				  memcmp(parent + 32, child + 32, 32) != 0,
				  "random_public: parent and forked child draw different bytes");
		}
		else
			CHECK(false, "pipe or fork failed");
	}

	/* range, and every value of a small n is hit */
	{
		static const uint32_t ns[] = {1, 2, 3, 62, 65536};

		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		{
			uint32_t	n = ns[i];
			uint32_t	maxseen = 0;
			unsigned	out_of_range = 0,
						failed = 0;
			unsigned	seen[62] = {0};
			unsigned	k;
			unsigned	draws = n == 65536 ? 20000 : 5000;

			for (k = 0; k < draws; k++)
			{
				v = 0xdeadbeef;
				st = csms_random_index(n, &v);
				if (st != CSMS_OK)
					failed++;
				else if (v >= n)
					out_of_range++;
				else
				{
					if (v > maxseen)
						maxseen = v;
					if (n <= 62)
						seen[v]++;
				}
			}
			CHECK(failed == 0 && out_of_range == 0,
				  "random_index n=%u: %u failures, %u out of range",
				  (unsigned) n, failed, out_of_range);
			if (n <= 62)
			{
				unsigned	missing = 0;

				for (k = 0; k < n; k++)
					if (seen[k] == 0)
						missing++;
				CHECK(missing == 0, "random_index n=%u: %u values never drawn",
					  (unsigned) n, missing);
			}
			else
				CHECK(maxseen >= 60000,
					  "random_index n=65536: largest of 20000 draws is %u",
					  (unsigned) maxseen);
		}
	}

	st = csms_random_index(0, &v);
	CHECK(st == CSMS_ERR_LENGTH, "random_index n=0 -> LENGTH (got %d)", (int) st);
	st = csms_random_index(65537, &v);
	CHECK(st == CSMS_ERR_LENGTH, "random_index n=65537 -> LENGTH (got %d)", (int) st);
	st = csms_random_index(UINT32_MAX, &v);
	CHECK(st == CSMS_ERR_LENGTH, "random_index n=2^32-1 -> LENGTH (got %d)", (int) st);

	/*
	 * Gross-bias check: 60000 draws with n = 3.  Each count has mean 20000
	 * and standard deviation ~115, so the 5% band (+-1000) is ~8.7 sigma and
	 * a chi-square above 50 (2 degrees of freedom) has probability ~1e-11.
	 */
	{
		unsigned	cnt[3] = {0, 0, 0};
		unsigned	k;
		double		chi2 = 0.0;
		bool		band = true;

		for (k = 0; k < 60000; k++)
		{
			if (csms_random_index(3, &v) == CSMS_OK && v < 3)
				cnt[v]++;
		}
		for (k = 0; k < 3; k++)
		{
			double		d = (double) cnt[k] - 20000.0;

			chi2 += d * d / 20000.0;
			if (cnt[k] < 19000 || cnt[k] > 21000)
				band = false;
		}
		CHECK(band, "random_index n=3: counts %u %u %u outside 5%% of 20000",
			  cnt[0], cnt[1], cnt[2]);
		CHECK(chi2 < 50.0, "random_index n=3: chi-square %.1f", chi2);
	}

	/*
	 * Same with n = 62 (the password alphabet size): 62000 draws, mean 1000
	 * and sd ~31 per bucket; a 25% band is ~8 sigma, and chi-square above
	 * 200 with 61 degrees of freedom is far beyond any chance result.
	 */
	{
		unsigned	cnt[62] = {0};
		unsigned	k;
		unsigned	outside = 0;
		double		chi2 = 0.0;

		for (k = 0; k < 62000; k++)
		{
			if (csms_random_index(62, &v) == CSMS_OK && v < 62)
				cnt[v]++;
		}
		for (k = 0; k < 62; k++)
		{
			double		d = (double) cnt[k] - 1000.0;

			chi2 += d * d / 1000.0;
			if (cnt[k] < 750 || cnt[k] > 1250)
				outside++;
		}
		CHECK(outside == 0, "random_index n=62: %u buckets outside 25%% of 1000",
			  outside);
		CHECK(chi2 < 200.0, "random_index n=62: chi-square %.1f", chi2);
	}
}

static void
test_strerror(void)
{
	static const csms_crypto_status all[] = {
		CSMS_OK, CSMS_ERR_AUTH, CSMS_ERR_LENGTH, CSMS_ERR_ENCODING,
		CSMS_ERR_RANDOM, CSMS_ERR_OPENSSL
	};
	size_t		i,
				j;
	unsigned	bad = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
	{
		const char *s = csms_crypto_strerror(all[i]);

		if (s == NULL || s[0] == '\0')
			bad++;
		for (j = 0; j < i && s != NULL; j++)
			if (strcmp(s, csms_crypto_strerror(all[j])) == 0)
				bad++;
	}
	CHECK(bad == 0, "strerror: %u empty or duplicate messages", bad);
}

/*
 * UUID version 7: the example of RFC 9562 appendix A.6 (unix_ts_ms
 * 0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F), then generated
 * ones: version and variant bits, the clock's millisecond, strictly
 * increasing in a process, never two alike.
 */
static void
test_uuid7(void)
{
	static const uint8_t rfc[16] = {
		0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
		0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f
	};
	uint8_t		u[16],
				prev[16];
	unsigned	bad_bits = 0,
				not_after = 0,
				off_clock = 0;
	int			i;
	struct timespec ts;

	csms_uuid7_layout(u, UINT64_C(0x017F22E279B0), 0xCC3, UINT64_C(0x18C4DC0C0C07398F));
	CHECK(memcmp(u, rfc, 16) == 0, "uuid7: RFC 9562 A.6 example");
	/* only the low 62 bits of rand_b and 12 of rand_a are used */
	csms_uuid7_layout(prev, UINT64_C(0x017F22E279B0), 0xFCC3, UINT64_C(0xD8C4DC0C0C07398F));
	CHECK(memcmp(prev, rfc, 16) == 0, "uuid7: high bits of rand_a and rand_b ignored");

	memset(prev, 0, sizeof(prev));
	for (i = 0; i < 100000; i++)
	{
		uint64_t	ms = 0;
		int			j;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (csms_uuid7(u) != CSMS_OK)
		{
			bad_bits++;
			break;
		}
		if ((u[6] >> 4) != 7 || (u[8] >> 6) != 2)
			bad_bits++;
		if (memcmp(u, prev, 16) <= 0)
			not_after++;
		for (j = 0; j < 6; j++)
			ms = (ms << 8) | u[j];
		/* made after the clock was read, at most a second later */
		if (ms + 1 < (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ||
			ms > (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1000)
			off_clock++;
		memcpy(prev, u, 16);
	}
	CHECK(bad_bits == 0, "uuid7: version 7 and variant bits in 100000 ids (%u wrong)", bad_bits);
	CHECK(not_after == 0, "uuid7: each id above the one before (%u not)", not_after);
	CHECK(off_clock == 0, "uuid7: the time field is the clock's millisecond (%u off)", off_clock);

	/*
	 * per-process tables pick one of 4096 sets by csms_id_hash64: 10,000 ids
	 * made in a burst (one leading time for all) must spread over them as
	 * random ones would (about 3,750 sets used; their first two bytes, what
	 * the tables used to take, give one or two), and the salt moves an id
	 * to another set
	 */
	{
		static uint8_t used[4096];
		unsigned	sets = 0,
					moved = 0;

		for (i = 0; i < 10000; i++)
		{
			uint64_t	h;

			if (csms_uuid7(u) != CSMS_OK)
				break;
			h = csms_id_hash64(u, 0);
			if (!used[h % 4096]++)
				sets++;
			if (csms_id_hash64(u, 1) % 4096 != h % 4096)
				moved++;
		}
		CHECK(sets > 3500, "id_hash64: 10000 ids of one burst in %u of 4096 sets", sets);
		CHECK(moved > 9900, "id_hash64: another salt, another set (%u of 10000)", moved);
	}
}

int
main(void)
{
	test_gcm();
	test_seal();
	test_seal_kept();
	test_kw();
	test_hmac();
	test_b64url();
	test_hex();
	test_ct_equal_wipe();
	test_random();
	test_uuid7();
	test_strerror();

	printf("%lu passed, %lu failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
