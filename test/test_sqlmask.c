/*
 * test/test_sqlmask.c: unit tests of the SQL text masking (src/sqlmask.c)
 * that log redaction uses: which texts call the extension, what the
 * masked text is, which literals and called names a text has, and the
 * replacement of values and logged parameters in a log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlmask.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...) \
	do { \
		checks++; \
		if (!(cond)) { \
			failures++; \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__); \
			printf("\n"); \
		} \
	} while (0)

static void
check_calls(const char *sql, int expected)
{
	CHECK(csms_sql_calls_csms(sql, strlen(sql)) == expected,
		  "calls_csms(%s) should be %d", sql, expected);
}

static void
check_mask(const char *sql, const char *expected)
{
	size_t		len = strlen(sql);
	char	   *out = malloc(csms_sql_mask_bound(len));
	size_t		n = csms_sql_mask(sql, len, out);

	CHECK(n == strlen(out) && strcmp(out, expected) == 0,
		  "mask(%s) = <%s>, expected <%s>", sql, out, expected);
	CHECK(n < csms_sql_mask_bound(len), "mask(%s) within its bound", sql);
	free(out);
}

struct collect
{
	char		buf[1024];
};

static void
collect(void *arg, const char *s, size_t n)
{
	struct collect *c = arg;

	strncat(c->buf, "<", sizeof(c->buf) - strlen(c->buf) - 1);
	strncat(c->buf, s, n < sizeof(c->buf) - strlen(c->buf) - 2 ? n : 0);
	strncat(c->buf, ">", sizeof(c->buf) - strlen(c->buf) - 1);
}

static void
collect_name(void *arg, const char *name)
{
	collect(arg, name, strlen(name));
}

static void
check_literals(const char *sql, const char *expected)
{
	struct collect c = {""};

	csms_sql_literals(sql, strlen(sql), collect, &c);
	CHECK(strcmp(c.buf, expected) == 0, "literals(%s) = %s, expected %s", sql, c.buf, expected);
}

static void
check_names(const char *sql, const char *expected)
{
	struct collect c = {""};

	csms_sql_called_names(sql, strlen(sql), collect_name, &c);
	CHECK(strcmp(c.buf, expected) == 0, "names(%s) = %s, expected %s", sql, c.buf, expected);
}

static void
check_redact(const char *in, const csms_needle *nd, int n, const char *expected)
{
	size_t		len = strlen(in);
	size_t		need = csms_redact(in, len, nd, n, NULL);
	char	   *out = malloc(need + 1);
	size_t		got = csms_redact(in, len, nd, n, out);

	CHECK(got == need && strcmp(out, expected) == 0, "redact(%s) = <%s>, expected <%s>",
		  in, out, expected);
	free(out);
}

int
main(void)
{
	/* which texts call the extension */
	check_calls("SELECT csms_create_secret('a', 'b')", 1);
	check_calls("select CSMS_GET_SECRET_VALUE ($1)", 1);
	check_calls("SELECT public.\"csms_get_secret_value\"('x')", 1);
	check_calls("DO $$BEGIN PERFORM csms_create_secret('a', 'b'); END$$", 1);
	check_calls("SELECT 'csms_x(' AS t", 1);	/* dynamic SQL in a string counts */
	check_calls("SELECT mycsms_x(1)", 0);
	check_calls("SELECT csms_x", 0);
	check_calls("SELECT * FROM csms.secrets", 0);
	check_calls("csms_", 0);
	check_calls("", 0);

	/* masking */
	check_mask("SELECT csms_create_secret('db', 'p4ss''word')",
			   "SELECT csms_create_secret('[redacted]', '[redacted]')");
	check_mask("SELECT f(E'a\\'b', 42, 1.5e-3, x1, $1)",
			   "SELECT f(E'[redacted]', [redacted], [redacted], x1, $1)");
	check_mask("DO $body$ BEGIN PERFORM csms_x('v'); END $body$;",
			   "DO $body$[redacted]$body$;");
	check_mask("SELECT $$a$$, \"quoted 'id'\" -- note\nFROM t /* c /* nested */ */",
			   "SELECT $$[redacted]$$, \"quoted 'id'\" --[redacted]\nFROM t /*[redacted]*/");
	check_mask("SELECT X'ff', B'01', N'n', U&'u', e'x'", "SELECT X'[redacted]', B'[redacted]', N'[redacted]', U&'[redacted]', e'[redacted]'");
	check_mask("SELECT 'unterminated", "SELECT '[redacted]'");
	check_mask("SELECT $x$unterminated", "SELECT $x$[redacted]");
	check_mask("SELECT v1, t.x2 FROM t", "SELECT v1, t.x2 FROM t");
	check_mask("", "");

	/* literals, with dollar-quoted bodies visited */
	check_literals("SELECT csms_create_secret('db', 'it''s')", "<db><it''s>");
	check_literals("DO $$BEGIN PERFORM f('inner'); END$$", "<BEGIN PERFORM f('inner'); END><inner>");
	check_literals("SELECT E'a\\'b', 'open", "<a\\'b><open>");
	check_literals("SELECT 1 -- 'not a literal'", "");

	/* called names */
	check_names("SELECT app.Save('x'), count (*), \"Mixed\"(1) FROM f(g(1))",
				"<save><count><Mixed><f><g>");
	check_names("SELECT 'f(x)' -- g(y)", "");

	/* log lines: needles, longest first, and logged parameters */
	{
		csms_needle nd[] = {
			{"SELECT 'sec'", 12, "SELECT '[redacted]'", 19},
			{"sec", 3, CSMS_MASK, CSMS_MASK_LEN},
			{"", 0, "never", 5},
		};

		check_redact("statement: SELECT 'sec'", nd, 3, "statement: SELECT '[redacted]'");
		check_redact("AUDIT: x,sec,secsec", nd, 3, "AUDIT: x,[redacted],[redacted][redacted]");
		check_redact("parameters: $1 = 'a''b', $2 = NULL, $12 = 'c...'", nd, 0,
					 "parameters: $1 = '[redacted]', $2 = NULL, $12 = '[redacted]'");
		check_redact("with $1 = 'open", nd, 0, "with $1 = '[redacted]'");
		check_redact("x$1 = 'not a parameter'", nd, 0, "x$1 = 'not a parameter'");
		check_redact("", nd, 3, "");
		check_redact("AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT f($1, $2)\",\"a,\"\"b\"\"\"", nd, 0,
					 "AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT f($1, $2)\",[redacted]");
		check_redact("AUDIT: SESSION,1,2,FUNCTION,EXECUTE,FUNCTION,public.f,\"SELECT 'sec'\",<none>",
					 nd, 3, "AUDIT: SESSION,1,2,FUNCTION,EXECUTE,FUNCTION,public.f,\"SELECT '[redacted]'\",<none>");
		check_redact("AUDIT: SESSION,1,1,READ,SELECT,,,x,<not logged>", nd, 0,
					 "AUDIT: SESSION,1,1,READ,SELECT,,,x,<not logged>");
		check_redact("AUDIT: short,line", nd, 0, "AUDIT: short,line");
	}

	printf("sqlmask: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
