/*-------------------------------------------------------------------------
 *
 * util.h
 *	  The base of the PostgreSQL side of the extension: the limits of the
 *	  API, the message domain of its reports, and small helpers every layer
 *	  uses (ids, buffers that are wiped, arguments and result rows of SQL
 *	  functions).  Knows nothing of the extension's tables.
 *
 *	  Every PostgreSQL-side file includes this header (after postgres.h and
 *	  PostgreSQL's own), so that its ereports carry the extension's message
 *	  domain, which log redaction (redact.c) tells apart.
 *
 * src/util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_UTIL_H
#define CSMS_UTIL_H

#include "postgres.h"

#include "fmgr.h"
#include "access/tupdesc.h"
#include "utils/uuid.h"

#include "alloc.h"

#include "crypto.h"

#undef TEXTDOMAIN
#define TEXTDOMAIN PG_TEXTDOMAIN("secrets")

/* limits of the API (../shared/reference/csms-api.md, section 5) */
#define CSMS_NAME_MAXLEN		64
#define CSMS_VALUE_MAXLEN		32768
#define CSMS_DESCRIPTION_MAXLEN 2048
#define CSMS_MAX_VERSIONS		20
#define CSMS_MAX_STAGES			12
#define CSMS_MAX_TAGS			20
#define CSMS_PAGE_MAX			1000
#define CSMS_DEFAULT_KEY_ALIAS	"csms/default"

/* the kind of a value, the first byte of its sealed plaintext */
#define CSMS_KIND_STRING	's'
#define CSMS_KIND_BINARY	'b'

/* ids */
extern void csms_new_uuid(pg_uuid_t *uuid);
extern char *csms_uuid_text(const pg_uuid_t *uuid);
extern bool csms_parse_uuid(const char *s, pg_uuid_t *uuid);
extern char *csms_version_id(int version);
extern Datum csms_text_datum(const char *s);

/* a buffer for key material or plaintext, wiped when its memory context goes */
extern void *csms_alloc_sensitive(Size size);

/* the pure codecs' allocator for secret data: csms_alloc_sensitive */
extern const csms_allocator csms_sensitive_allocator;

/* arguments */
extern char *csms_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *csms_arg_text_opt(FunctionCallInfo fcinfo, int argno);

/* result rows */
extern TupleDesc csms_result_tupdesc(FunctionCallInfo fcinfo);
extern TupleDesc csms_result_rowtype(FunctionCallInfo fcinfo, bool *cached);
extern void csms_srf_in_memory(FunctionCallInfo fcinfo);

#endif							/* CSMS_UTIL_H */
