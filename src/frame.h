/*-------------------------------------------------------------------------
 *
 * frame.h
 *	  The call frame every SQL entry point runs in:
 *
 *		CsmsCall	call;
 *		csms_call_begin(&call, "csms_xxx", CSMS_NEED_ROOT_KEY);
 *		... the domain's functions, which reach the tables ...
 *		csms_call_end(&call);
 *
 *	  csms_call_begin connects SPI, opens an SQL scope (whose first
 *	  statement pins search_path, spi.h), switches to the owner of schema
 *	  csms (so callers need no privilege on the tables; the switch is undone
 *	  by csms_call_end or, on error, by transaction abort), loads the account
 *	  row (from a per-backend cache when it can), resolves the session's
 *	  region and, when asked, loads and checks the root key.  It also tells
 *	  log redaction that the statement calls the extension.
 *
 * src/frame.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_FRAME_H
#define CSMS_FRAME_H

#include "postgres.h"

#include "context.h"

/* flags of csms_call_begin */
#define CSMS_NEED_ROOT_KEY		0x01	/* load and check the root key */
#define CSMS_CACHED_ACCOUNT		0x02	/* the account from the cache when the
										 * session works in the home region
										 * (call->project_id is then empty) */

extern void csms_call_begin(CsmsCall *call, const char *fname, int flags);

/*
 * The first half of csms_call_begin: SPI, the SQL scope, the owner; no
 * account.  For the usage worker and the install script's csms.init_account
 * (install: the extension may be at any version then).
 */
extern void csms_call_enter(CsmsCall *call, const char *fname, bool install);

extern void csms_call_need_root_key(CsmsCall *call);
extern void csms_call_end(CsmsCall *call);

/*
 * The account and the session's region into call (no SPI, no check that
 * the region exists: a region that does not is no secret there), from the
 * per-backend cache; false when it cannot be filled.  For the read path.
 */
extern bool csms_account_cached(CsmsCall *call);

/*
 * Create the account (the install script, through csms.init_account): the
 * root key loaded, or generated in the data directory when no source is
 * set, its check value stored with the home region (csms.region, or
 * "local") and fresh domain and project ids.
 */
extern void csms_account_create(void);

/* regions: the project id of one (false if there is none), the list of all */
extern bool csms_region_project(const char *name, char *project_id_out);
extern char *csms_known_regions(void);

#endif							/* CSMS_FRAME_H */
