/*-------------------------------------------------------------------------
 *
 * acl_api.c
 *	  SQL entry points for access control: csms_grant, csms_revoke,
 *	  csms_grant_key, csms_revoke_key, csms_list_grants,
 *	  csms_has_privilege, csms_set_owner, csms_reassign_owned; and the
 *	  extension's internal ones: csms.caller_may_see (the filter of the
 *	  listings), csms.role_dependencies (a trigger), csms.drop_owned
 *	  (the event trigger of DROP OWNED) and csms.record_role_dependencies
 *	  (after pg_upgrade).
 *
 *	  A target names a secret (a key) or a pattern: "name", "name*" (the
 *	  names that start with "name"; "*" is every name), each optionally
 *	  region-qualified, "region:name".  Key aliases may hold ":" themselves:
 *	  a key target is qualified only when the text before its first ":" is a
 *	  region of the account.
 *
 * src/acl_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "util.h"
#include "validate.h"
#include "catalog.h"
#include "spi.h"
#include "roledep.h"
#include "keyring.h"
#include "frame.h"
#include "acl.h"
#include "secret.h"

PG_FUNCTION_INFO_V1(csms_grant);
PG_FUNCTION_INFO_V1(csms_revoke);
PG_FUNCTION_INFO_V1(csms_grant_key);
PG_FUNCTION_INFO_V1(csms_revoke_key);
PG_FUNCTION_INFO_V1(csms_list_grants);
PG_FUNCTION_INFO_V1(csms_has_privilege);
PG_FUNCTION_INFO_V1(csms_set_owner);
PG_FUNCTION_INFO_V1(csms_reassign_owned);
PG_FUNCTION_INFO_V1(csms_caller_may_see);
PG_FUNCTION_INFO_V1(csms_role_dependencies);
PG_FUNCTION_INFO_V1(csms_drop_owned);
PG_FUNCTION_INFO_V1(csms_record_role_dependencies);

/* the columns of csms_grant */
#define GRANT_NCOLS 6

/* What a grant, revoke or question is about */
typedef struct Target
{
	bool		is_key;
	bool		pattern;
	bool		qualified;		/* a region was named */
	char		region[CSMS_NAME_MAXLEN + 1];	/* the named region, else the session's */
	char	   *name;			/* a name, alias or key id; a pattern's prefix */
	/* once resolved (not for patterns) */
	pg_uuid_t	id;				/* for a replica, its primary's */
	char	   *display;		/* the name or alias */
	CsmsAclObject obj;			/* what privilege checks on it are about */
} Target;

/* Arguments ------------------------------------------------------------- */

/* A role argument (type name) as an OID: 42704 when there is no such role */
static Oid
role_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *role;
	Oid			oid;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	role = NameStr(*PG_GETARG_NAME(argno));
	oid = get_role_oid(role, true);
	if (!OidIsValid(oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", role)));
	return oid;
}

/* May c be part of a secret name (key alias)? */
static bool
name_char(char c, bool is_key)
{
	if ((unsigned char) c >= 0x80)
		return false;
	return isalnum((unsigned char) c) || c == '_' || c == '-' ||
		(is_key && (c == ':' || c == '/'));
}

/*
 * Parse arg into t (SPI connected: a qualification names a region of the
 * account).  Checks the form; the object itself is found by target_resolve.
 */
static void
target_parse(CsmsCall *call, const char *arg, bool is_key, Target *t)
{
	const char *colon = strchr(arg, ':');
	const char *rest = arg;
	size_t		len;

	memset(t, 0, sizeof(*t));
	t->is_key = is_key;
	strlcpy(t->region, call->region, sizeof(t->region));
	if (colon && !is_key)
	{
		/* a secret name has no ":": what comes before it must be a region */
		char	   *region = pnstrdup(arg, colon - arg);

		csms_check_name("region", region);
		if (!csms_region_project(region, NULL))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("region \"%s\" does not exist", region),
					 errdetail("Known regions: %s.", csms_known_regions())));
		t->qualified = true;
		strlcpy(t->region, region, sizeof(t->region));
		rest = colon + 1;
	}
	else if (colon && colon - arg <= CSMS_NAME_MAXLEN)
	{
		/* an alias may hold ":": a qualification only if a region has that name */
		char	   *region = pnstrdup(arg, colon - arg);

		if (csms_region_project(region, NULL))
		{
			t->qualified = true;
			strlcpy(t->region, region, sizeof(t->region));
			rest = colon + 1;
		}
	}

	len = strlen(rest);
	if (len > 0 && rest[len - 1] == '*')
	{
		size_t		i;

		t->pattern = true;
		t->name = pnstrdup(rest, len - 1);
		for (i = 0; i + 1 < len; i++)
			if (!name_char(rest[i], is_key))
				break;
		if (i + 1 < len || len - 1 > (is_key ? 255 : CSMS_NAME_MAXLEN))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s pattern \"%s\"", is_key ? "key alias" : "secret name",
							csms_trunc(arg)),
					 errdetail("A pattern is the start of a %s followed by \"*\"; \"*\" alone matches every %s.",
							   is_key ? "key alias" : "secret name",
							   is_key ? "alias" : "name")));
		return;
	}
	t->name = pstrdup(rest);
	if (!is_key)
		csms_check_name("secret", t->name);
}

