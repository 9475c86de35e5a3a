/*-------------------------------------------------------------------------
 *
 * frame.c
 *	  The call frame (see frame.h), the account row and the regions.
 *
 * src/frame.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"

#include "util.h"
#include "settings.h"
#include "validate.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "redact.h"
#include "keyring.h"
#include "frame.h"
#include "acl.h"

static CsmsStmt q_account = {
	"SELECT domain_id, root_check, home_region, home_project_id FROM csms.account",
	0, {0}
};

static CsmsStmt q_account_insert = {
	"INSERT INTO csms.account (domain_id, root_check, home_region, home_project_id, create_time)"
	" VALUES ($1, $2, $3, $4, pg_catalog.now())",
	4, {TEXTOID, BYTEAOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_region_project = {
	"SELECT project_id FROM csms.regions WHERE name OPERATOR(pg_catalog.=) $1"
	" UNION ALL SELECT home_project_id FROM csms.account"
	" WHERE home_region OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

static CsmsStmt q_region_names = {
	"SELECT pg_catalog.string_agg(n, ', ' ORDER BY n) FROM ("
	" SELECT home_region AS n FROM csms.account"
	" UNION ALL SELECT name FROM csms.regions) r",
	0, {0}
};

/*
 * The account row, cached per backend for the read path and the write
 * paths of the home region; forgotten with the catalog, which every write
 * to csms.account invalidates.
 */
static struct
{
	bool		valid;
	char		domain_id[33];
	uint8		root_check[CSMS_HMAC_LEN];
	char		home_region[CSMS_NAME_MAXLEN + 1];
} account;

/* Invalidation listener: the account row may have changed */
static void
account_forget(Oid relid)
{
	account.valid = false;
}

/* Fill the account cache from the latest committed row; false if it cannot be. */
static bool
account_load(void)
{
	uint64		generation = csms_catalog_generation();
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *s;
	bytea	   *check;

	if (account.valid)
		return true;
	csms_catalog_on_invalidate(account_forget);
	if (!csms_catalog_ok())
		return false;
	tup = csms_row_latest(CSMS_ACCOUNT, CSMS_ACCOUNT_PKEY, F_BOOLEQ, BoolGetDatum(true), &desc);
	if (!HeapTupleIsValid(tup) || generation != csms_catalog_generation())
		return false;
	s = TextDatumGetCString(heap_getattr(tup, csms_attnum(CSMS_ACCOUNT_DOMAIN_ID), desc, &isnull));
	check = DatumGetByteaPP(heap_getattr(tup, csms_attnum(CSMS_ACCOUNT_ROOT_CHECK), desc, &isnull));
	if (strlen(s) >= sizeof(account.domain_id) || VARSIZE_ANY_EXHDR(check) != CSMS_HMAC_LEN)
		return false;
	strlcpy(account.domain_id, s, sizeof(account.domain_id));
	memcpy(account.root_check, VARDATA_ANY(check), CSMS_HMAC_LEN);
	s = TextDatumGetCString(heap_getattr(tup, csms_attnum(CSMS_ACCOUNT_HOME_REGION), desc, &isnull));
	if (strlen(s) > CSMS_NAME_MAXLEN)
		return false;
	strlcpy(account.home_region, s, sizeof(account.home_region));
	account.valid = true;
	return true;
}

/* Is the session in the home region (csms.region empty or naming it)? */
static bool
in_home_region(const char *home)
{
	return csms_region_guc == NULL || csms_region_guc[0] == '\0' ||
		strcmp(csms_region_guc, home) == 0;
}

/* The account and region from the per-backend cache (frame.h) */
bool
csms_account_cached(CsmsCall *call)
{
	const char *region;

	AcceptInvalidationMessages();
	if (!account_load())
		return false;
	strlcpy(call->domain_id, account.domain_id, sizeof(call->domain_id));
	memcpy(call->root_check, account.root_check, CSMS_HMAC_LEN);
	strlcpy(call->home_region, account.home_region, sizeof(call->home_region));
	region = in_home_region(account.home_region) ? account.home_region : csms_region_guc;
	if (strlen(region) > CSMS_NAME_MAXLEN)
		return false;
	strlcpy(call->region, region, sizeof(call->region));
	return true;
}

/* The project id of a region (home or created), false if none */
bool
csms_region_project(const char *name, char *project_id_out)
{
	Datum		arg = csms_text_datum(name);

	if (csms_exec(&q_region_project, &arg, NULL, SPI_OK_SELECT, 1) == 0)
		return false;
	if (project_id_out)
		strlcpy(project_id_out, csms_col_text(0, 1), 33);
	return true;
}

/* Every region's name, for messages */
char *
csms_known_regions(void)
{
	csms_exec(&q_region_names, NULL, NULL, SPI_OK_SELECT, 1);
	return csms_col_text(0, 1);
}

