/*-------------------------------------------------------------------------
 *
 * keys_api.c
 *	  SQL entry points for the account, the root key fingerprint and master
 *	  keys: csms_create_key, csms_list_keys, csms_enable_key,
 *	  csms_disable_key, csms_rotate_key.
 *
 * src/keys_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "secrets.h"

PG_FUNCTION_INFO_V1(csms_init_account);
PG_FUNCTION_INFO_V1(csms_root_key_fingerprint);
PG_FUNCTION_INFO_V1(csms_create_key);
PG_FUNCTION_INFO_V1(csms_list_keys);
PG_FUNCTION_INFO_V1(csms_enable_key);
PG_FUNCTION_INFO_V1(csms_disable_key);
PG_FUNCTION_INFO_V1(csms_rotate_key);

#define KEY_COLUMNS \
	"id::pg_catalog.text, alias, region, state, description, current_version," \
	" create_time, update_time"

static CsmsStmt q_account_insert = {
	"INSERT INTO csms.account (domain_id, root_check, home_region, home_project_id, create_time)"
	" VALUES ($1, $2, $3, $4, pg_catalog.now())",
	4, {TEXTOID, BYTEAOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_key_row = {
	"SELECT " KEY_COLUMNS " FROM csms.keys WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_key_list = {
	"SELECT " KEY_COLUMNS " FROM csms.keys"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND purpose OPERATOR(pg_catalog.=) 'secret'"
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

/*
 * Called once by the install script: loads the root key (generating
 * csms_root.key in the data directory when no source is configured), and
 * stores the account with the root key's check value and the home region.
 */
Datum
csms_init_account(PG_FUNCTION_ARGS)
{
	const char *home = (csms_region_guc && csms_region_guc[0]) ? csms_region_guc : "local";
	uint8		check[CSMS_HMAC_LEN];
	bytea	   *checkb;
	const uint8 *root;
	Datum		args[4];
	CsmsCall	call;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("csms.init_account() may only be called by CREATE EXTENSION")));
	csms_check_name("region", home);

	/* a changed or new key file must be read afresh */
	csms_keyring_reset();
	root = csms_root_key_load(NULL, true);
	csms_root_key_check_value(root, check);
	checkb = palloc(VARHDRSZ + CSMS_HMAC_LEN);
	SET_VARSIZE(checkb, VARHDRSZ + CSMS_HMAC_LEN);
	memcpy(VARDATA(checkb), check, CSMS_HMAC_LEN);

	csms_call_enter(&call, "csms.init_account");
	args[0] = csms_text_datum(random_hex_id());
	args[1] = PointerGetDatum(checkb);
	args[2] = csms_text_datum(home);
	args[3] = csms_text_datum(random_hex_id());
	csms_exec(&q_account_insert, args, NULL, SPI_OK_INSERT, 0);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/*
 * A short form of the stored check value, to compare clusters and key files
 * without revealing anything about the key: the first 8 bytes of
 * HMAC-SHA-256(root key, "csms/root-key-check/v1") in hex, in groups of 4.
 * Does not need the root key itself.
 */
