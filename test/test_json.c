/*-------------------------------------------------------------------------
 *
 * test_json.c
 *	  Standalone unit tests for src/json.c, the strict wipeable JSON codec of
 *	  the backup payload.
 *
 *	  No PostgreSQL header and no test library: a tiny harness counts checks,
 *	  prints one line per failed check and ends with exactly one line
 *	  "N passed, M failed".  The exit status is 0 only when M is 0.
 *
 *	  The accept/reject cases follow RFC 8259 and the spirit of Nicolas
 *	  Seriot's JSONTestSuite (y_/n_ cases), written inline, plus the rules
 *	  of json.h that go beyond the RFC (no \u0000, no duplicate names, depth
 *	  and size limits).  A tracking allocator checks that every block is
 *	  freed, that every freed block was wiped (blocks start zeroed, so a
 *	  block that is all zero at free time had every byte the codec wrote
 *	  wiped), that a failure at every allocation point leaks nothing, and
 *	  that an allocator which longjmps leaves only blocks it handed out.
 *
 * test/test_json.c
 *
 *-------------------------------------------------------------------------
 */
#include "json.h"

#include <setjmp.h>
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

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
	{
		printf("FAIL: out of memory in the test itself\n");
		printf("%lu passed, %lu failed\n", n_pass, n_fail + 1);
		exit(1);
	}
	return p;
}

static const char *
sname(csms_json_status st)
{
	switch (st)
	{
		case CSMS_JSON_OK:
			return "OK";
		case CSMS_JSON_ERR_SYNTAX:
			return "SYNTAX";
		case CSMS_JSON_ERR_UTF8:
			return "UTF8";
		case CSMS_JSON_ERR_NUL:
			return "NUL";
		case CSMS_JSON_ERR_DEPTH:
			return "DEPTH";
		case CSMS_JSON_ERR_DUPLICATE:
			return "DUPLICATE";
		case CSMS_JSON_ERR_TRAILING:
			return "TRAILING";
		case CSMS_JSON_ERR_TOO_BIG:
			return "TOO_BIG";
		case CSMS_JSON_ERR_NOMEM:
			return "NOMEM";
	}
	return "?";
}

/* printable form of a test input for failure lines (static buffer) */
static const char *
show(const char *s, size_t n)
{
	static char out[200];
	size_t		o = 0,
				i;

	for (i = 0; i < n && o + 8 < sizeof(out); i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char) c;
		else
			o += (size_t) snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
	}
	if (i < n)
	{
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* a tracking allocator ---------------------------------------------------- */

typedef struct block
{
	struct block *prev,
			   *next;
	size_t		size;
	size_t		pad;			/* keep the payload 16-byte aligned */
} block;

typedef struct track
{
	long		outstanding;
	long		nalloc;
	long		fail_at;		/* fail the n-th allocation (1-based); 0: never */
	bool		jump;			/* longjmp instead of returning NULL */
	jmp_buf    *env;
	long		unwiped;		/* frees of a block that was not all zero */
	size_t		bytes;			/* outstanding bytes */
	block		head;			/* list of outstanding blocks */
} track;

static void
track_init(track *t)
{
	memset(t, 0, sizeof(*t));
	t->head.prev = t->head.next = &t->head;
}

static void *
track_alloc(void *ctx, size_t size)
{
	track	   *t = ctx;
	block	   *b;

	t->nalloc++;
	if (t->fail_at != 0 && t->nalloc == t->fail_at)
	{
		if (t->jump)
			longjmp(*t->env, 1);
		return NULL;
	}
	b = xmalloc(sizeof(block) + size);
	b->size = size;
	memset(b + 1, 0, size);		/* so that "all zero at free" means wiped */
	b->next = t->head.next;
	b->prev = &t->head;
	t->head.next->prev = b;
	t->head.next = b;
	t->outstanding++;
	t->bytes += size;
	return b + 1;
}

static void
track_free(void *ctx, void *ptr)
{
	track	   *t = ctx;
	block	   *b = (block *) ptr - 1;
	const unsigned char *p = ptr;
	size_t		i;

	for (i = 0; i < b->size; i++)
		if (p[i] != 0)
		{
			t->unwiped++;
			break;
		}
	b->prev->next = b->next;
	b->next->prev = b->prev;
	t->outstanding--;
	t->bytes -= b->size;
	free(b);
}

/* what a PostgreSQL memory context reset would do: wipe and free the rest */
static void
track_reset(track *t)
{
	while (t->head.next != &t->head)
	{
		block	   *b = t->head.next;

		memset(b + 1, 0, b->size);
		track_free(t, b + 1);
	}
}

/* helpers ------------------------------------------------------------------ */

static csms_json_status
parse_n(const char *s, size_t n, csms_json **out)
{
	return csms_json_parse(s, n, NULL, out);
}

/* parse with the tracker; checks no leak and no unwiped block; returns st */
static csms_json_status
parse_tracked(const char *s, size_t n, const char *what)
{
	track		t;
	csms_allocator a = {track_alloc, track_free, &t};
	csms_json  *v = (csms_json *) 1;
	csms_json_status st;

	track_init(&t);
	st = csms_json_parse(s, n, &a, &v);
	CHECK((st == CSMS_JSON_OK) == (v != NULL), "%s: out set iff OK (%s)", what, sname(st));
	if (st != CSMS_JSON_OK)
		CHECK(t.outstanding == 0, "%s: %ld blocks left after %s", what, t.outstanding, sname(st));
	csms_json_free(v, &a);
	CHECK(t.outstanding == 0, "%s: %ld blocks leaked", what, t.outstanding);
	CHECK(t.unwiped == 0, "%s: %ld blocks freed unwiped", what, t.unwiped);
	track_reset(&t);
	return st;
}

/* structural equality of two trees */
static bool
json_equal(const csms_json *x, const csms_json *y)
{
	size_t		i;

	if (x == NULL || y == NULL)
		return x == y;
	if (x->type != y->type)
		return false;
	switch (x->type)
	{
		case CSMS_JSON_NULL:
		case CSMS_JSON_FALSE:
		case CSMS_JSON_TRUE:
			return x->str == NULL && y->str == NULL && x->count == 0 && y->count == 0;
		case CSMS_JSON_NUMBER:
		case CSMS_JSON_STRING:
			return x->len == y->len && memcmp(x->str, y->str, x->len) == 0 &&
				x->str[x->len] == '\0' && y->str[y->len] == '\0';
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

/* serialize a tree with the writer (compact) */
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
			csms_json_buf_raw(b, "[", 1);
			for (i = 0; i < v->count; i++)
			{
				if (i > 0)
					csms_json_buf_raw(b, ",", 1);
				serialize(b, v->items[i]);
			}
			csms_json_buf_raw(b, "]", 1);
			break;
		case CSMS_JSON_OBJECT:
			csms_json_buf_raw(b, "{", 1);
			for (i = 0; i < v->count; i++)
			{
				if (i > 0)
					csms_json_buf_raw(b, ",", 1);
				csms_json_buf_string(b, v->keys[i], v->key_lens[i]);
				csms_json_buf_raw(b, ":", 1);
				serialize(b, v->items[i]);
			}
			csms_json_buf_raw(b, "}", 1);
			break;
	}
}

/* deterministic PRNG (xorshift64*) */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t) ((rng_state * 2685821657736338717ULL) >> 32);
}

