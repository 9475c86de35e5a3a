/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Small helpers of the PostgreSQL side (see util.h).
 *
 * src/util.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "util.h"

/*
 * A new row id: a version 7 UUID (crypto.h), time-ordered, so that the index
 * entries of new secrets, versions, keys and tasks go to the right edge of
 * their indexes, not to a random page that a checkpoint then makes the next
 * write log whole.
 */
void
csms_new_uuid(pg_uuid_t *uuid)
{
	if (csms_uuid7(uuid->data) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a UUID")));
}

/* The text form of a UUID, as uuid_out writes it. */
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

/* "vN", the id of version N. */
char *
csms_version_id(int version)
{
	return psprintf("v%d", version);
}

/* A text datum of a C string. */
Datum
csms_text_datum(const char *s)
{
	return CStringGetTextDatum(s);
}

/* Sensitive buffers: wiped when their memory context is reset or deleted. */
typedef struct SensitiveBuf
{
	MemoryContextCallback cb;
	void	   *ptr;
	Size		size;
} SensitiveBuf;

/* the reset callback of a sensitive buffer */
static void
sensitive_wipe(void *arg)
{
	SensitiveBuf *b = (SensitiveBuf *) arg;

	csms_wipe(b->ptr, b->size);
}

/* size zeroed bytes in the current memory context, wiped when it is reset or deleted. */
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
 * The allocator of the pure codecs for secret data (payloads, JSON trees,
 * writer buffers): csms_alloc_sensitive, wiped when the memory context
 * goes, whatever path leaves; free wipes nothing more (the codecs wipe
 * before they free) and leaves the memory to the context.
 */
static void *
sensitive_codec_alloc(void *ctx, size_t size)
{
	return csms_alloc_sensitive(size);
}

static void
sensitive_codec_free(void *ctx, void *ptr)
{
}

const csms_allocator csms_sensitive_allocator = {sensitive_codec_alloc, sensitive_codec_free, NULL};

/* A text argument that must be given: 22023 when it is NULL. */
char *
csms_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* A text argument that may be NULL (not given). */
char *
csms_arg_text_opt(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* The row type of the call's result, built for this call. */
TupleDesc
csms_result_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return tupdesc;
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

	if (OidIsValid(type) && type != RECORDOID)
	{
		*cached = true;
		return lookup_rowtype_tupdesc(type, -1);
	}
	*cached = false;
	return csms_result_tupdesc(fcinfo);
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

