/*-------------------------------------------------------------------------
 *
 * rotation.c
 *	  Rotation (see rotation.h).
 *
 *	  A rotation opens the secret through the gate (CSMS_ACT_ROTATE: ENABLED,
 *	  never a replica, locked), then in a subtransaction makes the new value
 *	  and adds it as a version that takes SYSCURRENT (the old one keeps
 *	  SYSPREVIOUS), so that a failure rolls back every part of it: the role's
 *	  password, the version, the stages.  What the rotation did is one row of
 *	  csms.secret_tasks.
 *
 *	  PG-ROLE: the new password is drawn by the password generator (32
 *	  characters of every class but space) and set with ALTER ROLE ...
 *	  PASSWORD given its SCRAM-SHA-256 verifier (scram.c), run as the
 *	  secret's owner, so that PostgreSQL checks the owner's right to change
 *	  the role too; neither the statement nor pg_authid ever holds the
 *	  password.  The statement is SPI's, not the client's: log_statement does
 *	  not show it, and it shows only a verifier.
 *
 *	  Rotation functions run as their owner (as SECURITY DEFINER would),
 *	  under the call frame's search_path (pg_catalog, pg_temp) and in a
 *	  security-restricted operation; their result becomes the version's
 *	  secret_string.
 *
 *	  A failed manual rotation raises its error, which rolls back the
 *	  caller's transaction; its FAILED task is written by a short background
 *	  worker (csms_task_recorder_main) in a transaction of its own, so the
 *	  attempt stays on record.  A failed automatic rotation is recorded in
 *	  the due work's transaction, with the count of failures in a row.
 *
 * src/rotation.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "json.h"
#include "password.h"
#include "scram.h"
#include "util.h"
#include "validate.h"
#include "spi.h"
#include "frame.h"
#include "secret.h"
#include "version.h"
#include "replica.h"
#include "event.h"
#include "rotation.h"

/* a task's error message is cut to the cloud's 512 characters */
#define TASK_MSG_MAX	512

/* How a secret rotates, from its row */
typedef struct RotationPlan
{
	const char *operate_type;	/* SINGLE_USER, MULTI_USER, FUNCTION; NULL: none */
	char	   *func_urn;		/* the rotation function, or NULL */
	Jsonb	   *config;			/* rotation_config, or NULL */
	char	   *period;			/* rotation_period, or NULL */
	bool		auto_rotation;
	int			failures;		/* automatic failures in a row */
} RotationPlan;

/* A task row, as written */
typedef struct TaskRow
{
	pg_uuid_t	id;
	pg_uuid_t	secret_id;
	const char *region;
	const char *secret_name;
	const char *func_urn;
	bool		success;
	const char *operate_type;
	bool		automatic;
	TimestampTz time;
	int			attempts;
	const char *error_code;		/* FAILED */
	const char *error_msg;		/* FAILED */
	int			version;		/* SUCCESS */
} TaskRow;

/* Rotation functions ------------------------------------------------------ */

/* a function (secret_name text, version_id text) RETURNS text */
static bool
shape_ok(Form_pg_proc p)
{
	return p->prokind == PROKIND_FUNCTION && !p->proretset && p->prorettype == TEXTOID &&
		p->pronargs == 2 && p->proargtypes.values[0] == TEXTOID &&
		p->proargtypes.values[1] == TEXTOID;
}

/* 22023 unless f has the shape of a rotation function */
static void
check_function_shape(Oid f, const char *shown)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f));
	Form_pg_proc p;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("rotation function %s does not exist", shown)));
	p = (Form_pg_proc) GETSTRUCT(tup);
	ok = shape_ok(p);
	ReleaseSysCache(tup);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be a rotation function", shown),
				 errdetail("A rotation function is a function (secret_name text, version_id text) RETURNS text that returns the new value.")));
}

/*
 * The function `spec` names with the current search_path: a bare name must
 * name one function, a signature names it exactly; InvalidOid if none.
 */
/* whether spec has the characters of a function name or signature only */
static bool
function_spec_ok(const char *spec)
{
	const char *p;

	for (p = spec; *p; p++)
		if (!(isalnum((unsigned char) *p) || strchr("_$.\"(), ", *p) != NULL))
			return false;
	return p != spec;
}

static Oid
function_lookup(const char *spec)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		d;

	if (!function_spec_ok(spec))
		return InvalidOid;

	/* to_regproc and to_regprocedure: NULL when none (or, bare, several) */
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = CStringGetTextDatum(spec);
	fcinfo->args[0].isnull = false;
	if (strchr(spec, '(') == NULL)
		d = to_regproc(fcinfo);
	else
		d = to_regprocedure(fcinfo);
	return fcinfo->isnull ? InvalidOid : DatumGetObjectId(d);
}

/* The rotation function a caller names (rotation.h) */
char *
csms_rotation_function_resolve(const char *spec)
{
	Oid			f;
	Oid			owner;
	AclResult	acl;

	csms_check_printable("rotation function", spec, 1024);
	if (!function_spec_ok(spec))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid rotation function \"%s\"", spec),
				 errdetail("A rotation function is named as name, schema.name or name(text, text).")));
	f = function_lookup(spec);
	if (!OidIsValid(f))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("rotation function %s does not exist", spec),
				 errhint("Name a function (secret_name text, version_id text) RETURNS text, by its name or as name(text, text); a name must be unique.")));
	check_function_shape(f, spec);
	acl = pg_proc_aclcheck(f, GetUserId(), ACL_EXECUTE);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for rotation function %s", spec),
				 errdetail("Naming a rotation function needs the privilege EXECUTE on it.")));
	/* it will run as its owner: only with rights the caller has already */
	{
		HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for function %u", f);
		owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
		ReleaseSysCache(tup);
	}
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for rotation function %s", spec),
				 errdetail("A rotation function runs as its owner, role \"%s\", whose privileges the caller does not have.",
						   GetUserNameFromId(owner, false)),
				 errhint("Name a function of your own.")));
	/* its arguments are (text, text): pg_catalog's text, the pinned search_path's first */
	return psprintf("%s(text,text)",
					quote_qualified_identifier(get_namespace_name(get_func_namespace(f)),
											   get_func_name(f)));
}

