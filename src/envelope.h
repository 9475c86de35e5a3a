/*-------------------------------------------------------------------------
 *
 * envelope.h
 *	  Envelope encryption of secret values: every version gets a fresh
 *	  32-byte data key (DEK), which seals the value and is itself sealed
 *	  under a master key's material.
 *
 *	  ciphertext  = nonce(12) || AES-256-GCM(DEK, kind || value) || tag(16)
 *	                AAD "csms/value/v1|<domain_id>|<region>|<secret id>|v<N>"
 *	  wrapped_dek = nonce(12) || AES-256-GCM(CMK material, DEK) || tag(16)
 *	                AAD "csms/dek/v1|<secret id>|v<N>|<key id>|<key version>"
 *
 *	  A backend remembers the data keys it opened under committed material
 *	  that the keyring caches, and forgets them with that material.
 *
 * src/envelope.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ENVELOPE_H
#define CSMS_ENVELOPE_H

#include "postgres.h"

#include "utils/uuid.h"

#include "context.h"
#include "keyring.h"

typedef struct CsmsSealed
{
	bytea	   *wrapped_dek;
	bytea	   *ciphertext;
} CsmsSealed;

/* Seal a value (kind CSMS_KIND_STRING or CSMS_KIND_BINARY) for a version under key. */
extern void csms_seal_value(CsmsCall *call, const pg_uuid_t *secret_id,
							const char *region, int version, CsmsKey *key,
							char kind, const char *value, Size len,
							CsmsSealed *out);

/*
 * Open a version: the value as a varlena (text or bytea layout, the caller
 * decides by *kind) in the current memory context, wiped when it is reset.
 * A ciphertext or data key that fails authentication is XX001.
 */
extern bytea *csms_open_value(CsmsCall *call, const pg_uuid_t *secret_id,
							  const char *region, const char *secret_name,
							  int version, CsmsKey *key,
							  const bytea *wrapped_dek, const bytea *ciphertext,
							  char *kind);

/* The data key of a version sealed again under another key; values stay as they are. */
extern bytea *csms_rewrap_dek(CsmsCall *call, const pg_uuid_t *secret_id,
							  const char *secret_name, int version,
							  CsmsKey *from, const bytea *wrapped_dek,
							  CsmsKey *to);

/* A hint: the memo's set for (secret, version) into the CPU cache. */
extern void csms_data_key_prefetch(const pg_uuid_t *secret_id, int version);

#endif							/* CSMS_ENVELOPE_H */
