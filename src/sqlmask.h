/*-------------------------------------------------------------------------
 *
 * sqlmask.h
 *	  Texts of SQL statements as the server log must show them when they
 *	  call the extension: literals masked, parameter values masked, and any
 *	  other occurrence of a value replaced (redact.c uses these).
 *
 *	  A lexer of PostgreSQL's SQL, not a parser: it knows quoted strings
 *	  ('...' with '' escapes; E'...' with backslash escapes; B'', X'', N'',
 *	  U&''), dollar-quoted strings, quoted identifiers, comments (nested
 *	  block comments too), numbers and positional parameters; everything
 *	  else is copied.  Input that ends inside a string or comment masks
 *	  the rest.  It takes bytes and never reads past len.
 *
 *	  No PostgreSQL header, so that test/ and fuzz/ can build it alone.
 *
 * src/sqlmask.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SQLMASK_H
#define CSMS_SQLMASK_H

#include <stdbool.h>
#include <stddef.h>

/* what replaces a masked value */
#define CSMS_MASK			"[redacted]"
#define CSMS_MASK_LEN		(sizeof(CSMS_MASK) - 1)

/*
 * Does the text call a function whose name starts with csms_ (any case,
 * also quoted, also inside string literals and dollar-quoted bodies, which
 * may be function bodies or dynamic SQL)?  An identifier csms_... followed
 * by "(" (white space and a closing quote between them allowed).
 */
extern bool csms_sql_calls_csms(const char *sql, size_t len);

/*
 * The text with every string literal, dollar-quoted string, number and
 * comment replaced by CSMS_MASK (quotes and dollar tags kept, so the shape
 * stays readable): 'abc' -> '[redacted]', $f$...$f$ -> $f$[redacted]$f$,
 * 42 -> [redacted].  Writes at most csms_sql_mask_bound(len) bytes and a
 * NUL into out; returns the length written.
 */
extern size_t csms_sql_mask_bound(size_t len);
extern size_t csms_sql_mask(const char *sql, size_t len, char *out);

/*
 * Calls fn for the content of every string literal of the text, between
 * its quotes as written (a '' or backslash escape left as it is), and for
 * the body of every dollar-quoted string, whose own literals it then
 * visits too (a function body, a DO block), to a depth of 8.
 */
typedef void (*csms_sql_literal_fn) (void *arg, const char *lit, size_t len);
extern void csms_sql_literals(const char *sql, size_t len, csms_sql_literal_fn fn,
							  void *arg);

/*
 * Calls fn for the name of every function call of the text (an
 * identifier, or the last part of a qualified name, followed by "(";
 * unquoted names folded to lower case into buf, which holds 64 bytes),
 * outside literals and comments.  SQL keywords followed by "(" are
 * reported too; the caller looks names up.
 */
typedef void (*csms_sql_name_fn) (void *arg, const char *name);
extern void csms_sql_called_names(const char *sql, size_t len, csms_sql_name_fn fn,
								  void *arg);

/* A text to replace, and what replaces it. */
typedef struct csms_needle
{
	const char *text;
	size_t		len;
	const char *replacement;
	size_t		replacement_len;
} csms_needle;

/*
 * in with every occurrence of a needle replaced (at each place the longest
 * needle that matches; the output is not scanned again), every parameter
 * value of the form PostgreSQL logs them ($1 = 'value', with '' escapes;
 * NULL is left as it is) masked, and, in a line of pgaudit's (AUDIT: ...),
 * the parameter field (its last) masked whole unless it is <none> or <not
 * logged>.  Needles of length 0 are
 * ignored.  Returns the length of the result; out (NULL to measure only)
 * must hold that many bytes and a NUL.
 */
extern size_t csms_redact(const char *in, size_t len, const csms_needle *needles,
						  int nneedles, char *out);

#endif							/* CSMS_SQLMASK_H */
