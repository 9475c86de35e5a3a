/*-------------------------------------------------------------------------
 *
 * test_blob.c
 *	  Unit tests of the backup blob codec (src/blob.c), built without
 *	  PostgreSQL.  Prints one line per failed check and ends with
 *	  "N passed, M failed"; exits 0 only when nothing failed.
 *
 *	  Known answers come from published documents only:
 *	  - RFC 7520 section 5.8 (A128KW + A128GCM), figures 72 and 151-159:
 *	    the whole compact JWE goes through the same parser and decryption
 *	    code as a blob (profile CSMS_JWE_A128KW_A128GCM), and the key wrap
 *	    and content encryption steps are checked in the encrypt direction;
 *	  - RFC 7516 appendix A.1 (A256GCM content encryption, with the encoded
 *	    protected header as AAD), sections A.1.1-A.1.6;
 *	  - RFC 3394 section 4.6 (256-bit KEK wrapping 256 bits of key data),
 *	    the A256KW step with exactly the sizes a blob uses.
 *	  No published vector exists for A256KW + A256GCM as a whole.
 *
 * test/test_blob.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "crypto.h"

static int	n_passed;
static int	n_failed;

static void
check(int ok, int line, const char *fmt,...)
{
	va_list		ap;

	if (ok)
	{
		n_passed++;
		return;
	}
	n_failed++;
	printf("FAIL test_blob.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define CHECK(cond, ...) check((cond) ? 1 : 0, __LINE__, __VA_ARGS__)

static const char *
sname(csms_blob_status st)
{
	static const char *const names[] = {
		"OK", "EMPTY", "TOO_LONG", "PREFIX", "SEGMENTS", "BASE64",
		"HEADER_JSON", "ALG", "ENC", "KID", "ENCRYPTED_KEY_LEN", "IV_LEN",
		"TAG_LEN", "UNWRAP", "DECRYPT", "NOMEM", "RANDOM", "CRYPTO", "ARGUMENT"
	};

	if ((unsigned) st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "?";
}

/* helpers ---------------------------------------------------------------- */

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
	{
		printf("out of memory\n");
		exit(2);
	}
	return p;
}

static char *
b64(const uint8_t *in, size_t n)
{
	char	   *s = xmalloc(csms_b64url_enclen(n) + 1);

	csms_b64url_encode(in, n, s);
	return s;
}

static char *
b64s(const char *s)
{
	return b64((const uint8_t *) s, strlen(s));
}

/* decode a base64url literal from a published vector */
static uint8_t *
unb64(const char *s, size_t *outlen)
{
	size_t		n = strlen(s);
	uint8_t    *out = xmalloc(csms_b64url_declen_max(n));

	if (csms_b64url_decode(s, n, out, outlen) != CSMS_OK)
	{
		printf("bad base64url literal in the test: %s\n", s);
		exit(2);
	}
	return out;
}

/* prefix + five segments joined by dots */
static char *
join5(const char *prefix, const char *s0, const char *s1, const char *s2,
	  const char *s3, const char *s4)
{
	size_t		n = strlen(prefix) + strlen(s0) + strlen(s1) + strlen(s2) +
		strlen(s3) + strlen(s4) + 4;
	char	   *out = xmalloc(n + 1);

	snprintf(out, n + 1, "%s%s.%s.%s.%s.%s", prefix, s0, s1, s2, s3, s4);
	return out;
}

/* a blob of raw parts: header JSON text and byte counts of random segments */
static char *
make_blob(const char *header_json, size_t hlen, size_t eklen, size_t ivlen,
		  size_t ctlen, size_t taglen)
{
	uint8_t		buf[256];
	char	   *h,
			   *ek,
			   *iv,
			   *ct,
			   *tag,
			   *out;

	memset(buf, 0x5a, sizeof(buf));
	h = b64((const uint8_t *) header_json, hlen);
	ek = b64(buf, eklen);
	iv = b64(buf, ivlen);
	ct = b64(buf, ctlen);
	tag = b64(buf, taglen);
	out = join5(CSMS_BLOB_PREFIX, h, ek, iv, ct, tag);
	free(h);
	free(ek);
	free(iv);
	free(ct);
	free(tag);
	return out;
}

static const char good_header[] = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"bk-1\"}";

static char *
make_blob_hdr(const char *header_json)
{
	return make_blob(header_json, strlen(header_json), 40, 12, 20, 16);
}

/*
 * Build a real blob with the crypto building blocks, independently of
 * csms_blob_seal: any header, AAD = encoded header (or, when wrong_aad, the
 * decoded header, which a conforming reader must reject).
 */
static char *
build_blob(const char *header_json, const uint8_t key[32],
		   const uint8_t *pt, size_t ptlen, int wrong_aad)
{
	uint8_t		cek[32],
				ek[40],
				iv[12],
				tag[16];
	uint8_t    *ct = xmalloc(ptlen);
	char	   *h,
			   *s1,
			   *s2,
			   *s3,
			   *s4,
			   *out;

	csms_random_bytes(cek, sizeof(cek));
	csms_random_bytes(iv, sizeof(iv));
	csms_aes_kw_wrap(key, 32, cek, 32, ek);
	h = b64s(header_json);
	if (wrong_aad)
		csms_gcm_encrypt(cek, 32, iv, 12, (const uint8_t *) header_json,
						 strlen(header_json), pt, ptlen, ct, tag);
	else
		csms_gcm_encrypt(cek, 32, iv, 12, (const uint8_t *) h, strlen(h),
						 pt, ptlen, ct, tag);
	s1 = b64(ek, 40);
	s2 = b64(iv, 12);
	s3 = b64(ct, ptlen);
	s4 = b64(tag, 16);
	out = join5(CSMS_BLOB_PREFIX, h, s1, s2, s3, s4);
	free(h);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	free(ct);
	return out;
}

/* parse a copy of exactly len bytes (no NUL), so that over-reads show */
static csms_blob_status
parse_exact(const char *blob, size_t len, csms_blob_parsed *p)
{
	char	   *copy = xmalloc(len);
	csms_blob_status st;

	if (len > 0)
		memcpy(copy, blob, len);
	st = csms_blob_parse(copy, len, NULL, p);
	free(copy);
	return st;
}

static void
expect_parse(const char *blob, size_t len, csms_blob_status want,
			 const char *what, int line)
{
	csms_blob_parsed p;
	csms_blob_status st = parse_exact(blob, len, &p);

	check(st == want, line, "%s: parse gave %s, want %s", what, sname(st),
		  sname(want));
	csms_blob_parsed_free(&p);
}

#define EXPECT_PARSE(blob, want, what) \
	expect_parse((blob), strlen(blob), (want), (what), __LINE__)

static void
expect_hdr(const char *header_json, csms_blob_status want, int line)
{
	char	   *blob = make_blob_hdr(header_json);

	expect_parse(blob, strlen(blob), want, header_json, line);
	free(blob);
}

#define EXPECT_HDR(h, want) expect_hdr((h), (want), __LINE__)

/*
 * Parse and open; returns the first failing status or OK.  Never leaks;
 * on success compares the payload when want_pt is given.
 */