/* A pattern target is for csms_admin: 42501 otherwise */
static void
require_admin_for_pattern(CsmsCall *call, const Target *t)
{
	if (csms_acl_is_admin(call->save_uid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s pattern \"%s*\"", t->is_key ? "key alias" : "secret name",
					t->name),
			 errdetail("Only superusers and members of csms_admin may grant or revoke on patterns.")));
}

/*
 * Find the secret or key t names (in its region) and check the caller's
 * privilege priv on it; locks its row, so that a grant and a deletion of
 * one secret run one after the other.  priv 0: the caller checks.
 */
static void
target_resolve(CsmsCall *call, Target *t, int priv)
{
	strlcpy(call->region, t->region, sizeof(call->region));
	if (t->is_key)
	{
		CsmsKey    *key = csms_key_resolve(call, t->name, false, true);

		if (priv)
			csms_acl_check_key(call, key, t->region, priv);
		t->id = key->id;
		t->display = pstrdup(key->alias);
		t->obj.is_key = true;
		t->obj.owner = key->owner;
		t->obj.id = key->id;
		t->obj.name = t->display;
		t->obj.region = t->region;
	}
	else
	{
		CsmsSecret *s = csms_secret_open(call, t->name,
										 priv ? CSMS_ACT_ACL : CSMS_ACT_READ_META, priv);

		t->id = s->has_primary ? s->primary_id : s->id;
		t->display = s->name;
		csms_secret_acl_object(s, t->region, &t->obj);
	}
}

/* Grants and revokes ------------------------------------------------------- */

/*
 * The owner (and whoever has its privileges) and csms_admin grant any
 * privilege; a role that holds manage through a grant grants only the
 * privileges it holds itself, as a grant option would: manage does not make
 * its holder a reader.
 */
static void
require_grantable(CsmsCall *call, const Target *t, int privs)
{
	int			bit;

	if (has_privs_of_role(call->save_uid, t->obj.owner) || csms_acl_is_admin(call->save_uid))
		return;
	for (bit = 1; bit <= CSMS_PRIV_KEY_MANAGE; bit <<= 1)
		if ((privs & bit) && !csms_acl_allowed(call->save_uid, &t->obj, bit))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to grant privilege \"%s\" on %s \"%s\"",
							csms_priv_name(bit), t->is_key ? "key" : "secret", t->display),
					 errdetail("A role that is not the owner grants only the privileges it holds itself.")));
}

/*
 * The union of two privilege lists in the canonical order (acl.h); the
 * order of csms_privs_to_array.
 */
#define PRIVS_UNION \
	"ARRAY(SELECT p.p FROM pg_catalog.unnest('{read,write,describe,use,manage}'::pg_catalog.text[])" \
	" WITH ORDINALITY AS p" \
	" WHERE p.p OPERATOR(pg_catalog.=) ANY (pg_catalog.array_cat(g.privileges, EXCLUDED.privileges))" \
	" ORDER BY p.ordinality)"

static CsmsStmt q_grant_object = {
	"INSERT INTO csms.grants AS g (object_type, object_id, grantee, privileges, grant_time)"
	" VALUES ($1, $2, $3, $4, pg_catalog.now())"
	" ON CONFLICT (object_type, object_id, grantee) WHERE object_id IS NOT NULL"
	" DO UPDATE SET privileges = " PRIVS_UNION ", grant_time = pg_catalog.now()"
	" RETURNING g.privileges, g.grant_time",
	4, {TEXTOID, UUIDOID, REGROLEOID, TEXTARRAYOID}
};

