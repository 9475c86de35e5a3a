/*-------------------------------------------------------------------------
 *
 * usage.h
 *	  last_used_time of secrets: when each secret's value was last read
 *	  (csms.usage), recorded without writes on the read path when the
 *	  library is preloaded (shared memory and a background worker; usage.c
 *	  says how), else by the reader itself at most once a minute per
 *	  secret.
 *
 * src/usage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_USAGE_H
#define CSMS_USAGE_H

#include "postgres.h"

#include "utils/uuid.h"

/* With shared_preload_libraries: shared memory and the launcher (module init). */
extern void csms_usage_init(void);

/*
 * A read of secret_id: noted in shared memory (true), or not (false: not
 * preloaded, or no room), when the caller writes it with csms_touch_secret.
 */
extern bool csms_usage_record(const pg_uuid_t *secret_id);
extern void csms_touch_secret(const pg_uuid_t *secret_id);

/* A hint: the local table's set of secret_id into the CPU cache. */
extern void csms_usage_prefetch(const pg_uuid_t *secret_id);

/* last_used_time as stored, with a read noted but not yet written merged in */
extern void csms_usage_merge(const pg_uuid_t *secret_id, Datum *last_used,
							 bool *isnull);

extern PGDLLEXPORT void csms_usage_launcher_main(Datum arg);
extern PGDLLEXPORT void csms_usage_flusher_main(Datum arg);

#endif							/* CSMS_USAGE_H */
