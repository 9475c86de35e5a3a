/*-------------------------------------------------------------------------
 *
 * context.h
 *	  CsmsCall, the context an entry point runs in: the account, the
 *	  session's region, the root key once checked, and where results go.
 *	  The call frame (frame.c) fills it; the layers below it take it as
 *	  their argument and read it.
 *
 * src/context.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_CONTEXT_H
#define CSMS_CONTEXT_H

#include "postgres.h"

#include "util.h"

typedef struct CsmsCall
{
	const char *fname;			/* SQL name of the entry point */
	MemoryContext caller_cxt;	/* where results must be allocated */
	Oid			save_uid;		/* the caller's user id and security context */
	int			save_sec;
	int			scope;			/* the SQL scope (spi.h) */
	Oid			prev_viewer;	/* the listings' viewer before this call (acl.h) */
	bool		connected;		/* SPI is connected */
	/* the account */
	char		domain_id[33];
	char		home_region[CSMS_NAME_MAXLEN + 1];
	/* the session's region */
	char		region[CSMS_NAME_MAXLEN + 1];
	char		project_id[33];	/* empty when the account came from the cache */
	/* the verified root key, once a call needs it */
	const uint8 *root_key;
	uint8		root_check[CSMS_HMAC_LEN];	/* the account's check value */
} CsmsCall;

#endif							/* CSMS_CONTEXT_H */