static CsmsStmt q_grant_pattern = {
	"INSERT INTO csms.grants AS g (object_type, region, prefix, grantee, privileges, grant_time)"
	" VALUES ($1, $2, $3, $4, $5, pg_catalog.now())"
	" ON CONFLICT (object_type, (COALESCE(region, ''::pg_catalog.text)), prefix, grantee)"
	"  WHERE prefix IS NOT NULL"
	" DO UPDATE SET privileges = " PRIVS_UNION ", grant_time = pg_catalog.now()"
	" RETURNING g.privileges, g.grant_time",
	5, {TEXTOID, TEXTOID, TEXTOID, REGROLEOID, TEXTARRAYOID}
};

/* the grant of a target to a role: $1 type, $2 id, $3 region, $4 prefix, $5 grantee */
#define GRANT_MATCH \
	" g.object_type OPERATOR(pg_catalog.=) $1" \
	" AND (($2 IS NULL AND g.object_id IS NULL) OR g.object_id OPERATOR(pg_catalog.=) $2)" \
	" AND (($3 IS NULL AND g.region IS NULL) OR g.region OPERATOR(pg_catalog.=) $3)" \
	" AND (($4 IS NULL AND g.prefix IS NULL) OR g.prefix OPERATOR(pg_catalog.=) $4)" \
	" AND g.grantee OPERATOR(pg_catalog.=) $5"

static CsmsStmt q_grant_lock = {
	"SELECT g.privileges FROM csms.grants g WHERE" GRANT_MATCH " FOR UPDATE",
	5, {TEXTOID, UUIDOID, TEXTOID, TEXTOID, REGROLEOID}
};

static CsmsStmt q_grant_set = {
	"UPDATE csms.grants g SET privileges = $6 WHERE" GRANT_MATCH,
	6, {TEXTOID, UUIDOID, TEXTOID, TEXTOID, REGROLEOID, TEXTARRAYOID}
};

static CsmsStmt q_grant_delete = {
	"DELETE FROM csms.grants g WHERE" GRANT_MATCH,
	5, {TEXTOID, UUIDOID, TEXTOID, TEXTOID, REGROLEOID}
};

/* $1..$5 of GRANT_MATCH for t and grantee */
static void
match_args(const Target *t, Oid grantee, Datum *args, char *nulls)
{
	memset(nulls, ' ', 5);
	args[0] = csms_text_datum(t->is_key ? "key" : "secret");
	if (t->pattern)
	{
		nulls[1] = 'n';
		if (t->qualified)
			args[2] = csms_text_datum(t->region);
		else
			nulls[2] = 'n';
		args[3] = csms_text_datum(t->name);
	}
	else
	{
		args[1] = UUIDPGetDatum(&t->id);
		nulls[2] = 'n';
		nulls[3] = 'n';
	}
	args[4] = ObjectIdGetDatum(grantee);
}

/* csms_grant and csms_grant_key */
static Datum
grant_common(FunctionCallInfo fcinfo, const char *fname, bool is_key)
{
	CsmsCall	call;
	char	   *arg = csms_arg_text(fcinfo, 0, is_key ? "key" : "secret");
	Oid			grantee;
	int			privs;
	Target		t;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	Datum		values[GRANT_NCOLS];
	bool		vnulls[GRANT_NCOLS] = {false, false, false, false, false, false};
	bool		isnull;
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	tupdesc;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("privileges must not be NULL")));
	privs = csms_privs_from_array(PG_GETARG_ARRAYTYPE_P(2), is_key);

	csms_call_begin(&call, fname, 0);
	grantee = role_arg(fcinfo, 1, "to_role");
	target_parse(&call, arg, is_key, &t);
	if (t.pattern)
		require_admin_for_pattern(&call, &t);
	else
	{
		target_resolve(&call, &t, is_key ? CSMS_PRIV_KEY_MANAGE : CSMS_PRIV_MANAGE);
		require_grantable(&call, &t, privs);
	}

	args[0] = csms_text_datum(is_key ? "key" : "secret");
	if (t.pattern)
	{
		if (t.qualified)
			args[1] = csms_text_datum(t.region);
		else
			nulls[1] = 'n';
		args[2] = csms_text_datum(t.name);
		args[3] = ObjectIdGetDatum(grantee);
		args[4] = PointerGetDatum(csms_privs_to_array(privs));
		csms_exec(&q_grant_pattern, args, nulls, SPI_OK_INSERT_RETURNING, 0);
	}
	else
	{
		args[1] = UUIDPGetDatum(&t.id);
		args[2] = ObjectIdGetDatum(grantee);
		args[3] = PointerGetDatum(csms_privs_to_array(privs));
		csms_exec(&q_grant_object, args, NULL, SPI_OK_INSERT_RETURNING, 0);
	}
	values[4] = csms_col(0, 1, &isnull);
	values[5] = csms_col(0, 2, &isnull);
	csms_role_depend(CSMS_GRANTS, grantee);

	tupdesc = csms_result_tupdesc(fcinfo);
	old = MemoryContextSwitchTo(call.caller_cxt);
	values[0] = CStringGetTextDatum(is_key ? "key" : "secret");
	values[1] = CStringGetTextDatum(t.pattern ? psprintf("%s*", t.name) : t.display);
	if (t.pattern && !t.qualified)
		vnulls[2] = true;
	else
		values[2] = CStringGetTextDatum(t.region);
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(grantee, false)));
	values[4] = PointerGetDatum(DatumGetArrayTypePCopy(values[4]));
	tup = heap_form_tuple(tupdesc, values, vnulls);
	MemoryContextSwitchTo(old);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_revoke and csms_revoke_key: nothing to revoke is no error, as in REVOKE */