/* Whether `role` could name the rotation function stored as `stored` (rotation.h) */
bool
csms_rotation_function_allowed(const char *stored, Oid role)
{
	Oid			f = function_lookup(stored);
	HeapTuple	tup;
	Form_pg_proc p;
	bool		ok;

	if (!OidIsValid(f))
		return false;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f));
	if (!HeapTupleIsValid(tup))
		return false;
	p = (Form_pg_proc) GETSTRUCT(tup);
	ok = shape_ok(p) && has_privs_of_role(role, p->proowner);
	ReleaseSysCache(tup);
	return ok && pg_proc_aclcheck(f, role, ACL_EXECUTE) == ACLCHECK_OK;
}

/*
 * The new value from s's rotation function: its text, in wiped memory.
 * The function's settings (set_config, SET, even without LOCAL) are undone
 * when it returns: none may outlive it in the caller's session or reach
 * the next rotation of a batch.  An automatic rotation gives it at most
 * CSMS_ROTATION_TIMEOUT_MS, unless a statement timeout runs already.
 */
static char *
function_value(CsmsSecret *s, const RotationPlan *p, int version, bool automatic, Size *len)
{
	Oid			f;
	HeapTuple	tup;
	Oid			owner;
	Oid			save_uid;
	int			save_sec;
	int			nest;
	bool		timer;
	FmgrInfo	finfo;
	LOCAL_FCINFO(fcinfo, 2);
	volatile Datum result = (Datum) 0;
	text	   *t;
	char	   *out;

	/* stored qualified; gone or changed since it was named: the task fails */
	f = function_lookup(p->func_urn);
	if (!OidIsValid(f))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("rotation function %s of secret \"%s\" does not exist", p->func_urn,
						s->name),
				 errhint("Name an existing function with csms_update_secret(rotation_func_urn => ...).")));
	check_function_shape(f, p->func_urn);
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", f);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);

	/*
	 * As its owner, restricted, in a GUC nest level of its own; an error
	 * restores the user and the settings with the subtransaction.
	 */
	fmgr_info(f, &finfo);
	InitFunctionCallInfoData(*fcinfo, &finfo, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = CStringGetTextDatum(s->name);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = CStringGetTextDatum(csms_version_id(version));
	fcinfo->args[1].isnull = false;
	timer = automatic && !get_timeout_active(STATEMENT_TIMEOUT);
	GetUserIdAndSecContext(&save_uid, &save_sec);
	nest = NewGUCNestLevel();
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (timer)
		enable_timeout_after(STATEMENT_TIMEOUT, CSMS_ROTATION_TIMEOUT_MS);
	PG_TRY();
	{
		result = FunctionCallInvoke(fcinfo);
	}
	PG_FINALLY();
	{
		if (timer)
			disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_uid, save_sec);
	AtEOXact_GUC(false, nest);
	if (fcinfo->isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rotation function %s returned NULL for secret \"%s\"", p->func_urn,
						s->name)));
	t = DatumGetTextPP(result);
	*len = VARSIZE_ANY_EXHDR(t);
	out = csms_alloc_sensitive(*len + 1);
	memcpy(out, VARDATA_ANY(t), *len);
	/* the function's copy too, before anything may raise */
	csms_wipe(VARDATA_ANY(t), *len);
	csms_check_value_size(*len);
	return out;
}

/* PG-ROLE --------------------------------------------------------------- */

/* whether the PG-ROLE config says MultiUser */
static bool
config_multi(Jsonb *config)
{
	JsonbValue *sub;

	if (config == NULL)
		return false;
	sub = getKeyJsonValueFromContainer(&config->root, "SecretSubType", 13, NULL);
	return sub != NULL && sub->type == jbvString && sub->val.string.len == 9 &&
		strncmp(sub->val.string.val, "MultiUser", 9) == 0;
}

/* Usernames[i] of a MultiUser config (checked when the secret was made) */
static char *
config_user(Jsonb *config, int i)
{
	JsonbValue *users = getKeyJsonValueFromContainer(&config->root, "Usernames", 9, NULL);
	JsonbValue *u;

	if (users == NULL || users->type != jbvBinary)
		elog(ERROR, "MultiUser rotation_config without Usernames");
	u = getIthJsonbValueFromContainer(users->val.binary.data, i);
	if (u == NULL || u->type != jbvString)
		elog(ERROR, "MultiUser rotation_config with a bad Usernames");
	return pnstrdup(u->val.string.val, u->val.string.len);
}

/*
 * 42704, 22023 or 42501 unless `owner` may have the extension change the
 * password of login role `role`: never a superuser; a replication role only
 * for a superuser owner; else an owner that is superuser, has CREATEROLE
 * or is the role itself (PostgreSQL's own rule for ALTER ROLE ... PASSWORD).
 * The messages name the secret, not the role: a SingleUser secret's role is
 * part of its value, which no message, task or log line shows.
 */