static csms_blob_status
parse_open(const char *blob, size_t len, const uint8_t key[32],
		   const uint8_t *want_pt, size_t want_len, int *payload_returned)
{
	csms_blob_parsed p;
	csms_blob_status st;
	uint8_t    *pt = NULL;
	size_t		ptlen = 0;

	*payload_returned = 0;
	st = parse_exact(blob, len, &p);
	if (st != CSMS_BLOB_OK)
		return st;
	st = csms_blob_open(&p, key, &pt, &ptlen);
	if (st == CSMS_BLOB_OK)
	{
		*payload_returned = pt != NULL;
		if (want_pt != NULL && (ptlen != want_len ||
								(want_len > 0 && memcmp(pt, want_pt, want_len) != 0)))
			st = CSMS_BLOB_ERR_CRYPTO;	/* marks "wrong payload" */
		csms_free_secret(NULL, pt, ptlen);
	}
	else if (pt != NULL || ptlen != 0)
		*payload_returned = 1;
	csms_blob_parsed_free(&p);
	return st;
}

/* a tracking allocator ---------------------------------------------------- */

typedef struct track
{
	long		outstanding;
	long		nalloc;
	long		fail_at;		/* fail the n-th allocation (1-based); 0: never */
	int			last_free_zero; /* was the last freed buffer all zero? */
	size_t		last_free_size;
} track;

static void *
track_alloc(void *ctx, size_t size)
{
	track	   *t = ctx;
	size_t	   *h;

	t->nalloc++;
	if (t->fail_at != 0 && t->nalloc == t->fail_at)
		return NULL;
	h = xmalloc(sizeof(size_t) * 2 + size);
	h[0] = size;
	memset(h + 2, 0xaa, size);	/* so that "wiped" means written as zeros */
	t->outstanding++;
	return h + 2;
}

static void
track_free(void *ctx, void *ptr)
{
	track	   *t = ctx;
	size_t	   *h = (size_t *) ptr - 2;
	const uint8_t *b = ptr;
	size_t		i;

	t->last_free_size = h[0];
	t->last_free_zero = 1;
	for (i = 0; i < h[0]; i++)
		if (b[i] != 0)
			t->last_free_zero = 0;
	t->outstanding--;
	free(h);
}

/* tests ------------------------------------------------------------------ */

static uint8_t key1[32];
static uint8_t key2[32];

static void
test_round_trip(void)
{
	static const size_t sizes[] = {0, 1, 1000, 100000};
	size_t		i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		size_t		n = sizes[i];
		uint8_t    *pt = xmalloc(n);
		char	   *blob = NULL,
				   *blob2 = NULL;
		size_t		len = 0,
					len2 = 0;
		csms_blob_parsed p;
		csms_blob_status st;
		uint8_t    *out = NULL;
		size_t		outlen = 0;
		size_t		j;
		int			dots = 0,
					charset_ok = 1;

		csms_random_bytes(pt, n);
		st = csms_blob_seal("backup-key-1", key1, n ? pt : NULL, n, NULL, &blob, &len);
		CHECK(st == CSMS_BLOB_OK, "seal %zu bytes: %s", n, sname(st));
		if (st != CSMS_BLOB_OK)
		{
			free(pt);
			continue;
		}
		CHECK(strlen(blob) == len, "seal %zu: length %zu vs strlen %zu", n, len, strlen(blob));
		CHECK(len <= CSMS_BLOB_MAX_LEN, "seal %zu: too long", n);
		CHECK(strncmp(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN) == 0, "seal %zu: prefix", n);
		for (j = CSMS_BLOB_PREFIX_LEN; j < len; j++)
		{
			char		c = blob[j];

			if (c == '.')
				dots++;
			else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
					   (c >= '0' && c <= '9') || c == '-' || c == '_'))
				charset_ok = 0;
		}
		CHECK(dots == 4 && charset_ok, "seal %zu: not five base64url segments", n);

		st = parse_exact(blob, len, &p);
		CHECK(st == CSMS_BLOB_OK, "parse %zu: %s", n, sname(st));
		if (st == CSMS_BLOB_OK)
		{
			const char *want_h = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"backup-key-1\"}";

			CHECK(strcmp(p.kid, "backup-key-1") == 0 && p.kid_len == 12, "parse %zu: kid", n);
			CHECK(p.header_len == strlen(want_h) &&
				  memcmp(p.header, want_h, p.header_len) == 0,
				  "parse %zu: header is not exactly the sealed one", n);
			CHECK(p.encrypted_key_len == 40 && p.iv_len == 12 && p.tag_len == 16 &&
				  p.ciphertext_len == n, "parse %zu: segment lengths", n);
			CHECK(p.aad_len == csms_b64url_enclen(strlen(want_h)) &&
				  memcmp(p.aad, blob + CSMS_BLOB_PREFIX_LEN, p.aad_len) == 0,
				  "parse %zu: aad is not the encoded header", n);

			st = csms_blob_open(&p, key1, &out, &outlen);
			CHECK(st == CSMS_BLOB_OK, "open %zu: %s", n, sname(st));
			CHECK(out != NULL, "open %zu: payload pointer is NULL", n);
			CHECK(outlen == n && (n == 0 || memcmp(out, pt, n) == 0),
				  "open %zu: payload differs", n);
			csms_free_secret(NULL, out, outlen);

			/* wrong key */
			st = csms_blob_open(&p, key2, &out, &outlen);
			CHECK(st == CSMS_BLOB_ERR_UNWRAP && out == NULL && outlen == 0,
				  "open %zu with the wrong key: %s", n, sname(st));
			csms_blob_parsed_free(&p);
			csms_blob_parsed_free(&p);	/* idempotent */
		}

		/* every seal uses a fresh CEK and IV */
		st = csms_blob_seal("backup-key-1", key1, n ? pt : NULL, n, NULL, &blob2, &len2);
		CHECK(st == CSMS_BLOB_OK && len2 == len && strcmp(blob, blob2) != 0,
			  "seal %zu twice gave the same blob", n);
		free(blob2);
		free(blob);
		free(pt);
	}
}

static void
test_wrong_key(void)
{
	uint8_t		pt[64];
	uint8_t		k[32];
	char	   *blob = NULL;
	size_t		len;
	int			ret,
				i;
	csms_blob_status st;

	memset(pt, 7, sizeof(pt));
	csms_blob_seal("k", key1, pt, sizeof(pt), NULL, &blob, &len);
	st = parse_open(blob, len, key2, NULL, 0, &ret);
	CHECK(st == CSMS_BLOB_ERR_UNWRAP && !ret, "random wrong key: %s", sname(st));
	for (i = 0; i < 256; i += 37)
	{
		memcpy(k, key1, 32);
		k[i / 8] ^= (uint8_t) (1 << (i % 8));
		st = parse_open(blob, len, k, NULL, 0, &ret);
		CHECK(st == CSMS_BLOB_ERR_UNWRAP && !ret, "key with bit %d flipped: %s", i, sname(st));
	}
	st = parse_open(blob, len, key1, pt, sizeof(pt), &ret);
	CHECK(st == CSMS_BLOB_OK && ret, "right key: %s", sname(st));
	free(blob);
}