/* SPI, the SQL scope, the owner (frame.h) */
void
csms_call_enter(CsmsCall *call, const char *fname, bool install)
{
	Oid			owner;

	memset(call, 0, sizeof(*call));
	call->fname = fname;
	call->caller_cxt = CurrentMemoryContext;
	csms_redact_note_call();
	if (!install)
		csms_catalog_require();
	owner = csms_schema_owner();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	call->connected = true;
	call->scope = csms_sql_scope_enter();

	/*
	 * Run the statements as the owner of the state.  The previous user is
	 * restored by csms_call_end, or by transaction or subtransaction abort
	 * when an error leaves early.
	 */
	GetUserIdAndSecContext(&call->save_uid, &call->save_sec);
	/* listings show what this caller may see (csms.caller_may_see) */
	call->prev_viewer = csms_acl_viewer();
	csms_acl_set_viewer(call->save_uid);
	SetUserIdAndSecContext(owner, call->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

/* The account, the session's region, the root key (see frame.h). */
static void
load_account(CsmsCall *call, int flags)
{
	bytea	   *check;
	char	   *s;

	/* the home region's calls take the account from the cache */
	if ((flags & CSMS_CACHED_ACCOUNT) && csms_account_cached(call) &&
		strcmp(call->region, call->home_region) == 0)
	{
		if (flags & CSMS_NEED_ROOT_KEY)
			csms_call_need_root_key(call);
		return;
	}

	if (csms_exec(&q_account, NULL, NULL, SPI_OK_SELECT, 2) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the account of extension \"secrets\" is missing"),
				 errhint("Drop and create the extension, or restore the table csms.account from a backup.")));
	strlcpy(call->domain_id, csms_col_text(0, 1), sizeof(call->domain_id));
	check = csms_col_bytea(0, 2);
	strlcpy(call->home_region, csms_col_text(0, 3), sizeof(call->home_region));
	s = csms_col_text(0, 4);

	if (in_home_region(call->home_region))
	{
		strlcpy(call->region, call->home_region, sizeof(call->region));
		strlcpy(call->project_id, s, sizeof(call->project_id));
	}
	else
	{
		if (strlen(csms_region_guc) > CSMS_NAME_MAXLEN ||
			!csms_region_project(csms_region_guc, call->project_id))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("region \"%s\" does not exist", csms_region_guc),
					 errdetail("Known regions: %s.", csms_known_regions()),
					 errhint("Set csms.region to one of the known regions, or to an empty string for the home region.")));
		strlcpy(call->region, csms_region_guc, sizeof(call->region));
	}

	if (VARSIZE_ANY_EXHDR(check) != CSMS_HMAC_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the root key check value of extension \"secrets\" is damaged")));
	memcpy(call->root_check, VARDATA_ANY(check), CSMS_HMAC_LEN);
	if (flags & CSMS_NEED_ROOT_KEY)
		csms_call_need_root_key(call);
}

/* csms_call_enter, then the account, region and root key */
void
csms_call_begin(CsmsCall *call, const char *fname, int flags)
{
	csms_call_enter(call, fname, false);
	load_account(call, flags);
}

/* Load and check the root key, for calls that find they need it late. */
void
csms_call_need_root_key(CsmsCall *call)
{
	if (call->root_key == NULL)
		call->root_key = csms_root_key_load(call->root_check, false);
}

/* Leave the SQL scope, restore the caller's user, finish SPI */
void
csms_call_end(CsmsCall *call)
{
	csms_sql_scope_leave(call->scope);
	csms_acl_set_viewer(call->prev_viewer);
	SetUserIdAndSecContext(call->save_uid, call->save_sec);
	if (call->connected)
	{
		SPI_finish();
		call->connected = false;
	}
}

/* 32 random hexadecimal digits: a domain or project id */
static char *
random_hex_id(void)
{
	uint8		b[16];
	char	   *out = palloc(33);

	if (csms_random_bytes(b, sizeof(b)) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	csms_hex_encode(b, sizeof(b), out);
	return out;
}

/* The account row (frame.h) */
void
csms_account_create(void)
{
	const char *home = (csms_region_guc && csms_region_guc[0]) ? csms_region_guc : "local";
	uint8		check[CSMS_HMAC_LEN];
	bytea	   *checkb;
	const uint8 *root;
	Datum		args[4];
	CsmsCall	call;

	csms_check_name("region", home);

	/* a changed or new key file must be read afresh */
	csms_keyring_reset();
	root = csms_root_key_load(NULL, true);
	csms_root_key_check_value(root, check);
	checkb = palloc(VARHDRSZ + CSMS_HMAC_LEN);
	SET_VARSIZE(checkb, VARHDRSZ + CSMS_HMAC_LEN);
	memcpy(VARDATA(checkb), check, CSMS_HMAC_LEN);

	csms_call_enter(&call, "csms.init_account", true);
	args[0] = csms_text_datum(random_hex_id());
	args[1] = PointerGetDatum(checkb);
	args[2] = csms_text_datum(home);
	args[3] = csms_text_datum(random_hex_id());
	csms_exec(&q_account_insert, args, NULL, SPI_OK_INSERT, 0);
	csms_call_end(&call);
}
