/*-------------------------------------------------------------------------
 *
 * password_api.c
 *	  csms_generate_random_password: characters drawn uniformly from the
 *	  allowed set with OpenSSL's CSPRNG (rejection sampling, no modulo bias).
 *	  With require_each_included_type, a password missing a type is thrown
 *	  away and drawn again, which keeps every acceptable password equally
 *	  likely.
 *
 * src/password_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "util.h"

PG_FUNCTION_INFO_V1(csms_generate_random_password);

#define PASSWORD_MIN	8
#define PASSWORD_MAX	4096
#define MAX_ATTEMPTS	10000

static const char *const char_classes[] = {
	"abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"0123456789",
	"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	" "
};
#define NCLASSES 5

/*
 * csms_generate_random_password(...): a password from the allowed
 * character types
 */
Datum
csms_generate_random_password(PG_FUNCTION_ARGS)
{
	int			length = PG_ARGISNULL(0) ? 32 : PG_GETARG_INT32(0);
	char	   *exclude = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		use[NCLASSES];
	bool		require = !PG_ARGISNULL(7) && PG_GETARG_BOOL(7);
	char		set[128];
	int			class_of[128];
	int			nset = 0;
	int			nclasses = 0;
	int			c,
				attempt;
	text	   *result;
	char	   *out;

	use[0] = PG_ARGISNULL(2) || !PG_GETARG_BOOL(2);
	use[1] = PG_ARGISNULL(3) || !PG_GETARG_BOOL(3);
	use[2] = PG_ARGISNULL(4) || !PG_GETARG_BOOL(4);
	use[3] = PG_ARGISNULL(5) || !PG_GETARG_BOOL(5);
	use[4] = !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);

	if (length < PASSWORD_MIN || length > PASSWORD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password length must be between %d and %d", PASSWORD_MIN, PASSWORD_MAX)));

	for (c = 0; c < NCLASSES; c++)
	{
		const char *p;
		bool		any = false;

		if (!use[c])
			continue;
		for (p = char_classes[c]; *p; p++)
		{
			if (strchr(exclude, *p))
				continue;
			class_of[nset] = c;
			set[nset++] = *p;
			any = true;
		}
		/* a class whose every character is excluded is not "included" */
		if (any)
			nclasses++;
		else
			use[c] = false;
	}
	if (nset == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no characters are left to build a password from"),
				 errdetail("Every character class is excluded or all of its characters are in exclude_characters.")));
	if (require && nclasses > length)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a password of %d characters cannot hold each of %d character types", length, nclasses)));

	result = palloc(VARHDRSZ + length);
	SET_VARSIZE(result, VARHDRSZ + length);
	out = VARDATA(result);
	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++)
	{
		bool		seen[NCLASSES] = {false};
		bool		ok = true;
		int			i;

		for (i = 0; i < length; i++)
		{
			uint32		idx;

			if (csms_random_index((uint32) nset, &idx) != CSMS_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not generate random bytes")));
			out[i] = set[idx];
			seen[class_of[idx]] = true;
		}
		if (!require)
			break;
		for (c = 0; c < NCLASSES; c++)
			if (use[c] && !seen[c])
				ok = false;
		if (ok)
			break;
	}
	if (attempt == MAX_ATTEMPTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not generate a password that holds each character type"),
				 errhint("Allow more characters or a longer password.")));
	PG_RETURN_TEXT_P(result);
}