Datum
csms_root_key_fingerprint(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	bytea	   *check;
	char		hex[CSMS_HMAC_LEN * 2 + 1];
	char	   *out;
	static CsmsStmt q = {"SELECT root_check FROM csms.account", 0, {0}};

	csms_call_begin(&call, "csms_root_key_fingerprint", 0);
	csms_exec(&q, NULL, NULL, SPI_OK_SELECT, 1);
	check = csms_col_bytea(0, 1);
	csms_hex_encode((const uint8 *) VARDATA_ANY(check),
					Min(VARSIZE_ANY_EXHDR(check), CSMS_HMAC_LEN), hex);
	out = MemoryContextAlloc(call.caller_cxt, 20);
	snprintf(out, 20, "%.4s-%.4s-%.4s-%.4s", hex, hex + 4, hex + 8, hex + 12);
	csms_call_end(&call);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

/* Build a csms_key tuple from row 0 of the last SPI result. */
static HeapTuple
key_tuple(CsmsCall *call, TupleDesc tupdesc, uint64 row)
{
	Datum		values[8];
	bool		nulls[8];
	int			i;
	MemoryContext old;
	HeapTuple	tup;

	for (i = 0; i < 8; i++)
		values[i] = csms_col(row, i + 1, &nulls[i]);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}

static Datum
key_result(CsmsCall *call, FunctionCallInfo fcinfo, const pg_uuid_t *id)
{
	TupleDesc	tupdesc;
	Datum		arg = UUIDPGetDatum(id);
	HeapTuple	tup;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (csms_exec(&q_key_row, &arg, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "key vanished");
	tup = key_tuple(call, tupdesc, 0);
	return HeapTupleGetDatum(tup);
}

static void
check_alias(const char *alias)
{
	const char *p;
	pg_uuid_t	u;

	for (p = alias; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == ':' || *p == '/' ||
			  *p == '_' || *p == '-') || (unsigned char) *p >= 0x80)
			break;
	if (*p != '\0' || p == alias || p - alias > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", csms_trunc(alias)),
				 errdetail("A key alias is 1 to 255 characters from a-z, A-Z, 0-9, \":\", \"/\", \"_\" and \"-\".")));
	if (csms_parse_uuid(alias, &u))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", alias),
				 errdetail("A key alias must not have the form of a key id (a UUID).")));
	if (strncmp(alias, "csms/", 5) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", alias),
				 errdetail("Aliases that start with \"csms/\" are reserved for keys the extension creates.")));
}

Datum
csms_create_key(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *alias;
	char	   *description = NULL;
	CsmsKey    *key;
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alias must not be NULL")));
	alias = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_alias(alias);
	if (!PG_ARGISNULL(1))
	{
		description = text_to_cstring(PG_GETARG_TEXT_PP(1));
		csms_check_description(description);
	}

	csms_call_begin(&call, "csms_create_key", CSMS_NEED_ROOT_KEY);
	key = csms_key_create(&call, alias, description, NULL);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("key \"%s\" already exists in region \"%s\"", alias, call.region)));
	result = key_result(&call, fcinfo, &key->id);
	csms_call_end(&call);
	return result;
}

Datum
csms_list_keys(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CsmsCall	call;
	Datum		arg;
	uint64		n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_keys", 0);
	arg = csms_text_datum(call.region);
	n = csms_exec(&q_key_list, &arg, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8];
		int			c;

		for (c = 0; c < 8; c++)
			values[c] = csms_col(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

static Datum
key_set_state(FunctionCallInfo fcinfo, const char *fname, const char *state)
{
	CsmsCall	call;
	CsmsKey    *key;
	Datum		args[2];
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must not be NULL")));
	csms_call_begin(&call, fname, 0);
	key = csms_key_resolve(&call, text_to_cstring(PG_GETARG_TEXT_PP(0)), false, true);
	args[0] = UUIDPGetDatum(&key->id);
	args[1] = csms_text_datum(state);
	csms_exec(&q_key_set_state, args, NULL, SPI_OK_UPDATE, 0);
	result = key_result(&call, fcinfo, &key->id);
	csms_call_end(&call);
	return result;
}

Datum
csms_enable_key(PG_FUNCTION_ARGS)
{
	return key_set_state(fcinfo, "csms_enable_key", "ENABLED");
}

Datum
csms_disable_key(PG_FUNCTION_ARGS)
{
	return key_set_state(fcinfo, "csms_disable_key", "DISABLED");
}

/*
 * New material version for new encryptions; older versions stay for
 * decrypting what they wrapped.
 */
Datum
csms_rotate_key(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	CsmsKey    *key;
	Datum		args[2];
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must not be NULL")));
	csms_call_begin(&call, "csms_rotate_key", CSMS_NEED_ROOT_KEY);
	key = csms_key_resolve(&call, text_to_cstring(PG_GETARG_TEXT_PP(0)), false, true);
	csms_key_require_enabled(key);
	csms_key_add_version(&call, key, key->version + 1);
	args[0] = UUIDPGetDatum(&key->id);
	args[1] = Int32GetDatum(key->version + 1);
	csms_exec(&q_key_bump, args, NULL, SPI_OK_UPDATE, 0);
	result = key_result(&call, fcinfo, &key->id);
	csms_call_end(&call);
	return result;
}
