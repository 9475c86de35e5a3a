/*-------------------------------------------------------------------------
 *
 * fuzz_json.c
 *	  libFuzzer harness for the payload JSON codec (src/json.c).
 *
 *	  Every input is parsed.  When it parses:
 *	  - the tree is checked against json.h's promises with code independent
 *		of json.c: strings and names are valid UTF-8 with no NUL and are
 *		NUL-terminated, numbers match the JSON grammar, nesting is at most
 *		CSMS_JSON_MAX_DEPTH, no object has two equal names, arrays have no
 *		names, literals have no text;
 *	  - it is serialized with the writer (a small serializer below), parsed
 *		again and must give a structurally equal tree, whose serialization
 *		must be byte for byte the same (the writer's output is a fixpoint).
 *	  Whether or not it parses, it is parsed again through a tracking
 *	  allocator (same status, nothing left, every block wiped - all zero -
 *	  when it is freed), and once more with one allocation, chosen from the
 *	  input, failing: that must give CSMS_JSON_ERR_NOMEM with nothing left.
 *	  The writer's buffers go through the tracking allocator too.  Any broken
 *	  invariant aborts, which libFuzzer reports as a crash.
 *
 * fuzz/fuzz_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define REQUIRE(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a counting, failing, wipe-checking allocator ---------------------------- */

typedef struct track
{
	long		outstanding;
	long		nalloc;
	long		fail_at;		/* 1-based; 0: never */
} track;

static void *
track_alloc(void *ctx, size_t size)
{
	track	   *t = ctx;
	size_t	   *h;

	t->nalloc++;
	if (t->fail_at != 0 && t->nalloc == t->fail_at)
		return NULL;
	h = malloc(sizeof(size_t) * 2 + size);
	REQUIRE(h != NULL);
	h[0] = size;
	memset(h + 2, 0, size);		/* so that all zero at free means wiped */
	t->outstanding++;
	return h + 2;
}

static void
track_free(void *ctx, void *ptr)
{
	track	   *t = ctx;
	size_t	   *h = (size_t *) ptr - 2;
	const unsigned char *p = ptr;
	size_t		i;

	for (i = 0; i < h[0]; i++)
		REQUIRE(p[i] == 0);		/* freed without being wiped */
	t->outstanding--;
	free(h);
}

/* independent checks of a tree -------------------------------------------- */

