/*-------------------------------------------------------------------------
 *
 * backup.h
 *	  Backup blobs of secrets: a secret with its metadata, tags and every
 *	  version, sealed under the backup key of its region (a JWE, blob.h),
 *	  that restores only into the same account and region.  backup.c says
 *	  what the payload holds and in which order restore checks it.
 *
 * src/backup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_BACKUP_H
#define CSMS_BACKUP_H

#include "postgres.h"

#include "utils/uuid.h"

#include "blob.h"
#include "context.h"

/* The blob of secret `name` of the call's region, in the caller's context. */
extern text *csms_backup_make(CsmsCall *call, const char *name);

/* The form of a blob, checked without a key (22023, 54000); no call needed. */
extern void csms_backup_parse(const text *blob, csms_blob_parsed *parsed);

/* Restore a parsed blob as a new secret of the call's region; its id. */
extern void csms_backup_restore(CsmsCall *call, csms_blob_parsed *parsed, pg_uuid_t *id_out);

#endif							/* CSMS_BACKUP_H */