static void
check_role(Oid owner, const char *secret_name, const char *role)
{
	HeapTuple	tup;
	Form_pg_authid a;
	Oid			roleid;
	bool		super,
				replication,
				login;

	tup = SearchSysCache1(AUTHNAME, CStringGetDatum(role));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the role of PG-ROLE secret \"%s\" does not exist", secret_name),
				 errdetail("Its value (or, for MultiUser, its rotation_config) names a role this cluster does not have.")));
	a = (Form_pg_authid) GETSTRUCT(tup);
	roleid = a->oid;
	super = a->rolsuper;
	replication = a->rolreplication;
	login = a->rolcanlogin;
	ReleaseSysCache(tup);

	if (!login)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the role of PG-ROLE secret \"%s\" cannot log in", secret_name),
				 errdetail("A PG-ROLE secret holds the credentials of a login role.")));
	if (super)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the role of PG-ROLE secret \"%s\" is a superuser", secret_name),
				 errdetail("The extension changes the passwords of roles that are not superusers only.")));
	if (replication ? !superuser_arg(owner) :
		!(superuser_arg(owner) || has_createrole_privilege(owner) || owner == roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change the password of the role of PG-ROLE secret \"%s\"",
						secret_name),
				 errdetail("Its owner, role \"%s\", may not change that role's password.",
						   GetUserNameFromId(owner, false)),
				 errhint("%s", replication ?
						 "Only a superuser may change the password of a replication role." :
						 "The owner needs CREATEROLE, or to be that role itself.")));
}

/* The credentials of a PG-ROLE value, parsed into wiped memory */
typedef struct PgRoleValue
{
	csms_json  *doc;
	const csms_json *username;
	const csms_json *password;
	const csms_json *host;
	const csms_json *port;
	const csms_json *dbname;
} PgRoleValue;

/* 22023 (naming no part of the value) unless value is a PG-ROLE value */
static void
pgrole_parse(const char *secret_name, char kind, const char *value, Size len, PgRoleValue *v)
{
	csms_json_status st;
	size_t		i;

	memset(v, 0, sizeof(*v));
	if (kind != CSMS_KIND_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value of PG-ROLE secret \"%s\" must be a secret_string", secret_name),
				 errdetail("It is a JSON object: {\"username\": ..., \"password\": ...}, with \"host\", \"port\" and \"dbname\" optional.")));
	st = csms_json_parse(value, len, &csms_sensitive_allocator, &v->doc);
	if (st != CSMS_JSON_OK || v->doc->type != CSMS_JSON_OBJECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value of PG-ROLE secret \"%s\" is not a JSON object", secret_name),
				 st != CSMS_JSON_OK ? errdetail("The JSON text is invalid: %s.", csms_json_strerror(st)) :
				 errdetail("It is a JSON object: {\"username\": ..., \"password\": ...}, with \"host\", \"port\" and \"dbname\" optional.")));
	for (i = 0; i < v->doc->count; i++)
	{
		const char *k = v->doc->keys[i];
		const csms_json *item = v->doc->items[i];
		bool		known = true;

		if (strcmp(k, "username") == 0)
			v->username = item;
		else if (strcmp(k, "password") == 0)
			v->password = item;
		else if (strcmp(k, "host") == 0)
			v->host = item;
		else if (strcmp(k, "port") == 0)
			v->port = item;
		else if (strcmp(k, "dbname") == 0)
			v->dbname = item;
		else
			known = false;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the value of PG-ROLE secret \"%s\" has a member other than username, password, host, port and dbname",
							secret_name)));
	}
	if (v->username == NULL || v->username->type != CSMS_JSON_STRING ||
		v->username->len == 0 || v->username->len >= NAMEDATALEN ||
		strlen(v->username->str) != v->username->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value of PG-ROLE secret \"%s\" needs a \"username\"", secret_name),
				 errdetail("\"username\" is the name of a login role of this cluster, a string of 1 to %d bytes.",
						   NAMEDATALEN - 1)));
	if (v->password == NULL || v->password->type != CSMS_JSON_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value of PG-ROLE secret \"%s\" needs a \"password\" string", secret_name)));
	if ((v->host && v->host->type != CSMS_JSON_STRING) ||
		(v->dbname && v->dbname->type != CSMS_JSON_STRING))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"host\" and \"dbname\" in the value of PG-ROLE secret \"%s\" must be strings",
						secret_name)));
	if (v->port)
	{
		char	   *end;
		long		port = v->port->type == CSMS_JSON_NUMBER ? strtol(v->port->str, &end, 10) : 0;

		if (v->port->type != CSMS_JSON_NUMBER || *end != '\0' || port < 1 || port > 65535)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"port\" in the value of PG-ROLE secret \"%s\" must be an integer from 1 to 65535",
							secret_name)));
	}
}

/* The check of a PG-ROLE value (rotation.h) */
void
csms_pgrole_check_value(Oid owner, const char *secret_name, Jsonb *config, char kind,
						const char *value, Size len)
{
	PgRoleValue v;

	pgrole_parse(secret_name, kind, value, len, &v);
	if (config_multi(config))
	{
		char	   *a = config_user(config, 0);
		char	   *b = config_user(config, 1);

		if (strcmp(v.username->str, a) != 0 && strcmp(v.username->str, b) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the username of MultiUser secret \"%s\" must be one of its Usernames",
							secret_name),
					 errdetail("Its rotation_config names \"%s\" and \"%s\".", a, b)));
		check_role(owner, secret_name, a);
		check_role(owner, secret_name, b);
	}
	else
		check_role(owner, secret_name, v.username->str);
	csms_json_free(v.doc, &csms_sensitive_allocator);
}

