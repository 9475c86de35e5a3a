/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Every relation, index and column of schema csms that the C code reaches
 *	  without SQL, named once (catalog.c), found by name and type once per
 *	  backend, and forgotten by one invalidation path.
 *
 *	  The OIDs and column numbers are looked up on first use and checked
 *	  against the types the code expects: a table that does not look as
 *	  this library expects (a library that does not match the installed
 *	  version of the extension) is one clear error, never a wrong column.
 *	  Any relcache invalidation of a csms relation (DDL, and every write to
 *	  csms.account and csms.keys, whose statement trigger sends one:
 *	  csms.cache_invalidate) forgets them, and tells the caches that
 *	  registered with csms_catalog_on_invalidate (the account row in
 *	  frame.c, key states in keyring.c), in every backend when the change
 *	  commits and in the writing one at its next command.
 *
 * src/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_CATALOG_H
#define CSMS_CATALOG_H

#include "postgres.h"

#include "access/attnum.h"
#include "executor/tuptable.h"

/* the version of the extension's SQL objects this library works with */
#define CSMS_SCHEMA_VERSION "1.1"

typedef enum CsmsRel
{
	CSMS_ACCOUNT,
	CSMS_KEYS,
	CSMS_SECRETS,
	CSMS_VERSIONS,
	CSMS_GRANTS,
	CSMS_EVENTS,
	CSMS_NRELS
} CsmsRel;

typedef enum CsmsIndex
{
	CSMS_ACCOUNT_PKEY,
	CSMS_KEYS_PKEY,
	CSMS_SECRETS_BY_NAME,		/* (name, region) */
	CSMS_VERSIONS_PKEY,			/* (secret_id, version) */
	CSMS_SECRETS_PKEY,			/* (id) */
	CSMS_NINDEXES
} CsmsIndex;

/* columns, by table, in the install script's order */
typedef enum CsmsAttr
{
	/* csms.account */
	CSMS_ACCOUNT_DOMAIN_ID,
	CSMS_ACCOUNT_ROOT_CHECK,
	CSMS_ACCOUNT_HOME_REGION,
	/* csms.keys */
	CSMS_KEYS_ALIAS,
	CSMS_KEYS_STATE,
	CSMS_KEYS_CURRENT_VERSION,
	CSMS_KEYS_OWNER,
	/* csms.secrets */
	CSMS_SECRETS_CURRENT_VERSION,
	CSMS_SECRETS_CURRENT_KEY_VERSION,
	CSMS_SECRETS_CURRENT_KEY_ID,
	CSMS_SECRETS_STATE,
	CSMS_SECRETS_CURRENT_WRAPPED_DEK,
	CSMS_SECRETS_CURRENT_CIPHERTEXT,
	CSMS_SECRETS_ID,
	CSMS_SECRETS_REGION,
	CSMS_SECRETS_NAME,
	CSMS_SECRETS_KMS_KEY_ID,
	CSMS_SECRETS_DESCRIPTION,
	CSMS_SECRETS_SECRET_TYPE,
	CSMS_SECRETS_AUTO_ROTATION,
	CSMS_SECRETS_ROTATION_PERIOD,
	CSMS_SECRETS_ROTATION_CONFIG,
	CSMS_SECRETS_ROTATION_TIME,
	CSMS_SECRETS_NEXT_ROTATION_TIME,
	CSMS_SECRETS_EVENT_SUBSCRIPTIONS,
	CSMS_SECRETS_ENTERPRISE_PROJECT_ID,
	CSMS_SECRETS_ROTATION_FUNC_URN,
	CSMS_SECRETS_CREATE_TIME,
	CSMS_SECRETS_UPDATE_TIME,
	CSMS_SECRETS_SCHEDULED_DELETE_TIME,
	CSMS_SECRETS_REPLICA_TYPE,
	CSMS_SECRETS_PRIMARY_ID,
	CSMS_SECRETS_LAST_VERSION,
	CSMS_SECRETS_STAGE_NAMES,
	CSMS_SECRETS_STAGE_VERSIONS,
	CSMS_SECRETS_STAGE_TIMES,
	CSMS_SECRETS_VERSION_COUNT,
	CSMS_SECRETS_OWNER,
	CSMS_SECRETS_LAST_USED_TIME,
	/* csms.versions */
	CSMS_VERSIONS_SECRET_ID,
	CSMS_VERSIONS_VERSION,
	CSMS_VERSIONS_CREATE_TIME,
	CSMS_VERSIONS_EXPIRE_TIME,
	CSMS_VERSIONS_KEY_ID,
	CSMS_VERSIONS_KEY_VERSION,
	CSMS_VERSIONS_WRAPPED_DEK,
	CSMS_VERSIONS_CIPHERTEXT,
	/* csms.grants */
	CSMS_GRANTS_OBJECT_TYPE,
	CSMS_GRANTS_OBJECT_ID,
	CSMS_GRANTS_REGION,
	CSMS_GRANTS_PREFIX,
	CSMS_GRANTS_GRANTEE,
	CSMS_GRANTS_PRIVILEGES,
	CSMS_NATTRS
} CsmsAttr;

/*
 * Look everything up if needed; false when schema csms is not there or does
 * not look as expected (the caller then errors, or takes the SQL path).
 */
extern bool csms_catalog_ok(void);

/* The same, as an error when not; also when the extension is not at CSMS_SCHEMA_VERSION. */
extern void csms_catalog_require(void);

/* The version of extension secrets installed in this database ("" if none). */
extern const char *csms_catalog_version(void);

/* after csms_catalog_ok: */
extern Oid	csms_rel(CsmsRel rel);
extern Oid	csms_index(CsmsIndex index);
extern AttrNumber csms_attnum(CsmsAttr attr);
extern CsmsRel csms_attr_rel(CsmsAttr attr);
extern const char *csms_attr_name(CsmsAttr attr);

/* column attr of the row in slot (a row of its table) */
extern Datum csms_slot_attr(TupleTableSlot *slot, CsmsAttr attr, bool *isnull);

/* the owner of schema csms, who runs the extension's statements */
extern Oid	csms_schema_owner(void);

/*
 * Bumped by every invalidation; a cache that is filled while an
 * invalidation arrives (the number moved) must not be marked valid.
 */
extern uint64 csms_catalog_generation(void);

/*
 * Call fn(relid) at every invalidation of a csms relation (InvalidOid: of
 * all relations), after the catalog forgot its own state.
 */
extern void csms_catalog_on_invalidate(void (*fn) (Oid relid));

#endif							/* CSMS_CATALOG_H */
