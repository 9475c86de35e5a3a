/*-------------------------------------------------------------------------
 *
 * fuzz_blob.c
 *	  libFuzzer harness for the backup blob codec (src/blob.c).
 *
 *	  Every input is parsed as a blob and, when it parses, opened with a
 *	  fixed test key (fuzz_key.h; make_corpus.c seals the seed blobs with the
 *	  same key, so the fuzzer starts with inputs that get through unwrap and
 *	  decryption).  Each input is also used as the raw header JSON of a blob
 *	  whose other segments come from a valid blob, so that the strict JSON
 *	  parser is fuzzed directly rather than through base64url (blob.dict
 *	  helps there).  Small inputs are also sealed as a payload and must come
 *	  back unchanged.  Any broken invariant aborts, which libFuzzer reports
 *	  as a crash.
 *
 * fuzz/fuzz_blob.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "crypto.h"
#include "fuzz_key.h"

#define REQUIRE(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parse_open(const uint8_t *data, size_t size)
{
	csms_blob_parsed p;
	csms_blob_status st;
	uint8_t    *pt = (uint8_t *) 1;
	size_t		ptlen = 99;
	size_t		i;

	st = csms_blob_parse((const char *) data, size, NULL, &p);
	REQUIRE(st >= CSMS_BLOB_OK && st <= CSMS_BLOB_ERR_TAG_LEN);
	REQUIRE(csms_blob_strerror(st)[0] != '\0');
	if (st != CSMS_BLOB_OK)
	{
		REQUIRE(p.mem == NULL);
		return;
	}

	/* what a successful parse promises */
	REQUIRE(size > CSMS_BLOB_PREFIX_LEN && size <= CSMS_BLOB_MAX_LEN);
	REQUIRE(memcmp(data, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN) == 0);
	REQUIRE(p.kid_len >= 1 && p.kid_len <= CSMS_BLOB_KID_MAX);
	REQUIRE(strlen(p.kid) == p.kid_len);
	for (i = 0; i < p.kid_len; i++)
		REQUIRE(p.kid[i] >= 0x20 && p.kid[i] <= 0x7e);
	REQUIRE(p.encrypted_key_len == CSMS_BLOB_EK_LEN);
	REQUIRE(p.iv_len == CSMS_BLOB_IV_LEN);
	REQUIRE(p.tag_len == CSMS_BLOB_TAG_LEN);
	REQUIRE(p.aad_len > 0 && p.aad_len < size);
	REQUIRE(memcmp(p.aad, data + CSMS_BLOB_PREFIX_LEN, p.aad_len) == 0);
	REQUIRE(p.ciphertext_len <= size);

	st = csms_blob_open(&p, fuzz_key, &pt, &ptlen);
	if (st == CSMS_BLOB_OK)
	{
		REQUIRE(pt != NULL && ptlen == p.ciphertext_len);
		csms_free_secret(NULL, pt, ptlen);
	}
	else
	{
		REQUIRE(st == CSMS_BLOB_ERR_UNWRAP || st == CSMS_BLOB_ERR_DECRYPT);
		REQUIRE(pt == NULL && ptlen == 0);
	}
	csms_blob_parsed_free(&p);
	REQUIRE(p.mem == NULL);
}

/* the input as header JSON, with the other segments of a valid blob */
static void
check_header(const uint8_t *data, size_t size)
{
	static char *tail = NULL;	/* ".ek.iv.ct.tag" of a valid blob */
	static size_t tail_len;
	size_t		h64 = csms_b64url_enclen(size);
	size_t		len = CSMS_BLOB_PREFIX_LEN + h64 + tail_len;
	char	   *blob;

	if (tail == NULL)
	{
		char	   *valid = NULL;
		size_t		vlen;

		REQUIRE(csms_blob_seal("k", fuzz_key, (const uint8_t *) "p", 1, NULL,
							   &valid, &vlen) == CSMS_BLOB_OK);
		tail = strchr(valid + CSMS_BLOB_PREFIX_LEN, '.');
		REQUIRE(tail != NULL);
		tail_len = strlen(tail);
		tail = strdup(tail);
		REQUIRE(tail != NULL);
		free(valid);
		len = CSMS_BLOB_PREFIX_LEN + h64 + tail_len;
	}
	if (len > CSMS_BLOB_MAX_LEN)
		return;
	blob = malloc(len + 1);
	REQUIRE(blob != NULL);
	memcpy(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN);
	csms_b64url_encode(data, size, blob + CSMS_BLOB_PREFIX_LEN);
	memcpy(blob + CSMS_BLOB_PREFIX_LEN + h64, tail, tail_len);
	check_parse_open((const uint8_t *) blob, len);
	free(blob);
}

/* small inputs as a payload: seal, parse, open, compare */
static void
check_round_trip(const uint8_t *data, size_t size)
{
	char	   *blob = NULL;
	size_t		len = 0;
	csms_blob_parsed p;
	uint8_t    *pt = NULL;
	size_t		ptlen = 0;

	REQUIRE(csms_blob_seal("fuzz-kid", fuzz_key, data, size, NULL, &blob, &len) == CSMS_BLOB_OK);
	REQUIRE(csms_blob_parse(blob, len, NULL, &p) == CSMS_BLOB_OK);
	REQUIRE(strcmp(p.kid, "fuzz-kid") == 0);
	REQUIRE(csms_blob_open(&p, fuzz_key, &pt, &ptlen) == CSMS_BLOB_OK);
	REQUIRE(ptlen == size && (size == 0 || memcmp(pt, data, size) == 0));
	csms_free_secret(NULL, pt, ptlen);
	csms_blob_parsed_free(&p);
	free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse_open(data, size);
	check_header(data, size);
	if (size <= 1024)
		check_round_trip(data, size);
	return 0;
}