static CsmsStmt q_rotation_plan = {
	"SELECT rotation_config, rotation_func_urn, rotation_period, auto_rotation,"
	" COALESCE(rotation_failures, 0)"
	" FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/* How s rotates, from its row (which the gate locked) */
static void
plan_read(CsmsSecret *s, RotationPlan *p)
{
	Datum		arg = UUIDPGetDatum(&s->id);
	bool		isnull;
	Datum		d;

	memset(p, 0, sizeof(*p));
	if (csms_exec(&q_rotation_plan, &arg, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "secret vanished");
	d = csms_col(0, 1, &isnull);
	p->config = isnull ? NULL : DatumGetJsonbPCopy(d);
	p->func_urn = csms_col_text(0, 2);
	p->period = csms_col_text(0, 3);
	p->auto_rotation = DatumGetBool(csms_col(0, 4, &isnull));
	p->failures = DatumGetInt32(csms_col(0, 5, &isnull));
	if (strcmp(s->secret_type, "PG-ROLE") == 0)
		p->operate_type = config_multi(p->config) ? "MULTI_USER" : "SINGLE_USER";
	else if (p->func_urn != NULL)
		p->operate_type = "FUNCTION";
}

/*
 * The check of a new version's PG-ROLE value (rotation.h): as a new
 * secret's, and for the same role.  A SingleUser secret's role is the one
 * it was made for (its current version's): whoever may write a version may
 * not point the rotation at another role (then rotate it and read its new
 * password).  A MultiUser secret's two roles are its rotation_config's,
 * which no update changes.
 */
void
csms_pgrole_check_version(CsmsCall *call, CsmsSecret *s, char kind, const char *value,
						  Size len)
{
	RotationPlan p;

	plan_read(s, &p);
	csms_pgrole_check_value(s->owner, s->name, p.config, kind, value, len);
	if (!config_multi(p.config))
	{
		int			current = csms_stages_version(&s->stages, "SYSCURRENT");
		bytea	   *plain;
		char		ckind;
		PgRoleValue now,
					next;
		bool		same;

		plain = csms_version_open(call, s, current > 0 ? current : s->last_version, &ckind);
		pgrole_parse(s->name, ckind, VARDATA(plain), VARSIZE(plain) - VARHDRSZ, &now);
		pgrole_parse(s->name, kind, value, len, &next);
		same = strcmp(now.username->str, next.username->str) == 0;
		csms_json_free(now.doc, &csms_sensitive_allocator);
		csms_json_free(next.doc, &csms_sensitive_allocator);
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a new version of PG-ROLE secret \"%s\" must name the same role", s->name),
					 errdetail("A SingleUser secret holds the credentials of the role it was created for."),
					 errhint("Create another secret for another role.")));
	}
}

/* ALTER ROLE role PASSWORD '<SCRAM-SHA-256 verifier of password>', as owner */
static void
set_role_password(Oid owner, const char *role, const char *password, size_t len)
{
	char		verifier[CSMS_SCRAM_VERIFIER_MAX];
	StringInfoData sql;
	Oid			save_uid;
	int			save_sec;

	if (csms_scram_verifier_random(password, len, CSMS_SCRAM_ITERATIONS, verifier,
								   sizeof(verifier)) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SCRAM-SHA-256 verifier of a new password")));
	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER ROLE %s PASSWORD %s", quote_identifier(role),
					 quote_literal_cstr(verifier));
	GetUserIdAndSecContext(&save_uid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	csms_exec_utility(sql.data);
	SetUserIdAndSecContext(save_uid, save_sec);
	csms_wipe(verifier, sizeof(verifier));
	pfree(sql.data);
}

/*
 * The new value of PG-ROLE secret s: a new password for the role that
 * rotates (SingleUser: the one its SYSCURRENT value names; MultiUser: the
 * other one), set on the role; the value is SYSCURRENT's with that
 * username and password.
 */
static char *
pgrole_value(CsmsCall *call, CsmsSecret *s, const RotationPlan *p, Size *len)
{
	int			current = csms_stages_version(&s->stages, "SYSCURRENT");
	bytea	   *plain;
	char		kind;
	PgRoleValue v;
	const char *role;
	char	   *password;
	csms_json_buf buf;
	char	   *out;

	if (current == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" has no SYSCURRENT version to rotate", s->name),
				 errhint("Move SYSCURRENT to a version with csms_update_secret_stage().")));
	plain = csms_version_open(call, s, current, &kind);
	pgrole_parse(s->name, kind, VARDATA(plain), VARSIZE(plain) - VARHDRSZ, &v);
	if (config_multi(p->config))
	{
		char	   *a = config_user(p->config, 0);

		role = strcmp(v.username->str, a) == 0 ? config_user(p->config, 1) : a;
	}
	else
		role = pstrdup(v.username->str);
	check_role(s->owner, s->name, role);

	password = csms_alloc_sensitive(CSMS_PASSWORD_DEFAULT + 1);
	if (csms_password_default(password) != CSMS_PW_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	set_role_password(s->owner, role, password, CSMS_PASSWORD_DEFAULT);

	/* {"username": ..., "password": ..., then host, port, dbname as they were} */
	csms_json_buf_init(&buf, &csms_sensitive_allocator);
	csms_json_buf_raw(&buf, "{\"username\": ", 13);
	csms_json_buf_string(&buf, role, strlen(role));
	csms_json_buf_raw(&buf, ", \"password\": ", 14);
	csms_json_buf_string(&buf, password, CSMS_PASSWORD_DEFAULT);
	if (v.host)
	{
		csms_json_buf_raw(&buf, ", \"host\": ", 10);
		csms_json_buf_string(&buf, v.host->str, v.host->len);
	}
	if (v.port)
	{
		csms_json_buf_raw(&buf, ", \"port\": ", 10);
		csms_json_buf_raw(&buf, v.port->str, v.port->len);
	}
	if (v.dbname)
	{
		csms_json_buf_raw(&buf, ", \"dbname\": ", 12);
		csms_json_buf_string(&buf, v.dbname->str, v.dbname->len);
	}
	csms_json_buf_raw(&buf, "}", 1);
	if (buf.failed)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	csms_json_free(v.doc, &csms_sensitive_allocator);
	csms_wipe(password, CSMS_PASSWORD_DEFAULT);
	*len = buf.len;
	out = buf.data;				/* sensitive: wiped with the context */
	return out;
}

/* The rotation ---------------------------------------------------------- */

