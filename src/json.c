/*-------------------------------------------------------------------------
 *
 * json.c
 *	  A small strict JSON codec whose every buffer can be wiped.  See json.h.
 *
 *	  No PostgreSQL header is included here on purpose: test/test_json.c
 *	  unit-tests this file and fuzz/fuzz_json.c fuzzes it, both linked with
 *	  alloc.c and crypto.c (for csms_wipe) only.
 *
 *	  The parser is a recursive descent over the input bytes; recursion is
 *	  bounded by the depth limit (CSMS_JSON_MAX_DEPTH unless the options say).  A string is read in two passes: the
 *	  first finds the closing quote (the unescaped length is never more than
 *	  the escaped one), then a buffer of that size is allocated and the
 *	  string is validated and decoded straight into it.  Arrays grow by
 *	  doubling; the old block is wiped before it is freed.  Duplicate member
 *	  names are found when an object ends by heap-sorting an index array
 *	  (allocated through the allocator) by name and comparing neighbours:
 *	  O(n log n) comparisons, no recursion, no allocation outside the
 *	  allocator.
 *
 * src/json.c
 *
 *-------------------------------------------------------------------------
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"				/* csms_wipe */

/* allocation ------------------------------------------------------------- */

/*
 * Move the array at *arr (count elements of elem bytes in use) to a new
 * block with room for newcap elements.  The old block is wiped and freed only after the
 * copy succeeded; on failure *arr is unchanged.
 */
static bool
grow_array(const csms_allocator *a, void **arr, size_t elem,
		   size_t count, size_t newcap)
{
	void	   *n;

	if (newcap > SIZE_MAX / elem)
		return false;
	n = csms_alloc(a, newcap * elem);
	if (n == NULL)
		return false;
	if (count > 0)
		memcpy(n, *arr, count * elem);
	csms_free_secret(a, *arr, count * elem);
	*arr = n;
	return true;
}

/* messages --------------------------------------------------------------- */

/* A short reason for each status */
const char *
csms_json_strerror(csms_json_status st)
{
	switch (st)
	{
		case CSMS_JSON_OK:
			return "success";
		case CSMS_JSON_ERR_SYNTAX:
			return "the payload is not valid JSON";
		case CSMS_JSON_ERR_UTF8:
			return "a JSON string is not valid UTF-8 or has a lone surrogate";
		case CSMS_JSON_ERR_NUL:
			return "the JSON text contains a NUL character";
		case CSMS_JSON_ERR_DEPTH:
			return "the JSON nesting is deeper than 64 levels";
		case CSMS_JSON_ERR_DUPLICATE:
			return "a JSON object has a duplicate member name";
		case CSMS_JSON_ERR_TRAILING:
			return "the JSON value is followed by other data";
		case CSMS_JSON_ERR_TOO_BIG:
			return "the JSON text is longer than 16777216 bytes";
		case CSMS_JSON_ERR_NOMEM:
			return "out of memory";
	}
	return "unknown JSON error";
}

/* tree release ----------------------------------------------------------- */

/* Wipe and free a tree, children first */
void
csms_json_free(csms_json *v, const csms_allocator *a)
{
	size_t		i;

	if (v == NULL)
		return;
	csms_free_secret(a, v->str, v->str != NULL ? v->len + 1 : 0);
	if (v->items != NULL)
	{
		for (i = 0; i < v->count; i++)
			csms_json_free(v->items[i], a);
		csms_free_secret(a, v->items, v->count * sizeof(csms_json *));
	}
	if (v->keys != NULL)
	{
		for (i = 0; i < v->count; i++)
			csms_free_secret(a, v->keys[i], v->key_lens[i] + 1);
		csms_free_secret(a, v->keys, v->count * sizeof(char *));
	}
	csms_free_secret(a, v->key_lens, v->count * sizeof(size_t));
	csms_free_secret(a, v, sizeof(csms_json));
}

