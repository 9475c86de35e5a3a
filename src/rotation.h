/*-------------------------------------------------------------------------
 *
 * rotation.h
 *	  Rotation: a new SYSCURRENT version made by the secret's rotation, as
 *	  one task.  PG-ROLE secrets set a new password on a login role of this
 *	  cluster (SingleUser: the role the value names; MultiUser: the other
 *	  of two roles that alternate), through a SCRAM-SHA-256 verifier; other
 *	  secrets call their rotation function.  Manual (csms_rotate_secret) and
 *	  automatic (the due work) rotations share one path; every attempt
 *	  leaves a row in csms.secret_tasks.
 *
 * src/rotation.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ROTATION_H
#define CSMS_ROTATION_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "funcapi.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "context.h"
#include "secret.h"

/* automatic rotations that fail in a row before auto_rotation goes off */
#define CSMS_ROTATION_MAX_FAILURES	3
/* after a failed automatic rotation, the next attempt (seconds) */
#define CSMS_ROTATION_RETRY_SECS	3600
/* what an automatic rotation gives a rotation function (milliseconds) */
#define CSMS_ROTATION_TIMEOUT_MS	60000
/* rotation tasks are kept three months, as notification records */
#define CSMS_TASK_RETENTION_MONTHS	3

/* what a successful rotation made */
typedef struct CsmsRotation
{
	pg_uuid_t	task_id;
	int			version;
} CsmsRotation;

/*
 * A rotation_func_urn argument: a function `name` or `name(text, text)`
 * resolved with the caller's search_path (call it before the call frame),
 * that takes (secret_name text, version_id text), returns text and may be
 * executed by the caller.  Returns its schema-qualified signature, which
 * is what is stored.
 */
extern char *csms_rotation_function_resolve(const char *spec);

/*
 * Whether `role` could name the rotation function stored as `stored` (a
 * restore: a backup's function is kept only then)
 */
extern bool csms_rotation_function_allowed(const char *stored, Oid role);

/*
 * The value of a PG-ROLE secret owned by `owner` (a new secret's or a new
 * version's): a JSON object with username and password (and optionally
 * host, port, dbname) of a login role the owner may change the password
 * of; for MultiUser (config) the username is one of the two Usernames.
 * Errors never show the value.
 */
extern void csms_pgrole_check_value(Oid owner, const char *secret_name, Jsonb *config,
									char kind, const char *value, Size len);

/*
 * The same for a new version of s (its rotation_config from its row), which
 * must name the role the secret was made for
 */
extern void csms_pgrole_check_version(CsmsCall *call, CsmsSecret *s, char kind,
									  const char *value, Size len);

/*
 * csms_rotate_secret: rotate secret `name` of the call's region now, in
 * the caller's transaction (privilege write).  A rotation that fails is
 * recorded as a FAILED task that outlives the caller's rollback, and its
 * error is raised.
 */
extern void csms_secret_rotate(CsmsCall *call, const char *name, CsmsRotation *out);

/*
 * One batch of due automatic rotations (the due work): up to `limit`
 * secrets whose next_rotation_time is at or before `now`, each locked and
 * rotated in a subtransaction of its own; how many moved on (rotated, or
 * their failure recorded).
 */
extern uint64 csms_rotation_batch(CsmsCall *call, TimestampTz now, int limit);

/* One page of tasks (csms_list_secret_tasks), newest first */
extern void csms_task_list(CsmsCall *call, ReturnSetInfo *rsinfo, const char *secret_name,
						   const char *status, const pg_uuid_t *task_id, int page_size,
						   const pg_uuid_t *marker);

/* Delete up to `limit` tasks older than `cutoff`; how many went */
extern uint64 csms_task_retire(TimestampTz cutoff, int limit);

/* The background worker that records a failed manual rotation's task */
extern PGDLLEXPORT void csms_task_recorder_main(Datum arg);

#endif							/* CSMS_ROTATION_H */
