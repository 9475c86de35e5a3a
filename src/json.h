/*-------------------------------------------------------------------------
 *
 * json.h
 *	  A small strict JSON codec (RFC 8259) whose every buffer can be wiped:
 *	  the one JSON parser of the extension, for the backup blob payload
 *	  (design.md section 3) and the blob's JWE header (blob.c).
 *
 *	  The payload holds secret values in plaintext.  PostgreSQL's json/jsonb
 *	  code would leave unwiped copies behind, so the payload is read and
 *	  written here instead.  Like crypto.h and blob.h, this file and json.c
 *	  include no PostgreSQL header, so that test/ and fuzz/ build them alone
 *	  (json.c needs alloc.c, and csms_wipe from crypto.c).
 *
 *	  Parser rules (csms_json_parse):
 *	  - one value of any type, optionally surrounded by white space (space,
 *		tab, CR, LF only); no byte order mark; anything else after the value
 *		is CSMS_JSON_ERR_TRAILING;
 *	  - strings: valid UTF-8 only (no overlong forms, no UTF-8-encoded
 *		surrogates, nothing above U+10FFFF, no truncated sequences:
 *		CSMS_JSON_ERR_UTF8); no raw control characters below 0x20
 *		(CSMS_JSON_ERR_SYNTAX); escapes \" \\ \/ \b \f \n \r \t \uXXXX only,
 *		where a \u surrogate must be a high one immediately followed by a \u
 *		low one (a lone surrogate is CSMS_JSON_ERR_UTF8); \u0000 and a raw
 *		NUL byte are CSMS_JSON_ERR_NUL, since values end up in PostgreSQL
 *		text;
 *	  - numbers follow the JSON grammar (no leading zeros, no '+', no
 *		NaN/Infinity, digits required around '.' and after 'e') and are kept
 *		as the literal text;
 *	  - a number or literal must not run into a letter, digit, '.', '+', '-'
 *		or '_' (so "01", "1.2.3" and "truex" are CSMS_JSON_ERR_SYNTAX);
 *	  - duplicate member names (compared as unescaped bytes) are rejected in
 *		every object (CSMS_JSON_ERR_DUPLICATE), in O(n log n);
 *	  - at most CSMS_JSON_MAX_DEPTH nested arrays/objects (CSMS_JSON_ERR_DEPTH);
 *	  - at most CSMS_JSON_MAX_LEN bytes of input (CSMS_JSON_ERR_TOO_BIG);
 *	  - the first problem met, reading from the start, decides the status,
 *		except that duplicate names are checked when an object ends and that
 *		a string with no closing quote is CSMS_JSON_ERR_SYNTAX (or
 *		CSMS_JSON_ERR_NUL if a NUL byte follows its opening quote) whatever
 *		else it holds; a raw NUL byte met anywhere (inside or outside a
 *		string, or after the value) is CSMS_JSON_ERR_NUL.
 *
 *	  Memory.  Every node, string, key and array of the tree is allocated
 *	  through the csms_allocator (NULL: malloc/free), and nothing the
 *	  codec copies from a string is held in memory of its own (no malloc
 *	  behind the allocator's back, no qsort, no stack buffer but the
 *	  writer's 6-byte escape buffer, which it wipes).  So:
 *	  - an allocator returning NULL gives CSMS_JSON_ERR_NOMEM, after
 *		everything allocated so far has been wiped and freed;
 *	  - an allocator that does not return (palloc's ereport) leaves only
 *		blocks obtained from that allocator, which the caller can wipe, for
 *		example by allocating from a memory context that it wipes when it is
 *		reset or deleted;
 *	  - a string buffer is allocated before any byte of the string is
 *		decoded into it, so an allocation never happens while decoded
 *		plaintext exists outside the tree;
 *	  - csms_json_free wipes every string, key, array and node before freeing
 *		it; on any parse error the partial tree is wiped and freed and *out is
 *		NULL.
 *	  The input text is the caller's to wipe.
 *
 *	  Writer (csms_json_buf): a growable buffer, allocated through the same
 *	  kind of allocator.  Growing allocates a new block, copies, wipes and
 *	  frees the old one; data is always NUL-terminated once something was
 *	  appended.  When an allocation fails the buffer is wiped and freed at
 *	  once, failed becomes true and later appends do nothing; test failed
 *	  once at the end.  Release with csms_json_buf_free (wipes).  The writer
 *	  does not validate UTF-8: csms_json_buf_string expects valid UTF-8 with
 *	  no NUL (it escapes a NUL as \u0000, which the parser rejects).
 *
 * src/json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_JSON_H
#define CSMS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"

#define CSMS_JSON_MAX_DEPTH	64	/* nested arrays/objects */
#define CSMS_JSON_MAX_LEN	((size_t) 16 * 1024 * 1024)	/* bytes of input */

