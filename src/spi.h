/*-------------------------------------------------------------------------
 *
 * spi.h
 *	  The one way the extension runs SQL texts: saved SPI plans (CsmsStmt),
 *	  run inside an SQL scope that pins search_path.
 *
 *	  A scope is opened by the call frame (frame.c) for each call, after
 *	  SPI_connect; before the first statement of a scope, csms_exec pins
 *	  search_path to pg_catalog, pg_temp in a GUC nest level of its own,
 *	  popped when the scope is left or its (sub)transaction aborts.  SQL
 *	  texts are the only place where the extension's code resolves a name
 *	  (scripts/check-sql.pl checks that they qualify every name anyway, and
 *	  that SPI is called nowhere else), so a call that runs none pays
 *	  nothing for the pin.
 *
 * src/spi.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SPI_H
#define CSMS_SPI_H

#include "postgres.h"

#include "executor/spi.h"

#define CSMS_MAX_ARGS			24

/*
 * A saved SPI plan, prepared on first use.  cursor_options: 0 (the plan
 * cache chooses), CURSOR_OPT_CUSTOM_PLAN for a statement whose plan must
 * depend on its values (planned for them at every run, never generically),
 * or CURSOR_OPT_GENERIC_PLAN for one whose plan is good for any values
 * (planned once, until an invalidation).
 */
typedef struct CsmsStmt
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CSMS_MAX_ARGS];
	int			cursor_options;
	SPIPlanPtr	plan;
} CsmsStmt;

/*
 * Run stmt (expecting the SPI result code `expected`, else an error); the
 * number of rows.  csms_exec_latest: a read of the latest committed state
 * (and this transaction's changes), for caches that invalidations clear.
 */
extern uint64 csms_exec(CsmsStmt *stmt, Datum *values, const char *nulls,
						int expected, long tcount);
extern uint64 csms_exec_latest(CsmsStmt *stmt, Datum *values, const char *nulls,
							   long tcount);

/* column col (from 1) of row `row` of the last statement's result */
extern void csms_exec_utility(const char *sql);
extern Datum csms_col(uint64 row, int col, bool *isnull);
extern char *csms_col_text(uint64 row, int col);	/* NULL if SQL NULL */
extern bytea *csms_col_bytea(uint64 row, int col);

/* the SQL scope of a call frame: enter returns its handle for leave */
extern int	csms_sql_scope_enter(void);
extern void csms_sql_scope_leave(int scope);

/*
 * For a procedure that commits (CALL outside a transaction block): a
 * non-atomic SPI connection, a commit that starts the next transaction (no
 * call frame may be open), and its end.
 */
extern void csms_spi_nonatomic_enter(void);
extern void csms_spi_commit(void);
extern void csms_spi_nonatomic_leave(void);

/* the number of open scopes: 0 when no call of the extension runs */
extern int	csms_sql_scope_depth(void);

#endif							/* CSMS_SPI_H */
