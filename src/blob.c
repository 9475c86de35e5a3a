/*-------------------------------------------------------------------------
 *
 * blob.c
 *	  The backup blob codec: prefix + JWE compact serialization with A256KW
 *	  and A256GCM.  See blob.h.
 *
 *	  No PostgreSQL header is included here on purpose: test/test_blob.c
 *	  unit-tests this file and fuzz/fuzz_blob.c fuzzes it, both linked with
 *	  crypto.c only.
 *
 *	  The protected header is read by a small strict JSON parser (RFC 8259):
 *	  the text must be one object, optionally surrounded by white space;
 *	  strings must be valid UTF-8 with no raw control characters, and \u
 *	  escapes must pair surrogates correctly; numbers follow the JSON grammar;
 *	  nested objects and arrays are parsed and ignored up to a depth limit;
 *	  duplicate member names (compared after unescaping) are rejected in every
 *	  object, since two JOSE implementations could otherwise read different
 *	  values from the same header.
 *
 * src/blob.c
 *
 *-------------------------------------------------------------------------
 */
#include "blob.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* profiles --------------------------------------------------------------- */

typedef struct jwe_profile_def
{
	const char *alg;
	const char *enc;
	size_t		kek_len;
	size_t		cek_len;
} jwe_profile_def;

static const jwe_profile_def jwe_profiles[] = {
	[CSMS_JWE_A256KW_A256GCM] = {"A256KW", "A256GCM", 32, 32},
	[CSMS_JWE_A128KW_A128GCM] = {"A128KW", "A128GCM", 16, 16},
};

#define NUM_PROFILES (sizeof(jwe_profiles) / sizeof(jwe_profiles[0]))
#define MAX_CEK_LEN 32

/* allocation ------------------------------------------------------------- */

void *
csms_blob_alloc(const csms_blob_allocator *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (a == NULL)
		return malloc(size);
	return a->alloc(a->ctx, size);
}

static void
blob_free(const csms_blob_allocator *a, void *ptr)
{
	if (ptr == NULL)
		return;
	if (a == NULL)
		free(ptr);
	else
		a->free(a->ctx, ptr);
}

void
csms_blob_free_secret(const csms_blob_allocator *a, void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	csms_wipe(ptr, len);
	blob_free(a, ptr);
}

static bool
allocator_valid(const csms_blob_allocator *a)
{
	return a == NULL || (a->alloc != NULL && a->free != NULL);
}

/* messages --------------------------------------------------------------- */

const char *
csms_blob_strerror(csms_blob_status st)
{
	switch (st)
	{
		case CSMS_BLOB_OK:
			return "success";
		case CSMS_BLOB_ERR_EMPTY:
			return "the blob is empty";
		case CSMS_BLOB_ERR_TOO_LONG:
			return "the blob is longer than 5242880 characters";
		case CSMS_BLOB_ERR_PREFIX:
			return "the blob does not start with the backup prefix";
		case CSMS_BLOB_ERR_SEGMENTS:
			return "the blob does not have exactly five dot-separated segments";
		case CSMS_BLOB_ERR_BASE64:
			return "a segment of the blob is not valid unpadded base64url";
		case CSMS_BLOB_ERR_HEADER_JSON:
			return "the blob header is not a valid JSON object";
		case CSMS_BLOB_ERR_ALG:
			return "the blob header's \"alg\" is missing or is not \"A256KW\"";
		case CSMS_BLOB_ERR_ENC:
			return "the blob header's \"enc\" is missing or is not \"A256GCM\"";
		case CSMS_BLOB_ERR_KID:
			return "the blob header's \"kid\" is missing or is not 1 to 128 printable ASCII characters";
		case CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN:
			return "the blob's encrypted key does not have the expected length";
		case CSMS_BLOB_ERR_IV_LEN:
			return "the blob's initialization vector is not 12 bytes long";
		case CSMS_BLOB_ERR_TAG_LEN:
			return "the blob's authentication tag is not 16 bytes long";
		case CSMS_BLOB_ERR_UNWRAP:
			return "the blob's content key cannot be unwrapped with this backup key";
		case CSMS_BLOB_ERR_DECRYPT:
			return "the blob's content failed authenticated decryption";
		case CSMS_BLOB_ERR_NOMEM:
			return "out of memory";
		case CSMS_BLOB_ERR_RANDOM:
			return "the random number generator failed";
		case CSMS_BLOB_ERR_CRYPTO:
			return "a cryptographic operation failed";
		case CSMS_BLOB_ERR_ARGUMENT:
			return "invalid argument";
	}
	return "unknown blob error";
}