static CsmsStmt q_task_insert = {
	"INSERT INTO csms.secret_tasks (id, secret_id, region, secret_name, rotation_func_urn,"
	" status, operate_type, trigger_type, task_time, attempt_nums, error_code, error_msg,"
	" version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	13, {UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID, INT4OID}
};

/* the statement's arguments for a task row */
static void
task_args(const TaskRow *t, Datum *args, char *nulls)
{
	memset(nulls, ' ', 13);
	args[0] = UUIDPGetDatum(&t->id);
	args[1] = UUIDPGetDatum(&t->secret_id);
	args[2] = csms_text_datum(t->region);
	args[3] = csms_text_datum(t->secret_name);
	if (t->func_urn)
		args[4] = csms_text_datum(t->func_urn);
	else
		nulls[4] = 'n';
	args[5] = csms_text_datum(t->success ? "SUCCESS" : "FAILED");
	args[6] = csms_text_datum(t->operate_type ? t->operate_type : "FUNCTION");
	args[7] = csms_text_datum(t->automatic ? "AUTOMATIC" : "MANUAL");
	args[8] = TimestampTzGetDatum(t->time);
	args[9] = Int32GetDatum(t->attempts);
	if (t->error_code)
		args[10] = csms_text_datum(t->error_code);
	else
		nulls[10] = 'n';
	if (t->error_msg)
		args[11] = csms_text_datum(t->error_msg);
	else
		nulls[11] = 'n';
	if (t->version > 0)
		args[12] = Int32GetDatum(t->version);
	else
		nulls[12] = 'n';
}

static void
task_insert(const TaskRow *t)
{
	Datum		args[13];
	char		nulls[13];

	task_args(t, args, nulls);
	csms_exec(&q_task_insert, args, nulls, SPI_OK_INSERT, 0);
}

/* s rotated: new times, no failures, the task, SECRET_ROTATED, the replicas */
static CsmsStmt q_rotated = {
	"UPDATE csms.secrets SET rotation_time = $2, rotation_failures = NULL,"
	" next_rotation_time = CASE WHEN auto_rotation AND $3 IS NOT NULL"
	"   THEN $2 OPERATOR(pg_catalog.+) $3 ELSE next_rotation_time END"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	3, {UUIDOID, TIMESTAMPTZOID, INTERVALOID}
};

static void
rotation_succeeded(CsmsCall *call, CsmsSecret *s, const RotationPlan *p, TaskRow *t)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	Interval   *period = NULL;

	if (p->period)
		csms_check_rotation_period(p->period, &period);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = TimestampTzGetDatum(t->time);
	if (period)
		args[2] = IntervalPGetDatum(period);
	else
		nulls[2] = 'n';
	csms_exec(&q_rotated, args, nulls, SPI_OK_UPDATE, 0);
	t->success = true;
	task_insert(t);
	if (s->event)
	{
		CsmsEventSubject x = {s->id, s->name, call->region, s->secret_type, s->event,
		t->version, DT_NOBEGIN};

		csms_events_fire(CSMS_EVENT_ROTATED, &x, 1);
	}
	/* the replicas get the version, the stages and the times */
	csms_replicas_follow(call, s);
}

/* 55000 for a secret without a way to rotate */
static void
check_rotatable(CsmsSecret *s, const RotationPlan *p)
{
	if (p->operate_type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" of type %s has no rotation function", s->name,
						s->secret_type),
				 errdetail("Secrets other than PG-ROLE rotate through the function that rotation_func_urn names."),
				 errhint("Name one with csms_update_secret(rotation_func_urn => ...).")));
}

/*
 * The rotation proper, in the caller's subtransaction: the new version,
 * then what records it (times, task, event, replicas), so that a failure
 * anywhere leaves nothing of it.
 */
static void
rotate(CsmsCall *call, CsmsSecret *s, const RotationPlan *p, TaskRow *t)
{
	char	   *value;
	Size		len;
	CsmsMade	made;

	check_rotatable(s, p);
	if (strcmp(s->secret_type, "PG-ROLE") == 0)
		value = pgrole_value(call, s, p, &len);
	else
		value = function_value(s, p, s->last_version + 1, t->automatic, &len);
	csms_version_add(call, s, CSMS_KIND_STRING, value, len, NULL, 0, NULL, &made);
	csms_wipe(value, len);
	t->version = made.version;
	rotation_succeeded(call, s, p, t);
}

/* An error's message for a task: at most TASK_MSG_MAX characters */
static char *
task_message(ErrorData *e)
{
	const char *m = e->message ? e->message : "unknown error";
	int			n = pg_mbcharcliplen(m, strlen(m), TASK_MSG_MAX);

	return pnstrdup(m, n);
}

/* One attempt at rotating a secret, manual or automatic */
typedef struct Attempt
{
	CsmsCall   *call;
	const char *name;
	pg_uuid_t	id;				/* automatic: the due secret */
	TimestampTz now;
	bool		skipped;		/* automatic: locked by another, or no longer due */
	CsmsSecret *s;				/* NULL until the gate opened it */
	RotationPlan p;
	TaskRow		t;
	const char *fail_code;		/* a failed attempt's SQLSTATE and message */
	const char *fail_msg;
} Attempt;

/*
 * Run fn(a) in a subtransaction: true on success; on an error, the
 * subtransaction rolled back (every row, lock, role change and setting it
 * made) and false with the error in *err.
 */
static bool
guarded(void (*fn) (Attempt *), Attempt *a, ErrorData **err)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(a);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		*err = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* a's task before the attempt, from its secret and plan */
static void
task_begin(Attempt *a, bool automatic, TimestampTz when)
{
	memset(&a->t, 0, sizeof(a->t));
	csms_new_uuid(&a->t.id);
	a->t.secret_id = a->s->id;
	a->t.region = a->call->region;
	a->t.secret_name = a->s->name;
	a->t.func_urn = a->p.func_urn;
	a->t.operate_type = a->p.operate_type;
	a->t.automatic = automatic;
	a->t.time = when;
	a->t.attempts = automatic ? a->p.failures + 1 : 1;
}

