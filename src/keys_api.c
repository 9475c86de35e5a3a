/*-------------------------------------------------------------------------
 *
 * keys_api.c
 *	  SQL entry points for the account and master keys:
 *	  csms.init_account, csms_root_key_fingerprint, csms_create_key,
 *	  csms_list_keys, csms_enable_key, csms_disable_key, csms_rotate_key.
 *
 * src/keys_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/extension.h"
#include "utils/builtins.h"

#include "util.h"
#include "validate.h"
#include "keyring.h"
#include "frame.h"
#include "acl.h"
#include "keys.h"

PG_FUNCTION_INFO_V1(csms_init_account);
PG_FUNCTION_INFO_V1(csms_root_key_fingerprint);
PG_FUNCTION_INFO_V1(csms_create_key);
PG_FUNCTION_INFO_V1(csms_list_keys);
PG_FUNCTION_INFO_V1(csms_enable_key);
PG_FUNCTION_INFO_V1(csms_disable_key);
PG_FUNCTION_INFO_V1(csms_rotate_key);

/* csms.init_account(): called once, by the install script */
Datum
csms_init_account(PG_FUNCTION_ARGS)
{
	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("csms.init_account() may only be called by CREATE EXTENSION")));
	csms_account_create();
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
	char		hex[CSMS_HMAC_LEN * 2 + 1];
	char		out[20];

	csms_call_begin(&call, "csms_root_key_fingerprint", 0);
	csms_hex_encode(call.root_check, CSMS_HMAC_LEN, hex);
	snprintf(out, sizeof(out), "%.4s-%.4s-%.4s-%.4s", hex, hex + 4, hex + 8, hex + 12);
	csms_call_end(&call);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

/* csms_create_key(alias, description): a new master key of the region */
Datum
csms_create_key(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *alias = csms_arg_text(fcinfo, 0, "alias");
	char	   *description = csms_arg_text_opt(fcinfo, 1);
	CsmsKey    *key;
	HeapTuple	tup;

	csms_check_key_alias(alias);
	if (description)
		csms_check_description(description);

	csms_call_begin(&call, "csms_create_key", CSMS_NEED_ROOT_KEY);
	key = csms_key_create(&call, alias, description, NULL);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("key \"%s\" already exists in region \"%s\"", alias, call.region)));
	tup = csms_key_tuple(&call, csms_result_tupdesc(fcinfo), &key->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_list_keys(): the master keys of the session's region */
Datum
csms_list_keys(PG_FUNCTION_ARGS)
{
	CsmsCall	call;

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_keys", 0);
	csms_key_list(&call, (ReturnSetInfo *) fcinfo->resultinfo);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_enable_key and csms_disable_key */
static Datum
key_set_state(FunctionCallInfo fcinfo, const char *fname, const char *state)
{
	CsmsCall	call;
	char	   *ref = csms_arg_text(fcinfo, 0, "key");
	CsmsKey    *key;
	HeapTuple	tup;

	csms_call_begin(&call, fname, 0);
	key = csms_key_resolve(&call, ref, false, true);
	csms_acl_check_key(&call, key, call.region, CSMS_PRIV_KEY_MANAGE);
	csms_key_set_state(key, state);
	tup = csms_key_tuple(&call, csms_result_tupdesc(fcinfo), &key->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* csms_enable_key(key): the key encrypts and decrypts again */
Datum
csms_enable_key(PG_FUNCTION_ARGS)
{
	return key_set_state(fcinfo, "csms_enable_key", "ENABLED");
}

/* csms_disable_key(key): the key neither encrypts nor decrypts */
Datum
csms_disable_key(PG_FUNCTION_ARGS)
{
	return key_set_state(fcinfo, "csms_disable_key", "DISABLED");
}

/* csms_rotate_key(key): new material for new encryptions */
Datum
csms_rotate_key(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *ref = csms_arg_text(fcinfo, 0, "key");
	CsmsKey    *key;
	HeapTuple	tup;

	csms_call_begin(&call, "csms_rotate_key", CSMS_NEED_ROOT_KEY);
	key = csms_key_resolve(&call, ref, false, true);
	csms_acl_check_key(&call, key, call.region, CSMS_PRIV_KEY_MANAGE);
	csms_key_rotate(&call, key);
	tup = csms_key_tuple(&call, csms_result_tupdesc(fcinfo), &key->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
