/*-------------------------------------------------------------------------
 *
 * password.h
 *	  Random passwords from character classes (no PostgreSQL header): the
 *	  generator of csms_generate_random_password and of PG-ROLE rotations.
 *
 * src/password.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_PASSWORD_H
#define CSMS_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define CSMS_PASSWORD_MIN		8
#define CSMS_PASSWORD_MAX		4096
#define CSMS_PASSWORD_DEFAULT	32

/* the character classes, in this order */
typedef enum csms_password_class
{
	CSMS_PW_LOWER,
	CSMS_PW_UPPER,
	CSMS_PW_DIGIT,
	CSMS_PW_PUNCT,				/* the 32 ASCII punctuation characters */
	CSMS_PW_SPACE,
	CSMS_PW_NCLASSES
} csms_password_class;

typedef enum csms_password_status
{
	CSMS_PW_OK = 0,
	CSMS_PW_BAD_LENGTH,			/* not CSMS_PASSWORD_MIN..CSMS_PASSWORD_MAX */
	CSMS_PW_EMPTY_SET,			/* every character excluded */
	CSMS_PW_TOO_SHORT,			/* fewer characters than required classes */
	CSMS_PW_NO_RANDOM,			/* the CSPRNG failed */
	CSMS_PW_EXHAUSTED			/* no password with every class was drawn */
} csms_password_status;

/*
 * Fill out[0..length-1] (no NUL is written) with characters drawn uniformly
 * (rejection sampling, no modulo bias) from the classes use[] allows, minus
 * the characters of exclude (NUL-terminated; NULL for none).  With
 * require_each, a password that misses an allowed class is drawn again,
 * which keeps every acceptable password equally likely.  On failure out is
 * wiped.  *nclasses (when not NULL) is set to the number of classes that
 * kept a character.
 */
extern csms_password_status csms_password_generate(char *out, int length,
												   const char *exclude,
												   const bool use[CSMS_PW_NCLASSES],
												   bool require_each, int *nclasses);

/* The rules of a rotation: CSMS_PASSWORD_DEFAULT characters, every class but space, each one */
extern csms_password_status csms_password_default(char *out);

#endif							/* CSMS_PASSWORD_H */
