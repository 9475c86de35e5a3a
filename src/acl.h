/*-------------------------------------------------------------------------
 *
 * acl.h
 *	  Who may do what to a secret or a key: owners, grants (csms.grants),
 *	  csms_admin, inheritance through role membership.
 *
 *	  A role holds privilege p on a secret or key when it has the
 *	  privileges of (is, or inherits from) its owner, of csms_admin, or of
 *	  a grantee of a grant that gives p on that object (by id) or on a name
 *	  pattern that matches it; superusers hold every privilege.  A
 *	  replica's grants by id are its primary's.  csms/default of every
 *	  region may be used by every role.
 *
 *	  The grants are cached per backend, from the latest committed state,
 *	  and forgotten by the catalog's invalidation path (every write to
 *	  csms.grants sends one), so a revoke holds in every session from its
 *	  next call; membership is PostgreSQL's own cache (has_privs_of_role).
 *
 * src/acl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ACL_H
#define CSMS_ACL_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/uuid.h"

#include "context.h"
#include "keyring.h"

/* privileges, as bits: on secrets, then on keys */
#define CSMS_PRIV_READ		0x01
#define CSMS_PRIV_WRITE		0x02
#define CSMS_PRIV_DESCRIBE	0x04
#define CSMS_PRIV_MANAGE	0x08
#define CSMS_PRIV_USE		0x10
#define CSMS_PRIV_KEY_MANAGE 0x20
#define CSMS_PRIVS_SECRET	0x0f
#define CSMS_PRIVS_KEY		0x30

/* what a check is about */
typedef struct CsmsAclObject
{
	bool		is_key;
	Oid			owner;
	pg_uuid_t	id;				/* for a replica, its primary's */
	const char *name;			/* a secret's name, a key's alias */
	const char *region;
} CsmsAclObject;

/* Superuser, or with the privileges of csms_admin? */
extern bool csms_acl_is_admin(Oid role);

/* Does role hold privilege priv (one bit) on o? */
extern bool csms_acl_allowed(Oid role, const CsmsAclObject *o, int priv);

/* The same, as 42501 "permission denied for secret/key" when not */
extern void csms_acl_check(Oid role, const CsmsAclObject *o, int priv);

/* The check for a key the call resolved (in region), by the call's caller */
extern void csms_acl_check_key(CsmsCall *call, const CsmsKey *key, const char *region,
							   int priv);

/* "read" -> CSMS_PRIV_READ, ... (0 when unknown for that kind of object) */
extern int	csms_priv_parse(const char *name, bool is_key);
extern const char *csms_priv_name(int priv);

/* a text[] of privilege names as bits (22023 for NULL, unknown, empty) */
extern int	csms_privs_from_array(ArrayType *a, bool is_key);

/* bits as a text[] in the canonical order (read, write, describe, manage; use, manage) */
extern ArrayType *csms_privs_to_array(int privs);

/*
 * The role whose view listings filter by (csms.caller_may_see), set by
 * the call frame for each call: the caller.
 */
extern void csms_acl_set_viewer(Oid role);
extern Oid	csms_acl_viewer(void);

#endif							/* CSMS_ACL_H */
