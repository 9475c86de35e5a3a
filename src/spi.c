/*-------------------------------------------------------------------------
 *
 * spi.c
 *	  Saved SPI plans and the SQL scope that pins search_path (see spi.h).
 *
 *	  Values are always passed as parameters, never interpolated.
 *
 * src/spi.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "util.h"
#include "spi.h"

/*
 * The scopes that are open, innermost last, and which of them pinned
 * search_path.  Kept here, not in the callers' structs, because an error
 * leaves the functions that own those: the (sub)transaction abort that
 * follows drops the scopes entered in the (sub)transaction that aborts
 * (scope_abort), and with them their GUC nest level, which the abort itself
 * pops.
 */
#define MAX_SCOPES 16

static struct
{
	int			xact_level;		/* GetCurrentTransactionNestLevel() at entry */
	int			guc_nest;		/* the GUC nest level it pinned, or 0 */
}			scopes[MAX_SCOPES];
static int	nscopes = 0;
static int	pinned_scope = -1;	/* the scope that pinned search_path, or -1 */

/* Drop the scopes entered at transaction nest level `level` or deeper. */
static void
scope_abort(int level)
{
	while (nscopes > 0 && scopes[nscopes - 1].xact_level >= level)
		nscopes--;
	if (pinned_scope >= nscopes)
		pinned_scope = -1;
}

/* A transaction abort drops every scope */
static void
scope_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		scope_abort(0);
}

/* A subtransaction abort drops the scopes it entered */
static void
scope_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		scope_abort(GetCurrentTransactionNestLevel());
}

/* Open a scope (spi.h) */
int
csms_sql_scope_enter(void)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(scope_xact_callback, NULL);
		RegisterSubXactCallback(scope_subxact_callback, NULL);
		registered = true;
	}
	if (nscopes == MAX_SCOPES)
		elog(ERROR, "call frames of extension \"secrets\" nested too deep");
	scopes[nscopes].xact_level = GetCurrentTransactionNestLevel();
	scopes[nscopes].guc_nest = 0;
	return nscopes++;
}

/* How many scopes are open: 0 outside the extension's calls (spi.h) */
int
csms_sql_scope_depth(void)
{
	return nscopes;
}

/* Leave a scope, popping its search_path pin */
void
csms_sql_scope_leave(int scope)
{
	if (scope != nscopes - 1)
		elog(ERROR, "call frames of extension \"secrets\" ended out of order");
	if (pinned_scope == scope)
	{
		AtEOXact_GUC(true, scopes[scope].guc_nest);
		pinned_scope = -1;
	}
	nscopes--;
}

/*
 * Pin search_path to pg_catalog, pg_temp for the rest of the innermost
 * scope, in a GUC nest level of its own, as a function's SET clause does:
 * whatever schema the caller put first, no name in a statement of the
 * extension can resolve to an object the caller made (functions and
 * operators are never looked up in pg_temp).  A call that runs no
 * statement pays nothing (a GUC nest level costs a call about 9,000
 * instructions: setting and restoring the GUC and recomputing both search
 * paths).
 */
static void
pin_search_path(void)
{
	if (nscopes == 0)
		elog(ERROR, "SQL of extension \"secrets\" run outside a call frame");
	if (pinned_scope >= 0)
		return;					/* an outer scope pinned it */
	scopes[nscopes - 1].guc_nest = NewGUCNestLevel();
	pinned_scope = nscopes - 1;
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

/* The plan of stmt, prepared and kept on first use. */
static void
stmt_prepare(CsmsStmt *stmt)
{
	if (stmt->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(stmt->sql, stmt->nargs, stmt->argtypes,
											  stmt->cursor_options);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		stmt->plan = plan;
	}
}

/* Prepare stmt once, pin search_path once per scope, run it (spi.h) */
uint64
csms_exec(CsmsStmt *stmt, Datum *values, const char *nulls, int expected,
		  long tcount)
{
	int			rc;

	pin_search_path();
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

	pin_search_path();
	stmt_prepare(stmt);
	rc = SPI_execute_snapshot(stmt->plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, tcount);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "unexpected SPI result %s for \"%.60s\"",
			 SPI_result_code_string(rc), stmt->sql);
	return SPI_processed;
}

/*
 * A utility statement whose text the caller built, every identifier and
 * literal in it quoted (ALTER ROLE of a rotation): no parameters, no plan
 * to keep, the pinned search_path.
 */
void
csms_exec_utility(const char *sql)
{
	int			rc;

	pin_search_path();
	rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "unexpected SPI result %s for a utility statement",
			 SPI_result_code_string(rc));
}

/* A column of a row of the last result */
Datum
csms_col(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* A text column as a C string, NULL for SQL NULL */
char *
csms_col_text(uint64 row, int col)
{
	bool		isnull;
	Datum		d = csms_col(row, col, &isnull);

	if (isnull)
		return NULL;
	return TextDatumGetCString(d);
}

/* A bytea column, detoasted */
bytea *
csms_col_bytea(uint64 row, int col)
{
	bool		isnull;
	Datum		d = csms_col(row, col, &isnull);

	if (isnull)
		return NULL;
	return DatumGetByteaPP(d);
}

/* A procedure's non-atomic connection, its commits, its end (spi.h) */
void
csms_spi_nonatomic_enter(void)
{
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
csms_spi_commit(void)
{
	if (csms_sql_scope_depth() != 0)
		elog(ERROR, "cannot commit inside a call of the extension");
	SPI_commit();
}

void
csms_spi_nonatomic_leave(void)
{
	SPI_finish();
}
