/*-------------------------------------------------------------------------
 *
 * secret.h
 *	  Secrets as rows of csms.secrets: the gate every operation on one
 *	  secret passes (csms_secret_open: found by name in the call's region,
 *	  its state and replica type checked for the action, its row locked for
 *	  a write), its stages (three arrays on its row), the copy of its
 *	  SYSCURRENT version on its row, its description as a csms_secret row,
 *	  its deletion.
 *
 * src/secret.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SECRET_H
#define CSMS_SECRET_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "storage/itemptr.h"
#include "utils/uuid.h"

#include "context.h"
#include "rowio.h"
#include "acl.h"

/* what an operation does to a secret, which decides the states it allows */
typedef enum CsmsAction
{
	CSMS_ACT_READ_META,			/* metadata: any state */
	CSMS_ACT_READ_VALUE,		/* values: ENABLED only */
	CSMS_ACT_WRITE_META,		/* metadata, stages: ENABLED or DISABLED */
	CSMS_ACT_WRITE_VERSION,		/* new versions, expiry: ENABLED only */
	CSMS_ACT_SET_STATE,			/* enable, disable: ENABLED or DISABLED */
	CSMS_ACT_DELETE,			/* delete: any state but FROZEN */
	CSMS_ACT_BACKUP,			/* backup: any state but FROZEN */
	CSMS_ACT_ACL,				/* grants, owner: any state, locked */
	CSMS_ACT_SCHEDULE_DELETION, /* schedule deletion: ENABLED or DISABLED */
	CSMS_ACT_CANCEL_DELETION,	/* cancel it: PENDING_DELETE only */
	CSMS_ACT_ROTATE				/* rotation: ENABLED only, never a replica */
} CsmsAction;

/*
 * The stages of a secret, as its row holds them (csms.secrets.stage_*): at
 * most CSMS_MAX_STAGES, in the row's order.
 */
typedef struct CsmsStages
{
	int			n;
	char	   *names[CSMS_MAX_STAGES];
	int			versions[CSMS_MAX_STAGES];
	TimestampTz times[CSMS_MAX_STAGES];
} CsmsStages;

typedef struct CsmsSecret
{
	pg_uuid_t	id;
	char	   *name;
	char	   *state;
	pg_uuid_t	kms_key_id;
	char	   *replica_type;
	int			last_version;
	int			version_count;	/* its rows in csms.versions */
	bool		auto_rotation;
	char	   *rotation_period;
	Oid			owner;			/* the role that owns it */
	bool		has_primary;	/* a REPLICA: the id of its primary */
	pg_uuid_t	primary_id;
	char	   *secret_type;
	const char *event;			/* the event event_subscriptions names, or NULL */
	TimestampTz scheduled_delete_time;	/* PENDING_DELETE: when it goes */
	bool		locked;			/* a write: this transaction holds its row's lock */
	ItemPointerData tid;		/* the row's version that csms_secret_open read */
	CsmsStages	stages;			/* its stages, as that row version holds them */
} CsmsSecret;

/* the columns of type csms_secret, in order */
typedef enum CsmsSecretOut
{
	CSMS_OUT_ID,
	CSMS_OUT_NAME,
	CSMS_OUT_STATE,
	CSMS_OUT_KMS_KEY_ID,
	CSMS_OUT_DESCRIPTION,
	CSMS_OUT_CREATE_TIME,
	CSMS_OUT_UPDATE_TIME,
	CSMS_OUT_SCHEDULED_DELETE_TIME,
	CSMS_OUT_SECRET_TYPE,
	CSMS_OUT_AUTO_ROTATION,
	CSMS_OUT_ROTATION_PERIOD,
	CSMS_OUT_ROTATION_CONFIG,
	CSMS_OUT_ROTATION_TIME,
	CSMS_OUT_NEXT_ROTATION_TIME,
	CSMS_OUT_LAST_USED_TIME,
	CSMS_OUT_EVENT_SUBSCRIPTIONS,
	CSMS_OUT_ENTERPRISE_PROJECT_ID,
	CSMS_OUT_ROTATION_FUNC_URN,
	CSMS_OUT_DOMAIN_ID,
	CSMS_OUT_REGION,
	CSMS_OUT_REPLICA_TYPE,
	CSMS_OUT_REPLICAS,
	CSMS_OUT_OWNER,
	CSMS_OUT_NCOLS
} CsmsSecretOut;