static void
test_kid(void)
{
	char		kid128[129],
				kid129[130];
	const char *odd = "a\"b\\c d/e{}";
	char	   *blob = NULL;
	size_t		len;
	csms_blob_parsed p;
	csms_blob_status st;

	memset(kid128, 'k', 128);
	kid128[128] = '\0';
	memset(kid129, 'k', 129);
	kid129[129] = '\0';

	st = csms_blob_seal(kid128, key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_OK, "seal with a 128-character kid: %s", sname(st));
	if (st == CSMS_BLOB_OK)
	{
		st = parse_exact(blob, len, &p);
		CHECK(st == CSMS_BLOB_OK && strcmp(p.kid, kid128) == 0, "parse 128-character kid: %s", sname(st));
		csms_blob_parsed_free(&p);
		free(blob);
	}

	/* kid that needs JSON escaping */
	st = csms_blob_seal(odd, key1, (const uint8_t *) "x", 1, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_OK, "seal with quote and backslash in kid: %s", sname(st));
	if (st == CSMS_BLOB_OK)
	{
		uint8_t    *out = NULL;
		size_t		outlen = 0;

		st = parse_exact(blob, len, &p);
		CHECK(st == CSMS_BLOB_OK && strcmp(p.kid, odd) == 0, "escaped kid round trip: %s", sname(st));
		if (st == CSMS_BLOB_OK)
		{
			st = csms_blob_open(&p, key1, &out, &outlen);
			CHECK(st == CSMS_BLOB_OK && outlen == 1 && out[0] == 'x', "open escaped kid: %s", sname(st));
			csms_free_secret(NULL, out, outlen);
		}
		csms_blob_parsed_free(&p);
		free(blob);
	}

	blob = (char *) 1;
	st = csms_blob_seal("", key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_KID && blob == NULL, "seal with empty kid: %s", sname(st));
	st = csms_blob_seal(kid129, key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_KID, "seal with 129-character kid: %s", sname(st));
	st = csms_blob_seal("a\tb", key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_KID, "seal with tab in kid: %s", sname(st));
	st = csms_blob_seal("caf\xc3\xa9", key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_KID, "seal with non-ASCII kid: %s", sname(st));
	st = csms_blob_seal("a\x7f", key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_KID, "seal with DEL in kid: %s", sname(st));
}

static void
test_arguments(void)
{
	char	   *blob = NULL;
	size_t		len = 0;
	csms_blob_parsed p;
	uint8_t    *out = (uint8_t *) 1;
	size_t		outlen = 99;
	csms_allocator bad = {NULL, NULL, NULL};
	csms_blob_status st;

	CHECK(csms_blob_seal(NULL, key1, NULL, 0, NULL, &blob, &len) == CSMS_BLOB_ERR_ARGUMENT, "seal NULL kid");
	CHECK(csms_blob_seal("k", NULL, NULL, 0, NULL, &blob, &len) == CSMS_BLOB_ERR_ARGUMENT, "seal NULL key");
	CHECK(csms_blob_seal("k", key1, NULL, 5, NULL, &blob, &len) == CSMS_BLOB_ERR_ARGUMENT, "seal NULL payload");
	CHECK(csms_blob_seal("k", key1, NULL, 0, NULL, NULL, &len) == CSMS_BLOB_ERR_ARGUMENT, "seal NULL out");
	CHECK(csms_blob_seal("k", key1, NULL, 0, &bad, &blob, &len) == CSMS_BLOB_ERR_ARGUMENT, "seal bad allocator");
	CHECK(csms_blob_parse(NULL, 3, NULL, &p) == CSMS_BLOB_ERR_ARGUMENT, "parse NULL blob");
	CHECK(csms_blob_parse("x", 1, NULL, NULL) == CSMS_BLOB_ERR_ARGUMENT, "parse NULL out");
	CHECK(csms_blob_parse(NULL, 0, NULL, &p) == CSMS_BLOB_ERR_EMPTY, "parse NULL, 0");
	memset(&p, 0, sizeof(p));
	st = csms_blob_open(&p, key1, &out, &outlen);
	CHECK(st == CSMS_BLOB_ERR_ARGUMENT && out == NULL && outlen == 0, "open a zeroed parsed struct: %s", sname(st));
	CHECK(csms_blob_open(NULL, key1, &out, &outlen) == CSMS_BLOB_ERR_ARGUMENT, "open NULL");
	csms_blob_parsed_free(NULL);
	csms_blob_parsed_free(&p);
	csms_free_secret(NULL, NULL, 10);
}

static void
test_strerror(void)
{
	int			i,
				j;

	for (i = 0; i <= CSMS_BLOB_ERR_ARGUMENT; i++)
	{
		const char *s = csms_blob_strerror((csms_blob_status) i);

		CHECK(s != NULL && s[0] >= 'a' && s[0] <= 'z' &&
			  strcmp(s, "unknown blob error") != 0,
			  "strerror(%s) is not a lower-case reason", sname((csms_blob_status) i));
		for (j = 0; j < i; j++)
			CHECK(strcmp(s, csms_blob_strerror((csms_blob_status) j)) != 0,
				  "strerror(%s) == strerror(%s)", sname((csms_blob_status) i),
				  sname((csms_blob_status) j));
	}
	CHECK(strcmp(csms_blob_strerror(CSMS_BLOB_ERR_PREFIX),
				 "the blob does not start with the backup prefix") == 0, "prefix message");
	CHECK(strcmp(csms_blob_strerror((csms_blob_status) 1000), "unknown blob error") == 0, "unknown status");
}

static void
test_length_limits(void)
{
	size_t		n = CSMS_BLOB_MAX_LEN + 1;
	char	   *big = xmalloc(n);
	char	   *blob = NULL;
	size_t		len,
				overhead,
				avail,
				nmax;
	uint8_t    *pt;
	csms_blob_status st;
	int			ret;

	memcpy(big, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN);
	memset(big + CSMS_BLOB_PREFIX_LEN, 'A', n - CSMS_BLOB_PREFIX_LEN);
	expect_parse(big, n, CSMS_BLOB_ERR_TOO_LONG, "5242881 characters", __LINE__);
	expect_parse(big, n - 1, CSMS_BLOB_ERR_SEGMENTS, "5242880 characters, no dots", __LINE__);
	big[0] = 'x';
	expect_parse(big, n, CSMS_BLOB_ERR_TOO_LONG, "too long beats prefix", __LINE__);
	free(big);

	/* the biggest payload that fits, and one more byte */
	st = csms_blob_seal("kid-of-some-length", key1, NULL, 0, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_OK, "seal empty: %s", sname(st));
	free(blob);
	overhead = len;
	avail = CSMS_BLOB_MAX_LEN - overhead;
	nmax = avail / 4 * 3;
	while (csms_b64url_enclen(nmax + 1) <= avail)
		nmax++;
	pt = xmalloc(nmax + 1);
	memset(pt, 0xa5, nmax + 1);
	st = csms_blob_seal("kid-of-some-length", key1, pt, nmax, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_OK && len <= CSMS_BLOB_MAX_LEN,
		  "seal the largest payload (%zu bytes): %s", nmax, sname(st));
	if (st == CSMS_BLOB_OK)
	{
		st = parse_open(blob, len, key1, pt, nmax, &ret);
		CHECK(st == CSMS_BLOB_OK && ret, "open the largest blob (%zu chars): %s", len, sname(st));
		free(blob);
	}
	blob = (char *) 1;
	st = csms_blob_seal("kid-of-some-length", key1, pt, nmax + 1, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_TOO_LONG && blob == NULL, "seal one byte too many: %s", sname(st));
	st = csms_blob_seal("k", key1, pt, (size_t) -1, NULL, &blob, &len);
	CHECK(st == CSMS_BLOB_ERR_TOO_LONG, "seal SIZE_MAX bytes: %s", sname(st));
	free(pt);
}