static Datum
revoke_common(FunctionCallInfo fcinfo, const char *fname, bool is_key)
{
	CsmsCall	call;
	char	   *arg = csms_arg_text(fcinfo, 0, is_key ? "key" : "secret");
	Oid			grantee;
	int			revoked;
	int			held;
	Target		t;
	Datum		args[6];
	char		nulls[6];
	bool		isnull;

	/* NULL: every privilege */
	revoked = PG_ARGISNULL(2) ? (is_key ? CSMS_PRIVS_KEY : CSMS_PRIVS_SECRET) :
		csms_privs_from_array(PG_GETARG_ARRAYTYPE_P(2), is_key);

	csms_call_begin(&call, fname, 0);
	grantee = role_arg(fcinfo, 1, "from_role");
	target_parse(&call, arg, is_key, &t);
	if (t.pattern)
		require_admin_for_pattern(&call, &t);
	else
		target_resolve(&call, &t, is_key ? CSMS_PRIV_KEY_MANAGE : CSMS_PRIV_MANAGE);

	match_args(&t, grantee, args, nulls);
	if (csms_exec(&q_grant_lock, args, nulls, SPI_OK_SELECT, 1) == 1)
	{
		held = csms_privs_from_array(DatumGetArrayTypeP(csms_col(0, 1, &isnull)), is_key);
		if ((held & ~revoked) == 0)
			csms_exec(&q_grant_delete, args, nulls, SPI_OK_DELETE, 0);
		else if ((held & revoked) != 0)
		{
			args[5] = PointerGetDatum(csms_privs_to_array(held & ~revoked));
			nulls[5] = ' ';
			csms_exec(&q_grant_set, args, nulls, SPI_OK_UPDATE, 0);
		}
	}
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* csms_grant(secret, to_role, privileges) */
Datum
csms_grant(PG_FUNCTION_ARGS)
{
	return grant_common(fcinfo, "csms_grant", false);
}

/* csms_revoke(secret, from_role, privileges = NULL) */
Datum
csms_revoke(PG_FUNCTION_ARGS)
{
	return revoke_common(fcinfo, "csms_revoke", false);
}

/* csms_grant_key(key, to_role, privileges) */
Datum
csms_grant_key(PG_FUNCTION_ARGS)
{
	return grant_common(fcinfo, "csms_grant_key", true);
}

/* csms_revoke_key(key, from_role, privileges = NULL) */
Datum
csms_revoke_key(PG_FUNCTION_ARGS)
{
	return revoke_common(fcinfo, "csms_revoke_key", true);
}

/* Listing ------------------------------------------------------------------ */

static CsmsStmt q_grants_all = {
	"SELECT g.object_type, COALESCE(s.name, k.alias), COALESCE(s.region, k.region),"
	" g.region, g.prefix, g.grantee, pg_catalog.pg_get_userbyid(g.grantee),"
	" g.privileges, g.grant_time, COALESCE(s.owner, k.owner), g.object_id"
	" FROM csms.grants g"
	" LEFT JOIN csms.secrets s ON g.object_type OPERATOR(pg_catalog.=) 'secret'"
	"  AND s.id OPERATOR(pg_catalog.=) g.object_id"
	" LEFT JOIN csms.keys k ON g.object_type OPERATOR(pg_catalog.=) 'key'"
	"  AND k.id OPERATOR(pg_catalog.=) g.object_id"
	" ORDER BY g.object_type DESC, COALESCE(s.name, k.alias, g.prefix) COLLATE pg_catalog.\"C\","
	"  COALESCE(s.region, k.region, g.region) COLLATE pg_catalog.\"C\" NULLS FIRST, 7",
	0, {InvalidOid}
};

/* May the caller see grant row i of q_grants_all (no target named)? */
static bool
grant_row_visible(CsmsCall *call, uint64 i)
{
	bool		isnull;
	Oid			grantee = DatumGetObjectId(csms_col(i, 6, &isnull));
	bool		is_key = strcmp(csms_col_text(i, 1), "key") == 0;
	CsmsAclObject o;
	Datum		d;

	if (csms_acl_is_admin(call->save_uid) || has_privs_of_role(call->save_uid, grantee))
		return true;
	d = csms_col(i, 11, &isnull);
	if (isnull || csms_col_text(i, 2) == NULL)
		return false;			/* a pattern: its grantee's and csms_admin's */
	o.is_key = is_key;
	o.id = *DatumGetUUIDP(d);
	o.owner = DatumGetObjectId(csms_col(i, 10, &isnull));
	o.name = csms_col_text(i, 2);
	o.region = csms_col_text(i, 3);
	if (is_key)
		return csms_acl_allowed(call->save_uid, &o, CSMS_PRIV_USE) ||
			csms_acl_allowed(call->save_uid, &o, CSMS_PRIV_KEY_MANAGE);
	return csms_acl_allowed(call->save_uid, &o, CSMS_PRIV_DESCRIBE);
}

/* Does grant row i hold for the secret t (resolved)? */
static bool
grant_row_holds(uint64 i, const Target *t)
{
	bool		isnull;
	Datum		d;
	char	   *region;
	char	   *prefix;

	if (strcmp(csms_col_text(i, 1), "secret") != 0)
		return false;
	d = csms_col(i, 11, &isnull);
	if (!isnull)
		return memcmp(DatumGetUUIDP(d), &t->id, sizeof(pg_uuid_t)) == 0;
	region = csms_col_text(i, 4);
	prefix = csms_col_text(i, 5);
	return (region == NULL || strcmp(region, t->region) == 0) &&
		strncmp(t->display, prefix, strlen(prefix)) == 0;
}

/* Is grant row i on the pattern t names? */
static bool
grant_row_is_pattern(uint64 i, const Target *t)
{
	char	   *region = csms_col_text(i, 4);
	char	   *prefix = csms_col_text(i, 5);

	return prefix != NULL && strcmp(prefix, t->name) == 0 &&
		strcmp(csms_col_text(i, 1), t->is_key ? "key" : "secret") == 0 &&
		(t->qualified ? (region && strcmp(region, t->region) == 0) : region == NULL);
}

/*
 * csms_list_grants(secret = NULL): every grant the caller may see (of the
 * secrets it may describe, the keys it may use or manage, those that hold
 * for it; all for csms_admin); for a secret, the grants that hold for it
 * (privilege describe on it); for a pattern, the grants on that pattern.
 */
Datum
csms_list_grants(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *arg = csms_arg_text_opt(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Target		t;
	uint64		n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_grants", 0);
	if (arg)
	{
		target_parse(&call, arg, false, &t);
		if (!t.pattern)
		{
			strlcpy(call.region, t.region, sizeof(call.region));
			{
				CsmsSecret *s = csms_secret_open(&call, t.name, CSMS_ACT_READ_META,
												 CSMS_PRIV_DESCRIBE);

				t.id = s->has_primary ? s->primary_id : s->id;
				t.display = s->name;
			}
		}
	}
	n = csms_exec(&q_grants_all, NULL, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[GRANT_NCOLS];
		bool		nulls[GRANT_NCOLS];
		bool		pattern = csms_col_text(i, 5) != NULL;

		if (!pattern && csms_col_text(i, 2) == NULL)
			continue;			/* an object that is gone (not through the API) */
		if (arg == NULL ? !grant_row_visible(&call, i) :
			!t.pattern ? !grant_row_holds(i, &t) :
			!grant_row_is_pattern(i, &t) || !grant_row_visible(&call, i))
			continue;
		values[0] = csms_col(i, 1, &nulls[0]);
		if (pattern)
		{
			values[1] = CStringGetTextDatum(psprintf("%s*", csms_col_text(i, 5)));
			nulls[1] = false;
			values[2] = csms_col(i, 4, &nulls[2]);
		}
		else
		{
			values[1] = csms_col(i, 2, &nulls[1]);
			values[2] = csms_col(i, 3, &nulls[2]);
		}
		values[3] = csms_col(i, 7, &nulls[3]);	/* a name */
		values[4] = csms_col(i, 8, &nulls[4]);
		values[5] = csms_col(i, 9, &nulls[5]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

/*
 * csms_has_privilege(role, secret, privilege): whether role holds it.  The
 * caller asks about a role whose privileges it has, or needs describe on
 * the secret.
 */
Datum
csms_has_privilege(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *arg = csms_arg_text(fcinfo, 1, "secret");
	char	   *privname = csms_arg_text(fcinfo, 2, "privilege");
	Oid			role;
	int			priv = csms_priv_parse(privname, false);
	Target		t;
	CsmsSecret *s;
	CsmsAclObject o;
	bool		answer;

	if (priv == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown privilege \"%s\"", csms_trunc(privname)),
				 errdetail("The privileges on a secret are \"read\", \"write\", \"describe\" and \"manage\".")));
	csms_call_begin(&call, "csms_has_privilege", 0);
	role = role_arg(fcinfo, 0, "role");
	target_parse(&call, arg, false, &t);
	if (t.pattern)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("csms_has_privilege() takes the name of a secret, not a pattern")));
	strlcpy(call.region, t.region, sizeof(call.region));
	s = csms_secret_open(&call, t.name, CSMS_ACT_READ_META,
						 has_privs_of_role(call.save_uid, role) ? 0 : CSMS_PRIV_DESCRIBE);
	csms_secret_acl_object(s, t.region, &o);
	answer = csms_acl_allowed(role, &o, priv);
	csms_call_end(&call);
	PG_RETURN_BOOL(answer);
}

/* Ownership ------------------------------------------------------------------ */

static CsmsStmt q_set_owner = {
	"UPDATE csms.secrets SET owner = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1 OR primary_id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, REGROLEOID}
};

/*
 * csms_set_owner(secret, new_owner): as ALTER ... OWNER TO, for its owner
 * with the privileges of the new owner, or csms_admin; a primary's
 * replicas follow it.
 */
Datum
csms_set_owner(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *arg = csms_arg_text(fcinfo, 0, "secret");
	Oid			new_owner;
	Target		t;
	CsmsSecret *s;
	Datum		args[2];

	csms_call_begin(&call, "csms_set_owner", 0);
	new_owner = role_arg(fcinfo, 1, "new_owner");
	target_parse(&call, arg, false, &t);
	if (t.pattern)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("csms_set_owner() takes the name of a secret, not a pattern")));
	strlcpy(call.region, t.region, sizeof(call.region));
	s = csms_secret_open(&call, t.name, CSMS_ACT_WRITE_META, CSMS_PRIV_MANAGE);
	if (!csms_acl_is_admin(call.save_uid) &&
		(!has_privs_of_role(call.save_uid, s->owner) ||
		 !has_privs_of_role(call.save_uid, new_owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change the owner of secret \"%s\"", s->name),
				 errdetail("Its owner may give it to a role whose privileges it has; csms_admin to any role.")));
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = ObjectIdGetDatum(new_owner);
	csms_exec(&q_set_owner, args, NULL, SPI_OK_UPDATE, 0);
	csms_role_depend(CSMS_SECRETS, new_owner);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