/* a's task, failed with err */
static void
task_failed(Attempt *a, ErrorData *err)
{
	a->fail_code = unpack_sql_state(err->sqlerrcode);
	a->fail_msg = task_message(err);
	a->t.version = 0;
	a->t.success = false;
	a->t.error_code = a->fail_code;
	a->t.error_msg = a->fail_msg;
}

static void
manual_attempt(Attempt *a)
{
	rotate(a->call, a->s, &a->p, &a->t);
}

/* The task recorder ---------------------------------------------------- */

/* A failed manual rotation's task, handed to the recorder in shared memory */
typedef struct TaskRecord
{
	pg_uuid_t	id;
	pg_uuid_t	secret_id;
	char		region[CSMS_NAME_MAXLEN + 1];
	char		secret_name[CSMS_NAME_MAXLEN + 1];
	bool		has_func;
	char		func_urn[1100];
	char		operate_type[16];
	TimestampTz time;
	char		error_code[6];
	char		error_msg[TASK_MSG_MAX * 4 + 1];
	bool		done;			/* set by the recorder once committed */
} TaskRecord;

/*
 * Record the FAILED task t of a manual rotation in a transaction of its
 * own: a background worker inserts it and commits while the caller waits.
 * A WARNING when no worker could be started.
 */
static void
record_failure_apart(const TaskRow *t)
{
	dsm_segment *seg = dsm_create(sizeof(TaskRecord), DSM_CREATE_NULL_IF_MAXSEGMENTS);
	TaskRecord *rec;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	bool		done = false;

	if (seg == NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the failed rotation of secret \"%s\" could not be recorded as a task",
						t->secret_name),
				 errdetail("No dynamic shared memory segment was left to hand it to the recorder.")));
		return;
	}
	rec = dsm_segment_address(seg);
	memset(rec, 0, sizeof(*rec));
	rec->id = t->id;
	rec->secret_id = t->secret_id;
	strlcpy(rec->region, t->region, sizeof(rec->region));
	strlcpy(rec->secret_name, t->secret_name, sizeof(rec->secret_name));
	rec->has_func = t->func_urn != NULL;
	if (t->func_urn)
		strlcpy(rec->func_urn, t->func_urn, sizeof(rec->func_urn));
	strlcpy(rec->operate_type, t->operate_type ? t->operate_type : "FUNCTION",
			sizeof(rec->operate_type));
	rec->time = t->time;
	strlcpy(rec->error_code, t->error_code, sizeof(rec->error_code));
	strlcpy(rec->error_msg, t->error_msg, sizeof(rec->error_msg));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "secrets", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "csms_task_recorder_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "csms rotation task recorder for PID %d", MyProcPid);
	strlcpy(worker.bgw_type, "csms rotation task recorder", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	memcpy(worker.bgw_extra, &MyDatabaseId, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;

	if (RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		status = WaitForBackgroundWorkerStartup(handle, &pid);
		if (status == BGWH_STARTED)
			status = WaitForBackgroundWorkerShutdown(handle);
		done = rec->done;
		pfree(handle);
	}
	dsm_detach(seg);
	if (!done)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the failed rotation of secret \"%s\" could not be recorded as a task",
						t->secret_name),
				 errdetail("A background worker writes it, and none could run."),
				 errhint("Raise max_worker_processes.")));
}

void
csms_task_recorder_main(Datum arg)
{
	dsm_segment *seg;
	TaskRecord *rec;
	Oid			dbid;
	TaskRow		t;
	CsmsCall	call;

	BackgroundWorkerUnblockSignals();
	memcpy(&dbid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(1);
	rec = dsm_segment_address(seg);

	memset(&t, 0, sizeof(t));
	t.id = rec->id;
	t.secret_id = rec->secret_id;
	t.region = rec->region;
	t.secret_name = rec->secret_name;
	t.func_urn = rec->has_func ? rec->func_urn : NULL;
	t.operate_type = rec->operate_type;
	t.time = rec->time;
	t.attempts = 1;
	t.error_code = rec->error_code;
	t.error_msg = rec->error_msg;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "recording a failed rotation of secrets");
	csms_call_enter(&call, "csms rotation task recorder", false);
	task_insert(&t);
	csms_call_end(&call);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	rec->done = true;
	dsm_detach(seg);
	proc_exit(0);
}

/* Manual rotation (rotation.h) ------------------------------------------- */

void
csms_secret_rotate(CsmsCall *call, const char *name, CsmsRotation *out)
{
	Attempt		a;
	ErrorData  *err = NULL;

	memset(&a, 0, sizeof(a));
	a.call = call;
	a.name = name;
	a.s = csms_secret_open(call, name, CSMS_ACT_ROTATE, CSMS_PRIV_WRITE);
	plan_read(a.s, &a.p);
	check_rotatable(a.s, &a.p);	/* a refusal: no attempt, no task */
	csms_call_need_root_key(call);
	task_begin(&a, false, GetCurrentTransactionStartTimestamp());
	if (!guarded(manual_attempt, &a, &err))
	{
		task_failed(&a, err);
		record_failure_apart(&a.t);
		ReThrowError(err);
	}
	out->task_id = a.t.id;
	out->version = a.t.version;
}

/* Automatic rotation (rotation.h) ----------------------------------------- */

/*
 * Due secrets, oldest due first; each is then locked on its own when its
 * turn comes (q_due_lock), so that a slow rotation holds no other one.
 * Never a replica: it follows its primary.
 */