static void
test_structure_errors(void)
{
	char	   *blob,
			   *h,
			   *s;
	char		buf[512];

	EXPECT_PARSE("", CSMS_BLOB_ERR_EMPTY, "empty");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.co", CSMS_BLOB_ERR_PREFIX, "prefix cut short");
	EXPECT_PARSE("(CloudSecretManagementBackupV1.coma.b.c.d.e", CSMS_BLOB_ERR_PREFIX, "first byte");
	EXPECT_PARSE(")cloudSecretManagementBackupV1.coma.b.c.d.e", CSMS_BLOB_ERR_PREFIX, "case");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.comx", CSMS_BLOB_ERR_SEGMENTS, "prefix + one segment");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.com", CSMS_BLOB_ERR_SEGMENTS, "prefix only");
	EXPECT_PARSE("eyJhbGciOiJBMjU2S1cifQ.AAAA.AAAA.AAAA.AAAA", CSMS_BLOB_ERR_PREFIX, "bare JWE");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.com....", CSMS_BLOB_ERR_HEADER_JSON, "five empty segments");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.com...", CSMS_BLOB_ERR_SEGMENTS, "four empty segments");
	EXPECT_PARSE(")CloudSecretManagementBackupV1.com.....", CSMS_BLOB_ERR_SEGMENTS, "six empty segments");

	/* a valid-looking blob with a segment too few or too many */
	blob = make_blob_hdr(good_header);
	EXPECT_PARSE(blob, CSMS_BLOB_OK, "control");
	snprintf(buf, sizeof(buf), "%s.AAAA", blob);
	EXPECT_PARSE(buf, CSMS_BLOB_ERR_SEGMENTS, "six segments");
	*strrchr(blob, '.') = '\0';
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_SEGMENTS, "four segments");
	free(blob);

	/* strict base64url, in every segment */
	{
		int			seg;

		for (seg = 0; seg < 5; seg++)
		{
			static const char *const bad[] = {"=", "==", "+", "/", " ", "A", "\n", "*"};
			size_t		k;

			for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			{
				char	   *segs[5];
				uint8_t		z[40];
				int			i;

				memset(z, 0x11, sizeof(z));
				segs[0] = b64s(good_header);
				segs[1] = b64(z, 40);
				segs[2] = b64(z, 12);
				segs[3] = b64(z, 20);
				segs[4] = b64(z, 16);
				s = xmalloc(strlen(segs[seg]) + 2);
				if (bad[k][0] == '+' || bad[k][0] == '/' || bad[k][0] == '*')
				{
					/* replace the first character */
					strcpy(s, segs[seg]);
					s[0] = bad[k][0];
				}
				else if (bad[k][0] == 'A')
				{
					/* pad with 'A' to a length of 1 mod 4 */
					size_t		l = strlen(segs[seg]);

					free(s);
					s = xmalloc(l + 5);
					strcpy(s, segs[seg]);
					do
						s[l++] = 'A';
					while (l % 4 != 1);
					s[l] = '\0';
				}
				else
					snprintf(s, strlen(segs[seg]) + 2, "%s%s", segs[seg], bad[k]);
				free(segs[seg]);
				segs[seg] = s;
				blob = join5(CSMS_BLOB_PREFIX, segs[0], segs[1], segs[2], segs[3], segs[4]);
				snprintf(buf, sizeof(buf), "segment %d with \"%s\"", seg, bad[k][0] == '\n' ? "\\n" : bad[k]);
				expect_parse(blob, strlen(blob), CSMS_BLOB_ERR_BASE64, buf, __LINE__);
				free(blob);
				for (i = 0; i < 5; i++)
					free(segs[i]);
			}
		}
	}

	/* non-zero unused bits: "AB" decodes to one byte only if the low bits
	 * of 'B' are zero; they are not */
	h = b64s(good_header);
	blob = join5(CSMS_BLOB_PREFIX, h, "AB", "AAAA", "AAAA", "AAAA");
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_BASE64, "non-zero trailing bits");
	free(blob);
	/* a NUL inside the blob */
	{
		char	   *b2 = make_blob_hdr(good_header);
		size_t		l = strlen(b2);

		b2[l - 3] = '\0';
		expect_parse(b2, l, CSMS_BLOB_ERR_BASE64, "NUL in the tag", __LINE__);
		free(b2);
	}
	free(h);

	/* decoded lengths */
	blob = make_blob(good_header, strlen(good_header), 39, 12, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN, "ek 39");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 41, 12, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN, "ek 41");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 24, 12, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN, "ek 24 (A128KW size)");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 0, 12, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN, "ek 0");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 11, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_IV_LEN, "iv 11");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 13, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_IV_LEN, "iv 13");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 16, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_IV_LEN, "iv 16");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 0, 5, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_IV_LEN, "iv 0");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 12, 5, 15);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_TAG_LEN, "tag 15");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 12, 5, 17);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_TAG_LEN, "tag 17");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 12, 5, 0);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_TAG_LEN, "tag 0");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 12, 0, 16);
	EXPECT_PARSE(blob, CSMS_BLOB_OK, "empty ciphertext is fine");
	free(blob);

	/* the order of the checks */
	EXPECT_PARSE("(CloudSecretManagementBackupV1.com", CSMS_BLOB_ERR_PREFIX, "prefix before segments");
	h = b64s("not json");
	blob = join5(CSMS_BLOB_PREFIX, h, "AAAA", "A", "AAAA", "AAAA");
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_BASE64, "base64 (iv) before header JSON");
	free(blob);
	free(h);
	blob = make_blob_hdr("{\"alg\":\"x\",\"enc\":\"y\"}");
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ALG, "alg before enc and kid");
	free(blob);
	blob = make_blob_hdr("{\"alg\":\"A256KW\",\"enc\":\"y\"}");
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENC, "enc before kid");
	free(blob);
	{
		const char *hk = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\"}";

		blob = make_blob(hk, strlen(hk), 3, 3, 3, 3);
		EXPECT_PARSE(blob, CSMS_BLOB_ERR_KID, "kid before segment lengths");
		free(blob);
	}
	blob = make_blob(good_header, strlen(good_header), 3, 3, 3, 3);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN, "ek before iv and tag");
	free(blob);
	blob = make_blob(good_header, strlen(good_header), 40, 3, 3, 3);
	EXPECT_PARSE(blob, CSMS_BLOB_ERR_IV_LEN, "iv before tag");
	free(blob);
}

