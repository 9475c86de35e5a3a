/*-------------------------------------------------------------------------
 *
 * password.c
 *	  Random passwords from character classes (see password.h), with
 *	  OpenSSL's CSPRNG through crypto.c.
 *
 * src/password.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "password.h"

#define MAX_ATTEMPTS	10000

static const char *const char_classes[CSMS_PW_NCLASSES] = {
	"abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"0123456789",
	"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	" "
};

csms_password_status
csms_password_generate(char *out, int length, const char *exclude,
					   const bool use_in[CSMS_PW_NCLASSES], bool require_each,
					   int *nclasses_out)
{
	bool		use[CSMS_PW_NCLASSES];
	char		set[128];
	int			class_of[128];
	int			nset = 0;
	int			nclasses = 0;
	int			c,
				attempt;

	if (nclasses_out)
		*nclasses_out = 0;
	if (length < CSMS_PASSWORD_MIN || length > CSMS_PASSWORD_MAX)
		return CSMS_PW_BAD_LENGTH;
	if (exclude == NULL)
		exclude = "";
	for (c = 0; c < CSMS_PW_NCLASSES; c++)
	{
		const char *p;
		bool		any = false;

		use[c] = use_in[c];
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
	if (nclasses_out)
		*nclasses_out = nclasses;
	if (nset == 0)
		return CSMS_PW_EMPTY_SET;
	if (require_each && nclasses > length)
		return CSMS_PW_TOO_SHORT;

	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++)
	{
		bool		seen[CSMS_PW_NCLASSES] = {false};
		bool		ok = true;
		int			i;

		for (i = 0; i < length; i++)
		{
			uint32_t	idx;

			if (csms_random_index((uint32_t) nset, &idx) != CSMS_OK)
			{
				csms_wipe(out, (size_t) length);
				return CSMS_PW_NO_RANDOM;
			}
			out[i] = set[idx];
			seen[class_of[idx]] = true;
		}
		if (!require_each)
			return CSMS_PW_OK;
		for (c = 0; c < CSMS_PW_NCLASSES; c++)
			if (use[c] && !seen[c])
				ok = false;
		if (ok)
			return CSMS_PW_OK;
	}
	csms_wipe(out, (size_t) length);
	return CSMS_PW_EXHAUSTED;
}

csms_password_status
csms_password_default(char *out)
{
	static const bool use[CSMS_PW_NCLASSES] = {true, true, true, true, false};

	return csms_password_generate(out, CSMS_PASSWORD_DEFAULT, NULL, use, true, NULL);
}
