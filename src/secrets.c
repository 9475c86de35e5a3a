/*-------------------------------------------------------------------------
 *
 * secrets.c
 *	  Module entry: GUCs, the call frame every SQL entry point runs in, SPI
 *	  helpers with saved plans, regions, and small shared helpers.
 *
 *	  Security: SQL run here reaches schema csms as the owner of that schema,
 *	  after the entry point has done its own checks.  Every statement is
 *	  fully schema-qualified (relations, functions, operators and types), so
 *	  the caller's search_path cannot redirect anything.  Values are always
 *	  passed as parameters, never interpolated.
 *
 * src/secrets.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <string.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "secrets.h"

PG_MODULE_MAGIC;

char	   *csms_root_key_command = NULL;
char	   *csms_root_key_file = NULL;
char	   *csms_region_guc = NULL;
bool		csms_track_last_used = true;

void		_PG_init(void);

static void
root_key_source_assign(const char *newval, void *extra)
{
	/* a changed source means the cached root key and CMK material go */
	csms_keyring_reset();
}

void
_PG_init(void)
{
	DefineCustomStringVariable("csms.root_key_command",
							   "Shell command that prints the root key as 64 hexadecimal characters.",
							   "Takes precedence over csms.root_key_file and the key file in the data directory.",
							   &csms_root_key_command,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, root_key_source_assign, NULL);
	DefineCustomStringVariable("csms.root_key_file",
							   "File that holds the root key as 64 hexadecimal characters.",
							   "Used when csms.root_key_command is empty; when both are empty the file csms_root.key in the data directory is used.",
							   &csms_root_key_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, root_key_source_assign, NULL);
	DefineCustomStringVariable("csms.region",
							   "Region the session works in.",
							   "Empty means the home region of the account.",
							   &csms_region_guc,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("csms.track_last_used",
							 "Records when each secret's value was last read (last_used_time).",
							 "At most once a minute per secret. With shared_preload_libraries = 'secrets' reads are recorded in shared memory and written by a background worker; otherwise the read writes, except in a read-only transaction.",
							 &csms_track_last_used,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	csms_usage_init();
	csms_redact_init();
	MarkGUCPrefixReserved("csms");
}

/* SPI ----------------------------------------------------------------- */

static void
stmt_prepare(CsmsStmt *stmt)
{
	if (stmt->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(stmt->sql, stmt->nargs, stmt->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		stmt->plan = plan;
	}
}

uint64
csms_exec(CsmsStmt *stmt, Datum *values, const char *nulls, int expected,
		  long tcount)
{
	int			rc;

	csms_pin_search_path();
	stmt_prepare(stmt);
	rc = SPI_execute_plan(stmt->plan, values, nulls, false, tcount);
	if (rc != expected)
		elog(ERROR, "unexpected SPI result %s for \"%.60s\"",
			 SPI_result_code_string(rc), stmt->sql);
	return SPI_processed;
}

/*
 * A read-only query against the latest committed state (and this
 * transaction's own changes), whatever the isolation level: for filling
 * per-backend caches that relcache invalidations clear.  A cache filled from
 * an older snapshot (REPEATABLE READ) would outlive the invalidation that
 * should have cleared it.
 */
uint64
csms_exec_latest(CsmsStmt *stmt, Datum *values, const char *nulls, long tcount)
{
	int			rc;

	csms_pin_search_path();
	stmt_prepare(stmt);
	rc = SPI_execute_snapshot(stmt->plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, tcount);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "unexpected SPI result %s for \"%.60s\"",
			 SPI_result_code_string(rc), stmt->sql);
	return SPI_processed;
}

Datum
csms_col(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

bool
csms_is_null(uint64 row, int col)
{
	bool		isnull;

	(void) csms_col(row, col, &isnull);
	return isnull;
}

char *
csms_col_text(uint64 row, int col)
{
	bool		isnull;
	Datum		d = csms_col(row, col, &isnull);

	if (isnull)
		return NULL;
	return TextDatumGetCString(d);
}

bytea *
csms_col_bytea(uint64 row, int col)
{
	bool		isnull;
	Datum		d = csms_col(row, col, &isnull);

	if (isnull)
		return NULL;
	return DatumGetByteaPP(d);
}

Datum
csms_text_datum(const char *s)
{
	return CStringGetTextDatum(s);
}

/* The call frame --------------------------------------------------------- */

static CsmsStmt q_account = {
	"SELECT domain_id, root_check, home_region, home_project_id FROM csms.account",
	0, {0}
};

static CsmsStmt q_region = {
	"SELECT project_id FROM csms.regions WHERE name OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

static CsmsStmt q_region_names = {
	"SELECT pg_catalog.string_agg(n, ', ' ORDER BY n) FROM ("
	" SELECT home_region AS n FROM csms.account"
	" UNION ALL SELECT name FROM csms.regions) r",
	0, {0}
};

static Oid
csms_owner(void)
{
	Oid			nsp = get_namespace_oid("csms", true);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"csms\" of extension \"secrets\" does not exist"),
				 errhint("Run CREATE EXTENSION secrets.")));
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

bool
csms_region_exists(const char *name, char *project_id_out)
{
	Datum		arg = csms_text_datum(name);

	if (csms_exec(&q_region, &arg, NULL, SPI_OK_SELECT, 1) == 0)
		return false;
	if (project_id_out)
		strlcpy(project_id_out, csms_col_text(0, 1), 33);
	return true;
}

char *
csms_known_regions(void)
{
	csms_exec(&q_region_names, NULL, NULL, SPI_OK_SELECT, 1);
	return csms_col_text(0, 1);
}

/*
 * The frames that are open, innermost last, and which of them pinned
 * search_path.  Kept here, not in the callers' CsmsCall structs, because
 * an error leaves the functions that own those structs: the (sub)transaction
 * abort that follows drops the frames entered in the (sub)transaction that
 * aborts (frame_abort), and with them their GUC nest level, which the abort
 * itself pops.
 */
#define MAX_FRAMES 16

static struct
{
	int			xact_level;		/* GetCurrentTransactionNestLevel() at entry */
	int			guc_nest;		/* the GUC nest level it pinned, or 0 */
}			frames[MAX_FRAMES];
static int	nframes = 0;
static int	pinned_frame = -1;	/* the frame that pinned search_path, or -1 */

static void
frame_abort(int level)
{
	while (nframes > 0 && frames[nframes - 1].xact_level >= level)
		nframes--;
	if (pinned_frame >= nframes)
		pinned_frame = -1;
}

static void
frame_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		frame_abort(0);
}

static void
frame_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		frame_abort(GetCurrentTransactionNestLevel());
}