static void
test_header_json(void)
{
	char		deep[256];
	int			i;
	size_t		pos;

	/* not JSON objects */
	EXPECT_HDR("", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR(" ", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("[]", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("[{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}]", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("\"x\"", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("1", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("null", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("true", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\"", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\"", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("\xef\xbb\xbf{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);

	/* trailing garbage */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}x", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}{}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"} ,", CSMS_BLOB_ERR_HEADER_JSON);
	{
		static const char h[] = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}\0";
		char	   *blob = make_blob(h, sizeof(h) - 1, 40, 12, 5, 16);

		EXPECT_PARSE(blob, CSMS_BLOB_ERR_HEADER_JSON, "NUL after the object");
		free(blob);
	}

	/* syntax */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{,\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\" \"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\" \"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\"=\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{alg:\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{'alg':'A256KW','enc':'A256GCM','kid':'k'}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":[1,]}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":[1 2]}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":[}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":{\"a\"}}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"\x0b}", CSMS_BLOB_ERR_HEADER_JSON);

	/* duplicate member names, at every level, compared after unescaping */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"k\\u0069d\":\"k\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":1,\"y\":2,\"x\":3}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":{\"a\":1,\"a\":2}}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":[{\"b\":1,\"\\u0062\":2}]}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"\":1,\"\":2}", CSMS_BLOB_ERR_HEADER_JSON);
	/* not duplicates */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":{\"alg\":1,\"kid\":{\"kid\":2}},\"y\":{\"alg\":3}}", CSMS_BLOB_OK);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"a\":1,\"ab\":2,\"a\\u0000\":3,\"\":4}", CSMS_BLOB_OK);

	/* strings */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\ud800\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\udc00\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\ud800\\u0041\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\ud800\\ud800\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\ud800x\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"\\udfff\":1}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\x41\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\u12\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\u12G4\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\U0041\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\\\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"a\x01" "b\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"a\nb\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"a\tb\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xff\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xc0\xaf\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xe0\x80\xaf\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xed\xa0\x80\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xe2\x82\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xf4\x90\x80\x80\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xf0\x8f\xbf\xbf\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\x80\"}", CSMS_BLOB_ERR_HEADER_JSON);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":\"\xf0\x9f\x98\"}", CSMS_BLOB_ERR_HEADER_JSON);

	/* numbers and literals */
	{
		static const char *const badvals[] = {
			"01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "0x10",
			"NaN", "Infinity", "-Infinity", "1.e5", "1ee5", "tru", "nul",
			"True", "falsee", "nulll", "'x'", "undefined", "1 2"
		};
		static const char *const goodvals[] = {
			"0", "-0", "1", "-12", "1.5", "-0.0e0", "1e10", "1E+10", "2.5e-3",
			"123456789012345678901234567890", "true", "false", "null", "[]",
			"{}", "[1,\"a\",[true,false,null],{\"b\":{}}]", "\"\"",
			"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"",
			"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"",
			" [ 1 , { \"a\" : null } ] "
		};
		size_t		k;
		char		h[512];

		for (k = 0; k < sizeof(badvals) / sizeof(badvals[0]); k++)
		{
			snprintf(h, sizeof(h), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":%s}", badvals[k]);
			EXPECT_HDR(h, CSMS_BLOB_ERR_HEADER_JSON);
		}
		for (k = 0; k < sizeof(goodvals) / sizeof(goodvals[0]); k++)
		{
			snprintf(h, sizeof(h), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":%s}", goodvals[k]);
			EXPECT_HDR(h, CSMS_BLOB_OK);
		}
	}

	/* white space, member order, escapes in wanted members */
	EXPECT_HDR(" \t\r\n{ \"kid\" : \"k\" ,\n\"enc\"\t:\"A256GCM\" , \"alg\":\"A256KW\" } \r\n", CSMS_BLOB_OK);
	EXPECT_HDR("{\"\\u0061lg\":\"\\u0041256KW\",\"enc\":\"A256\\u0047CM\",\"kid\":\"\\u006b\"}", CSMS_BLOB_OK);

	/* depth: the header object is level 1; 32 levels are fine, 33 are not */
	pos = (size_t) snprintf(deep, sizeof(deep), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":");
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH - 1; i++)
		deep[pos++] = '[';
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH - 1; i++)
		deep[pos++] = ']';
	deep[pos++] = '}';
	deep[pos] = '\0';
	EXPECT_HDR(deep, CSMS_BLOB_OK);
	pos = (size_t) snprintf(deep, sizeof(deep), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":");
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH; i++)
		deep[pos++] = '[';
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH; i++)
		deep[pos++] = ']';
	deep[pos++] = '}';
	deep[pos] = '\0';
	EXPECT_HDR(deep, CSMS_BLOB_ERR_HEADER_JSON);
	pos = (size_t) snprintf(deep, sizeof(deep), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"x\":");
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH; i++)
		pos += (size_t) snprintf(deep + pos, sizeof(deep) - pos, "{\"a\":");
	deep[pos++] = '1';
	for (i = 0; i < CSMS_BLOB_JSON_MAX_DEPTH; i++)
		deep[pos++] = '}';
	deep[pos++] = '}';
	deep[pos] = '\0';
	EXPECT_HDR(deep, CSMS_BLOB_ERR_HEADER_JSON);
	/* a very deep header must fail cleanly, not overflow the stack */
	{
		size_t		n = 200000;
		char	   *h = xmalloc(n + 1);

		memset(h, '[', n);
		h[0] = '{';
		h[n] = '\0';
		EXPECT_HDR(h, CSMS_BLOB_ERR_HEADER_JSON);
		free(h);
	}
	/* many members: duplicate detection stays fast */
	{
		size_t		nm = 100000,
					k;
		char	   *h = xmalloc(nm * 16 + 64);

		pos = (size_t) sprintf(h, "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"");
		for (k = 0; k < nm; k++)
			pos += (size_t) sprintf(h + pos, ",\"m%zu\":0", k);
		strcpy(h + pos, "}");
		EXPECT_HDR(h, CSMS_BLOB_OK);
		pos = strlen(h) - 1;
		strcpy(h + pos, ",\"m77777\":1}");
		EXPECT_HDR(h, CSMS_BLOB_ERR_HEADER_JSON);
		free(h);
	}
}

static void
test_header_members(void)
{
	char		h[512];
	char		kid129[130];

	/* alg */
	EXPECT_HDR("{\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"A128KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"a256kw\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"A256KW \",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"A256KW\\u0000\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":\"A256K\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":256,\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":null,\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"alg\":[\"A256KW\"],\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"ALG\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);
	EXPECT_HDR("{\"x\":{\"alg\":\"A256KW\"},\"enc\":\"A256GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ALG);

	/* enc */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A128GCM\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256CBC-HS512\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCMx\",\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":true,\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":{},\"kid\":\"k\"}", CSMS_BLOB_ERR_ENC);

	/* kid */
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":5}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":null}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":[\"k\"]}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"\\u0001\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"a\\tb\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"a\\u007f\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\\u0000\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"caf\xc3\xa9\"}", CSMS_BLOB_ERR_KID);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"caf\\u00e9\"}", CSMS_BLOB_ERR_KID);
	memset(kid129, 'k', 129);
	kid129[129] = '\0';
	snprintf(h, sizeof(h), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"%s\"}", kid129);
	EXPECT_HDR(h, CSMS_BLOB_ERR_KID);
	kid129[128] = '\0';
	snprintf(h, sizeof(h), "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"%s\"}", kid129);
	EXPECT_HDR(h, CSMS_BLOB_OK);
	/* 128 characters once unescaped, more in the text */
	{
		char		esc[128 * 6 + 1];
		int			i;

		for (i = 0; i < 128; i++)
			memcpy(esc + i * 6, "\\u0041", 6);
		esc[128 * 6] = '\0';
		{
			char	   *hh = xmalloc(strlen(esc) + 64);
			char	   *blob;
			csms_blob_parsed p;

			sprintf(hh, "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"%s\"}", esc);
			blob = make_blob_hdr(hh);
			CHECK(parse_exact(blob, strlen(blob), &p) == CSMS_BLOB_OK && p.kid_len == 128 &&
				  p.kid[0] == 'A' && p.kid[127] == 'A' && p.kid[128] == '\0',
				  "escaped 128-character kid");
			csms_blob_parsed_free(&p);
			free(blob);
			free(hh);
		}
	}
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\" \"}", CSMS_BLOB_OK);
	EXPECT_HDR("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"~!\\\"#\\\\\"}", CSMS_BLOB_OK);
}