static CsmsStmt q_reassign_secrets = {
	"UPDATE csms.secrets SET owner = $2 WHERE owner OPERATOR(pg_catalog.=) $1",
	2, {REGROLEOID, REGROLEOID}
};

/* not the keys the extension makes for everyone (keyring.c) */
static CsmsStmt q_reassign_keys = {
	"UPDATE csms.keys SET owner = $2 WHERE owner OPERATOR(pg_catalog.=) $1"
	" AND purpose OPERATOR(pg_catalog.=) 'secret' AND alias OPERATOR(pg_catalog.<>) 'csms/default'",
	2, {REGROLEOID, REGROLEOID}
};

/* does a role own a secret or key (not the extension's own keys)? */
static CsmsStmt q_role_owns = {
	"SELECT EXISTS (SELECT FROM csms.secrets s WHERE s.owner OPERATOR(pg_catalog.=) $1)"
	" OR EXISTS (SELECT FROM csms.keys k WHERE k.owner OPERATOR(pg_catalog.=) $1"
	"   AND k.purpose OPERATOR(pg_catalog.=) 'secret' AND k.alias OPERATOR(pg_catalog.<>) 'csms/default')",
	1, {REGROLEOID}
};

/*
 * Under the role's lock, in the latest committed state: the role owns no
 * secret or key here.  A REPEATABLE READ transaction whose snapshot missed
 * one that another transaction committed meanwhile is refused (it would
 * leave that row naming a role without its dependency).
 */