/* A member of an object by name */
const csms_json *
csms_json_get(const csms_json *obj, const char *key)
{
	size_t		klen,
				i;

	if (obj == NULL || key == NULL || obj->type != CSMS_JSON_OBJECT)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < obj->count; i++)
		if (obj->key_lens[i] == klen && memcmp(obj->keys[i], key, klen) == 0)
			return obj->items[i];
	return NULL;
}

/* parser ----------------------------------------------------------------- */

typedef struct json_parser
{
	const unsigned char *p;		/* next byte */
	const unsigned char *end;
	const csms_allocator *a;
	int			depth;			/* open arrays/objects */
	int			max_depth;
	bool		allow_nul;		/* \u0000 in strings */
} json_parser;

static csms_json_status parse_value(json_parser *ps, csms_json **out);

/* Past JSON white space */
static void
skip_ws(json_parser *ps)
{
	while (ps->p < ps->end &&
		   (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* the status for an unexpected byte (or the end) at ps->p */
static csms_json_status
unexpected(const json_parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\0')
		return CSMS_JSON_ERR_NUL;
	return CSMS_JSON_ERR_SYNTAX;
}

/* A zeroed node of a type */
static csms_json *
new_node(json_parser *ps, csms_json_type type)
{
	csms_json  *v = csms_alloc(ps->a, sizeof(csms_json));

	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

/* a number or literal must not run into what could continue a token */
static bool
at_token_boundary(const json_parser *ps)
{
	unsigned char c;

	if (ps->p >= ps->end)
		return true;
	c = *ps->p;
	return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			 (c >= 'A' && c <= 'Z') || c == '.' || c == '+' || c == '-' ||
			 c == '_');
}

/* four hex digits at s (at least 4 bytes available), or -1 */
static long
hex4(const unsigned char *s)
{
	long		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			h = csms_hex_digit(s[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

/* length of the valid UTF-8 sequence at s[0..avail) (lead byte >= 0x80), or 0 */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80,
				hi = 0xbf;
	size_t		len,
				i;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
	{
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;			/* overlong */
		else if (c == 0xed)
			hi = 0x9f;			/* surrogates */
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		len = 4;
		if (c == 0xf0)
			lo = 0x90;			/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;			/* above U+10FFFF */
	}
	else
		return 0;				/* continuation byte, C0, C1, F5..FF */
	if (avail < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A code point as UTF-8 at out; its length */
static size_t
utf8_encode(unsigned long cp, char *out)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xc0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xe0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char) (0xf0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the string starting at ps->p (the opening quote) into a new buffer.
 * On success *out and *outlen get the NUL-terminated bytes and their length and
 * ps->p is past the closing quote.  On failure nothing is left allocated.
 */
static csms_json_status
parse_string(json_parser *ps, char **out, size_t *outlen)
{
	const unsigned char *s = ps->p + 1;
	const unsigned char *q = s;
	const unsigned char *close;
	char	   *buf;
	size_t		n = 0;
	csms_json_status st;

	*out = NULL;
	*outlen = 0;

	/* pass 1: find the closing quote (an escape hides the byte after '\') */
	while (q < ps->end && *q != '"')
	{
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= ps->end)
	{
		/* unterminated; report a NUL on the way as such */
		if (memchr(s, '\0', (size_t) (ps->end - s)) != NULL)
			return CSMS_JSON_ERR_NUL;
		return CSMS_JSON_ERR_SYNTAX;
	}
	close = q;

	/* pass 2: validate and decode into a buffer allocated beforehand */
	buf = csms_alloc(ps->a, (size_t) (close - s) + 1);
	if (buf == NULL)
		return CSMS_JSON_ERR_NOMEM;

	q = s;
	while (q < close)
	{
		unsigned char c = *q;

		if (c == '\\')
		{
			unsigned char e = q[1];		/* q + 1 < close: pass 1 */

			q += 2;
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					buf[n++] = (char) e;
					break;
				case 'b':
					buf[n++] = '\b';
					break;
				case 'f':
					buf[n++] = '\f';
					break;
				case 'n':
					buf[n++] = '\n';
					break;
				case 'r':
					buf[n++] = '\r';
					break;
				case 't':
					buf[n++] = '\t';
					break;
				case 'u':
					{
						long		cp;

						if (close - q < 4 || (cp = hex4(q)) < 0)
						{
							st = CSMS_JSON_ERR_SYNTAX;
							goto fail;
						}
						q += 4;
						if (cp == 0 && !ps->allow_nul)
						{
							st = CSMS_JSON_ERR_NUL;
							goto fail;
						}
						if (cp >= 0xdc00 && cp <= 0xdfff)
						{
							st = CSMS_JSON_ERR_UTF8;	/* lone low surrogate */
							goto fail;
						}
						if (cp >= 0xd800 && cp <= 0xdbff)
						{
							long		lo;

							if (close - q < 6 || q[0] != '\\' || q[1] != 'u' ||
								(lo = hex4(q + 2)) < 0xdc00 || lo > 0xdfff)
							{
								st = CSMS_JSON_ERR_UTF8;	/* lone high
															 * surrogate */
								goto fail;
							}
							q += 6;
							cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						}
						n += utf8_encode((unsigned long) cp, buf + n);
						break;
					}
				default:
					st = (e == '\0') ? CSMS_JSON_ERR_NUL : CSMS_JSON_ERR_SYNTAX;
					goto fail;
			}
		}
		else if (c == '\0')
		{
			st = CSMS_JSON_ERR_NUL;
			goto fail;
		}
		else if (c < 0x20)
		{
			st = CSMS_JSON_ERR_SYNTAX;
			goto fail;
		}
		else if (c < 0x80)
		{
			buf[n++] = (char) c;
			q++;
		}
		else
		{
			size_t		l = utf8_seq_len(q, (size_t) (close - q));

			if (l == 0)
			{
				st = CSMS_JSON_ERR_UTF8;
				goto fail;
			}
			memcpy(buf + n, q, l);
			n += l;
			q += l;
		}
	}
	buf[n] = '\0';
	ps->p = close + 1;
	*out = buf;
	*outlen = n;
	return CSMS_JSON_OK;

fail:
	csms_free_secret(ps->a, buf, n + 1);
	return st;
}

/* A number, kept as its literal text */
static csms_json_status
parse_number(json_parser *ps, csms_json **out)
{
	const unsigned char *start = ps->p;
	const unsigned char *q = ps->p;
	const unsigned char *end = ps->end;
	csms_json  *v;
	size_t		n;

	if (q < end && *q == '-')
		q++;
	if (q >= end || !(*q >= '0' && *q <= '9'))
	{
		ps->p = q;
		return unexpected(ps);
	}
	if (*q == '0')
		q++;					/* a leading zero stands alone */
	else
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	if (q < end && *q == '.')
	{
		q++;
		if (q >= end || !(*q >= '0' && *q <= '9'))
		{
			ps->p = q;
			return unexpected(ps);
		}
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E'))
	{
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		if (q >= end || !(*q >= '0' && *q <= '9'))
		{
			ps->p = q;
			return unexpected(ps);
		}
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	ps->p = q;
	if (!at_token_boundary(ps))
		return CSMS_JSON_ERR_SYNTAX;

	n = (size_t) (q - start);
	v = new_node(ps, CSMS_JSON_NUMBER);
	if (v == NULL)
		return CSMS_JSON_ERR_NOMEM;
	v->str = csms_alloc(ps->a, n + 1);
	if (v->str == NULL)
	{
		csms_json_free(v, ps->a);
		return CSMS_JSON_ERR_NOMEM;
	}
	memcpy(v->str, start, n);
	v->str[n] = '\0';
	v->len = n;
	*out = v;
	return CSMS_JSON_OK;
}

/* true, false or null, not running into a name character */
static csms_json_status
parse_literal(json_parser *ps, const char *word, csms_json_type type,
			  csms_json **out)
{
	size_t		n = strlen(word);
	size_t		i;
	csms_json  *v;

	for (i = 0; i < n; i++)
	{
		if (ps->p >= ps->end || *ps->p != (unsigned char) word[i])
			return unexpected(ps);
		ps->p++;
	}
	if (!at_token_boundary(ps))
		return CSMS_JSON_ERR_SYNTAX;
	v = new_node(ps, type);
	if (v == NULL)
		return CSMS_JSON_ERR_NOMEM;
	*out = v;
	return CSMS_JSON_OK;
}

/* An array at ps->p, its items grown by doubling */
static csms_json_status
parse_array(json_parser *ps, csms_json **out)
{
	csms_json  *v;
	size_t		cap = 0;
	csms_json_status st;

	if (++ps->depth > ps->max_depth)
		return CSMS_JSON_ERR_DEPTH;
	v = new_node(ps, CSMS_JSON_ARRAY);
	if (v == NULL)
		return CSMS_JSON_ERR_NOMEM;
	ps->p++;					/* '[' */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']')
	{
		ps->p++;
		ps->depth--;
		*out = v;
		return CSMS_JSON_OK;
	}
	for (;;)
	{
		csms_json  *item = NULL;

		if (v->count == cap)
		{
			size_t		newcap = cap == 0 ? 4 : cap * 2;

			if (!grow_array(ps->a, (void **) &v->items, sizeof(csms_json *),
							v->count, newcap))
			{
				st = CSMS_JSON_ERR_NOMEM;
				goto fail;
			}
			cap = newcap;
		}
		st = parse_value(ps, &item);
		if (st != CSMS_JSON_OK)
			goto fail;
		v->items[v->count++] = item;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
		{
			ps->p++;
			break;
		}
		st = unexpected(ps);
		goto fail;
	}
	ps->depth--;
	*out = v;
	return CSMS_JSON_OK;

fail:
	csms_json_free(v, ps->a);
	return st;
}

/* byte order of two names (no NUL inside, so the shorter prefix sorts first) */
static int
key_cmp(const csms_json *v, size_t i, size_t j)
{
	size_t		li = v->key_lens[i],
				lj = v->key_lens[j];
	int			c = memcmp(v->keys[i], v->keys[j], li < lj ? li : lj);

	if (c != 0)
		return c;
	return (li > lj) - (li < lj);
}

/* Heap sort step over the member index (duplicate check) */
static void
sift_down(const csms_json *v, size_t *idx, size_t root, size_t n)
{
	for (;;)
	{
		size_t		child = 2 * root + 1;
		size_t		t;

		if (child >= n)
			return;
		if (child + 1 < n && key_cmp(v, idx[child + 1], idx[child]) > 0)
			child++;
		if (key_cmp(v, idx[child], idx[root]) <= 0)
			return;
		t = idx[root];
		idx[root] = idx[child];
		idx[child] = t;
		root = child;
	}
}

/* CSMS_JSON_ERR_DUPLICATE if two member names of v are equal; O(n log n) */
static csms_json_status
check_duplicates(json_parser *ps, const csms_json *v)
{
	size_t	   *idx;
	size_t		n = v->count,
				i;
	csms_json_status st = CSMS_JSON_OK;

	if (n < 2)
		return CSMS_JSON_OK;
	if (n == 2)
		return key_cmp(v, 0, 1) == 0 ? CSMS_JSON_ERR_DUPLICATE : CSMS_JSON_OK;
	if (n > SIZE_MAX / sizeof(size_t))
		return CSMS_JSON_ERR_NOMEM;
	idx = csms_alloc(ps->a, n * sizeof(size_t));
	if (idx == NULL)
		return CSMS_JSON_ERR_NOMEM;
	for (i = 0; i < n; i++)
		idx[i] = i;
	/* heapsort */
	for (i = n / 2; i > 0; i--)
		sift_down(v, idx, i - 1, n);
	for (i = n - 1; i > 0; i--)
	{
		size_t		t = idx[0];

		idx[0] = idx[i];
		idx[i] = t;
		sift_down(v, idx, 0, i);
	}
	for (i = 1; i < n; i++)
		if (key_cmp(v, idx[i - 1], idx[i]) == 0)
		{
			st = CSMS_JSON_ERR_DUPLICATE;
			break;
		}
	csms_free_secret(ps->a, idx, n * sizeof(size_t));
	return st;
}

/* An object at ps->p; duplicate names rejected when it ends */
static csms_json_status
parse_object(json_parser *ps, csms_json **out)
{
	csms_json  *v;
	size_t		cap = 0;
	csms_json_status st;

	if (++ps->depth > ps->max_depth)
		return CSMS_JSON_ERR_DEPTH;
	v = new_node(ps, CSMS_JSON_OBJECT);
	if (v == NULL)
		return CSMS_JSON_ERR_NOMEM;
	ps->p++;					/* '{' */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}')
	{
		ps->p++;
		ps->depth--;
		*out = v;
		return CSMS_JSON_OK;
	}
	for (;;)
	{
		char	   *key = NULL;
		size_t		klen = 0;
		csms_json  *item = NULL;

		if (v->count == cap)
		{
			size_t		newcap = cap == 0 ? 4 : cap * 2;

			/* all three grow before count changes; free() uses count only */
			if (!grow_array(ps->a, (void **) &v->keys, sizeof(char *),
							v->count, newcap) ||
				!grow_array(ps->a, (void **) &v->key_lens, sizeof(size_t),
							v->count, newcap) ||
				!grow_array(ps->a, (void **) &v->items, sizeof(csms_json *),
							v->count, newcap))
			{
				st = CSMS_JSON_ERR_NOMEM;
				goto fail;
			}
			cap = newcap;
		}
		if (ps->p >= ps->end || *ps->p != '"')
		{
			st = unexpected(ps);
			goto fail;
		}
		st = parse_string(ps, &key, &klen);
		if (st != CSMS_JSON_OK)
			goto fail;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
		{
			csms_free_secret(ps->a, key, klen + 1);
			st = unexpected(ps);
			goto fail;
		}
		ps->p++;
		st = parse_value(ps, &item);
		if (st != CSMS_JSON_OK)
		{
			csms_free_secret(ps->a, key, klen + 1);
			goto fail;
		}
		v->keys[v->count] = key;
		v->key_lens[v->count] = klen;
		v->items[v->count] = item;
		v->count++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}')
		{
			ps->p++;
			break;
		}
		st = unexpected(ps);
		goto fail;
	}
	st = check_duplicates(ps, v);
	if (st != CSMS_JSON_OK)
		goto fail;
	ps->depth--;
	*out = v;
	return CSMS_JSON_OK;

fail:
	csms_json_free(v, ps->a);
	return st;
}

/* one value, with the white space before it */
static csms_json_status
parse_value(json_parser *ps, csms_json **out)
{
	*out = NULL;
	skip_ws(ps);
	if (ps->p >= ps->end)
		return CSMS_JSON_ERR_SYNTAX;
	switch (*ps->p)
	{
		case '{':
			return parse_object(ps, out);
		case '[':
			return parse_array(ps, out);
		case '"':
			{
				csms_json  *v = new_node(ps, CSMS_JSON_STRING);
				csms_json_status st;

				if (v == NULL)
					return CSMS_JSON_ERR_NOMEM;
				st = parse_string(ps, &v->str, &v->len);
				if (st != CSMS_JSON_OK)
				{
					csms_json_free(v, ps->a);
					return st;
				}
				*out = v;
				return CSMS_JSON_OK;
			}
		case 't':
			return parse_literal(ps, "true", CSMS_JSON_TRUE, out);
		case 'f':
			return parse_literal(ps, "false", CSMS_JSON_FALSE, out);
		case 'n':
			return parse_literal(ps, "null", CSMS_JSON_NULL, out);
		default:
			if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
				return parse_number(ps, out);
			return unexpected(ps);
	}
}

/* csms_json_parse_opts with the default rules */
csms_json_status
csms_json_parse(const char *text, size_t len, const csms_allocator *a,
				csms_json **out)
{
	return csms_json_parse_opts(text, len, a, NULL, out);
}

/* One value, white space around it, nothing after */
csms_json_status
csms_json_parse_opts(const char *text, size_t len, const csms_allocator *a,
					 const csms_json_options *opts, csms_json **out)
{
	json_parser ps;
	csms_json  *v = NULL;
	csms_json_status st;

	if (out == NULL)
		return CSMS_JSON_ERR_SYNTAX;
	*out = NULL;
	if (!csms_allocator_valid(a))
		return CSMS_JSON_ERR_NOMEM;
	if (len > CSMS_JSON_MAX_LEN)
		return CSMS_JSON_ERR_TOO_BIG;
	if (text == NULL)
	{
		if (len > 0)
			return CSMS_JSON_ERR_SYNTAX;
		text = "";
	}
	ps.p = (const unsigned char *) text;
	ps.end = ps.p + len;
	ps.a = a;
	ps.depth = 0;
	ps.max_depth = opts ? opts->max_depth : CSMS_JSON_MAX_DEPTH;
	ps.allow_nul = opts ? opts->allow_nul : false;

	st = parse_value(&ps, &v);
	if (st != CSMS_JSON_OK)
		return st;
	skip_ws(&ps);
	if (ps.p < ps.end)
	{
		csms_json_free(v, a);
		return *ps.p == '\0' ? CSMS_JSON_ERR_NUL : CSMS_JSON_ERR_TRAILING;
	}
	*out = v;
	return CSMS_JSON_OK;
}

/* writer ----------------------------------------------------------------- */

/* An empty writer */
void
csms_json_buf_init(csms_json_buf *b, const csms_allocator *a)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->a = a;
	b->failed = !csms_allocator_valid(a);
}

/* Wipe and free the writer's buffer */
void
csms_json_buf_free(csms_json_buf *b)
{
	if (b == NULL)
		return;
	csms_free_secret(b->a, b->data, b->cap);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = !csms_allocator_valid(b->a);
}

/* room for n more bytes plus the NUL; on failure wipe everything */
static bool
buf_reserve(csms_json_buf *b, size_t n)
{
	size_t		need,
				newcap;
	char	   *nd;

	if (b->failed)
		return false;
	if (n > SIZE_MAX - 1 - b->len)
		goto fail;
	need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	newcap = b->cap < 64 ? 64 : b->cap;
	while (newcap < need)
	{
		if (newcap > SIZE_MAX / 2)
		{
			newcap = need;
			break;
		}
		newcap *= 2;
	}
	nd = csms_alloc(b->a, newcap);
	if (nd == NULL)
		goto fail;
	if (b->data != NULL)
		memcpy(nd, b->data, b->len + 1);
	csms_free_secret(b->a, b->data, b->cap);
	b->data = nd;
	b->cap = newcap;
	return true;

fail:
	csms_free_secret(b->a, b->data, b->cap);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = true;
	return false;
}

/* Append bytes as they are */
void
csms_json_buf_raw(csms_json_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a quoted, escaped string */
void
csms_json_buf_string(csms_json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char		esc[6];			/* wiped below: it held an input byte */
	size_t		i,
				run = 0;

	csms_json_buf_raw(b, "\"", 1);
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		size_t		elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* flush the run of plain bytes before this one */
		if (i > run)
			csms_json_buf_raw(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c)
		{
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				elen = 6;
				break;
		}
		csms_json_buf_raw(b, esc, elen);
	}
	if (n > run)
		csms_json_buf_raw(b, s + run, n - run);
	csms_json_buf_raw(b, "\"", 1);
	csms_wipe(esc, sizeof(esc));
}