/* headers the codec does not write itself, but must read: built with the
 * crypto building blocks */
static void
test_foreign_headers(void)
{
	static const char *const headers[] = {
		"{\"kid\":\"bk\",\"enc\":\"A256GCM\",\"alg\":\"A256KW\"}",
		(" {\"alg\" : \"A256KW\", \"enc\" : \"A256GCM\", \"kid\" : \"bk\", \"cty\":\"JSON\", "
		 "\"x\":[1,2.5e3,true,false,null,{\"y\":\"\\ud83d\\ude00\"}]}\n"),
		"{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"b\\u006b\",\"zip\":null}"
	};
	uint8_t		pt[300];
	size_t		k;

	memset(pt, 'p', sizeof(pt));
	for (k = 0; k < sizeof(headers) / sizeof(headers[0]); k++)
	{
		char	   *blob = build_blob(headers[k], key1, pt, sizeof(pt), 0);
		csms_blob_parsed p;
		csms_blob_status st;
		int			ret;

		st = parse_exact(blob, strlen(blob), &p);
		CHECK(st == CSMS_BLOB_OK && strcmp(p.kid, "bk") == 0, "foreign header %zu: parse %s", k, sname(st));
		csms_blob_parsed_free(&p);
		st = parse_open(blob, strlen(blob), key1, pt, sizeof(pt), &ret);
		CHECK(st == CSMS_BLOB_OK && ret, "foreign header %zu: open %s", k, sname(st));
		free(blob);

		/* GCM over the decoded header instead of the encoded one: rejected */
		blob = build_blob(headers[k], key1, pt, sizeof(pt), 1);
		st = parse_open(blob, strlen(blob), key1, NULL, 0, &ret);
		CHECK(st == CSMS_BLOB_ERR_DECRYPT && !ret, "foreign header %zu, wrong AAD: %s", k, sname(st));
		free(blob);
	}
}

/* flipping any one character of a sealed blob never yields a payload */
static void
test_flips(void)
{
	static const char repl[] = {'A', 'B', 'g', 'Q', '-', '_', '.', '=', '+', '0', '\0'};
	uint8_t		pt[37];
	char	   *blob = NULL;
	size_t		len,
				i,
				r;
	int			seg_fail[6][5] = {{0}};	/* [segment][0 parse,1 unwrap,2 decrypt,3 opened,4 tried] */
	int			seg;

	memset(pt, 0x42, sizeof(pt));
	csms_blob_seal("flip-kid", key1, pt, sizeof(pt), NULL, &blob, &len);
	seg = -1;
	for (i = 0; i < len; i++)
	{
		if (i == CSMS_BLOB_PREFIX_LEN)
			seg = 0;
		else if (i > CSMS_BLOB_PREFIX_LEN && blob[i] == '.')
			seg++;
		for (r = 0; r < sizeof(repl); r++)
		{
			char		orig = blob[i];
			csms_blob_status st;
			int			ret;
			int			row = seg < 0 ? 5 : seg;

			if (repl[r] == orig)
				continue;
			blob[i] = repl[r];
			st = parse_open(blob, len, key1, NULL, 0, &ret);
			blob[i] = orig;
			seg_fail[row][4]++;
			if (st == CSMS_BLOB_OK || ret)
			{
				seg_fail[row][3]++;
				CHECK(0, "flip at %zu ('%c' -> 0x%02x) was accepted", i, orig, (unsigned char) repl[r]);
			}
			else if (st == CSMS_BLOB_ERR_UNWRAP)
				seg_fail[row][1]++;
			else if (st == CSMS_BLOB_ERR_DECRYPT)
				seg_fail[row][2]++;
			else
				seg_fail[row][0]++;
		}
	}
	for (seg = 0; seg < 6; seg++)
	{
		CHECK(seg_fail[seg][4] > 0 && seg_fail[seg][3] == 0,
			  "flips in segment %d: %d tried, %d accepted", seg, seg_fail[seg][4], seg_fail[seg][3]);
	}
	/* each segment fails where it should */
	CHECK(seg_fail[1][1] > 0, "flips in the encrypted key fail at unwrap");
	CHECK(seg_fail[2][2] > 0 && seg_fail[3][2] > 0 && seg_fail[4][2] > 0,
		  "flips in iv, ciphertext and tag fail at decrypt");
	CHECK(seg_fail[0][0] > 0, "flips in the header fail at parse");
	CHECK(seg_fail[5][0] == seg_fail[5][4], "flips in the prefix fail at parse");
	free(blob);
}

static void
test_truncation(void)
{
	uint8_t		pt[5] = {1, 2, 3, 4, 5};
	char	   *blob = NULL;
	size_t		len,
				l;
	int			bad = 0;

	csms_blob_seal("t", key1, pt, sizeof(pt), NULL, &blob, &len);
	for (l = 0; l < len; l++)
	{
		int			ret;
		csms_blob_status st = parse_open(blob, l, key1, NULL, 0, &ret);

		if (st == CSMS_BLOB_OK || ret)
		{
			bad++;
			CHECK(0, "truncation to %zu characters was accepted", l);
		}
	}
	CHECK(bad == 0, "every truncation fails");
	{
		int			ret;

		CHECK(parse_open(blob, len, key1, pt, sizeof(pt), &ret) == CSMS_BLOB_OK, "untruncated");
	}
	free(blob);
}

