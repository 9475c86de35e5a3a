/*-------------------------------------------------------------------------
 *
 * replica.h
 *	  Regions and replica secrets.
 *
 *	  A region is a namespace of the account with its own project id, keys
 *	  and secret names.  A replica is a full copy of a secret in another
 *	  region: its own row in csms.secrets (replica_type REPLICA, primary_id
 *	  naming the primary), its own id, encrypted under a key of its region
 *	  with fresh data keys.  What a secret lists in csms_secret.replicas is
 *	  derived from those rows (secret.h), never stored twice.
 *
 *	  Sync is state-based: a replica is made equal to its primary --
 *	  metadata, state, tags, the set of versions with their times, and
 *	  stages -- re-encrypting only the values of versions it does not have
 *	  yet.  Every write path that changes a secret calls csms_replicas_follow
 *	  after its change, so replicas change in the same transaction as their
 *	  primary and roll back with it.
 *
 * src/replica.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_REPLICA_H
#define CSMS_REPLICA_H

#include "postgres.h"

#include "funcapi.h"
#include "utils/uuid.h"

#include "context.h"
#include "secret.h"

/* A new region; its project id into project_out (33 bytes). 42710 if it exists. */
extern void csms_region_create(const char *name, char *project_out);

/* The regions other than the call's, by name, into a materialized SRF of one column. */
extern void csms_region_list(CsmsCall *call, ReturnSetInfo *rsinfo);

/* After a write to s: when it is a PRIMARY, every replica made equal to it. */
extern void csms_replicas_follow(CsmsCall *call, const CsmsSecret *s);

/*
 * A replica of secret `name` of the call's region in `region`, encrypted
 * under key_ref of that region (NULL: its csms/default); its id.
 */
extern void csms_replica_create(CsmsCall *call, const char *name, const char *region,
								const char *key_ref, pg_uuid_t *replica_id);

/* Delete the replica in `region` of the call's secret `name`. */
extern void csms_replica_delete(CsmsCall *call, const char *name, const char *region);

/* Replica `name` of the call's region becomes STANDALONE; its id. */
extern void csms_replica_promote(CsmsCall *call, const char *name, pg_uuid_t *id);

#endif							/* CSMS_REPLICA_H */