static void
still_owns_nothing(Oid role, const char *what)
{
	Datum		arg = ObjectIdGetDatum(role);
	bool		isnull;

	csms_exec_latest(&q_role_owns, &arg, NULL, 1);
	if (DatumGetBool(csms_col(0, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not %s the secrets and keys of role \"%s\"", what,
						GetUserNameFromId(role, false)),
				 errdetail("Another transaction gave the role a secret or key after this transaction's snapshot was taken."),
				 errhint("Run it again in a new transaction.")));
}

/*
 * Give every secret and key of old_role to new_role (in a call frame);
 * the number given.  Locks old_role as DROP ROLE does, so that nothing
 * becomes its own meanwhile.
 */
static int
reassign(Oid old_role, Oid new_role)
{
	Datum		args[2];
	uint64		nsecrets;
	uint64		nkeys;

	if (old_role == new_role)
		return 0;				/* nothing changes hands (and nothing is undone) */
	LockSharedObject(AuthIdRelationId, old_role, 0, AccessExclusiveLock);
	args[0] = ObjectIdGetDatum(old_role);
	args[1] = ObjectIdGetDatum(new_role);
	nsecrets = csms_exec(&q_reassign_secrets, args, NULL, SPI_OK_UPDATE, 0);
	nkeys = csms_exec(&q_reassign_keys, args, NULL, SPI_OK_UPDATE, 0);
	if (nsecrets > 0)
		csms_role_depend(CSMS_SECRETS, new_role);
	if (nkeys > 0)
		csms_role_depend(CSMS_KEYS, new_role);
	still_owns_nothing(old_role, "reassign");
	csms_role_undepend(CSMS_SECRETS, old_role);
	csms_role_undepend(CSMS_KEYS, old_role);
	return (int) (nsecrets + nkeys);
}