static void
frame_push(CsmsCall *call)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(frame_xact_callback, NULL);
		RegisterSubXactCallback(frame_subxact_callback, NULL);
		registered = true;
	}
	if (nframes == MAX_FRAMES)
		elog(ERROR, "call frames of extension \"secrets\" nested too deep");
	frames[nframes].xact_level = GetCurrentTransactionNestLevel();
	frames[nframes].guc_nest = 0;
	call->frame = nframes++;
}

/*
 * Pin search_path to pg_catalog, pg_temp for the rest of the innermost
 * call frame, in a GUC nest level of its own, as a function's SET clause
 * does: whatever schema the caller put first, no name in a statement of
 * the extension can resolve to an object the caller made (functions and
 * operators are never looked up in pg_temp).  csms_call_end pops the level;
 * an error pops it with the transaction or subtransaction it aborts.
 *
 * csms_exec calls this before it runs a statement: SQL texts are the only
 * place where the extension's code resolves a name, so a call that runs
 * none (the cached write paths: direct index lookups and row writes by
 * OID) needs no pin, and pays nothing for one (a GUC nest level costs a
 * call about 9,000 instructions: setting and restoring the GUC and
 * recomputing both search paths).
 */
void
csms_pin_search_path(void)
{
	if (nframes == 0)
		elog(ERROR, "SQL of extension \"secrets\" run outside a call frame");
	if (pinned_frame >= 0)
		return;					/* an outer frame pinned it */
	frames[nframes - 1].guc_nest = NewGUCNestLevel();
	pinned_frame = nframes - 1;
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

/*
 * The first half of csms_call_begin: connect SPI and become the owner of the
 * state.  The hot read path stops here and takes the account from its own
 * query; everything else continues with csms_call_load_account.
 */
void
csms_call_enter(CsmsCall *call, const char *fname)
{
	Oid			owner;

	memset(call, 0, sizeof(*call));
	call->fname = fname;
	csms_redact_note_call();
	call->caller_cxt = CurrentMemoryContext;

	owner = csms_owner();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	call->connected = true;

	/*
	 * Run the statements as the owner of the state.  The previous user is
	 * restored by csms_call_end, or by transaction or subtransaction abort
	 * when an error leaves early.
	 */
	GetUserIdAndSecContext(&call->save_uid, &call->save_sec);
	SetUserIdAndSecContext(owner, call->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	frame_push(call);
}

void
csms_call_begin(CsmsCall *call, const char *fname, int flags)
{
	csms_call_enter(call, fname);
	csms_call_load_account(call, flags);
}

/* The second half: the account, the session's region, the root key. */
void
csms_call_load_account(CsmsCall *call, int flags)
{
	bytea	   *check;
	char	   *s;

	/* the home region's calls take the account from the read path's cache */
	if ((flags & CSMS_CACHED_ACCOUNT) &&
		csms_account_cached(call->domain_id, call->root_check, call->home_region) &&
		(csms_region_guc == NULL || csms_region_guc[0] == '\0' ||
		 strcmp(csms_region_guc, call->home_region) == 0))
	{
		strlcpy(call->region, call->home_region, sizeof(call->region));
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

	if (csms_region_guc == NULL || csms_region_guc[0] == '\0' ||
		strcmp(csms_region_guc, call->home_region) == 0)
	{
		strlcpy(call->region, call->home_region, sizeof(call->region));
		strlcpy(call->project_id, s, sizeof(call->project_id));
	}
	else
	{
		if (strlen(csms_region_guc) > CSMS_NAME_MAXLEN ||
			!csms_region_exists(csms_region_guc, call->project_id))
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

/* Load and check the root key, for calls that find they need it late. */
void
csms_call_need_root_key(CsmsCall *call)
{
	if (call->root_key == NULL)
		call->root_key = csms_root_key_load(call->root_check, false);
}

void
csms_call_end(CsmsCall *call)
{
	/* replicas follow their primary in the same transaction */
	if (call->changed_primary)
	{
		call->changed_primary = false;
		csms_replicas_sync(call, &call->changed_primary_id, call->changed_primary_name);
	}
	if (call->frame != nframes - 1)
		elog(ERROR, "call frames of extension \"secrets\" ended out of order");
	if (pinned_frame == call->frame)
	{
		AtEOXact_GUC(true, frames[call->frame].guc_nest);
		pinned_frame = -1;
	}
	nframes--;
	SetUserIdAndSecContext(call->save_uid, call->save_sec);
	if (call->connected)
	{
		SPI_finish();
		call->connected = false;
	}
}

/* helpers ------------------------------------------------------------- */

void
csms_random_uuid(pg_uuid_t *uuid)
{
	if (csms_random_public(uuid->data, UUID_LEN) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;	/* version 4 */
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
}

char *
csms_uuid_text(const pg_uuid_t *uuid)
{
	/* uuid_out's form, without the fmgr round trip (every AAD needs one) */
	static const char hex[] = "0123456789abcdef";
	char	   *buf = palloc(UUID_LEN * 2 + 5);
	char	   *p = buf;
	int			i;

	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0f];
	}
	*p = '\0';
	return buf;
}

/* Strict lower- or upper-case 8-4-4-4-12 form only. */
bool
csms_parse_uuid(const char *s, pg_uuid_t *uuid)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	const char *p = s;
	int			g,
				i,
				o = 0;

	for (g = 0; g < 5; g++)
	{
		for (i = 0; i < groups[g]; i += 2)
		{
			uint8		b;

			if (csms_hex_decode(p, 2, &b, 1) != CSMS_OK)
				return false;
			uuid->data[o++] = b;
			p += 2;
		}
		if (g < 4)
		{
			if (*p != '-')
				return false;
			p++;
		}
	}
	return *p == '\0';
}

char *
csms_version_id(int version)
{
	return psprintf("v%d", version);
}

/* Sensitive buffers: wiped when their memory context is reset or deleted. */
typedef struct SensitiveBuf
{
	MemoryContextCallback cb;
	void	   *ptr;
	Size		size;
} SensitiveBuf;

static void
sensitive_wipe(void *arg)
{
	SensitiveBuf *b = (SensitiveBuf *) arg;

	csms_wipe(b->ptr, b->size);
}

void *
csms_alloc_sensitive(Size size)
{
	SensitiveBuf *b = palloc(sizeof(SensitiveBuf));

	b->ptr = palloc0(size);
	b->size = size;
	b->cb.func = sensitive_wipe;
	b->cb.arg = b;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &b->cb);
	return b->ptr;
}

/*
 * InitMaterializedSRF for a set that holds values: the same, with a
 * tuplestore that never spills to a temporary file.  A tuplestore keeps
 * work_mem in memory and writes the rest to base/pgsql_tmp, where plaintext
 * would outlive the query on disk; a set of values is bounded (at most
 * CSMS_PAGE_MAX values of CSMS_VALUE_MAXLEN bytes, 32 MB), so it is held in
 * memory whatever work_mem is.  The executor uses the function's tuplestore
 * as it is (a function in FROM or in the select list); what the caller's
 * query does with the rows afterwards (a sort, a hash) is the caller's.
 */
void
csms_srf_in_memory(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;

	InitMaterializedSRF(fcinfo, 0);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tuplestore_end(rsinfo->setResult);
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, INT_MAX);
	MemoryContextSwitchTo(old);
}

/*
 * The row type of the call's result from the type cache, when the call's
 * expression names it: a reference to drop with ReleaseTupleDesc (*cached
 * true).  Else get_call_result_type's copy, which that function builds anew
 * for every call.
 */
TupleDesc
csms_result_rowtype(FunctionCallInfo fcinfo, bool *cached)
{
	Oid			type = get_fn_expr_rettype(fcinfo->flinfo);
	TupleDesc	tupdesc;

	if (OidIsValid(type) && type != RECORDOID)
	{
		*cached = true;
		return lookup_rowtype_tupdesc(type, -1);
	}
	*cached = false;
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return tupdesc;
}