/* a random code point: no NUL, no surrogate; every UTF-8 length */
static uint32_t
random_cp(void)
{
	uint32_t	cp;

	switch (rnd() % 5)
	{
		case 0:
			cp = 1 + rnd() % 0x7f;	/* ASCII, controls included */
			break;
		case 1:
			cp = 0x80 + rnd() % (0x800 - 0x80);
			break;
		case 2:
			do
				cp = 0x800 + rnd() % (0x10000 - 0x800);
			while (cp >= 0xd800 && cp <= 0xdfff);
			break;
		case 3:
			cp = 0x10000 + rnd() % (0x110000 - 0x10000);
			break;
		default:
			{
				/* the edges */
				static const uint32_t edges[] = {
					0x01, 0x1f, 0x20, 0x22, 0x5c, 0x7f, 0x80, 0x7ff, 0x800,
					0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x10000,
					0x10fffe, 0x10ffff, 0x2028, 0x2029, 0xfeff
				};

				cp = edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
			}
			break;
	}
	return cp;
}

static size_t
put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80)
	{
		o[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		o[0] = (char) (0xc0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		o[0] = (char) (0xe0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char) (0xf0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/* tests ------------------------------------------------------------------ */

static void
test_strerror(void)
{
	int			i,
				j;

	for (i = CSMS_JSON_OK; i <= CSMS_JSON_ERR_NOMEM; i++)
	{
		const char *m = csms_json_strerror((csms_json_status) i);

		CHECK(m != NULL && m[0] != '\0', "strerror(%d) non-empty", i);
		CHECK(m[0] >= 'a' && m[0] <= 'z', "strerror(%d) starts lower-case: %s", i, m);
		for (j = CSMS_JSON_OK; j < i; j++)
			CHECK(strcmp(m, csms_json_strerror((csms_json_status) j)) != 0,
				  "strerror(%d) differs from strerror(%d)", i, j);
	}
	CHECK(strcmp(csms_json_strerror(CSMS_JSON_ERR_SYNTAX), "the payload is not valid JSON") == 0,
		  "strerror(SYNTAX)");
	CHECK(csms_json_strerror((csms_json_status) 999)[0] != '\0', "strerror(unknown)");
}

static void
test_types(void)
{
	csms_json  *v;
	const csms_json *m;
	static const char doc[] =
		" {\"n\":null,\"f\":false,\"t\":true,\"i\":-12,\"x\":1.5e+3,"
		"\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e4\\u20AC\\ud83d\\ude00\","
		"\"a\":[1,[],{}, \"\"],\"o\":{\"k\":\"v\"},\"\":0,\"e\":\"\"}\r\n\t";
	static const char want_s[] = "a\"b\\c/d\b\f\n\r\t\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80";

	CHECK(parse_n(doc, strlen(doc), &v) == CSMS_JSON_OK && v != NULL, "types: parse");
	if (v == NULL)
		return;
	CHECK(v->type == CSMS_JSON_OBJECT && v->count == 10, "types: object of 10");
	CHECK(v->keys != NULL && strcmp(v->keys[0], "n") == 0 && v->key_lens[0] == 1, "types: first key");
	CHECK(strcmp(v->keys[8], "") == 0 && v->key_lens[8] == 0, "types: empty key");
	m = csms_json_get(v, "n");
	CHECK(m != NULL && m->type == CSMS_JSON_NULL && m->str == NULL, "types: null");
	m = csms_json_get(v, "f");
	CHECK(m != NULL && m->type == CSMS_JSON_FALSE, "types: false");
	m = csms_json_get(v, "t");
	CHECK(m != NULL && m->type == CSMS_JSON_TRUE, "types: true");
	m = csms_json_get(v, "i");
	CHECK(m != NULL && m->type == CSMS_JSON_NUMBER && m->len == 3 && strcmp(m->str, "-12") == 0,
		  "types: integer literal kept");
	m = csms_json_get(v, "x");
	CHECK(m != NULL && m->type == CSMS_JSON_NUMBER && strcmp(m->str, "1.5e+3") == 0 && m->len == 6,
		  "types: float literal kept as written");
	m = csms_json_get(v, "s");
	CHECK(m != NULL && m->type == CSMS_JSON_STRING && m->len == sizeof(want_s) - 1 &&
		  memcmp(m->str, want_s, m->len) == 0 && m->str[m->len] == '\0',
		  "types: string unescaped");
	m = csms_json_get(v, "a");
	CHECK(m != NULL && m->type == CSMS_JSON_ARRAY && m->count == 4 && m->keys == NULL,
		  "types: array of 4");
	if (m != NULL && m->count == 4)
	{
		CHECK(m->items[0]->type == CSMS_JSON_NUMBER && strcmp(m->items[0]->str, "1") == 0, "types: a[0]");
		CHECK(m->items[1]->type == CSMS_JSON_ARRAY && m->items[1]->count == 0, "types: a[1] empty array");
		CHECK(m->items[2]->type == CSMS_JSON_OBJECT && m->items[2]->count == 0, "types: a[2] empty object");
		CHECK(m->items[3]->type == CSMS_JSON_STRING && m->items[3]->len == 0 &&
			  m->items[3]->str != NULL && m->items[3]->str[0] == '\0', "types: a[3] empty string");
	}
	m = csms_json_get(v, "o");
	CHECK(m != NULL && m->type == CSMS_JSON_OBJECT && csms_json_get(m, "k") != NULL &&
		  strcmp(csms_json_get(m, "k")->str, "v") == 0, "types: nested object");
	CHECK(csms_json_get(v, "") != NULL && csms_json_get(v, "")->type == CSMS_JSON_NUMBER, "types: get empty key");
	CHECK(csms_json_get(v, "missing") == NULL, "types: get missing");
	CHECK(csms_json_get(v, "nn") == NULL && csms_json_get(v, "N") == NULL, "types: get is exact");
	CHECK(csms_json_get(csms_json_get(v, "a"), "0") == NULL, "types: get on an array");
	CHECK(csms_json_get(NULL, "a") == NULL, "types: get on NULL");
	CHECK(csms_json_get(v, NULL) == NULL, "types: get NULL key");
	csms_json_free(v, NULL);
	csms_json_free(NULL, NULL);

	/* scalars at the top */
	{
		static const struct
		{
			const char *text;
			csms_json_type type;
			const char *str;
		}			top[] = {
			{"null", CSMS_JSON_NULL, NULL},
			{" true ", CSMS_JSON_TRUE, NULL},
			{"\nfalse", CSMS_JSON_FALSE, NULL},
			{"0", CSMS_JSON_NUMBER, "0"},
			{"-0", CSMS_JSON_NUMBER, "-0"},
			{"-123.456e-789", CSMS_JSON_NUMBER, "-123.456e-789"},
			{"1E22", CSMS_JSON_NUMBER, "1E22"},
			{"\"asd\"", CSMS_JSON_STRING, "asd"},
			{"\"\"", CSMS_JSON_STRING, ""},
		};
		size_t		i;

		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		{
			v = NULL;
			CHECK(parse_n(top[i].text, strlen(top[i].text), &v) == CSMS_JSON_OK && v != NULL &&
				  v->type == top[i].type &&
				  (top[i].str == NULL ? v->str == NULL :
				   (v->str != NULL && strcmp(v->str, top[i].str) == 0 && v->len == strlen(top[i].str))),
				  "top-level scalar %s", top[i].text);
			csms_json_free(v, NULL);
		}
	}
}

typedef struct jcase
{
	const char *text;
	size_t		len;
	csms_json_status want;
} jcase;

#define Y(s) {s, sizeof(s) - 1, CSMS_JSON_OK}
#define N(s, st) {s, sizeof(s) - 1, CSMS_JSON_ERR_##st}

static const jcase cases[] = {
	/* must accept */
	Y("[]"), Y("{}"), Y("[[]]"), Y("[[],[[]]]"), Y(" [1] "), Y("[1]\n"), Y("\t\r\n 1"),
	Y("[-0]"), Y("[0e1]"), Y("[0E+1]"), Y("[0.0]"), Y("[-0.0e-0]"), Y("[1E22]"), Y("[1e-2]"),
	Y("[1E+2]"), Y("[123e65]"), Y("[-123.456e-789]"), Y("[0.5]"), Y("[20]"), Y("[1e1]"),
	Y("[1.0e+0]"), Y("[123456789012345678901234567890]"), Y("[-1]"), Y("[1,2,3]"),
	Y("[null, 1, \"1\", {}, true, false]"), Y("[ 1 , 2 ]"), Y("{ \"a\" : 1 , \"b\" : [ ] }"),
	Y("{\"a\":[]}"), Y("{\"\":0}"), Y("{\"a\":1,\"a \":2,\"A\":3,\"ab\":4,\"\":5}"),
	Y("{\"a\":{\"a\":1}}"), Y("[{\"a\":1},{\"a\":2}]"), Y("{\"a\":{\"b\":1},\"b\":{\"a\":1}}"),
	Y("\"\\u0060\\u012a\\u12AB\""), Y("\"\\uD801\\udc37\""), Y("\"\\ud83d\\ude39\\ud83d\\udc8d\""),
	Y("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), Y("\"\\u2028\\u2029\""), Y("\"\\uFFFF\""), Y("\"\\uFFFE\""),
	Y("\"\\uDBFF\\uDFFF\""), Y("\"\\uD800\\uDC00\""), Y("\"\\u0001\\u001f\""), Y("\"\\u0080\\u07FF\\u0800\""),
	Y("\"\xf4\x8f\xbf\xbf\""), Y("\"\xef\xbf\xbf\""), Y("\"\xef\xbb\xbf\""), Y("\"\x7f\""),
	Y("\"\xc2\x80\xdf\xbf\""), Y("\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\""), Y("\"\xf0\x90\x80\x80\""),
	Y("\"\xe2\x82\xac\xf0\x9d\x84\x9e\""), Y("\"/\""), Y("\"a\\/b\""), Y("\"'\""), Y("\"\\\\u0000\""),
	Y("1"), Y("\"asd\""), Y("null"), Y("true"), Y(" false "), Y("-1"), Y("[\"\\u00e4\"]"),
	Y("{\"\\u0061\":1,\"b\":2}"), Y("{\"\xc3\xa4\":1,\"a\\u0308\":2}"),

	/* must reject: syntax */
	N("", SYNTAX), N(" ", SYNTAX), N("\n\t\r ", SYNTAX), N("[1,]", SYNTAX), N("{\"a\":1,}", SYNTAX),
	N("[,1]", SYNTAX), N("[1,,2]", SYNTAX), N("[,]", SYNTAX), N("[1 2]", SYNTAX), N("[\"a\" \"b\"]", SYNTAX),
	N("{\"a\":1 \"b\":2}", SYNTAX), N("{\"a\"}", SYNTAX), N("{\"a\":}", SYNTAX), N("{\"a\" 1}", SYNTAX),
	N("{a:1}", SYNTAX), N("{1:1}", SYNTAX), N("{'a':1}", SYNTAX), N("{\"a\"::1}", SYNTAX),
	N("{,}", SYNTAX), N("{\"a\":1,,\"b\":2}", SYNTAX), N("{null:1}", SYNTAX), N("{[]:1}", SYNTAX),
	N("[", SYNTAX), N("]", SYNTAX), N("{", SYNTAX), N("}", SYNTAX), N("[1", SYNTAX), N("[1,", SYNTAX),
	N("{\"a\"", SYNTAX), N("{\"a\":", SYNTAX), N("{\"a\":1", SYNTAX), N("[}", SYNTAX), N("{]", SYNTAX),
	N("01", SYNTAX), N("-01", SYNTAX), N("012", SYNTAX), N("[00]", SYNTAX), N("1.", SYNTAX),
	N("[1.]", SYNTAX), N(".1", SYNTAX), N("[.123]", SYNTAX), N("1e", SYNTAX), N("1e+", SYNTAX),
	N("1E-", SYNTAX), N("[1e]", SYNTAX), N("2.e3", SYNTAX), N("+1", SYNTAX), N("[+1]", SYNTAX),
	N("-", SYNTAX), N("--1", SYNTAX), N("[-]", SYNTAX), N("- 1", SYNTAX), N("NaN", SYNTAX),
	N("[NaN]", SYNTAX), N("Infinity", SYNTAX), N("-Infinity", SYNTAX), N("[-Infinity]", SYNTAX),
	N("0x1", SYNTAX), N("0x", SYNTAX), N("1.0.0", SYNTAX), N("1e5e5", SYNTAX), N("1ee5", SYNTAX),
	N("1.e5", SYNTAX), N("1_000", SYNTAX), N("1a", SYNTAX), N("[1true]", SYNTAX), N("0.1.2", SYNTAX),
	N("tru", SYNTAX), N("nul", SYNTAX), N("fals", SYNTAX), N("truex", SYNTAX), N("nulls", SYNTAX),
	N("True", SYNTAX), N("[True]", SYNTAX), N("NULL", SYNTAX), N("undefined", SYNTAX),
	N("\"\\x\"", SYNTAX), N("\"\\u12\"", SYNTAX), N("\"\\u\"", SYNTAX), N("\"\\u12G4\"", SYNTAX),
	N("\"\\U0041\"", SYNTAX), N("\"\\a\"", SYNTAX), N("\"\\'\"", SYNTAX), N("\"\\ \"", SYNTAX),
	N("\"\\\xc3\xa4\"", SYNTAX), N("\"\\u-123\"", SYNTAX), N("\"\\u 123\"", SYNTAX),
	N("\"abc", SYNTAX), N("\"", SYNTAX), N("[\"a]", SYNTAX), N("\"\\\"", SYNTAX), N("'a'", SYNTAX),
	N("\"\t\"", SYNTAX), N("\"a\nb\"", SYNTAX), N("\"\x1f\"", SYNTAX), N("\"\x01\"", SYNTAX),
	N("\"\r\"", SYNTAX), N("\f1", SYNTAX), N("[\f1]", SYNTAX), N("\v1", SYNTAX), N("\xa0" "1", SYNTAX),
	N("\xc2\xa0" "1", SYNTAX), N("\xef\xbb\xbf{}", SYNTAX), N("\xef\xbb\xbf" "1", SYNTAX),
	N("/* c */ 1", SYNTAX), N("// c\n1", SYNTAX), N("[1]//", TRAILING), N("\xff", SYNTAX),
	N("[\xff]", SYNTAX), N("\x80", SYNTAX), N("a", SYNTAX), N("*", SYNTAX), N("[*]", SYNTAX),
	N("(1)", SYNTAX), N("{\"a\":1;\"b\":2}", SYNTAX), N("[1;2]", SYNTAX), N("{\"a\"=1}", SYNTAX),
	N("\"\\ud800\\\"", SYNTAX),

	/* must reject: UTF-8 and surrogates */
	N("\"\x80\"", UTF8), N("\"\xbf\"", UTF8), N("\"a\x80" "b\"", UTF8), N("\"\xc0\xaf\"", UTF8),
	N("\"\xc1\xbf\"", UTF8), N("\"\xc0\x80\"", UTF8), N("\"\xe0\x80\xaf\"", UTF8),
	N("\"\xe0\x9f\xbf\"", UTF8), N("\"\xf0\x80\x80\xaf\"", UTF8), N("\"\xf0\x8f\xbf\xbf\"", UTF8),
	N("\"\xed\xa0\x80\"", UTF8), N("\"\xed\xbf\xbf\"", UTF8), N("\"\xed\xa0\xbd\xed\xb8\x80\"", UTF8),
	N("\"\xf4\x90\x80\x80\"", UTF8), N("\"\xf5\x80\x80\x80\"", UTF8), N("\"\xf7\xbf\xbf\xbf\"", UTF8),
	N("\"\xf8\x88\x80\x80\x80\"", UTF8), N("\"\xfc\x84\x80\x80\x80\x80\"", UTF8), N("\"\xfe\"", UTF8),
	N("\"\xff\"", UTF8), N("\"\xe2\x82\"", UTF8), N("\"\xc3\"", UTF8), N("\"\xf0\x9f\x98\"", UTF8),
	N("\"\xe2\x82" "a\"", UTF8), N("\"\xc3\xc3\xa4\"", UTF8), N("\"\xf0\x9f\x98\xc3\xa4\"", UTF8),
	N("\"\xc3\x28\"", UTF8), N("\"\xa0\xa1\"", UTF8),
	N("\"\\ud800\"", UTF8), N("\"\\udc00\"", UTF8), N("\"\\uDFFF\"", UTF8), N("\"\\udc00\\ud800\"", UTF8),
	N("\"\\ud800\\ud800\"", UTF8), N("\"\\ud800\\u0041\"", UTF8), N("\"\\ud800abc\"", UTF8),
	N("\"\\ud800\\\\udc00\"", UTF8), N("\"\\ud800\\n\"", UTF8), N("\"\\uDBFF\\uE000\"", UTF8),
	N("\"\\uD800\\uDBFF\"", UTF8), N("\"a\\uDFAAb\"", UTF8), N("[\"\\ud800\"]", UTF8),
	N("{\"\xff\":1}", UTF8), N("{\"\\udc00\":1}", UTF8), N("\"\\ud800\\u12\"", UTF8),

	/* must reject: NUL */
	N("\"\\u0000\"", NUL), N("\"a\\u0000b\"", NUL), N("{\"\\u0000\":1}", NUL), N("[\"\\u0000\"]", NUL),
	N("\"a\0b\"", NUL), N("\"\0\"", NUL), N("\0", NUL), N("[\0]", NUL), N("[1]\0", NUL), N("1\0", NUL),
	N("{\"a\":1}\0", NUL), N("\"\\\0\"", NUL), N("\"abc\0", NUL), N("[1,\0]", NUL), N("{\0}", NUL),
	N("\0[]", NUL), N(" \0", NUL),

	/* must reject: duplicates */
	N("{\"a\":1,\"a\":2}", DUPLICATE), N("{\"a\":1,\"b\":2,\"a\":3}", DUPLICATE),
	N("{\"a\":1,\"\\u0061\":2}", DUPLICATE), N("{\"\":1,\"\":2}", DUPLICATE),
	N("{\"\xc3\xa4\":1,\"\\u00e4\":2}", DUPLICATE), N("{\"a\":1,\"a\":1}", DUPLICATE),
	N("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":1}", DUPLICATE),
	N("[{\"x\":{\"y\":1,\"y\":2}}]", DUPLICATE), N("{\"a\":{\"b\":{\"c\":[{\"d\":1,\"d\":1}]}}}", DUPLICATE),
	N("[1,2,{\"k\":[],\"l\":0,\"k\":{}}]", DUPLICATE), N("{\"z\":1,\"y\":2,\"x\":3,\"w\":4,\"z\":5}", DUPLICATE),
	N("{\"a\\/b\":1,\"a/b\":2}", DUPLICATE),

	/* must reject: trailing */
	N("{\"a\":1}{}", TRAILING), N("1 2", TRAILING), N("[] []", TRAILING), N("\"a\"x", TRAILING),
	N("\"a\"\"b\"", TRAILING), N("null,", TRAILING), N("[1]]", TRAILING), N("{}}", TRAILING),
	N("[1],", TRAILING), N("1 x", TRAILING), N("true false", TRAILING), N("{} \xef\xbb\xbf", TRAILING),
	N("[]\f", TRAILING), N("1\v", TRAILING), N("[] \xc2\xa0", TRAILING),
};

static void
test_cases(void)
{
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		csms_json  *v = (csms_json *) 1;
		csms_json_status st = parse_n(cases[i].text, cases[i].len, &v);

		CHECK(st == cases[i].want, "case %zu <%s>: got %s, want %s", i,
			  show(cases[i].text, cases[i].len), sname(st), sname(cases[i].want));
		CHECK((st == CSMS_JSON_OK) == (v != NULL), "case %zu <%s>: *out set iff OK", i,
			  show(cases[i].text, cases[i].len));
		csms_json_free(v, NULL);

		/* the same through the tracking allocator: same status, no leak, wiped */
		st = parse_tracked(cases[i].text, cases[i].len, show(cases[i].text, cases[i].len));
		CHECK(st == cases[i].want, "case %zu tracked: got %s", i, sname(st));
	}

	/* every proper prefix of a valid document is rejected */
	{
		static const char doc[] = "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e4\\ud83d\\ude00\xc3\xa4\"],\"b\":{}}";
		size_t		n;

		for (n = 0; n < sizeof(doc) - 1; n++)
		{
			csms_json  *v = NULL;
			csms_json_status st = parse_n(doc, n, &v);

			CHECK(st != CSMS_JSON_OK && v == NULL, "prefix of %zu bytes rejected (%s)", n, sname(st));
		}
		CHECK(parse_n(doc, sizeof(doc) - 1, NULL) == CSMS_JSON_ERR_SYNTAX, "parse with out NULL");
	}
}

static char *
nested(size_t depth, const char *open, const char *close, const char *inner)
{
	size_t		lo = strlen(open),
				lc = strlen(close),
				li = strlen(inner);
	char	   *s = xmalloc(depth * (lo + lc) + li + 1);
	size_t		o = 0,
				i;

	for (i = 0; i < depth; i++, o += lo)
		memcpy(s + o, open, lo);
	memcpy(s + o, inner, li);
	o += li;
	for (i = 0; i < depth; i++, o += lc)
		memcpy(s + o, close, lc);
	s[o] = '\0';
	return s;
}

static void
test_depth(void)
{
	static const struct
	{
		const char *open,
				   *close,
				   *inner;
	}			shapes[] = {
		{"[", "]", ""},
		{"[", "]", "1"},
		{"{\"a\":", "}", "\"x\""},
		{"[{\"k\":", "}]", "{}"},	/* 2 levels per step */
	};
	size_t		i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
	{
		size_t		per = (i == 3) ? 2 : 1;
		size_t		ok_depth = CSMS_JSON_MAX_DEPTH / per;
		char	   *s;
		csms_json  *v = NULL;
		csms_json_status st;

		/* for shape 3 the inner {} adds a level */
		if (i == 3)
			ok_depth = (CSMS_JSON_MAX_DEPTH - 1) / per;
		s = nested(ok_depth, shapes[i].open, shapes[i].close, shapes[i].inner);
		st = parse_n(s, strlen(s), &v);
		CHECK(st == CSMS_JSON_OK, "depth: shape %zu at the limit accepted: %s", i, sname(st));
		csms_json_free(v, NULL);
		CHECK(parse_tracked(s, strlen(s), "depth limit tracked") == CSMS_JSON_OK, "depth: tracked");
		free(s);

		s = nested(ok_depth + 1, shapes[i].open, shapes[i].close, shapes[i].inner);
		v = (csms_json *) 1;
		st = parse_n(s, strlen(s), &v);
		CHECK(st == CSMS_JSON_ERR_DEPTH && v == NULL, "depth: shape %zu over the limit: %s", i, sname(st));
		CHECK(parse_tracked(s, strlen(s), "depth over tracked") == CSMS_JSON_ERR_DEPTH, "depth over: tracked");
		free(s);
	}

	/* 64 accepted / 65 rejected exactly, with brackets */
	{
		char		buf[200];
		csms_json  *v = NULL;
		const csms_json *w;
		size_t		d = 0;

		memset(buf, '[', 64);
		memset(buf + 64, ']', 64);
		CHECK(parse_n(buf, 128, &v) == CSMS_JSON_OK, "depth: 64 brackets accepted");
		for (w = v; w != NULL && w->type == CSMS_JSON_ARRAY; w = w->count ? w->items[0] : NULL)
			d++;
		CHECK(d == 64, "depth: 64 levels built (%zu)", d);
		csms_json_free(v, NULL);
		memset(buf, '[', 65);
		memset(buf + 65, ']', 65);
		CHECK(parse_n(buf, 130, &v) == CSMS_JSON_ERR_DEPTH, "depth: 65 brackets rejected");
		CHECK(parse_n(buf, 65, &v) == CSMS_JSON_ERR_DEPTH, "depth: 65 unclosed brackets rejected as depth");
		CHECK(parse_n(buf, 64, &v) == CSMS_JSON_ERR_SYNTAX, "depth: 64 unclosed brackets are a syntax error");
	}

	/* a deep sibling after a shallow one; depth is counted per path */
	{
		char	   *a = nested(63, "[", "]", "");
		char	   *s = xmalloc(2 * strlen(a) + 4);
		csms_json  *v = NULL;

		sprintf(s, "[%s,%s]", a, a);
		CHECK(parse_n(s, strlen(s), &v) == CSMS_JSON_OK, "depth: two 64-deep paths");
		csms_json_free(v, NULL);
		free(a);
		free(s);
	}

	/* a megabyte of '[' fails fast with DEPTH */
	{
		size_t		n = 1 << 20;
		char	   *s = xmalloc(n);
		csms_json  *v = NULL;

		memset(s, '[', n);
		CHECK(parse_n(s, n, &v) == CSMS_JSON_ERR_DEPTH, "depth: 1 MiB of [");
		memset(s, '{', n);
		CHECK(parse_n(s, n, &v) == CSMS_JSON_ERR_SYNTAX, "depth: 1 MiB of { is a syntax error");
		free(s);
	}
}

static void
test_duplicates_big(void)
{
	/* many members: all distinct accepted, one duplicate anywhere rejected */
	size_t		nm = 20000,
				pos;
	char	   *s = xmalloc(nm * 24 + 64);

	for (pos = 0; pos <= 3; pos++)
	{
		size_t		o = 0,
					i;
		csms_json  *v = NULL;
		csms_json_status st;

		s[o++] = '{';
		for (i = 0; i < nm; i++)
		{
			/* a duplicate of member 7 at the start, middle, end; pos 3: none */
			size_t		k = i;

			if ((pos == 0 && i == 1) || (pos == 1 && i == nm / 2) || (pos == 2 && i == nm - 1))
				k = 7;
			if (pos == 0 && i == 1)
				k = 0;			/* duplicate of the very first */
			o += (size_t) sprintf(s + o, "%s\"key%zu\":%zu", i ? "," : "", (k * 7919) % 1000003, i);
		}
		s[o++] = '}';
		st = parse_n(s, o, &v);
		if (pos == 3)
		{
			CHECK(st == CSMS_JSON_OK && v != NULL && v->count == nm, "dup: %zu distinct members: %s", nm, sname(st));
			if (v != NULL)
			{
				CHECK(csms_json_get(v, "key0") != NULL, "dup: get first");
				CHECK(strcmp(v->keys[nm - 1], "key") > 0, "dup: last key kept");
			}
		}
		else
			CHECK(st == CSMS_JSON_ERR_DUPLICATE && v == NULL, "dup: duplicate at %zu of %zu: %s", pos, nm, sname(st));
		csms_json_free(v, NULL);
	}
	free(s);

	/* names that share long prefixes and differ only at the end or in length */
	{
		size_t		len = 1000,
					n = 200,
					i,
					o = 0;
		char	   *t = xmalloc(n * (len + 16) + 16);
		csms_json  *v = NULL;

		t[o++] = '{';
		for (i = 0; i < n; i++)
		{
			if (i)
				t[o++] = ',';
			t[o++] = '"';
			memset(t + o, 'p', len - (i % 2) * 3);
			o += len - (i % 2) * 3;
			o += (size_t) sprintf(t + o, "%zu\":0", i);
		}
		t[o++] = '}';
		CHECK(parse_n(t, o, &v) == CSMS_JSON_OK, "dup: long shared prefixes distinct");
		csms_json_free(v, NULL);
		/* make the last name equal to the first: "ppp...0" */
		{
			char	   *u = xmalloc(o + len + 32);
			size_t		m = o - 1;

			memcpy(u, t, m);
			u[m++] = ',';
			u[m++] = '"';
			memset(u + m, 'p', len);
			m += len;
			m += (size_t) sprintf(u + m, "0\":1}");
			CHECK(parse_n(u, m, &v) == CSMS_JSON_ERR_DUPLICATE, "dup: long shared prefixes duplicate");
			free(u);
		}
		free(t);
	}
}

static void
test_writer_controls(void)
{
	int			c;

	for (c = 0; c < 0x20; c++)
	{
		char		in[1] = {(char) c};
		char		want[16];
		csms_json_buf b;

		switch (c)
		{
			case '\b':
				strcpy(want, "\"\\b\"");
				break;
			case '\f':
				strcpy(want, "\"\\f\"");
				break;
			case '\n':
				strcpy(want, "\"\\n\"");
				break;
			case '\r':
				strcpy(want, "\"\\r\"");
				break;
			case '\t':
				strcpy(want, "\"\\t\"");
				break;
			default:
				sprintf(want, "\"\\u%04x\"", c);
				break;
		}
		csms_json_buf_init(&b, NULL);
		csms_json_buf_string(&b, in, 1);
		CHECK(!b.failed && b.len == strlen(want) && strcmp(b.data, want) == 0,
			  "writer: control 0x%02x -> %s (got %s)", c, want, b.data ? b.data : "(null)");
		csms_json_buf_free(&b);
	}

	{
		csms_json_buf b;
		static const char in[] = "a\"b\\c/d\x7f\xc3\xa4\xf0\x9f\x98\x80 \x1f\x01z";
		static const char want[] = "\"a\\\"b\\\\c/d\x7f\xc3\xa4\xf0\x9f\x98\x80 \\u001f\\u0001z\"";

		csms_json_buf_init(&b, NULL);
		CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && !b.failed, "writer: init");
		csms_json_buf_string(&b, in, sizeof(in) - 1);
		CHECK(!b.failed && b.len == sizeof(want) - 1 && memcmp(b.data, want, b.len) == 0 &&
			  b.data[b.len] == '\0', "writer: mixed string");
		csms_json_buf_free(&b);
		CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && !b.failed, "writer: free resets");

		csms_json_buf_string(&b, "", 0);
		CHECK(b.len == 2 && strcmp(b.data, "\"\"") == 0, "writer: empty string");
		csms_json_buf_raw(&b, ",", 1);
		csms_json_buf_raw(&b, NULL, 0);
		csms_json_buf_string(&b, "x\0y", 3);
		CHECK(b.len == 13 && strcmp(b.data, "\"\",\"x\\u0000y\"") == 0, "writer: NUL escaped: %s", b.data);
		csms_json_buf_free(&b);
		csms_json_buf_string(&b, NULL, 0);
		csms_json_buf_raw(&b, ",", 1);
		csms_json_buf_string(&b, NULL, 0);
		CHECK(b.len == 5 && strcmp(b.data, "\"\",\"\"") == 0, "writer: NULL with length 0");
		csms_json_buf_free(&b);
		csms_json_buf_free(&b);	/* idempotent */
	}

	/* bad allocator: failed at once, appends do nothing */
	{
		csms_json_buf b;
		csms_allocator bad = {NULL, NULL, NULL};

		csms_json_buf_init(&b, &bad);
		csms_json_buf_raw(&b, "x", 1);
		CHECK(b.failed && b.data == NULL && b.len == 0, "writer: bad allocator");
		csms_json_buf_free(&b);
	}
}

/* write s as a JSON string, parse it back, compare; also as a member name */
static bool
round_trip(const char *s, size_t n, const csms_allocator *a)
{
	csms_json_buf b;
	csms_json  *v = NULL;
	bool		ok;

	csms_json_buf_init(&b, a);
	csms_json_buf_raw(&b, "[", 1);
	csms_json_buf_string(&b, s, n);
	csms_json_buf_raw(&b, ",{", 2);
	csms_json_buf_string(&b, s, n);
	csms_json_buf_raw(&b, ":", 1);
	csms_json_buf_string(&b, s, n);
	csms_json_buf_raw(&b, "}]", 2);
	if (b.failed)
		return false;
	ok = csms_json_parse(b.data, b.len, a, &v) == CSMS_JSON_OK &&
		v->count == 2 &&
		v->items[0]->type == CSMS_JSON_STRING && v->items[0]->len == n &&
		memcmp(v->items[0]->str, s, n) == 0 && v->items[0]->str[n] == '\0' &&
		v->items[1]->count == 1 && v->items[1]->key_lens[0] == n &&
		memcmp(v->items[1]->keys[0], s, n) == 0 && v->items[1]->keys[0][n] == '\0' &&
		v->items[1]->items[0]->len == n && memcmp(v->items[1]->items[0]->str, s, n) == 0;
	csms_json_free(v, a);
	csms_json_buf_free(&b);
	return ok;
}

static void
test_round_trips(void)
{
	int			c;
	int			iter;
	track		t;
	csms_allocator a = {track_alloc, track_free, &t};

	track_init(&t);
	for (c = 1; c < 0x80; c++)
	{
		char		s[3] = {'a', (char) c, 'b'};

		CHECK(round_trip(s + 1, 1, NULL), "round trip of byte 0x%02x", c);
		CHECK(round_trip(s, 3, &a), "round trip of a 0x%02x b (tracked)", c);
	}

	for (iter = 0; iter < 3000; iter++)
	{
		size_t		ncp = rnd() % (iter < 2000 ? 24 : 400),
					n = 0,
					i;
		char	   *s = xmalloc(ncp * 4 + 1);

		for (i = 0; i < ncp; i++)
			n += put_utf8(random_cp(), s + n);
		CHECK(round_trip(s, n, (iter % 2) ? &a : NULL), "round trip of random UTF-8 #%d (%zu bytes)", iter, n);
		free(s);
	}
	CHECK(t.outstanding == 0 && t.unwiped == 0, "round trips: %ld leaked, %ld unwiped", t.outstanding, t.unwiped);

	/* every code point once, in one string: U+0001..U+10FFFF minus surrogates */
	{
		size_t		n = 0;
		uint32_t	cp;
		char	   *s = xmalloc(0x110000 * 4);

		for (cp = 1; cp < 0x110000; cp++)
			if (cp < 0xd800 || cp > 0xdfff)
				n += put_utf8(cp, s + n);
		CHECK(round_trip(s, n, NULL), "round trip of every code point (%zu bytes)", n);
		free(s);
	}

	/* every code point as a \u escape (pairs above the BMP) */
	{
		csms_json_buf b;
		csms_json  *v = NULL;
		uint32_t	cp;
		char		esc[16];
		char	   *want = xmalloc(0x110000 * 4);
		size_t		wn = 0;

		csms_json_buf_init(&b, NULL);
		csms_json_buf_raw(&b, "\"", 1);
		for (cp = 1; cp < 0x110000; cp++)
		{
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			if (cp < 0x10000)
				sprintf(esc, (cp & 1) ? "\\u%04X" : "\\u%04x", (unsigned) cp);
			else
				sprintf(esc, "\\u%04x\\u%04X", (unsigned) (0xd800 + ((cp - 0x10000) >> 10)),
						(unsigned) (0xdc00 + ((cp - 0x10000) & 0x3ff)));
			csms_json_buf_raw(&b, esc, strlen(esc));
			wn += put_utf8(cp, want + wn);
		}
		csms_json_buf_raw(&b, "\"", 1);
		CHECK(!b.failed && csms_json_parse(b.data, b.len, NULL, &v) == CSMS_JSON_OK &&
			  v->len == wn && memcmp(v->str, want, wn) == 0, "every code point as \\u escapes");
		csms_json_free(v, NULL);
		csms_json_buf_free(&b);
		free(want);
	}

	/* a realistic payload: parse, serialize, parse, compare */
	{
		static const char payload[] =
			"{\"format\":1,\"domain_id\":\"0f6a3c2e9b8d4e1f8a7b6c5d4e3f2a1b\",\"region\":\"local\","
			"\"project_id\":\"p-1\",\"secret\":{\"name\":\"db\",\"description\":\"d\",\"type\":null,"
			"\"rotation\":{\"enabled\":false,\"period\":\"30d\"},\"subscriptions\":[]},"
			"\"tags\":{\"env\":\"prod\",\"team\":\"t\\u00e4m\"},"
			"\"versions\":[{\"id\":\"v1\",\"stages\":[\"SYSCURRENT\"],\"created\":1700000000.5,"
			"\"secret_string\":\"p\\u00e4ss\\n\\\"w\\\"\"},"
			"{\"id\":\"v2\",\"stages\":[],\"secret_binary\":\"AAEC/w==\"}]}";
		csms_json  *v = NULL,
				   *w = NULL;
		csms_json_buf b;
		const csms_json *vs;

		CHECK(parse_n(payload, sizeof(payload) - 1, &v) == CSMS_JSON_OK, "payload parses");
		vs = csms_json_get(v, "versions");
		CHECK(vs != NULL && vs->count == 2 &&
			  strcmp(csms_json_get(vs->items[0], "secret_string")->str, "p\xc3\xa4ss\n\"w\"") == 0,
			  "payload: secret_string unescaped");
		csms_json_buf_init(&b, NULL);
		if (v != NULL)
			serialize(&b, v);
		CHECK(!b.failed && parse_n(b.data, b.len, &w) == CSMS_JSON_OK && json_equal(v, w),
			  "payload: serialize and parse again gives the same tree");
		csms_json_free(v, NULL);
		csms_json_free(w, NULL);
		csms_json_buf_free(&b);
	}
}

static void
test_big(void)
{
	size_t		n = 1 << 20,
				i;
	char	   *s = xmalloc(n);
	csms_json_buf b;
	csms_json  *v = NULL;

	/* a 1 MiB string of printable ASCII and UTF-8, through the writer */
	for (i = 0; i < n; i++)
		s[i] = (char) (0x20 + (i * 31) % 0x5f);
	CHECK(round_trip(s, n, NULL), "1 MiB string round trip");

	/* 1 MiB of bytes that all need escaping */
	for (i = 0; i < n; i++)
		s[i] = (char) (1 + i % 0x1f);
	s[n - 1] = '"';
	/* (three escaped copies of the full MiB would pass the 16 MiB limit) */
	CHECK(round_trip(s + n - n / 4, n / 4, NULL), "256 KiB of control characters round trip");
	csms_json_buf_init(&b, NULL);
	csms_json_buf_string(&b, s, n);
	CHECK(!b.failed && b.len > 2 * n, "escaped 1 MiB grows the buffer (%zu bytes)", b.len);
	csms_json_buf_free(&b);

	/* an array of 100000 small items */
	csms_json_buf_init(&b, NULL);
	csms_json_buf_raw(&b, "[", 1);
	for (i = 0; i < 100000; i++)
	{
		char		num[32];

		if (i)
			csms_json_buf_raw(&b, ",", 1);
		sprintf(num, "%zu", i);
		if (i % 3 == 0)
			csms_json_buf_string(&b, num, strlen(num));
		else if (i % 3 == 1)
			csms_json_buf_raw(&b, num, strlen(num));
		else
			csms_json_buf_raw(&b, "{}", 2);
	}
	csms_json_buf_raw(&b, "]", 1);
	CHECK(!b.failed && parse_n(b.data, b.len, &v) == CSMS_JSON_OK && v->count == 100000 &&
		  strcmp(v->items[99999]->str, "99999") == 0, "array of 100000 items");
	csms_json_free(v, NULL);
	v = NULL;
	csms_json_buf_free(&b);
	free(s);

	/* the size limit: exactly 16 MiB accepted, one byte more rejected */
	{
		size_t		max = CSMS_JSON_MAX_LEN;
		char	   *t = xmalloc(max + 1);

		t[0] = '"';
		memset(t + 1, 'x', max - 2);
		t[max - 1] = '"';
		t[max] = ' ';
		CHECK(parse_n(t, max, &v) == CSMS_JSON_OK && v->len == max - 2, "16 MiB document accepted");
		csms_json_free(v, NULL);
		v = (csms_json *) 1;
		CHECK(parse_n(t, max + 1, &v) == CSMS_JSON_ERR_TOO_BIG && v == NULL, "16 MiB + 1 rejected");
		CHECK(parse_n(t, SIZE_MAX, &v) == CSMS_JSON_ERR_TOO_BIG, "SIZE_MAX rejected before reading");
		free(t);
	}
}

static void
test_arguments(void)
{
	csms_json  *v = (csms_json *) 1;
	csms_allocator bad = {NULL, NULL, NULL};
	csms_allocator half = {track_alloc, NULL, NULL};

	CHECK(csms_json_parse(NULL, 0, NULL, &v) == CSMS_JSON_ERR_SYNTAX && v == NULL, "NULL text, length 0");
	v = (csms_json *) 1;
	CHECK(csms_json_parse(NULL, 5, NULL, &v) == CSMS_JSON_ERR_SYNTAX && v == NULL, "NULL text, length 5");
	v = (csms_json *) 1;
	CHECK(csms_json_parse("1", 1, &bad, &v) == CSMS_JSON_ERR_NOMEM && v == NULL, "bad allocator");
	CHECK(csms_json_parse("1", 1, &half, &v) == CSMS_JSON_ERR_NOMEM && v == NULL, "half allocator");
	CHECK(csms_json_parse("[1]xyz", 3, NULL, &v) == CSMS_JSON_OK && v != NULL, "length respected");
	csms_json_free(v, NULL);
}

/* a medium document for the allocation tests */
static const char medium[] =
	"{\"format\":1,\"domain_id\":\"d0\",\"region\":\"local\",\"secret\":{\"name\":\"db\","
	"\"description\":\"d\\u00e4\\n\",\"tags\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\","
	"\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}},\"versions\":[{\"id\":\"v1\",\"stages\":"
	"[\"SYSCURRENT\",\"SYSPREVIOUS\",\"A\",\"B\",\"C\",\"D\"],\"secret_string\":\"p\\u00e4ss\\ud83d\\ude00\"},"
	"{\"id\":\"v2\",\"n\":[1,2,3,4,5,6,7,8,9,10,-1.5e3],\"t\":true,\"f\":false,\"z\":null,\"o\":{}}],"
	"\"deep\":[[[[{\"x\":[[]]}]]]]}";

static void
test_alloc_failures(void)
{
	track		t;
	csms_allocator a = {track_alloc, track_free, &t};
	csms_json  *v = NULL;
	long		total,
				k;

	/* count the allocations of a successful parse */
	track_init(&t);
	CHECK(csms_json_parse(medium, sizeof(medium) - 1, &a, &v) == CSMS_JSON_OK, "medium parses");
	total = t.nalloc;
	csms_json_free(v, &a);
	CHECK(t.outstanding == 0 && t.unwiped == 0, "medium: %ld leaked, %ld unwiped", t.outstanding, t.unwiped);
	CHECK(total > 50, "medium makes many allocations (%ld)", total);

	/* fail the k-th allocation, for every k */
	for (k = 1; k <= total + 1; k++)
	{
		csms_json_status st;

		track_init(&t);
		t.fail_at = k;
		v = (csms_json *) 1;
		st = csms_json_parse(medium, sizeof(medium) - 1, &a, &v);
		if (k <= total)
			CHECK(st == CSMS_JSON_ERR_NOMEM && v == NULL, "fail alloc %ld of %ld: %s", k, total, sname(st));
		else
			CHECK(st == CSMS_JSON_OK && v != NULL, "alloc %ld past the last succeeds", k);
		if (st == CSMS_JSON_OK)
			csms_json_free(v, &a);
		CHECK(t.outstanding == 0, "fail alloc %ld: %ld blocks leaked", k, t.outstanding);
		CHECK(t.unwiped == 0, "fail alloc %ld: %ld blocks freed unwiped", k, t.unwiped);
		track_reset(&t);
	}

	/* an allocator that longjmps at the k-th allocation: only its blocks remain */
	for (k = 1; k <= total; k++)
	{
		jmp_buf		env;
		volatile long outstanding_after = -1;

		track_init(&t);
		t.fail_at = k;
		t.jump = true;
		t.env = &env;
		v = NULL;
		if (setjmp(env) == 0)
		{
			csms_json_parse(medium, sizeof(medium) - 1, &a, &v);
			CHECK(false, "longjmp %ld: parse returned", k);
		}
		else
			outstanding_after = t.outstanding;
		CHECK(outstanding_after >= 0 && outstanding_after <= k - 1,
			  "longjmp %ld: only tracked blocks remain (%ld)", k, (long) outstanding_after);
		/* the "memory context reset": valgrind proves nothing else was allocated */
		track_reset(&t);
		CHECK(t.outstanding == 0 && t.bytes == 0, "longjmp %ld: reset frees everything", k);
	}

	/* the writer: fail every allocation of building a large payload */
	{
		long		wtotal = 0;
		const char *wsecret = "p\xc3\xa4ss\n\"w\" long enough to grow the buffer";

		for (k = 0;; k++)
		{
			csms_json_buf b;
			size_t		i;

			track_init(&t);
			t.fail_at = k;
			csms_json_buf_init(&b, &a);
			for (i = 0; i < 200; i++)
			{
				csms_json_buf_raw(&b, "{\"secret_string\":", 17);
				csms_json_buf_string(&b, wsecret, strlen(wsecret));
				csms_json_buf_raw(&b, "},", 2);
			}
			if (k == 0)
			{
				wtotal = t.nalloc;
				/* 2 quotes and 3 escapes (\n \" \") add 5 bytes */
				CHECK(!b.failed && b.len == 200 * (17 + strlen(wsecret) + 5 + 2) &&
					  strlen(b.data) == b.len, "writer: built %zu bytes in %ld allocations", b.len, wtotal);
				CHECK(t.outstanding == 1, "writer: one block outstanding");
			}
			else
			{
				CHECK(b.failed && b.data == NULL && b.len == 0 && b.cap == 0,
					  "writer: fail alloc %ld: failed and empty", k);
				CHECK(t.outstanding == 0, "writer: fail alloc %ld: nothing left", k);
			}
			csms_json_buf_free(&b);
			CHECK(t.outstanding == 0 && t.unwiped == 0, "writer: fail alloc %ld: %ld leaked, %ld unwiped",
				  k, t.outstanding, t.unwiped);
			track_reset(&t);
			if (k > 0 && k >= wtotal)
				break;
		}
	}
}

/* random inputs must never crash; anything accepted must survive a round trip */
static void
test_random_inputs(void)
{
	static const char alphabet[] = "[]{}\":,0123456789-+.eEtrufalsn \\u\t\nbx\xc3\xa4\xed\xa0\x80";
	int			iter;
	long		accepted = 0;

	for (iter = 0; iter < 20000; iter++)
	{
		char		s[64];
		size_t		n = rnd() % sizeof(s),
					i;
		csms_json  *v = NULL,
				   *w = NULL;
		csms_json_status st;

		for (i = 0; i < n; i++)
			s[i] = (rnd() % 8 == 0) ? (char) rnd() : alphabet[rnd() % (sizeof(alphabet) - 1)];
		st = parse_n(s, n, &v);
		CHECK(st <= CSMS_JSON_ERR_NOMEM && st != CSMS_JSON_ERR_NOMEM && st != CSMS_JSON_ERR_TOO_BIG,
			  "random input %d: status %d", iter, (int) st);
		if (st == CSMS_JSON_OK)
		{
			csms_json_buf b;

			accepted++;
			csms_json_buf_init(&b, NULL);
			serialize(&b, v);
			CHECK(parse_n(b.data, b.len, &w) == CSMS_JSON_OK && json_equal(v, w),
				  "random input %d round trip <%s>", iter, show(s, n));
			csms_json_buf_free(&b);
			csms_json_free(w, NULL);
		}
		csms_json_free(v, NULL);
	}
	CHECK(accepted > 20, "random inputs: some accepted (%ld)", accepted);
}

/*
 * csms_json_parse_opts: another depth limit, and \u0000 allowed (the blob
 * header's rules); NULL options are the default rules.
 */
static void
test_options(void)
{
	csms_json_options shallow = {3, false};
	csms_json_options nul = {CSMS_JSON_MAX_DEPTH, true};
	csms_json  *v = NULL;
	csms_json_status st;
	const csms_json *m;

	st = csms_json_parse_opts("[[[1]]]", 7, NULL, &shallow, &v);
	CHECK(st == CSMS_JSON_OK, "options: depth 3 at a limit of 3: %s", sname(st));
	csms_json_free(v, NULL);
	v = (csms_json *) 1;
	st = csms_json_parse_opts("[[[[1]]]]", 9, NULL, &shallow, &v);
	CHECK(st == CSMS_JSON_ERR_DEPTH && v == NULL, "options: depth 4 over a limit of 3: %s", sname(st));
	st = csms_json_parse_opts("[[[[1]]]]", 9, NULL, NULL, &v);
	CHECK(st == CSMS_JSON_OK, "options: NULL is the default depth: %s", sname(st));
	csms_json_free(v, NULL);

	/* \u0000 in a value and in a name: a NUL byte that len counts */
	v = NULL;
	st = csms_json_parse_opts("{\"a\\u0000b\":\"x\\u0000\"}", 22, NULL, &nul, &v);
	CHECK(st == CSMS_JSON_OK, "options: \\u0000 allowed: %s", sname(st));
	if (st == CSMS_JSON_OK)
	{
		CHECK(v->count == 1 && v->key_lens[0] == 3 && memcmp(v->keys[0], "a\0b", 3) == 0,
			  "options: a name with a NUL byte");
		m = v->items[0];
		CHECK(m->type == CSMS_JSON_STRING && m->len == 2 && m->str[0] == 'x' &&
			  m->str[1] == '\0' && m->str[2] == '\0', "options: a value with a NUL byte");
		CHECK(csms_json_get(v, "a") == NULL, "options: get compares whole names");
	}
	csms_json_free(v, NULL);
	st = csms_json_parse_opts("{\"a\\u0000\":1,\"a\\u0000\":2}", 25, NULL, &nul, &v);
	CHECK(st == CSMS_JSON_ERR_DUPLICATE, "options: names with NUL bytes are compared whole: %s", sname(st));
	st = csms_json_parse_opts("\"\\u0000\"", 8, NULL, NULL, &v);
	CHECK(st == CSMS_JSON_ERR_NUL, "options: NULL rejects \\u0000: %s", sname(st));
	/* a raw NUL stays an error */
	st = csms_json_parse_opts("\"a\0\"", 4, NULL, &nul, &v);
	CHECK(st == CSMS_JSON_ERR_NUL, "options: a raw NUL is still an error: %s", sname(st));
}

int
main(void)
{
	test_strerror();
	test_types();
	test_cases();
	test_depth();
	test_options();
	test_duplicates_big();
	test_writer_controls();
	test_round_trips();
	test_big();
	test_arguments();
	test_alloc_failures();
	test_random_inputs();

	printf("%lu passed, %lu failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
