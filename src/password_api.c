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
#include "password.h"

PG_FUNCTION_INFO_V1(csms_generate_random_password);

/*
 * csms_generate_random_password(...): a password from the allowed
 * character types
 */
Datum
csms_generate_random_password(PG_FUNCTION_ARGS)
{
	int			length = PG_ARGISNULL(0) ? CSMS_PASSWORD_DEFAULT : PG_GETARG_INT32(0);
	char	   *exclude = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		use[CSMS_PW_NCLASSES];
	bool		require = !PG_ARGISNULL(7) && PG_GETARG_BOOL(7);
	text	   *result;
	int			nclasses;

	use[CSMS_PW_LOWER] = PG_ARGISNULL(2) || !PG_GETARG_BOOL(2);
	use[CSMS_PW_UPPER] = PG_ARGISNULL(3) || !PG_GETARG_BOOL(3);
	use[CSMS_PW_DIGIT] = PG_ARGISNULL(4) || !PG_GETARG_BOOL(4);
	use[CSMS_PW_PUNCT] = PG_ARGISNULL(5) || !PG_GETARG_BOOL(5);
	use[CSMS_PW_SPACE] = !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);

	if (length < CSMS_PASSWORD_MIN || length > CSMS_PASSWORD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password length must be between %d and %d", CSMS_PASSWORD_MIN,
						CSMS_PASSWORD_MAX)));
	result = palloc(VARHDRSZ + length);
	SET_VARSIZE(result, VARHDRSZ + length);
	switch (csms_password_generate(VARDATA(result), length, exclude, use, require, &nclasses))
	{
		case CSMS_PW_OK:
			break;
		case CSMS_PW_BAD_LENGTH:
			elog(ERROR, "password length out of range");
			break;
		case CSMS_PW_EMPTY_SET:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no characters are left to build a password from"),
					 errdetail("Every character class is excluded or all of its characters are in exclude_characters.")));
			break;
		case CSMS_PW_TOO_SHORT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a password of %d characters cannot hold each of %d character types",
							length, nclasses)));
			break;
		case CSMS_PW_NO_RANDOM:
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes")));
			break;
		case CSMS_PW_EXHAUSTED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("could not generate a password that holds each character type"),
					 errhint("Allow more characters or a longer password.")));
			break;
	}
	PG_RETURN_TEXT_P(result);
}
