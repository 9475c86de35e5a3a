/*-------------------------------------------------------------------------
 *
 * version.h
 *	  Versions of secrets: a new secret with its first version, new
 *	  versions (stages moved, the oldest version without a stage pruned at
 *	  the limit), expiry, a secret's versions sealed again under another
 *	  key, and versions described as csms_version_metadata rows.  The one
 *	  place where a version row is written (csms_store_version).
 *
 * src/version.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_VERSION_H
#define CSMS_VERSION_H

#include "postgres.h"

#include "funcapi.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "context.h"
#include "keyring.h"
#include "envelope.h"
#include "secret.h"

/* the columns of csms_version_metadata, then csms_version's two values */
#define CSMS_METADATA_NCOLS 6

/* A new secret's metadata (csms_create_secret's arguments, checked). */
typedef struct CsmsNewSecret
{
	const char *name;
	const char *key_ref;		/* NULL: csms/default */
	const char *description;
	const char *secret_type;
	bool		auto_rotation;
	const char *rotation_period;
	Interval   *period;			/* parsed rotation_period, or NULL */
	Jsonb	   *rotation_config;
	ArrayType  *subscriptions;	/* NULL: none */
	const char *enterprise_project_id;
	const char *rotation_func_urn;
	Jsonb	   *tags;
	char		kind;
	const char *value;
	Size		len;
} CsmsNewSecret;

/* what a create or a new version made, for its result row */
typedef struct CsmsMade
{
	pg_uuid_t	id;				/* the secret */
	int			version;
	TimestampTz time;
	CsmsKey    *key;
	Datum		next_rotation;	/* a create: when auto rotation is due, or 0 */
	Datum		subscriptions;	/* a create: the text[] stored */
	char	  **stages;			/* a new version: the stages it holds, by name */
	int			nstages;
} CsmsMade;

/* what csms_update_secret changes (NULL, or not set: unchanged; "": cleared) */
typedef struct CsmsSecretChange
{
	const char *key_ref;		/* a new key: every version re-wrapped */
	const char *description;
	bool		set_auto_rotation;
	bool		auto_rotation;
	const char *rotation_period;	/* checked */
	ArrayType  *subscriptions;	/* checked */
	const char *rotation_func_urn;
} CsmsSecretChange;

/* Create a secret with version v1 (SYSCURRENT); 42710 when the name is taken. */
extern void csms_secret_create(CsmsCall *call, const CsmsNewSecret *ns, CsmsMade *made);

/*
 * A new version of s (opened for CSMS_ACT_WRITE_VERSION): without stages,
 * it takes SYSCURRENT and the old SYSCURRENT becomes SYSPREVIOUS; with
 * stages, exactly those move to it.  expire_time NULL: it does not expire.
 */
extern void csms_version_add(CsmsCall *call, CsmsSecret *s, char kind, const char *value,
							 Size len, char **stages, int nstages,
							 const Datum *expire_time, CsmsMade *made);

/* The csms_secret row of what csms_secret_create made, without a query. */
extern HeapTuple csms_secret_created_tuple(CsmsCall *call, TupleDesc tupdesc,
										   const CsmsNewSecret *ns, const CsmsMade *made);

/*
 * Change the metadata of s (opened for CSMS_ACT_WRITE_META); a new key
 * re-wraps the data key of every version, which is why this is here.
 */
extern void csms_secret_update(CsmsCall *call, CsmsSecret *s, const CsmsSecretChange *c);

/* The csms_version_metadata row of what csms_version_add made, without a query. */
extern HeapTuple csms_version_made_tuple(CsmsCall *call, TupleDesc tupdesc,
										 const CsmsSecret *s, const CsmsMade *made,
										 const Datum *expire_time);

/* version (0: the SYSCURRENT one) of s, which must exist (42704) */
extern int	csms_version_resolve(CsmsSecret *s, int version);

/* version `version` of s opened for the extension's own use (wiped with its context) */
extern bytea *csms_version_open(CsmsCall *call, CsmsSecret *s, int version, char *kind);

/* Set (or, expire_time NULL, clear) the expiry of a version of s. */
extern void csms_version_set_expiry(CsmsSecret *s, int version, const Datum *expire_time);

/*
 * Encrypt a value as version `version` of secret `secret_id` in `region`
 * under `key` (material loaded) and store the version row: the one place
 * where a version is written.  create_time NULL means now; expire_time NULL
 * means the version does not expire.  With sealed_out, the stored wrapped
 * key and ciphertext are handed back (for the copy of SYSCURRENT).
 */
extern void csms_store_version(CsmsCall *call, const pg_uuid_t *secret_id,
							   const char *region, int version, CsmsKey *key,
							   char kind, const char *value, Size len,
							   const Datum *create_time, const Datum *expire_time,
							   CsmsSealed *sealed_out);

/* csms_version_metadata of one version (values[0..CSMS_METADATA_NCOLS - 1]) */
extern void csms_version_metadata(const pg_uuid_t *secret_id, int version,
								  Datum *values, bool *nulls);

/* One page of versions of s, after version `after`, into a materialized SRF. */
extern void csms_version_list(ReturnSetInfo *rsinfo, CsmsSecret *s, int after,
							  int page_size);

#endif							/* CSMS_VERSION_H */