static void
test_allocator(void)
{
	track		t;
	csms_allocator a = {track_alloc, track_free, &t};
	uint8_t		pt[100];
	char	   *blob = NULL;
	size_t		len;
	csms_blob_parsed p;
	uint8_t    *out = NULL;
	size_t		outlen = 0;
	csms_blob_status st;
	long		k;

	memset(pt, 0x33, sizeof(pt));
	memset(&t, 0, sizeof(t));
	st = csms_blob_seal("alloc", key1, pt, sizeof(pt), &a, &blob, &len);
	CHECK(st == CSMS_BLOB_OK && t.outstanding == 1, "seal with allocator: %s, %ld outstanding", sname(st), t.outstanding);
	st = csms_blob_parse(blob, len, &a, &p);
	CHECK(st == CSMS_BLOB_OK, "parse with allocator: %s", sname(st));
	st = csms_blob_open(&p, key1, &out, &outlen);
	CHECK(st == CSMS_BLOB_OK && outlen == sizeof(pt) && memcmp(out, pt, outlen) == 0,
		  "open with allocator: %s", sname(st));
	csms_free_secret(&a, out, outlen);
	CHECK(t.last_free_zero && t.last_free_size == sizeof(pt), "payload wiped before free");

	/* failures wipe and free the output buffer */
	st = csms_blob_open(&p, key2, &out, &outlen);
	CHECK(st == CSMS_BLOB_ERR_UNWRAP && out == NULL, "open wrong key: %s", sname(st));
	CHECK(t.last_free_zero && t.last_free_size == sizeof(pt), "buffer wiped after unwrap failure");
	((uint8_t *) p.tag)[0] ^= 1;	/* tamper after parsing */
	st = csms_blob_open(&p, key1, &out, &outlen);
	CHECK(st == CSMS_BLOB_ERR_DECRYPT && out == NULL && outlen == 0, "open bad tag: %s", sname(st));
	CHECK(t.last_free_zero && t.last_free_size == sizeof(pt), "buffer wiped after decrypt failure");
	csms_blob_parsed_free(&p);
	a.free(a.ctx, blob);
	CHECK(t.outstanding == 0, "allocator balanced: %ld outstanding", t.outstanding);

	/* every allocation failing in turn */
	for (k = 1; k <= 3; k++)
	{
		memset(&t, 0, sizeof(t));
		t.fail_at = k;
		blob = NULL;
		st = csms_blob_seal("alloc", key1, pt, sizeof(pt), &a, &blob, &len);
		if (t.nalloc >= k)
			CHECK(st == CSMS_BLOB_ERR_NOMEM && blob == NULL && t.outstanding == 0,
				  "seal, allocation %ld fails: %s, %ld outstanding", k, sname(st), t.outstanding);
		else if (st == CSMS_BLOB_OK)
			a.free(a.ctx, blob);
	}
	memset(&t, 0, sizeof(t));
	csms_blob_seal("alloc", key1, pt, sizeof(pt), &a, &blob, &len);
	for (k = 1; k <= 4; k++)
	{
		long		before = t.outstanding;

		t.nalloc = 0;
		t.fail_at = k;
		st = csms_blob_parse(blob, len, &a, &p);
		if (st == CSMS_BLOB_OK)
		{
			t.nalloc = 0;
			t.fail_at = 1;
			st = csms_blob_open(&p, key1, &out, &outlen);
			CHECK(st == CSMS_BLOB_ERR_NOMEM && out == NULL, "open, allocation fails: %s", sname(st));
			csms_blob_parsed_free(&p);
			CHECK(t.outstanding == before, "open NOMEM leaked");
			break;
		}
		CHECK(st == CSMS_BLOB_ERR_NOMEM && t.outstanding == before,
			  "parse, allocation %ld fails: %s", k, sname(st));
	}
	a.free(a.ctx, blob);
	CHECK(t.outstanding == 0, "allocator balanced after failures: %ld", t.outstanding);
}

/* known answers ------------------------------------------------------------ */

/* RFC 7520 figure 72, with U+2013 EN DASH as UTF-8 */
static const char rfc7520_plaintext[] =
"You can trust us to stick with you through thick and "
"thin\xe2\x80\x93to the bitter end. And you can trust us to "
"keep any secret of yours\xe2\x80\x93" "closer than you keep it "
"yourself. But you cannot trust us to let you face trouble "
"alone, and go off without a word. We are your friends, Frodo.";

/* RFC 7520 figures 151 (k), 152, 153, 154, 156, 157, 158 */
static const char rfc7520_kek[] = "GZy6sIZ6wl9NJOKB-jnmVQ";
static const char rfc7520_cek[] = "aY5_Ghmk9KxWPBLu_glx1w";
static const char rfc7520_iv[] = "Qx0pmsDa8KnJc9Jo";
static const char rfc7520_ek[] = "CBI6oDw8MydIx1IBntf_lQcw2MmJKIQx";
static const char rfc7520_header[] =
"eyJhbGciOiJBMTI4S1ciLCJraWQiOiI4MWIyMDk2NS04MzMyLTQzZDktYTQ2OC"
"04MjE2MGFkOTFhYzgiLCJlbmMiOiJBMTI4R0NNIn0";
static const char rfc7520_ct[] =
"AwliP-KmWgsZ37BvzCefNen6VTbRK3QMA4TkvRkH0tP1bTdhtFJgJxeVmJkLD6"
"1A1hnWGetdg11c9ADsnWgL56NyxwSYjU1ZEHcGkd3EkU0vjHi9gTlb90qSYFfe"
"F0LwkcTtjbYKCsiNJQkcIp1yeM03OmuiYSoYJVSpf7ej6zaYcMv3WwdxDFl8RE"
"wOhNImk2Xld2JXq6BR53TSFkyT7PwVLuq-1GwtGHlQeg7gDT6xW0JqHDPn_H-p"
"uQsmthc9Zg0ojmJfqqFvETUxLAF-KjcBTS5dNy6egwkYtOt8EIHK-oEsKYtZRa"
"a8Z7MOZ7UGxGIMvEmxrGCPeJa14slv2-gaqK0kEThkaSqdYw0FkQZF";
static const char rfc7520_tag[] = "ER7MWJZ1FBI_NKvn7Zb1Lw";

