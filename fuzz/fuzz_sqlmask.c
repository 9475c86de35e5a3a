/*
 * fuzz/fuzz_sqlmask.c: libFuzzer harness for the SQL text masking of log
 * redaction (src/sqlmask.c).  For any bytes: the masked text stays within
 * its bound, and every literal a lexer finds in it is the mask itself (no
 * byte of a literal of the input survives as a literal); collecting
 * literals and called names, and replacing the input's literals in it,
 * read nothing out of bounds (ASan) and agree on lengths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqlmask.h"

#define MAX_NEEDLES 64

struct needles
{
	csms_needle n[MAX_NEEDLES];
	int			count;
};

static void
add_needle(void *arg, const char *s, size_t len)
{
	struct needles *nd = arg;

	if (nd->count < MAX_NEEDLES)
	{
		nd->n[nd->count].text = s;
		nd->n[nd->count].len = len;
		nd->n[nd->count].replacement = CSMS_MASK;
		nd->n[nd->count].replacement_len = CSMS_MASK_LEN;
		nd->count++;
	}
}

static void
check_masked_literal(void *arg, const char *s, size_t len)
{
	(void) arg;
	if (len != CSMS_MASK_LEN || memcmp(s, CSMS_MASK, len) != 0)
		abort();
}

static void
ignore_name(void *arg, const char *name)
{
	(void) arg;
	if (strlen(name) >= 64)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sql = (const char *) data;
	char	   *masked = malloc(csms_sql_mask_bound(size));
	size_t		n = csms_sql_mask(sql, size, masked);
	struct needles nd;
	size_t		need;
	char	   *out;

	if (n >= csms_sql_mask_bound(size) || masked[n] != '\0')
		abort();
	csms_sql_literals(masked, n, check_masked_literal, NULL);
	(void) csms_sql_calls_csms(sql, size);
	csms_sql_called_names(sql, size, ignore_name, NULL);

	nd.count = 0;
	csms_sql_literals(sql, size, add_needle, &nd);
	need = csms_redact(sql, size, nd.n, nd.count, NULL);
	out = malloc(need + 1);
	if (csms_redact(sql, size, nd.n, nd.count, out) != need || out[need] != '\0')
		abort();
	free(out);
	free(masked);
	return 0;
}
