/*-------------------------------------------------------------------------
 *
 * usage.h
 *	  last_used_time of secrets: when each secret's value was last read,
 *	  kept on its row of csms.secrets to csms.last_used_grain, overwritten
 *	  in place by the reader or, when the library is preloaded, by a
 *	  background worker (usage.c says how).
 *
 * src/usage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_USAGE_H
#define CSMS_USAGE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "utils/uuid.h"

/* With shared_preload_libraries: shared memory and the launcher (module init). */
extern void csms_usage_init(void);

/*
 * After a read of secret_id, whose row of csms.secrets (open in rel, or
 * NULL) the read found at tid, with last_used_time `stored`.
 */
extern void csms_usage_record(Relation rel, ItemPointer tid, const pg_uuid_t *secret_id,
							  TimestampTz stored);

/* last_used_time as stored, with a read noted but not yet written merged in */
extern void csms_usage_merge(const pg_uuid_t *secret_id, Datum *last_used,
							 bool *isnull);

extern PGDLLEXPORT void csms_usage_launcher_main(Datum arg);
extern PGDLLEXPORT void csms_usage_flusher_main(Datum arg);

#endif							/* CSMS_USAGE_H */