static void
test_kat_rfc7520_5_8(void)
{
	size_t		keklen,
				ceklen,
				ivlen,
				eklen,
				ctlen,
				taglen;
	uint8_t    *kek = unb64(rfc7520_kek, &keklen);
	uint8_t    *cek = unb64(rfc7520_cek, &ceklen);
	uint8_t    *iv = unb64(rfc7520_iv, &ivlen);
	uint8_t    *ek = unb64(rfc7520_ek, &eklen);
	uint8_t    *ct = unb64(rfc7520_ct, &ctlen);
	uint8_t    *tag = unb64(rfc7520_tag, &taglen);
	size_t		ptlen = strlen(rfc7520_plaintext);
	uint8_t		wrapped[24];
	uint8_t    *myct = xmalloc(ptlen);
	uint8_t		mytag[16];
	char	   *jwe = join5("", rfc7520_header, rfc7520_ek, rfc7520_iv, rfc7520_ct, rfc7520_tag);
	char	   *blob = join5(CSMS_BLOB_PREFIX, rfc7520_header, rfc7520_ek, rfc7520_iv, rfc7520_ct, rfc7520_tag);
	csms_blob_parsed p;
	csms_blob_status st;
	uint8_t    *out = NULL;
	size_t		outlen = 0;

	CHECK(keklen == 16 && ceklen == 16 && ivlen == 12 && eklen == 24 &&
		  ctlen == ptlen && taglen == 16, "RFC 7520 5.8: vector sizes");

	/* encrypt direction, building blocks: figure 154, figures 157/158 */
	CHECK(csms_aes_kw_wrap(kek, 16, cek, 16, wrapped) == CSMS_OK &&
		  memcmp(wrapped, ek, 24) == 0, "RFC 7520 5.8: A128KW of the CEK (figure 154)");
	CHECK(csms_gcm_encrypt(cek, 16, iv, 12, (const uint8_t *) rfc7520_header,
						   strlen(rfc7520_header), (const uint8_t *) rfc7520_plaintext,
						   ptlen, myct, mytag) == CSMS_OK &&
		  memcmp(myct, ct, ptlen) == 0 && memcmp(mytag, tag, 16) == 0,
		  "RFC 7520 5.8: A128GCM with the encoded header as AAD (figures 157, 158)");

	/* decrypt direction: the whole compact JWE through the codec */
	st = csms_jwe_parse(jwe, strlen(jwe), CSMS_JWE_A128KW_A128GCM, NULL, &p);
	CHECK(st == CSMS_BLOB_OK, "RFC 7520 5.8: parse figure 159: %s", sname(st));
	if (st == CSMS_BLOB_OK)
	{
		CHECK(strcmp(p.kid, "81b20965-8332-43d9-a468-82160ad91ac8") == 0,
			  "RFC 7520 5.8: kid (figure 151)");
		st = csms_jwe_open(&p, kek, keklen, &out, &outlen);
		CHECK(st == CSMS_BLOB_OK && outlen == ptlen &&
			  memcmp(out, rfc7520_plaintext, ptlen) == 0,
			  "RFC 7520 5.8: decrypt figure 159 to figure 72: %s", sname(st));
		csms_free_secret(NULL, out, outlen);
		kek[0] ^= 1;
		st = csms_jwe_open(&p, kek, keklen, &out, &outlen);
		CHECK(st == CSMS_BLOB_ERR_UNWRAP && out == NULL, "RFC 7520 5.8: wrong KEK: %s", sname(st));
		kek[0] ^= 1;
		st = csms_jwe_open(&p, key1, 32, &out, &outlen);
		CHECK(st == CSMS_BLOB_ERR_ARGUMENT, "RFC 7520 5.8: 32-byte key for A128KW: %s", sname(st));
		st = csms_blob_open(&p, key1, &out, &outlen);
		CHECK(st == CSMS_BLOB_ERR_ARGUMENT, "RFC 7520 5.8: blob_open refuses the A128 profile: %s", sname(st));
		csms_blob_parsed_free(&p);
	}
	/* the A256 profile refuses it at alg */
	st = csms_jwe_parse(jwe, strlen(jwe), CSMS_JWE_A256KW_A256GCM, NULL, &p);
	CHECK(st == CSMS_BLOB_ERR_ALG, "RFC 7520 5.8 under A256KW profile: %s", sname(st));
	st = parse_exact(blob, strlen(blob), &p);
	CHECK(st == CSMS_BLOB_ERR_ALG, "RFC 7520 5.8 with the prefix, as a blob: %s", sname(st));
	csms_blob_parsed_free(&p);

	free(kek);
	free(cek);
	free(iv);
	free(ek);
	free(ct);
	free(tag);
	free(myct);
	free(jwe);
	free(blob);
}

/* RFC 7516 appendix A.1: A256GCM content encryption (A.1.2, A.1.4-A.1.6) */
static void
test_kat_rfc7516_a1(void)
{
	static const uint8_t cek[32] = {
		177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154,
		212, 246, 138, 7, 110, 91, 112, 46, 34, 105, 47, 130, 203, 46, 122,
		234, 64, 252
	};
	static const uint8_t iv[12] = {
		227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219
	};
	static const uint8_t aad[] = {
		101, 121, 74, 104, 98, 71, 99, 105, 79, 105, 74, 83, 85, 48, 69,
		116, 84, 48, 70, 70, 85, 67, 73, 115, 73, 109, 86, 117, 89, 121, 73,
		54, 73, 107, 69, 121, 78, 84, 90, 72, 81, 48, 48, 105, 102, 81
	};
	static const uint8_t pt[] = {
		84, 104, 101, 32, 116, 114, 117, 101, 32, 115, 105, 103, 110, 32,
		111, 102, 32, 105, 110, 116, 101, 108, 108, 105, 103, 101, 110, 99,
		101, 32, 105, 115, 32, 110, 111, 116, 32, 107, 110, 111, 119, 108,
		101, 100, 103, 101, 32, 98, 117, 116, 32, 105, 109, 97, 103, 105,
		110, 97, 116, 105, 111, 110, 46
	};
	static const uint8_t ct[] = {
		229, 236, 166, 241, 53, 191, 115, 196, 174, 43, 73, 109, 39, 122,
		233, 96, 140, 206, 120, 52, 51, 237, 48, 11, 190, 219, 186, 80, 111,
		104, 50, 142, 47, 167, 59, 61, 181, 127, 196, 21, 40, 82, 242, 32,
		123, 143, 168, 226, 73, 216, 176, 144, 138, 247, 106, 60, 16, 205,
		160, 109, 64, 63, 192
	};
	static const uint8_t tag[16] = {
		92, 80, 104, 49, 133, 25, 161, 215, 173, 101, 219, 211, 136, 91,
		210, 145
	};
	uint8_t		out[sizeof(pt)];
	uint8_t		mytag[16];
	char	   *h = b64s("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}");

	CHECK(sizeof(ct) == sizeof(pt), "RFC 7516 A.1: vector sizes");
	CHECK(strlen(h) == sizeof(aad) && memcmp(h, aad, sizeof(aad)) == 0,
		  "RFC 7516 A.1: AAD is the ASCII of the encoded header (A.1.1, A.1.5)");
	CHECK(csms_gcm_encrypt(cek, 32, iv, 12, aad, sizeof(aad), pt, sizeof(pt), out, mytag) == CSMS_OK &&
		  memcmp(out, ct, sizeof(ct)) == 0 && memcmp(mytag, tag, 16) == 0,
		  "RFC 7516 A.1: A256GCM encrypt (A.1.6)");
	CHECK(csms_gcm_decrypt(cek, 32, iv, 12, aad, sizeof(aad), ct, sizeof(ct), tag, out) == CSMS_OK &&
		  memcmp(out, pt, sizeof(pt)) == 0, "RFC 7516 A.1: A256GCM decrypt");
	free(h);
}

/* RFC 3394 section 4.6: 256 bits of key data with a 256-bit KEK (A256KW) */
static void
test_kat_rfc3394_4_6(void)
{
	uint8_t		kek[32],
				data[32],
				want[40],
				got[40],
				back[32];

	csms_hex_decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 64, kek, 32);
	csms_hex_decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", 64, data, 32);
	csms_hex_decode("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21", 80, want, 40);
	CHECK(csms_aes_kw_wrap(kek, 32, data, 32, got) == CSMS_OK && memcmp(got, want, 40) == 0,
		  "RFC 3394 4.6: wrap");
	CHECK(csms_aes_kw_unwrap(kek, 32, want, 40, back) == CSMS_OK && memcmp(back, data, 32) == 0,
		  "RFC 3394 4.6: unwrap");
	want[0] ^= 0x80;
	CHECK(csms_aes_kw_unwrap(kek, 32, want, 40, back) == CSMS_ERR_AUTH, "RFC 3394 4.6: tampered");
}

int
main(void)
{
	if (csms_random_bytes(key1, sizeof(key1)) != CSMS_OK ||
		csms_random_bytes(key2, sizeof(key2)) != CSMS_OK)
	{
		printf("random failed\n");
		return 2;
	}

	test_kat_rfc7520_5_8();
	test_kat_rfc7516_a1();
	test_kat_rfc3394_4_6();
	test_strerror();
	test_arguments();
	test_round_trip();
	test_wrong_key();
	test_kid();
	test_structure_errors();
	test_header_json();
	test_header_members();
	test_foreign_headers();
	test_flips();
	test_truncation();
	test_allocator();
	test_length_limits();

	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed == 0 ? 0 : 1;
}