/*
 * Find secret `name` in the call's region, check that the caller holds
 * privilege `priv` on it (acl.h), then that `action` is allowed on it: the
 * one place for privilege and state checks, in that order, so that a role
 * without the privilege learns nothing of the secret's state.  A write
 * locks the row (FOR NO KEY UPDATE; FOR UPDATE to delete), so that changes
 * of one secret run one after the other.  A replica takes no write; a
 * primary with replicas is not deleted.  priv 0: the caller checks
 * (csms_has_privilege, which asks about another role).
 */
extern CsmsSecret *csms_secret_open(CsmsCall *call, const char *name,
									CsmsAction action, int priv);

/* What a privilege check on secret s is about: a replica's grants are its primary's */
extern void csms_secret_acl_object(const CsmsSecret *s, const char *region,
								   CsmsAclObject *o);

/*
 * Delete secrets ids[0..n-1] with their versions, tags and grants, firing
 * SECRET_DELETED for those that subscribe to it: the one place.
 */
extern void csms_secrets_delete(const pg_uuid_t *ids, int n);

/*
 * Schedule the deletion of s (opened for CSMS_ACT_SCHEDULE_DELETION) in
 * `days` days (7..30, checked), or cancel it (CSMS_ACT_CANCEL_DELETION):
 * the state it had comes back.
 */
extern void csms_secret_schedule_deletion(CsmsSecret *s, int days);
extern void csms_secret_cancel_deletion(CsmsSecret *s);

/* Set the state of s (ENABLED or DISABLED). */
extern void csms_secret_set_state(CsmsSecret *s, const char *state);

/* The csms_secret row of secret id, formed in the caller's context. */
extern HeapTuple csms_secret_tuple(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *id);

/*
 * The csms_secret rows of secrets ids[0..n-1] as Datums of tupdesc's type
 * (isnull[i] for one that is gone), formed in the caller's context, with one
 * statement.
 */
extern void csms_secret_datums(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *ids,
							   int n, Datum *out, bool *isnull);

/* One page of secrets of the call's region into a materialized SRF. */
extern void csms_secret_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size,
							 const char *marker, const char *event);

/* stages */
extern int	csms_stages_find(const CsmsStages *st, const char *name);
extern int	csms_stages_version(const CsmsStages *st, const char *name);
extern void csms_stages_datums(const CsmsStages *st, Datum *names,
							   Datum *versions, Datum *times);
extern void csms_stages_check_limit(CsmsSecret *s, char **names, int n);

/* flags of csms_stages_set */
#define CSMS_STAGES_COPY_WRITTEN	0x01	/* the caller writes the SYSCURRENT copy */

/*
 * Attach stages names[i] to versions[i] (0: delete the stage), in one update
 * of the secret's locked row with the caller's other columns (extra).
 */
extern void csms_stages_set(CsmsSecret *s, int n, char **names,
							const int *versions, TimestampTz when,
							const CsmsCol *extra, int nextra, int flags);

/*
 * The stage API on s (opened for CSMS_ACT_WRITE_META): move a stage to a
 * version that exists (SYSCURRENT moves the old one to SYSPREVIOUS), delete
 * one (42704 if it is not there); the csms_secret_stage row of one.
 */
extern void csms_stage_move(CsmsSecret *s, const char *stage, int version);
extern void csms_stage_delete(CsmsSecret *s, const char *stage);
extern HeapTuple csms_stage_tuple(CsmsCall *call, TupleDesc tupdesc, CsmsSecret *s,
								  const char *stage);

/* Copy the SYSCURRENT version's row onto the secret's row (the read path's copy). */
extern void csms_current_refresh(const pg_uuid_t *secret_id);

#endif							/* CSMS_SECRET_H */