static CsmsStmt q_due_rotations = {
	"SELECT s.id, s.name, s.region FROM csms.secrets s"
	" WHERE s.auto_rotation AND s.next_rotation_time IS NOT NULL"
	"   AND s.next_rotation_time OPERATOR(pg_catalog.<=) $1"
	"   AND s.state OPERATOR(pg_catalog.=) 'ENABLED'"
	"   AND s.replica_type OPERATOR(pg_catalog.<>) 'REPLICA'"
	" ORDER BY s.next_rotation_time LIMIT $2",
	2, {TIMESTAMPTZOID, INT4OID}
};

/*
 * One due secret locked as the gate would (FOR NO KEY UPDATE), if it is
 * still due; SKIP LOCKED: one being changed, or rotated by a run at the
 * same time, waits for the next round.
 */
static CsmsStmt q_due_lock = {
	"SELECT s.id FROM csms.secrets s WHERE s.id OPERATOR(pg_catalog.=) $1"
	"   AND s.auto_rotation AND s.next_rotation_time OPERATOR(pg_catalog.<=) $2"
	"   AND s.state OPERATOR(pg_catalog.=) 'ENABLED'"
	"   AND s.replica_type OPERATOR(pg_catalog.<>) 'REPLICA'"
	" FOR NO KEY UPDATE SKIP LOCKED",
	2, {UUIDOID, TIMESTAMPTZOID}
};

/* an automatic failure: one more in a row; the third turns auto_rotation off */
static CsmsStmt q_rotation_failed = {
	"UPDATE csms.secrets SET"
	" rotation_failures = COALESCE(rotation_failures, 0) OPERATOR(pg_catalog.+) 1,"
	" auto_rotation = COALESCE(rotation_failures, 0) OPERATOR(pg_catalog.+) 1"
	"   OPERATOR(pg_catalog.<) $3,"
	" next_rotation_time = CASE WHEN COALESCE(rotation_failures, 0) OPERATOR(pg_catalog.+) 1"
	"   OPERATOR(pg_catalog.<) $3 THEN $2 ELSE NULL END,"
	" update_time = CASE WHEN COALESCE(rotation_failures, 0) OPERATOR(pg_catalog.+) 1"
	"   OPERATOR(pg_catalog.<) $3 THEN update_time ELSE pg_catalog.now() END"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	" RETURNING rotation_failures, auto_rotation",
	3, {UUIDOID, TIMESTAMPTZOID, INT4OID}
};

/* An automatic attempt: the secret locked if still due, gated, rotated */
static void
due_attempt(Attempt *a)
{
	Datum		args[2];

	args[0] = UUIDPGetDatum(&a->id);
	args[1] = TimestampTzGetDatum(a->now);
	if (csms_exec(&q_due_lock, args, NULL, SPI_OK_SELECT, 1) == 0)
	{
		a->skipped = true;
		return;
	}
	a->s = csms_secret_open(a->call, a->name, CSMS_ACT_ROTATE, 0);
	plan_read(a->s, &a->p);
	task_begin(a, true, a->now);
	rotate(a->call, a->s, &a->p, &a->t);
}

/*
 * After a failed automatic attempt (rolled back): one failure more, the
 * retry an hour later or auto_rotation off, the task, the LOG line, and
 * SECRET_ROTATED_FAILED on the third.
 */
static void
due_failed(Attempt *a)
{
	Datum		args[3];
	bool		isnull;
	bool		still_on;
	CsmsSecret *s;

	/* the gate did not open it: open it now to record the failure */
	if (a->s == NULL)
	{
		a->s = csms_secret_open(a->call, a->name, CSMS_ACT_READ_META, 0);
		plan_read(a->s, &a->p);
		task_begin(a, true, a->now);
	}
	a->t.version = 0;
	a->t.success = false;
	a->t.error_code = a->fail_code;
	a->t.error_msg = a->fail_msg;
	s = a->s;
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = TimestampTzGetDatum(a->now + (TimestampTz) CSMS_ROTATION_RETRY_SECS * USECS_PER_SEC);
	args[2] = Int32GetDatum(CSMS_ROTATION_MAX_FAILURES);
	csms_exec(&q_rotation_failed, args, NULL, SPI_OK_UPDATE_RETURNING, 1);
	still_on = DatumGetBool(csms_col(0, 2, &isnull));
	task_insert(&a->t);
	ereport(LOG,
			(errmsg("automatic rotation of secret \"%s\" in region \"%s\" failed: %s",
					s->name, a->call->region, a->t.error_msg),
			 still_on ? 0 :
			 errdetail("It failed %d times in a row: auto_rotation is now off.",
					   CSMS_ROTATION_MAX_FAILURES)));
	if (!still_on && s->event)
	{
		CsmsEventSubject x = {s->id, s->name, a->call->region, s->secret_type, s->event,
		0, DT_NOBEGIN};

		csms_events_fire(CSMS_EVENT_ROTATED_FAILED, &x, 1);
	}
	/* the replicas show that auto_rotation is off */
	if (!still_on)
		csms_replicas_follow(a->call, s);
}

/*
 * Rotate one due secret of the batch, everything of it in subtransactions:
 * whatever fails, the batch goes on.  True when the secret moved on (it
 * rotated, or its failure is recorded).
 */
static bool
rotate_due(CsmsCall *call, const pg_uuid_t *id, const char *name, TimestampTz now)
{
	Attempt		a;
	ErrorData  *err = NULL;
	ErrorData  *err2 = NULL;

	memset(&a, 0, sizeof(a));
	a.call = call;
	a.name = name;
	a.id = *id;
	a.now = now;
	if (guarded(due_attempt, &a, &err))
		return !a.skipped;
	task_failed(&a, err);
	FreeErrorData(err);
	if (guarded(due_failed, &a, &err2))
		return true;
	/* not even the failure could be recorded: say so, leave it due */
	ereport(LOG,
			(errmsg("automatic rotation of secret \"%s\" in region \"%s\" failed and could not be recorded: %s",
					name, call->region, err2->message ? err2->message : "unknown error")));
	FreeErrorData(err2);
	return false;
}