/* strict UTF-8 per RFC 3629, written without looking at json.c */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned long cp;
		size_t		need,
					j;

		if (s[i] < 0x80)
		{
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
		{
			need = 1;
			cp = s[i] & 0x1f;
		}
		else if ((s[i] & 0xf0) == 0xe0)
		{
			need = 2;
			cp = s[i] & 0x0f;
		}
		else if ((s[i] & 0xf8) == 0xf0)
		{
			need = 3;
			cp = s[i] & 0x07;
		}
		else
			return false;
		if (n - i - 1 < need)
			return false;
		for (j = 1; j <= need; j++)
		{
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
			(need == 3 && cp < 0x10000) || cp > 0x10ffff ||
			(cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static bool
digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

static bool
valid_number(const char *s, size_t n)
{
	const char *p = s;

	if (strlen(s) != n)
		return false;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		digits(&p);
	else
		return false;
	if (*p == '.')
	{
		p++;
		if (!digits(&p))
			return false;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!digits(&p))
			return false;
	}
	return *p == '\0';
}

static bool
valid_text(const char *s, size_t n)
{
	return s != NULL && s[n] == '\0' && memchr(s, '\0', n) == NULL &&
		valid_utf8((const unsigned char *) s, n);
}

static void
check_tree(const csms_json *v, int depth)
{
	size_t		i,
				j;

	REQUIRE(v != NULL);
	switch (v->type)
	{
		case CSMS_JSON_NULL:
		case CSMS_JSON_FALSE:
		case CSMS_JSON_TRUE:
			REQUIRE(v->str == NULL && v->len == 0 && v->count == 0 &&
					v->keys == NULL && v->items == NULL);
			break;
		case CSMS_JSON_NUMBER:
			REQUIRE(v->str != NULL && v->len > 0 && valid_number(v->str, v->len));
			REQUIRE(v->count == 0 && v->keys == NULL && v->items == NULL);
			break;
		case CSMS_JSON_STRING:
			REQUIRE(valid_text(v->str, v->len));
			REQUIRE(v->count == 0 && v->keys == NULL && v->items == NULL);
			break;
		case CSMS_JSON_ARRAY:
		case CSMS_JSON_OBJECT:
			REQUIRE(depth + 1 <= CSMS_JSON_MAX_DEPTH);
			REQUIRE(v->str == NULL);
			REQUIRE(v->count == 0 || v->items != NULL);
			if (v->type == CSMS_JSON_ARRAY)
				REQUIRE(v->keys == NULL && v->key_lens == NULL);
			for (i = 0; i < v->count; i++)
			{
				if (v->type == CSMS_JSON_OBJECT)
				{
					REQUIRE(valid_text(v->keys[i], v->key_lens[i]));
					REQUIRE(csms_json_get(v, v->keys[i]) == v->items[i]);
					if (v->count <= 64)	/* quadratic cross-check */
						for (j = 0; j < i; j++)
							REQUIRE(v->key_lens[j] != v->key_lens[i] ||
									memcmp(v->keys[j], v->keys[i], v->key_lens[i]) != 0);
				}
				check_tree(v->items[i], depth + 1);
			}
			break;
		default:
			REQUIRE(!"unknown node type");
	}
}

static bool
json_equal(const csms_json *x, const csms_json *y)
{
	size_t		i;

	if (x->type != y->type)
		return false;
	switch (x->type)
	{
		case CSMS_JSON_NULL:
		case CSMS_JSON_FALSE:
		case CSMS_JSON_TRUE:
			return true;
		case CSMS_JSON_NUMBER:
		case CSMS_JSON_STRING:
			return x->len == y->len && memcmp(x->str, y->str, x->len) == 0;
		case CSMS_JSON_ARRAY:
		case CSMS_JSON_OBJECT:
			if (x->count != y->count)
				return false;
			for (i = 0; i < x->count; i++)
			{
				if (x->type == CSMS_JSON_OBJECT &&
					(x->key_lens[i] != y->key_lens[i] ||
					 memcmp(x->keys[i], y->keys[i], x->key_lens[i]) != 0))
					return false;
				if (!json_equal(x->items[i], y->items[i]))
					return false;
			}
			return true;
	}
	return false;
}

/* the serializer: compact JSON through the writer */
static void
serialize(csms_json_buf *b, const csms_json *v)
{
	size_t		i;

	switch (v->type)
	{
		case CSMS_JSON_NULL:
			csms_json_buf_raw(b, "null", 4);
			break;
		case CSMS_JSON_FALSE:
			csms_json_buf_raw(b, "false", 5);
			break;
		case CSMS_JSON_TRUE:
			csms_json_buf_raw(b, "true", 4);
			break;
		case CSMS_JSON_NUMBER:
			csms_json_buf_raw(b, v->str, v->len);
			break;
		case CSMS_JSON_STRING:
			csms_json_buf_string(b, v->str, v->len);
			break;
		case CSMS_JSON_ARRAY:
		case CSMS_JSON_OBJECT:
			csms_json_buf_raw(b, v->type == CSMS_JSON_ARRAY ? "[" : "{", 1);
			for (i = 0; i < v->count; i++)
			{
				if (i > 0)
					csms_json_buf_raw(b, ",", 1);
				if (v->type == CSMS_JSON_OBJECT)
				{
					csms_json_buf_string(b, v->keys[i], v->key_lens[i]);
					csms_json_buf_raw(b, ":", 1);
				}
				serialize(b, v->items[i]);
			}
			csms_json_buf_raw(b, v->type == CSMS_JSON_ARRAY ? "]" : "}", 1);
			break;
	}
}

/* the harness --------------------------------------------------------------- */

static uint32_t
hash(const uint8_t *data, size_t size)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	csms_json  *v = (csms_json *) 1;
	csms_json_status st;
	track		t;
	csms_allocator a = {track_alloc, track_free, &t};
	long		total;

	st = csms_json_parse((const char *) data, size, NULL, &v);
	REQUIRE(st >= CSMS_JSON_OK && st < CSMS_JSON_ERR_NOMEM);
	REQUIRE(st != CSMS_JSON_ERR_TOO_BIG || size > CSMS_JSON_MAX_LEN);
	REQUIRE(csms_json_strerror(st)[0] != '\0');
	REQUIRE((st == CSMS_JSON_OK) == (v != NULL));

	if (st == CSMS_JSON_OK)
	{
		csms_json_buf b1,
					b2;
		csms_json  *w = NULL;

		check_tree(v, 0);

		memset(&t, 0, sizeof(t));
		csms_json_buf_init(&b1, &a);
		serialize(&b1, v);
		REQUIRE(!b1.failed && b1.data != NULL && strlen(b1.data) == b1.len);
		REQUIRE(csms_json_parse(b1.data, b1.len, NULL, &w) == CSMS_JSON_OK);
		REQUIRE(json_equal(v, w));

		csms_json_buf_init(&b2, NULL);
		serialize(&b2, w);
		REQUIRE(!b2.failed && b2.len == b1.len && memcmp(b1.data, b2.data, b1.len) == 0);

		csms_json_free(w, NULL);
		csms_json_buf_free(&b1);
		REQUIRE(t.outstanding == 0);
		csms_json_buf_free(&b2);
		csms_json_free(v, NULL);
	}

	/* the same through the tracking allocator: same status, all wiped */
	memset(&t, 0, sizeof(t));
	v = NULL;
	REQUIRE(csms_json_parse((const char *) data, size, &a, &v) == st);
	csms_json_free(v, &a);
	REQUIRE(t.outstanding == 0);
	total = t.nalloc;

	/* fail one allocation chosen from the input */
	if (total > 0)
	{
		csms_json_status st2;

		memset(&t, 0, sizeof(t));
		t.fail_at = 1 + (long) (hash(data, size) % (uint32_t) total);
		v = (csms_json *) 1;
		st2 = csms_json_parse((const char *) data, size, &a, &v);
		/* the parse is deterministic, so the failing allocation is reached */
		REQUIRE(st2 == CSMS_JSON_ERR_NOMEM);
		REQUIRE(v == NULL);
		REQUIRE(t.outstanding == 0);
	}
	return 0;
}