/* 42501 unless the caller may give what old_role owns to new_role */
static void
require_reassign_rights(Oid caller, Oid old_role, Oid new_role)
{
	if (csms_acl_is_admin(caller) ||
		(has_privs_of_role(caller, old_role) && has_privs_of_role(caller, new_role)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to reassign secrets and keys"),
			 errdetail("Only roles with the privileges of both the old and the new owner, and members of csms_admin, may reassign them.")));
}

/* csms_reassign_owned(old_role, new_role): as REASSIGN OWNED, for secrets and keys */
Datum
csms_reassign_owned(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	Oid			old_role;
	Oid			new_role;
	int			n;

	csms_call_begin(&call, "csms_reassign_owned", 0);
	old_role = role_arg(fcinfo, 0, "old_role");
	new_role = role_arg(fcinfo, 1, "new_role");
	require_reassign_rights(call.save_uid, old_role, new_role);
	n = reassign(old_role, new_role);
	csms_call_end(&call);
	PG_RETURN_INT32(n);
}

/* Internal ------------------------------------------------------------------- */

/*
 * csms.caller_may_see(object_type, owner, id, name, region): the filter of
 * the listings' statements, for the caller of the running call (acl.h):
 * describe on a secret; use or manage on a key.
 */
Datum
csms_caller_may_see(PG_FUNCTION_ARGS)
{
	CsmsAclObject o;
	char	   *type;
	int			i;

	if (csms_sql_scope_depth() == 0 || !OidIsValid(csms_acl_viewer()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("csms.caller_may_see() is for the statements of extension \"secrets\"")));
	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_BOOL(false);
	type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	o.is_key = strcmp(type, "key") == 0;
	o.owner = PG_GETARG_OID(1);
	o.id = *PG_GETARG_UUID_P(2);
	o.name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	o.region = text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (o.is_key)
		PG_RETURN_BOOL(csms_acl_allowed(csms_acl_viewer(), &o, CSMS_PRIV_USE) ||
					   csms_acl_allowed(csms_acl_viewer(), &o, CSMS_PRIV_KEY_MANAGE));
	PG_RETURN_BOOL(csms_acl_allowed(csms_acl_viewer(), &o, CSMS_PRIV_DESCRIBE));
}