uint64
csms_rotation_batch(CsmsCall *call, TimestampTz now, int limit)
{
	Datum		args[2];
	uint64		n,
				i,
				moved = 0;
	pg_uuid_t  *ids;
	char	  **names;
	char	  **regions;
	char		save_region[CSMS_NAME_MAXLEN + 1];
	char		save_project[33];
	bool		isnull;

	args[0] = TimestampTzGetDatum(now);
	args[1] = Int32GetDatum(limit);
	n = csms_exec(&q_due_rotations, args, NULL, SPI_OK_SELECT, 0);
	if (n == 0)
		return 0;
	ids = palloc(sizeof(pg_uuid_t) * n);
	names = palloc(sizeof(char *) * n);
	regions = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		ids[i] = *DatumGetUUIDP(csms_col(i, 1, &isnull));
		names[i] = csms_col_text(i, 2);
		regions[i] = csms_col_text(i, 3);
	}
	csms_call_need_root_key(call);
	strlcpy(save_region, call->region, sizeof(save_region));
	strlcpy(save_project, call->project_id, sizeof(save_project));
	for (i = 0; i < n; i++)
	{
		/* the secret's region is the call's while it rotates */
		strlcpy(call->region, regions[i], sizeof(call->region));
		if (!csms_region_project(regions[i], call->project_id))
			call->project_id[0] = '\0';
		if (rotate_due(call, &ids[i], names[i], now))
			moved++;
	}
	strlcpy(call->region, save_region, sizeof(call->region));
	strlcpy(call->project_id, save_project, sizeof(call->project_id));
	/* fewer than `limit` moved on: the batch loop stops (maintenance.c) */
	return moved;
}

/* Tasks --------------------------------------------------------------------- */

static CsmsStmt q_task_list = {
	"SELECT t.id, t.secret_name, t.rotation_func_urn, t.status, t.operate_type,"
	" t.trigger_type, t.task_time, t.attempt_nums, t.error_code, t.error_msg,"
	" 'v' OPERATOR(pg_catalog.||) t.version::pg_catalog.text"
	" FROM csms.secret_tasks t JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) t.secret_id"
	" WHERE t.region OPERATOR(pg_catalog.=) $1"
	"   AND ($2::pg_catalog.text IS NULL OR t.secret_name OPERATOR(pg_catalog.=) $2)"
	"   AND ($3::pg_catalog.text IS NULL OR t.status OPERATOR(pg_catalog.=) $3)"
	"   AND ($4::pg_catalog.uuid IS NULL OR t.id OPERATOR(pg_catalog.=) $4)"
	"   AND ($5::pg_catalog.int8 IS NULL OR t.seq OPERATOR(pg_catalog.<) $5)"
	"   AND ($7 OR csms.caller_may_see('secret', s.owner,"
	"        COALESCE(s.primary_id, s.id), s.name, s.region))"
	" ORDER BY t.seq DESC LIMIT $6",
	7, {TEXTOID, TEXTOID, TEXTOID, UUIDOID, INT8OID, INT4OID, BOOLOID}
};

static CsmsStmt q_task_seq = {
	"SELECT seq FROM csms.secret_tasks WHERE id OPERATOR(pg_catalog.=) $1"
	" AND region OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, TEXTOID}
};

void
csms_task_list(CsmsCall *call, ReturnSetInfo *rsinfo, const char *secret_name,
			   const char *status, const pg_uuid_t *task_id, int page_size,
			   const pg_uuid_t *marker)
{
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	uint64		n,
				i;

	if (marker)
	{
		Datum		margs[2];
		bool		isnull;

		margs[0] = UUIDPGetDatum(marker);
		margs[1] = csms_text_datum(call->region);
		if (csms_exec(&q_task_seq, margs, NULL, SPI_OK_SELECT, 1) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid marker \"%s\"", csms_uuid_text(marker)),
					 errdetail("The marker is the task_id of the last task of the previous page, in region \"%s\".",
							   call->region)));
		args[4] = csms_col(0, 1, &isnull);
	}
	else
		nulls[4] = 'n';
	args[0] = csms_text_datum(call->region);
	if (secret_name)
		args[1] = csms_text_datum(secret_name);
	else
		nulls[1] = 'n';
	if (status)
		args[2] = csms_text_datum(status);
	else
		nulls[2] = 'n';
	if (task_id)
		args[3] = UUIDPGetDatum(task_id);
	else
		nulls[3] = 'n';
	args[5] = Int32GetDatum(page_size);
	args[6] = BoolGetDatum(csms_acl_is_admin(call->save_uid));
	n = csms_exec(&q_task_list, args, nulls, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[11];
		bool		isnull[11];
		int			c;

		for (c = 0; c < 11; c++)
			values[c] = csms_col(i, c + 1, &isnull[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
}

static CsmsStmt q_task_retire = {
	"DELETE FROM csms.secret_tasks WHERE seq OPERATOR(pg_catalog.=) ANY (ARRAY("
	" SELECT t.seq FROM csms.secret_tasks t"
	" WHERE t.task_time OPERATOR(pg_catalog.<) $1"
	" ORDER BY t.task_time LIMIT $2))",
	2, {TIMESTAMPTZOID, INT4OID}
};

uint64
csms_task_retire(TimestampTz cutoff, int limit)
{
	Datum		args[2];

	args[0] = TimestampTzGetDatum(cutoff);
	args[1] = Int32GetDatum(limit);
	return csms_exec(&q_task_retire, args, NULL, SPI_OK_DELETE, 0);
}
