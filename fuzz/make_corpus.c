/*-------------------------------------------------------------------------
 *
 * make_corpus.c
 *	  Writes the seed corpus of fuzz_blob into the directory given as the
 *	  only argument: valid blobs sealed with the fuzzer's fixed key
 *	  (fuzz_key.h), blobs with headers csms_blob_seal does not write (other
 *	  member order, extra and nested members, escapes), and broken ones for
 *	  each kind of check.  The fuzzer itself adds more files to the same
 *	  directory; those are build outputs (see .gitignore), this program is
 *	  not.
 *
 * fuzz/make_corpus.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "crypto.h"
#include "fuzz_key.h"

static const char *dir;

static void
put(const char *name, const char *data, size_t len)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/seed_%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

static void
puts_(const char *name, const char *s)
{
	put(name, s, strlen(s));
}

static char *
seal(const char *kid, const uint8_t *key, const char *payload, size_t len)
{
	char	   *blob = NULL;
	size_t		blen;

	if (csms_blob_seal(kid, key, (const uint8_t *) payload, len, NULL,
					   &blob, &blen) != CSMS_BLOB_OK)
	{
		fprintf(stderr, "seal failed\n");
		exit(1);
	}
	return blob;
}

static char *
b64(const uint8_t *in, size_t n)
{
	char	   *s = malloc(csms_b64url_enclen(n) + 1);

	if (s == NULL)
		exit(1);
	csms_b64url_encode(in, n, s);
	return s;
}

/* a valid blob with any header, from the crypto building blocks */
static char *
build(const char *header, const char *payload)
{
	size_t		plen = strlen(payload);
	uint8_t		cek[32],
				ek[40],
				iv[12],
				tag[16];
	uint8_t    *ct = malloc(plen + 1);
	char	   *h = b64((const uint8_t *) header, strlen(header));
	char	   *s1,
			   *s2,
			   *s3,
			   *s4,
			   *out;
	size_t		n;

	if (ct == NULL ||
		csms_random_bytes(cek, 32) != CSMS_OK ||
		csms_random_bytes(iv, 12) != CSMS_OK ||
		csms_aes_kw_wrap(fuzz_key, 32, cek, 32, ek) != CSMS_OK ||
		csms_gcm_encrypt(cek, 32, iv, 12, (const uint8_t *) h, strlen(h),
						 (const uint8_t *) payload, plen, ct, tag) != CSMS_OK)
		exit(1);
	s1 = b64(ek, 40);
	s2 = b64(iv, 12);
	s3 = b64(ct, plen);
	s4 = b64(tag, 16);
	n = CSMS_BLOB_PREFIX_LEN + strlen(h) + strlen(s1) + strlen(s2) + strlen(s3) + strlen(s4) + 5;
	out = malloc(n);
	if (out == NULL)
		exit(1);
	snprintf(out, n, "%s%s.%s.%s.%s.%s", CSMS_BLOB_PREFIX, h, s1, s2, s3, s4);
	free(h);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	free(ct);
	return out;
}

int
main(int argc, char **argv)
{
	static const char json_payload[] =
		"{\"format\":1,\"domain_id\":\"d\",\"region\":\"r\",\"project_id\":\"p\","
		"\"secret\":{\"name\":\"db-password\"},\"versions\":[{\"id\":\"v1\","
		"\"stages\":[\"SYSCURR\"],\"secret_string\":\"hunter2\"}]}";
	uint8_t		other_key[32];
	char		kid128[129];
	char	   *b;
	size_t		n;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s corpus-directory\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	memset(other_key, 0x77, sizeof(other_key));
	memset(kid128, 'K', 128);
	kid128[128] = '\0';

	/* valid, under the fuzzer's key */
	b = seal("backup-key-1", fuzz_key, "", 0);
	puts_("valid_empty", b);
	free(b);
	b = seal("backup-key-1", fuzz_key, "x", 1);
	puts_("valid_1", b);
	free(b);
	b = seal("9f3efdc5-3f5e-4bed-a8d1-9616e50443ab", fuzz_key, json_payload, strlen(json_payload));
	puts_("valid_json", b);
	free(b);
	b = seal("a\"b\\c", fuzz_key, "escaped kid", 11);
	puts_("valid_kid_escapes", b);
	free(b);
	b = seal(kid128, fuzz_key, "long kid", 8);
	puts_("valid_kid_128", b);
	free(b);
	b = build("{\"kid\":\"k\",\"enc\":\"A256GCM\",\"alg\":\"A256KW\"}", "reordered");
	puts_("valid_reordered", b);
	free(b);
	b = build(" {\"alg\" : \"A256KW\", \"enc\":\"A256GCM\", \"kid\":\"k\\u0041\", \"cty\":\"json\","
			  " \"x\":[1,-2.5e+3,true,false,null,{\"y\":\"\\ud83d\\ude00\\n\"}], \"z\":{}}\n",
			  "extra members");
	puts_("valid_extra_members", b);
	free(b);

	/* decryption failures */
	b = seal("backup-key-1", other_key, "wrong key", 9);
	puts_("wrong_key", b);
	free(b);
	b = seal("backup-key-1", fuzz_key, "flipped", 7);
	n = strlen(b);
	b[n - 30] = b[n - 30] == 'A' ? 'B' : 'A';	/* in the ciphertext or tag */
	puts_("flipped", b);
	free(b);

	/* parse failures */
	put("empty", "", 0);
	puts_("prefix_only", CSMS_BLOB_PREFIX);
	puts_("no_prefix", "eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiayJ9.AAAA.AAAA.AAAA.AAAA");
	puts_("four_segments", CSMS_BLOB_PREFIX "eyJ9.AAAA.AAAA.AAAA");
	puts_("padding", CSMS_BLOB_PREFIX "eyJ9.AA==.AAAA.AAAA.AAAA");
	b = seal("backup-key-1", fuzz_key, "truncated", 9);
	put("truncated", b, strlen(b) - 5);
	free(b);
	b = build("{\"alg\":\"A128KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", "bad alg");
	puts_("bad_alg", b);
	free(b);
	b = build("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"kid\":\"k\"}", "duplicate");
	puts_("duplicate_member", b);
	free(b);
	b = build("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"\\ud800\"}", "lone surrogate");
	puts_("lone_surrogate", b);
	free(b);
	b = build("{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"k\"}garbage", "trailing");
	puts_("trailing_garbage", b);
	free(b);
	return 0;
}
