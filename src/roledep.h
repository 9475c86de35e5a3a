/*-------------------------------------------------------------------------
 *
 * roledep.h
 *	  Roles that own or hold something in the extension's tables, recorded
 *	  as PostgreSQL records the roles of its own objects: a shared
 *	  dependency (pg_shdepend) of the table on the role, so that DROP ROLE
 *	  refuses to drop such a role in every database of the cluster, and no
 *	  OID in the tables ever names a dropped role (which a new role could
 *	  be given).
 *
 *	  One entry per (table, role): csms.secrets and csms.keys for owners,
 *	  csms.grants for grantees, of type SHARED_DEPENDENCY_ACL ("privileges
 *	  for table csms.secrets" in DROP ROLE's detail).  Added when a role
 *	  first owns or holds something; removed when the role owns
 *	  or holds nothing there any more: REASSIGN OWNED BY (or
 *	  csms_reassign_owned) for owners, DROP OWNED BY for grants (the event
 *	  trigger csms.drop_owned, which refuses while the role owns secrets or
 *	  keys).
 *
 * src/roledep.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ROLEDEP_H
#define CSMS_ROLEDEP_H

#include "postgres.h"

#include "catalog.h"

/*
 * Lock role against DROP ROLE to the end of the transaction (as creating
 * an object it owns does), check that it exists, and record its dependency
 * on table rel unless it has one.
 */
extern void csms_role_depend(CsmsRel rel, Oid role);

/* csms_role_depend for every role of the rows of rel (after a restore) */
extern void csms_role_depend_all(CsmsRel rel);

/*
 * Drop the dependency of role on table rel: it owns (holds) nothing there
 * any more (REASSIGN OWNED, DROP OWNED).
 */
extern void csms_role_undepend(CsmsRel rel, Oid role);

#endif							/* CSMS_ROLEDEP_H */