/*
 * csms.role_dependencies(): statement trigger AFTER INSERT on csms.secrets,
 * csms.keys and csms.grants.  The API records the dependency of each role
 * it writes (roledep.h); rows that arrive otherwise (pg_restore's COPY)
 * get theirs here.
 */
Datum
csms_role_dependencies(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Oid			relid;
	CsmsRel		rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("csms.role_dependencies() must be called as a trigger")));
	if (csms_sql_scope_depth() > 0)
		return PointerGetDatum(NULL);
	csms_catalog_require();
	relid = RelationGetRelid(trig->tg_relation);
	if (relid == csms_rel(CSMS_SECRETS))
		rel = CSMS_SECRETS;
	else if (relid == csms_rel(CSMS_KEYS))
		rel = CSMS_KEYS;
	else if (relid == csms_rel(CSMS_GRANTS))
		rel = CSMS_GRANTS;
	else
		elog(ERROR, "csms.role_dependencies() fired on relation %u", relid);
	csms_role_depend_all(rel);
	return PointerGetDatum(NULL);
}


static CsmsStmt q_role_grants_left = {
	"SELECT FROM csms.grants WHERE grantee OPERATOR(pg_catalog.=) $1 LIMIT 1",
	1, {REGROLEOID}
};

static CsmsStmt q_role_grants_delete = {
	"DELETE FROM csms.grants WHERE grantee OPERATOR(pg_catalog.=) $1",
	1, {REGROLEOID}
};

/* DROP OWNED BY role, in this database: its grants go; refused while it owns secrets */
static void
drop_owned(Oid role)
{
	Datum		arg = ObjectIdGetDatum(role);
	bool		isnull;

	LockSharedObject(AuthIdRelationId, role, 0, AccessExclusiveLock);
	csms_exec_latest(&q_role_owns, &arg, NULL, 1);
	if (DatumGetBool(csms_col(0, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("role \"%s\" owns secrets or keys of extension \"secrets\"",
						GetUserNameFromId(role, false)),
				 errdetail("DROP OWNED does not delete secrets."),
				 errhint("Give them to another role first with csms_reassign_owned(), or delete them.")));
	csms_exec(&q_role_grants_delete, &arg, NULL, SPI_OK_DELETE, 0);
	if (csms_exec_latest(&q_role_grants_left, &arg, NULL, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not drop the grants of role \"%s\"", GetUserNameFromId(role, false)),
				 errdetail("Another transaction granted the role a privilege after this transaction's snapshot was taken."),
				 errhint("Run it again in a new transaction.")));
	csms_role_undepend(CSMS_SECRETS, role);
	csms_role_undepend(CSMS_KEYS, role);
	csms_role_undepend(CSMS_GRANTS, role);
}

/*
 * csms.drop_owned(): event trigger at the start of DROP OWNED.  For the
 * roles whose privileges the caller has (for the others the command itself
 * refuses), it drops their grants and refuses while they own secrets or
 * keys.  (PostgreSQL fires no event trigger for REASSIGN OWNED, whose
 * counterpart is csms_reassign_owned.)
 */
Datum
csms_drop_owned(PG_FUNCTION_ARGS)
{
	EventTriggerData *trig;
	CsmsCall	call;
	ListCell   *lc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("csms.drop_owned() must be called as an event trigger")));
	trig = (EventTriggerData *) fcinfo->context;
	csms_call_enter(&call, "csms.drop_owned", false);
	if (IsA(trig->parsetree, DropOwnedStmt))
	{
		DropOwnedStmt *stmt = (DropOwnedStmt *) trig->parsetree;

		foreach(lc, stmt->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(lc), false);

			if (has_privs_of_role(call.save_uid, role))
				drop_owned(role);
		}
	}
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/*
 * csms.record_role_dependencies(): record the dependency of every role
 * that owns or holds something (for csms_admin).  pg_upgrade rebuilds
 * pg_shdepend from the schema it restores, so it does not carry these.
 */
Datum
csms_record_role_dependencies(PG_FUNCTION_ARGS)
{
	CsmsCall	call;

	csms_call_begin(&call, "csms.record_role_dependencies", 0);
	if (!csms_acl_is_admin(call.save_uid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to record role dependencies"),
				 errdetail("Only superusers and members of csms_admin may record them.")));
	csms_role_depend_all(CSMS_SECRETS);
	csms_role_depend_all(CSMS_KEYS);
	csms_role_depend_all(CSMS_GRANTS);
	csms_call_end(&call);
	PG_RETURN_VOID();
}
