/*-------------------------------------------------------------------------
 *
 * keys.h
 *	  Master keys as objects of the API: their csms_key rows, the keys of a
 *	  region, state changes and rotation.  What a key reference resolves
 *	  to, and key material, are the keyring's (keyring.h).
 *
 * src/keys.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_KEYS_H
#define CSMS_KEYS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "funcapi.h"
#include "utils/uuid.h"

#include "context.h"
#include "keyring.h"

/* The csms_key row of key id, formed in the caller's context. */
extern HeapTuple csms_key_tuple(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *id);

/* The secret keys of the call's region, by alias, into a materialized SRF. */
extern void csms_key_list(CsmsCall *call, ReturnSetInfo *rsinfo);

/* Set the state of key (resolved for update) to ENABLED or DISABLED. */
extern void csms_key_set_state(CsmsKey *key, const char *state);

/*
 * A new material version of key (resolved for update, enabled) for new
 * encryptions; older versions stay for what they wrapped.
 */
extern void csms_key_rotate(CsmsCall *call, CsmsKey *key);

#endif							/* CSMS_KEYS_H */
