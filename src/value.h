/*-------------------------------------------------------------------------
 *
 * value.h
 *	  Reading the values of secrets: the fast path (no call frame, no SQL,
 *	  for csms_get_secret_value and csms_get_secret_binary), the SQL path
 *	  that knows every error, and the reads of csms_show_secret_version and
 *	  csms_batch_get_secret_value.  Every read is recorded for
 *	  last_used_time (usage.h).
 *
 * src/value.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_VALUE_H
#define CSMS_VALUE_H

#include "postgres.h"

#include "funcapi.h"
#include "utils/uuid.h"

#include "context.h"

/* one version's value, opened */
typedef struct CsmsValue
{
	pg_uuid_t	secret_id;
	char	   *name;
	int			version;
	char		kind;			/* CSMS_KIND_STRING or CSMS_KIND_BINARY */
	bytea	   *plain;			/* the value as a varlena, wiped with its context */
} CsmsValue;

/*
 * Version `version` (0: SYSCURRENT) of secret `name` in the session's
 * region, without a call frame: one index lookup of the secret, whose row
 * carries a copy of its SYSCURRENT version (a second one for an older
 * version), then two AES-GCM opens with cached key material.  NULL whenever
 * the common case does not hold (no such secret or version, not ENABLED,
 * material not cached, a schema that does not look as expected): the SQL
 * path then decides.  It raises only what the SQL path would raise for the
 * same row (a disabled key, a wrong root key, a ciphertext that fails
 * authentication).
 */
extern bytea *csms_value_read_fast(const char *name, int version, char *kind,
								   int *version_out);

/* The same through SQL, with the error of each case that has no value. */
extern void csms_value_read(CsmsCall *call, const char *name, int version, CsmsValue *out);

/* a csms_version row of v: its metadata, then secret_string or secret_binary */
extern void csms_value_row(const CsmsValue *v, Datum *values, bool *nulls);

/*
 * The SYSCURRENT value of each of names[0..n-1], in that order, as
 * csms_version rows into a materialized SRF; names that do not exist, or
 * cannot be read, fail the call with one error naming them.
 */
extern void csms_value_batch(CsmsCall *call, char **names, int n, ReturnSetInfo *rsinfo);

#endif							/* CSMS_VALUE_H */