/* kid -------------------------------------------------------------------- */

static bool
kid_valid(const uint8_t *kid, size_t len)
{
	size_t		i;

	if (len < 1 || len > CSMS_BLOB_KID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (kid[i] < 0x20 || kid[i] > 0x7e)
			return false;
	return true;
}

/* strict JSON header parser ---------------------------------------------- */

typedef struct json_span
{
	const uint8_t *p;
	size_t		len;
} json_span;

/* a top-level member we want: alg, enc or kid */
typedef struct json_member
{
	bool		present;
	bool		is_string;
	bool		too_long;		/* string longer than val */
	size_t		len;
	uint8_t		val[CSMS_BLOB_KID_MAX];
} json_member;

typedef struct json_parser
{
	const uint8_t *s;
	size_t		n;
	size_t		pos;
	/* decoded strings; names stay while their object is open */
	uint8_t    *scratch;
	size_t		scratch_cap;
	size_t		scratch_pos;
	/* member names of the open objects, as a stack */
	json_span  *spans;
	size_t		spans_cap;
	size_t		spans_top;

	json_member alg;
	json_member enc;
	json_member kid;
} json_parser;

static bool json_value(json_parser *jp, int depth, json_member *capture);

static void
json_ws(json_parser *jp)
{
	while (jp->pos < jp->n)
	{
		uint8_t		c = jp->s[jp->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		jp->pos++;
	}
}

/* read 4 hex digits at jp->pos */
static bool
json_hex4(json_parser *jp, uint32_t *out)
{
	uint32_t	v = 0;
	int			i;

	if (jp->n - jp->pos < 4)
		return false;
	for (i = 0; i < 4; i++)
	{
		int			h = csms_hex_digit(jp->s[jp->pos + i]);

		if (h < 0)
			return false;
		v = (v << 4) | (uint32_t) h;
	}
	jp->pos += 4;
	*out = v;
	return true;
}

static bool
scratch_put(json_parser *jp, const uint8_t *b, size_t len)
{
	/* cannot happen: decoded strings are never longer than their text */
	if (jp->scratch_cap - jp->scratch_pos < len)
		return false;
	memcpy(jp->scratch + jp->scratch_pos, b, len);
	jp->scratch_pos += len;
	return true;
}

static bool
scratch_put_cp(json_parser *jp, uint32_t cp)
{
	uint8_t		b[4];
	size_t		len;

	if (cp < 0x80)
	{
		b[0] = (uint8_t) cp;
		len = 1;
	}
	else if (cp < 0x800)
	{
		b[0] = (uint8_t) (0xc0 | (cp >> 6));
		b[1] = (uint8_t) (0x80 | (cp & 0x3f));
		len = 2;
	}
	else if (cp < 0x10000)
	{
		b[0] = (uint8_t) (0xe0 | (cp >> 12));
		b[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t) (0x80 | (cp & 0x3f));
		len = 3;
	}
	else
	{
		b[0] = (uint8_t) (0xf0 | (cp >> 18));
		b[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t) (0x80 | (cp & 0x3f));
		len = 4;
	}
	return scratch_put(jp, b, len);
}

/* length of the valid UTF-8 sequence at s[0..avail), or 0 (RFC 3629) */
static size_t
utf8_seq_len(const uint8_t *s, size_t avail)
{
	uint8_t		c = s[0];
	size_t		len,
				i;
	uint8_t		lo = 0x80,
				hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
	{
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;			/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;			/* no surrogates */
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		len = 4;
		if (c == 0xf0)
			lo = 0x90;			/* no overlong forms */
		else if (c == 0xf4)
			hi = 0x8f;			/* nothing above U+10FFFF */
	}
	else
		return 0;
	if (avail < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Parse a string at jp->pos (which is at the opening quote), appending its
 * decoded UTF-8 to the scratch buffer; *out gets where.
 */
static bool
json_string(json_parser *jp, json_span *out)
{
	size_t		start = jp->scratch_pos;

	jp->pos++;					/* opening quote */
	for (;;)
	{
		uint8_t		c;

		if (jp->pos >= jp->n)
			return false;
		c = jp->s[jp->pos];
		if (c == '"')
		{
			jp->pos++;
			break;
		}
		if (c == '\\')
		{
			uint8_t		e;
			uint8_t		b;

			if (jp->n - jp->pos < 2)
				return false;
			e = jp->s[jp->pos + 1];
			jp->pos += 2;
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					b = e;
					break;
				case 'b':
					b = '\b';
					break;
				case 'f':
					b = '\f';
					break;
				case 'n':
					b = '\n';
					break;
				case 'r':
					b = '\r';
					break;
				case 't':
					b = '\t';
					break;
				case 'u':
					{
						uint32_t	cp,
									lo;

						if (!json_hex4(jp, &cp))
							return false;
						if (cp >= 0xdc00 && cp <= 0xdfff)
							return false;	/* lone low surrogate */
						if (cp >= 0xd800 && cp <= 0xdbff)
						{
							if (jp->n - jp->pos < 2 ||
								jp->s[jp->pos] != '\\' ||
								jp->s[jp->pos + 1] != 'u')
								return false;	/* lone high surrogate */
							jp->pos += 2;
							if (!json_hex4(jp, &lo))
								return false;
							if (lo < 0xdc00 || lo > 0xdfff)
								return false;
							cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						}
						if (!scratch_put_cp(jp, cp))
							return false;
						continue;
					}
				default:
					return false;
			}
			if (!scratch_put(jp, &b, 1))
				return false;
			continue;
		}
		if (c < 0x20)
			return false;		/* raw control character */
		if (c < 0x80)
		{
			if (!scratch_put(jp, &c, 1))
				return false;
			jp->pos++;
			continue;
		}
		{
			size_t		len = utf8_seq_len(jp->s + jp->pos, jp->n - jp->pos);

			if (len == 0)
				return false;
			if (!scratch_put(jp, jp->s + jp->pos, len))
				return false;
			jp->pos += len;
		}
	}
	out->p = jp->scratch + start;
	out->len = jp->scratch_pos - start;
	return true;
}

static bool
is_digit(json_parser *jp)
{
	return jp->pos < jp->n && jp->s[jp->pos] >= '0' && jp->s[jp->pos] <= '9';
}

static bool
json_number(json_parser *jp)
{
	if (jp->s[jp->pos] == '-')
		jp->pos++;
	if (!is_digit(jp))
		return false;
	if (jp->s[jp->pos] == '0')
		jp->pos++;				/* no leading zeros */
	else
		while (is_digit(jp))
			jp->pos++;
	if (jp->pos < jp->n && jp->s[jp->pos] == '.')
	{
		jp->pos++;
		if (!is_digit(jp))
			return false;
		while (is_digit(jp))
			jp->pos++;
	}
	if (jp->pos < jp->n && (jp->s[jp->pos] == 'e' || jp->s[jp->pos] == 'E'))
	{
		jp->pos++;
		if (jp->pos < jp->n && (jp->s[jp->pos] == '+' || jp->s[jp->pos] == '-'))
			jp->pos++;
		if (!is_digit(jp))
			return false;
		while (is_digit(jp))
			jp->pos++;
	}
	return true;
}

static bool
json_literal(json_parser *jp, const char *lit)
{
	size_t		len = strlen(lit);

	if (jp->n - jp->pos < len || memcmp(jp->s + jp->pos, lit, len) != 0)
		return false;
	jp->pos += len;
	return true;
}

static int
span_cmp(const void *a, const void *b)
{
	const json_span *x = a;
	const json_span *y = b;
	size_t		m = x->len < y->len ? x->len : y->len;
	int			c = m > 0 ? memcmp(x->p, y->p, m) : 0;

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

static bool
span_is(const json_span *s, const char *lit)
{
	size_t		len = strlen(lit);

	return s->len == len && memcmp(s->p, lit, len) == 0;
}

/* jp->pos is at '{'; depth counts this object */
static bool
json_object(json_parser *jp, int depth)
{
	size_t		span_base = jp->spans_top;
	size_t		scratch_base = jp->scratch_pos;
	size_t		nmembers,
				i;

	jp->pos++;
	json_ws(jp);
	if (jp->pos < jp->n && jp->s[jp->pos] == '}')
	{
		jp->pos++;
		return true;
	}
	for (;;)
	{
		json_span	name;
		json_member *capture = NULL;

		json_ws(jp);
		if (jp->pos >= jp->n || jp->s[jp->pos] != '"')
			return false;
		if (!json_string(jp, &name))
			return false;
		if (jp->spans_top >= jp->spans_cap)
			return false;		/* cannot happen, see the bound in caller */
		jp->spans[jp->spans_top++] = name;
		json_ws(jp);
		if (jp->pos >= jp->n || jp->s[jp->pos] != ':')
			return false;
		jp->pos++;
		json_ws(jp);
		if (depth == 1)
		{
			if (span_is(&name, "alg"))
				capture = &jp->alg;
			else if (span_is(&name, "enc"))
				capture = &jp->enc;
			else if (span_is(&name, "kid"))
				capture = &jp->kid;
		}
		if (!json_value(jp, depth, capture))
			return false;
		json_ws(jp);
		if (jp->pos >= jp->n)
			return false;
		if (jp->s[jp->pos] == ',')
		{
			jp->pos++;
			continue;
		}
		if (jp->s[jp->pos] == '}')
		{
			jp->pos++;
			break;
		}
		return false;
	}

	/* duplicate member names, compared after unescaping */
	nmembers = jp->spans_top - span_base;
	if (nmembers > 1)
	{
		json_span  *m = jp->spans + span_base;

		qsort(m, nmembers, sizeof(json_span), span_cmp);
		for (i = 1; i < nmembers; i++)
			if (span_cmp(&m[i - 1], &m[i]) == 0)
				return false;
	}
	jp->spans_top = span_base;
	jp->scratch_pos = scratch_base;
	return true;
}

/* jp->pos is at '['; depth counts this array */
static bool
json_array(json_parser *jp, int depth)
{
	jp->pos++;
	json_ws(jp);
	if (jp->pos < jp->n && jp->s[jp->pos] == ']')
	{
		jp->pos++;
		return true;
	}
	for (;;)
	{
		json_ws(jp);
		if (!json_value(jp, depth, NULL))
			return false;
		json_ws(jp);
		if (jp->pos >= jp->n)
			return false;
		if (jp->s[jp->pos] == ',')
		{
			jp->pos++;
			continue;
		}
		if (jp->s[jp->pos] == ']')
		{
			jp->pos++;
			return true;
		}
		return false;
	}
}

/*
 * A value at jp->pos, inside a container at the given depth.  When capture
 * is set, note what the value is, and copy it when it is a string.
 */
static bool
json_value(json_parser *jp, int depth, json_member *capture)
{
	uint8_t		c;

	if (capture != NULL)
	{
		capture->present = true;
		capture->is_string = false;
	}
	if (jp->pos >= jp->n)
		return false;
	c = jp->s[jp->pos];
	switch (c)
	{
		case '{':
			if (depth + 1 > CSMS_BLOB_JSON_MAX_DEPTH)
				return false;
			return json_object(jp, depth + 1);
		case '[':
			if (depth + 1 > CSMS_BLOB_JSON_MAX_DEPTH)
				return false;
			return json_array(jp, depth + 1);
		case '"':
			{
				size_t		mark = jp->scratch_pos;
				json_span	v;

				if (!json_string(jp, &v))
					return false;
				if (capture != NULL)
				{
					capture->is_string = true;
					capture->len = v.len;
					capture->too_long = v.len > sizeof(capture->val);
					if (!capture->too_long && v.len > 0)
						memcpy(capture->val, v.p, v.len);
				}
				jp->scratch_pos = mark;
				return true;
			}
		case 't':
			return json_literal(jp, "true");
		case 'f':
			return json_literal(jp, "false");
		case 'n':
			return json_literal(jp, "null");
		default:
			if (c == '-' || (c >= '0' && c <= '9'))
				return json_number(jp);
			return false;
	}
}

/* Parse the whole header; 1 = ok, 0 = not a JSON object, -1 = no memory. */
static int
json_parse_header(const uint8_t *s, size_t n, const csms_blob_allocator *a,
				  json_parser *jp)
{
	int			result = 0;
	size_t		spans_cap = n / 4 + 2;	/* a member takes >= 4 characters */
	void	   *mem;

	memset(jp, 0, sizeof(*jp));
	jp->s = s;
	jp->n = n;

	/* nothing in the header is secret; the scratch is not wiped */
	mem = csms_blob_alloc(a, spans_cap * sizeof(json_span) + n + 1);
	if (mem == NULL)
		return -1;
	jp->spans = mem;
	jp->spans_cap = spans_cap;
	jp->scratch = (uint8_t *) mem + spans_cap * sizeof(json_span);
	jp->scratch_cap = n + 1;

	json_ws(jp);
	if (jp->pos < jp->n && jp->s[jp->pos] == '{' && json_object(jp, 1))
	{
		json_ws(jp);
		if (jp->pos == jp->n)
			result = 1;
	}
	blob_free(a, mem);
	jp->spans = NULL;
	jp->scratch = NULL;
	return result;
}

static bool
member_is(const json_member *m, const char *lit)
{
	size_t		len = strlen(lit);

	return m->present && m->is_string && !m->too_long &&
		m->len == len && memcmp(m->val, lit, len) == 0;
}

/* parse ------------------------------------------------------------------ */

static void
parsed_reset(csms_blob_parsed *out)
{
	memset(out, 0, sizeof(*out));
}

/* the JWE body after the length checks; out is zeroed on entry */
static csms_blob_status
jwe_parse_body(const char *jwe, size_t len, csms_jwe_profile profile,
			   const csms_blob_allocator *a, csms_blob_parsed *out)
{
	const jwe_profile_def *prof = &jwe_profiles[profile];
	const char *seg[5];
	size_t		seglen[5];
	size_t		declen[5];
	size_t		total;
	size_t		i;
	const char *p = jwe;
	const char *end = jwe + len;
	uint8_t    *mem;
	uint8_t    *dec[5];
	json_parser jp;
	int			jr;
	csms_blob_status st;

	/* exactly five segments, i.e. exactly four dots */
	for (i = 0; i < 5; i++)
	{
		const char *dot = (p < end) ? memchr(p, '.', (size_t) (end - p)) : NULL;

		seg[i] = p;
		if (i < 4)
		{
			if (dot == NULL)
				return CSMS_BLOB_ERR_SEGMENTS;
			seglen[i] = (size_t) (dot - p);
			p = dot + 1;
		}
		else
		{
			if (dot != NULL)
				return CSMS_BLOB_ERR_SEGMENTS;
			seglen[i] = (size_t) (end - p);
		}
	}

	/* one allocation: a copy of the encoded header (the AAD), then segments */
	total = seglen[0] + 1;
	for (i = 0; i < 5; i++)
	{
		declen[i] = csms_b64url_declen_max(seglen[i]);
		total += declen[i];
	}
	mem = csms_blob_alloc(a, total);
	if (mem == NULL)
		return CSMS_BLOB_ERR_NOMEM;
	memcpy(mem, seg[0], seglen[0]);
	mem[seglen[0]] = '\0';
	{
		uint8_t    *q = mem + seglen[0] + 1;

		for (i = 0; i < 5; i++)
		{
			dec[i] = q;
			q += declen[i];
		}
	}

	/* strict base64url of every segment */
	for (i = 0; i < 5; i++)
	{
		if (csms_b64url_decode(seg[i], seglen[i], dec[i], &declen[i]) != CSMS_OK)
		{
			st = CSMS_BLOB_ERR_BASE64;
			goto fail;
		}
	}

	/* the header is a JSON object */
	jr = json_parse_header(dec[0], declen[0], a, &jp);
	if (jr < 0)
	{
		st = CSMS_BLOB_ERR_NOMEM;
		goto fail;
	}
	if (jr == 0)
	{
		st = CSMS_BLOB_ERR_HEADER_JSON;
		goto fail;
	}
	if (!member_is(&jp.alg, prof->alg))
	{
		st = CSMS_BLOB_ERR_ALG;
		goto fail;
	}
	if (!member_is(&jp.enc, prof->enc))
	{
		st = CSMS_BLOB_ERR_ENC;
		goto fail;
	}
	if (!jp.kid.present || !jp.kid.is_string || jp.kid.too_long ||
		!kid_valid(jp.kid.val, jp.kid.len))
	{
		st = CSMS_BLOB_ERR_KID;
		goto fail;
	}
	if (declen[1] != prof->cek_len + CSMS_KW_OVERHEAD)
	{
		st = CSMS_BLOB_ERR_ENCRYPTED_KEY_LEN;
		goto fail;
	}
	if (declen[2] != CSMS_BLOB_IV_LEN)
	{
		st = CSMS_BLOB_ERR_IV_LEN;
		goto fail;
	}
	if (declen[4] != CSMS_BLOB_TAG_LEN)
	{
		st = CSMS_BLOB_ERR_TAG_LEN;
		goto fail;
	}

	memcpy(out->kid, jp.kid.val, jp.kid.len);
	out->kid[jp.kid.len] = '\0';
	out->kid_len = jp.kid.len;
	out->aad = (const char *) mem;
	out->aad_len = seglen[0];
	out->header = dec[0];
	out->header_len = declen[0];
	out->encrypted_key = dec[1];
	out->encrypted_key_len = declen[1];
	out->iv = dec[2];
	out->iv_len = declen[2];
	out->ciphertext = dec[3];
	out->ciphertext_len = declen[3];
	out->tag = dec[4];
	out->tag_len = declen[4];
	out->profile = (int) profile;
	out->mem = mem;
	if (a != NULL)
		out->allocator = *a;
	return CSMS_BLOB_OK;

fail:
	blob_free(a, mem);
	return st;
}

csms_blob_status
csms_jwe_parse(const char *jwe, size_t len, csms_jwe_profile profile,
			   const csms_blob_allocator *a, csms_blob_parsed *out)
{
	if (out == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	parsed_reset(out);
	if ((jwe == NULL && len > 0) || !allocator_valid(a) ||
		(unsigned) profile >= NUM_PROFILES)
		return CSMS_BLOB_ERR_ARGUMENT;
	if (len == 0)
		return CSMS_BLOB_ERR_EMPTY;
	if (len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	return jwe_parse_body(jwe, len, profile, a, out);
}

csms_blob_status
csms_blob_parse(const char *blob, size_t len, const csms_blob_allocator *a,
				csms_blob_parsed *out)
{
	if (out == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	parsed_reset(out);
	if ((blob == NULL && len > 0) || !allocator_valid(a))
		return CSMS_BLOB_ERR_ARGUMENT;
	if (len == 0)
		return CSMS_BLOB_ERR_EMPTY;
	if (len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	if (len < CSMS_BLOB_PREFIX_LEN ||
		memcmp(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN) != 0)
		return CSMS_BLOB_ERR_PREFIX;
	return jwe_parse_body(blob + CSMS_BLOB_PREFIX_LEN,
						  len - CSMS_BLOB_PREFIX_LEN,
						  CSMS_JWE_A256KW_A256GCM, a, out);
}

void
csms_blob_parsed_free(csms_blob_parsed *p)
{
	if (p == NULL)
		return;
	if (p->mem != NULL)
	{
		csms_blob_allocator a = p->allocator;

		blob_free(a.alloc != NULL ? &a : NULL, p->mem);
	}
	parsed_reset(p);
}

/* open ------------------------------------------------------------------- */

csms_blob_status
csms_jwe_open(const csms_blob_parsed *p, const uint8_t *kek, size_t keklen,
			  uint8_t **payload, size_t *payload_len)
{
	const jwe_profile_def *prof;
	const csms_blob_allocator *a;
	uint8_t		cek[MAX_CEK_LEN];
	uint8_t    *out;
	csms_crypto_status cst;
	csms_blob_status st;

	if (payload == NULL || payload_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*payload = NULL;
	*payload_len = 0;
	if (p == NULL || p->mem == NULL || kek == NULL ||
		p->profile < 0 || (size_t) p->profile >= NUM_PROFILES)
		return CSMS_BLOB_ERR_ARGUMENT;
	prof = &jwe_profiles[p->profile];
	if (keklen != prof->kek_len ||
		p->encrypted_key_len != prof->cek_len + CSMS_KW_OVERHEAD ||
		p->iv_len != CSMS_BLOB_IV_LEN || p->tag_len != CSMS_BLOB_TAG_LEN)
		return CSMS_BLOB_ERR_ARGUMENT;
	a = p->allocator.alloc != NULL ? &p->allocator : NULL;

	/* allocate before any key material exists (the allocator may longjmp) */
	out = csms_blob_alloc(a, p->ciphertext_len);
	if (out == NULL)
		return CSMS_BLOB_ERR_NOMEM;

	cst = csms_aes_kw_unwrap(kek, keklen, p->encrypted_key,
							 p->encrypted_key_len, cek);
	if (cst != CSMS_OK)
	{
		st = (cst == CSMS_ERR_AUTH) ? CSMS_BLOB_ERR_UNWRAP : CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}

	cst = csms_gcm_decrypt(cek, prof->cek_len, p->iv, p->iv_len,
						   (const uint8_t *) p->aad, p->aad_len,
						   p->ciphertext, p->ciphertext_len, p->tag, out);
	if (cst != CSMS_OK)
	{
		st = (cst == CSMS_ERR_AUTH) ? CSMS_BLOB_ERR_DECRYPT : CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}
	csms_wipe(cek, sizeof(cek));
	*payload = out;
	*payload_len = p->ciphertext_len;
	return CSMS_BLOB_OK;

fail:
	csms_wipe(cek, sizeof(cek));
	csms_blob_free_secret(a, out, p->ciphertext_len);
	return st;
}

csms_blob_status
csms_blob_open(const csms_blob_parsed *p,
			   const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
			   uint8_t **payload, size_t *payload_len)
{
	if (payload == NULL || payload_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*payload = NULL;
	*payload_len = 0;
	if (p == NULL || p->profile != CSMS_JWE_A256KW_A256GCM)
		return CSMS_BLOB_ERR_ARGUMENT;
	return csms_jwe_open(p, backup_key, CSMS_BLOB_KEY_LEN, payload, payload_len);
}

/* seal ------------------------------------------------------------------- */

csms_blob_status
csms_blob_seal(const char *kid, const uint8_t backup_key[CSMS_BLOB_KEY_LEN],
			   const uint8_t *payload, size_t payload_len,
			   const csms_blob_allocator *a,
			   char **out_blob, size_t *out_len)
{
	/* {"alg":"A256KW","enc":"A256GCM","kid":"..."} with kid escaped */
	static const char head[] = "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"";
	static const char tail[] = "\"}";
	char		header[sizeof(head) + 2 * CSMS_BLOB_KID_MAX + sizeof(tail)];
	size_t		hlen;
	size_t		kidlen;
	size_t		h64,
				ek64,
				iv64,
				ct64,
				tag64,
				total;
	char	   *blob = NULL;
	uint8_t    *ct = NULL;
	uint8_t		cek[CSMS_BLOB_CEK_LEN];
	uint8_t		ek[CSMS_BLOB_EK_LEN];
	uint8_t		iv[CSMS_BLOB_IV_LEN];
	uint8_t		tag[CSMS_BLOB_TAG_LEN];
	char	   *w;
	csms_crypto_status cst;
	csms_blob_status st;
	size_t		i;

	if (out_blob == NULL || out_len == NULL)
		return CSMS_BLOB_ERR_ARGUMENT;
	*out_blob = NULL;
	*out_len = 0;
	if (kid == NULL || backup_key == NULL ||
		(payload == NULL && payload_len > 0) || !allocator_valid(a))
		return CSMS_BLOB_ERR_ARGUMENT;

	for (kidlen = 0; kidlen <= CSMS_BLOB_KID_MAX && kid[kidlen] != '\0'; kidlen++)
		;
	if (!kid_valid((const uint8_t *) kid, kidlen))
		return CSMS_BLOB_ERR_KID;

	/* the header JSON */
	memcpy(header, head, sizeof(head) - 1);
	hlen = sizeof(head) - 1;
	for (i = 0; i < kidlen; i++)
	{
		if (kid[i] == '"' || kid[i] == '\\')
			header[hlen++] = '\\';
		header[hlen++] = kid[i];
	}
	memcpy(header + hlen, tail, sizeof(tail) - 1);
	hlen += sizeof(tail) - 1;

	/* the final length, checked before anything is allocated */
	if (payload_len > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;
	h64 = csms_b64url_enclen(hlen);
	ek64 = csms_b64url_enclen(CSMS_BLOB_EK_LEN);
	iv64 = csms_b64url_enclen(CSMS_BLOB_IV_LEN);
	ct64 = csms_b64url_enclen(payload_len);
	tag64 = csms_b64url_enclen(CSMS_BLOB_TAG_LEN);
	total = CSMS_BLOB_PREFIX_LEN + h64 + 1 + ek64 + 1 + iv64 + 1 + ct64 + 1 + tag64;
	if (total > CSMS_BLOB_MAX_LEN)
		return CSMS_BLOB_ERR_TOO_LONG;

	/* every allocation before any key material exists */
	blob = csms_blob_alloc(a, total + 1);
	if (blob == NULL)
		return CSMS_BLOB_ERR_NOMEM;
	ct = csms_blob_alloc(a, payload_len);
	if (ct == NULL)
	{
		blob_free(a, blob);
		return CSMS_BLOB_ERR_NOMEM;
	}

	/* prefix and encoded header; the latter is the AAD */
	memcpy(blob, CSMS_BLOB_PREFIX, CSMS_BLOB_PREFIX_LEN);
	w = blob + CSMS_BLOB_PREFIX_LEN;
	csms_b64url_encode((const uint8_t *) header, hlen, w);

	cst = csms_random_bytes(cek, sizeof(cek));
	if (cst == CSMS_OK)
		cst = csms_random_bytes(iv, sizeof(iv));
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_RANDOM;
		goto fail;
	}
	cst = csms_aes_kw_wrap(backup_key, CSMS_BLOB_KEY_LEN, cek, sizeof(cek), ek);
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}
	cst = csms_gcm_encrypt(cek, sizeof(cek), iv, sizeof(iv),
						   (const uint8_t *) w, h64,
						   payload, payload_len, ct, tag);
	csms_wipe(cek, sizeof(cek));
	if (cst != CSMS_OK)
	{
		st = CSMS_BLOB_ERR_CRYPTO;
		goto fail;
	}

	w += h64;
	*w++ = '.';
	csms_b64url_encode(ek, sizeof(ek), w);
	w += ek64;
	*w++ = '.';
	csms_b64url_encode(iv, sizeof(iv), w);
	w += iv64;
	*w++ = '.';
	csms_b64url_encode(ct, payload_len, w);
	w += ct64;
	*w++ = '.';
	csms_b64url_encode(tag, sizeof(tag), w);
	w += tag64;
	*w = '\0';

	blob_free(a, ct);
	*out_blob = blob;
	*out_len = total;
	return CSMS_BLOB_OK;

fail:
	csms_wipe(cek, sizeof(cek));
	blob_free(a, ct);
	blob_free(a, blob);
	return st;
}
