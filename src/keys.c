/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  Master keys as objects of the API (see keys.h).
 *
 * src/keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "util.h"
#include "spi.h"
#include "keyring.h"
#include "frame.h"
#include "keys.h"

/* the columns of csms_key, in order */
#define KEY_COLUMNS \
	"id::pg_catalog.text, alias, region, state, description, current_version," \
	" create_time, update_time, pg_catalog.pg_get_userbyid(owner)"
#define KEY_NCOLS 9

static CsmsStmt q_key_row = {
	"SELECT " KEY_COLUMNS " FROM csms.keys WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_key_list = {
	"SELECT " KEY_COLUMNS " FROM csms.keys"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND purpose OPERATOR(pg_catalog.=) 'secret'"
	"   AND csms.caller_may_see('key', owner, id, alias, region)"
	" ORDER BY alias",
	1, {TEXTOID}
};

static CsmsStmt q_key_set_state = {
	"UPDATE csms.keys SET state = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TEXTOID}
};

static CsmsStmt q_key_bump = {
	"UPDATE csms.keys SET current_version = $2, update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, INT4OID}
};

/* The csms_key row of a key */
HeapTuple
csms_key_tuple(CsmsCall *call, TupleDesc tupdesc, const pg_uuid_t *id)
{
	Datum		arg = UUIDPGetDatum(id);
	Datum		values[KEY_NCOLS];
	bool		nulls[KEY_NCOLS];
	int			i;
	MemoryContext old;
	HeapTuple	tup;

	if (csms_exec(&q_key_row, &arg, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "key vanished");
	for (i = 0; i < KEY_NCOLS; i++)
		values[i] = csms_col(0, i + 1, &nulls[i]);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}

/* The secret keys of the call's region, by alias */
void
csms_key_list(CsmsCall *call, ReturnSetInfo *rsinfo)
{
	Datum		arg = csms_text_datum(call->region);
	uint64		n,
				i;

	n = csms_exec(&q_key_list, &arg, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[KEY_NCOLS];
		bool		nulls[KEY_NCOLS];
		int			c;

		for (c = 0; c < KEY_NCOLS; c++)
			values[c] = csms_col(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* Set the state of a key */
void
csms_key_set_state(CsmsKey *key, const char *state)
{
	Datum		args[2];

	args[0] = UUIDPGetDatum(&key->id);
	args[1] = csms_text_datum(state);
	csms_exec(&q_key_set_state, args, NULL, SPI_OK_UPDATE, 0);
}

/* A new material version that new encryptions use */
void
csms_key_rotate(CsmsCall *call, CsmsKey *key)
{
	Datum		args[2];

	csms_key_require_enabled(key);
	csms_call_need_root_key(call);
	csms_key_add_version(call, key, key->version + 1);
	args[0] = UUIDPGetDatum(&key->id);
	args[1] = Int32GetDatum(key->version + 1);
	csms_exec(&q_key_bump, args, NULL, SPI_OK_UPDATE, 0);
}