typedef enum csms_json_type
{
	CSMS_JSON_NULL,
	CSMS_JSON_FALSE,
	CSMS_JSON_TRUE,
	CSMS_JSON_NUMBER,
	CSMS_JSON_STRING,
	CSMS_JSON_ARRAY,
	CSMS_JSON_OBJECT
} csms_json_type;

typedef struct csms_json csms_json;

struct csms_json
{
	csms_json_type type;
	char	   *str;			/* STRING: the unescaped UTF-8 bytes,
								 * NUL-terminated; NUMBER: the literal as
								 * written; NULL otherwise */
	size_t		len;			/* length of str without the NUL */
	size_t		count;			/* ARRAY, OBJECT: number of items */
	char	  **keys;			/* OBJECT: member names, unescaped,
								 * NUL-terminated */
	size_t	   *key_lens;
	csms_json **items;			/* ARRAY, OBJECT: the values, in document
								 * order */
};

typedef enum csms_json_status
{
	CSMS_JSON_OK = 0,
	CSMS_JSON_ERR_SYNTAX,
	CSMS_JSON_ERR_UTF8,
	CSMS_JSON_ERR_NUL,			/* \u0000 or a raw NUL */
	CSMS_JSON_ERR_DEPTH,
	CSMS_JSON_ERR_DUPLICATE,
	CSMS_JSON_ERR_TRAILING,
	CSMS_JSON_ERR_TOO_BIG,
	CSMS_JSON_ERR_NOMEM
} csms_json_status;

/* A short lower-case English reason, for errdetail; never payload content. */
extern const char *csms_json_strerror(csms_json_status st);

/* what csms_json_parse_opts may change of the rules above */
typedef struct csms_json_options
{
	int			max_depth;		/* instead of CSMS_JSON_MAX_DEPTH */
	bool		allow_nul;		/* \u0000 in strings is a NUL byte (str then
								 * holds it: use len), not CSMS_JSON_ERR_NUL */
} csms_json_options;

/*
 * Parse len bytes at text (need not be NUL-terminated; may be NULL when len
 * is 0).  On success *out is the root of a new tree: release it with
 * csms_json_free using the same allocator.  On failure *out is NULL and
 * nothing is left allocated.  a must be NULL or have both functions set
 * (otherwise CSMS_JSON_ERR_NOMEM).
 */
extern csms_json_status csms_json_parse(const char *text, size_t len,
										const csms_allocator *a,
										csms_json **out);

/* The same with options (NULL: the rules above). */
extern csms_json_status csms_json_parse_opts(const char *text, size_t len,
											 const csms_allocator *a,
											 const csms_json_options *opts,
											 csms_json **out);

/* Wipe every string, key, array and node of v, then free them.  NULL: no-op. */
extern void csms_json_free(csms_json *v, const csms_allocator *a);

/*
 * The value of member key (a NUL-terminated name, compared byte for byte
 * with the unescaped names), or NULL if obj is NULL, is not an object or has
 * no such member.  Linear in the number of members.
 */
extern const csms_json *csms_json_get(const csms_json *obj, const char *key);

/* writer */
typedef struct csms_json_buf
{
	char	   *data;			/* NULL until something is appended */
	size_t		len;			/* bytes written, without the NUL */
	size_t		cap;			/* bytes allocated at data */
	const csms_allocator *a;
	bool		failed;			/* an allocation failed: data is gone */
} csms_json_buf;

extern void csms_json_buf_init(csms_json_buf *b, const csms_allocator *a);

/* Append n bytes as they are. */
extern void csms_json_buf_raw(csms_json_buf *b, const char *s, size_t n);

/*
 * Append n bytes at s as a quoted JSON string: ", \ and control characters
 * below 0x20 are escaped (\b \f \n \r \t, others as \u00XX); every other
 * byte (expected to be valid UTF-8) is copied as it is.
 */
extern void csms_json_buf_string(csms_json_buf *b, const char *s, size_t n);

/* Wipe and free the data; the buffer is then empty and reusable. */
extern void csms_json_buf_free(csms_json_buf *b);

#endif							/* CSMS_JSON_H */
