/*-------------------------------------------------------------------------
 *
 * replicas_api.c
 *	  Regions and replica secrets: csms_create_region, csms_list_regions,
 *	  csms_create_replica, csms_delete_replica, csms_promote_replica, and
 *	  the replica sync.
 *
 *	  A region is a namespace of the account with its own project id, keys
 *	  and secret names.  A replica is a full copy of a secret in another
 *	  region: its own row in csms.secrets (replica_type REPLICA, primary_id
 *	  naming the primary), its own id, encrypted under a key of its region
 *	  with fresh data keys.  What a replica lists in csms_secret.replicas is
 *	  derived from those rows, never stored twice.
 *
 *	  Sync is state-based and has one entry: csms_replica_apply() makes a
 *	  replica equal to its primary -- metadata, state, tags, the set of
 *	  versions with their times, and stages -- re-encrypting only the values
 *	  of versions the replica does not have yet.  Every write that passes the
 *	  gate (csms_secret_open) on a PRIMARY marks the call, and csms_call_end
 *	  applies the primary's state to each of its replicas, so replicas change
 *	  in the same transaction as their primary and roll back with it.  A
 *	  later milestone can feed the same function with states that arrive from
 *	  another cluster.
 *
 * src/replicas_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "secrets.h"

PG_FUNCTION_INFO_V1(csms_create_region);
PG_FUNCTION_INFO_V1(csms_list_regions);
PG_FUNCTION_INFO_V1(csms_create_replica);
PG_FUNCTION_INFO_V1(csms_delete_replica);
PG_FUNCTION_INFO_V1(csms_promote_replica);

/* Regions ------------------------------------------------------------------ */

static CsmsStmt q_region_insert = {
	"INSERT INTO csms.regions (name, project_id, create_time)"
	" SELECT $1, $2, pg_catalog.now()"
	" WHERE NOT EXISTS (SELECT FROM csms.account WHERE home_region OPERATOR(pg_catalog.=) $1)"
	" ON CONFLICT DO NOTHING",
	2, {TEXTOID, TEXTOID}
};

static CsmsStmt q_region_list = {
	"SELECT n FROM (SELECT home_region AS n FROM csms.account"
	" UNION ALL SELECT name FROM csms.regions) r"
	" WHERE n OPERATOR(pg_catalog.<>) $1 ORDER BY n COLLATE pg_catalog.\"C\"",
	1, {TEXTOID}
};

static CsmsStmt q_region_project = {
	"SELECT project_id FROM csms.regions WHERE name OPERATOR(pg_catalog.=) $1"
	" UNION ALL SELECT home_project_id FROM csms.account"
	" WHERE home_region OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

Datum
csms_create_region(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	uint8		raw[16];
	char		project[33];
	Datum		args[2];

	csms_check_name("region", name);
	csms_call_begin(&call, "csms_create_region", 0);
	if (csms_random_bytes(raw, sizeof(raw)) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	csms_hex_encode(raw, sizeof(raw), project);
	args[0] = csms_text_datum(name);
	args[1] = csms_text_datum(project);
	if (csms_exec(&q_region_insert, args, NULL, SPI_OK_INSERT, 0) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("region \"%s\" already exists", name)));
	csms_call_end(&call);
	PG_RETURN_TEXT_P(cstring_to_text(project));
}

/* The regions where replicas may be created: all but the session's. */
Datum
csms_list_regions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CsmsCall	call;
	Datum		arg;
	uint64		n,
				i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	csms_call_begin(&call, "csms_list_regions", 0);
	arg = csms_text_datum(call.region);
	n = csms_exec(&q_region_list, &arg, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		value;
		bool		isnull;

		value = csms_col(i, 1, &isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	csms_call_end(&call);
	return (Datum) 0;
}

/* The sync -------------------------------------------------------------- */

static CsmsStmt q_apply_metadata = {
	"UPDATE csms.secrets r SET description = p.description,"
	" secret_type = p.secret_type, auto_rotation = p.auto_rotation,"
	" rotation_period = p.rotation_period, rotation_config = p.rotation_config,"
	" rotation_time = p.rotation_time, next_rotation_time = p.next_rotation_time,"
	" event_subscriptions = p.event_subscriptions,"
	" enterprise_project_id = p.enterprise_project_id,"
	" rotation_func_urn = p.rotation_func_urn, state = p.state,"
	" scheduled_delete_time = p.scheduled_delete_time,"
	" last_version = p.last_version, stage_names = p.stage_names,"
	" stage_versions = p.stage_versions, stage_times = p.stage_times,"
	" version_count = p.version_count, update_time = pg_catalog.now()"
	" FROM csms.secrets p"
	" WHERE p.id OPERATOR(pg_catalog.=) $1 AND r.id OPERATOR(pg_catalog.=) $2",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_apply_tags_clear = {
	"DELETE FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) $2"
	" AND $1 IS NOT NULL",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_apply_tags_copy = {
	"INSERT INTO csms.tags (secret_id, key, value)"
	" SELECT $2, key, value FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_apply_versions_drop = {
	"DELETE FROM csms.versions r WHERE r.secret_id OPERATOR(pg_catalog.=) $2"
	" AND NOT EXISTS (SELECT FROM csms.versions p"
	"  WHERE p.secret_id OPERATOR(pg_catalog.=) $1"
	"    AND p.version OPERATOR(pg_catalog.=) r.version)",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_apply_versions_missing = {
	"SELECT p.version, p.create_time, p.expire_time, p.key_id, p.key_version,"
	" p.wrapped_dek, p.ciphertext, k.alias, k.state"
	" FROM csms.versions p JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) p.key_id"
	" WHERE p.secret_id OPERATOR(pg_catalog.=) $1"
	" AND NOT EXISTS (SELECT FROM csms.versions r"
	"  WHERE r.secret_id OPERATOR(pg_catalog.=) $2"
	"    AND r.version OPERATOR(pg_catalog.=) p.version)"
	" ORDER BY p.version",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_apply_expiry = {
	"UPDATE csms.versions r SET expire_time = p.expire_time"
	" FROM csms.versions p WHERE p.secret_id OPERATOR(pg_catalog.=) $1"
	" AND r.secret_id OPERATOR(pg_catalog.=) $2"
	" AND r.version OPERATOR(pg_catalog.=) p.version"
	" AND (r.expire_time OPERATOR(pg_catalog.<>) p.expire_time"
	"  OR (r.expire_time IS NULL) OPERATOR(pg_catalog.<>) (p.expire_time IS NULL))",
	2, {UUIDOID, UUIDOID}
};

static CsmsStmt q_replica_of = {
	"SELECT r.id, r.region, r.kms_key_id, p.region, p.name"
	" FROM csms.secrets r JOIN csms.secrets p ON p.id OPERATOR(pg_catalog.=) r.primary_id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/*
 * Make replica `replica_id` equal to its primary `primary_id`: the one
 * function that applies a primary's change to a replica.
 */
static void
csms_replica_apply(CsmsCall *call, const pg_uuid_t *primary_id,
				   const pg_uuid_t *replica_id)
{
	Datum		args[2];
	bool		isnull;
	char	   *replica_region,
			   *primary_region,
			   *name;
	pg_uuid_t	replica_key_id;
	CsmsKey    *replica_key = NULL;
	SPITupleTable *missing;
	uint64		n,
				i;

	args[0] = UUIDPGetDatum(replica_id);
	if (csms_exec(&q_replica_of, args, NULL, SPI_OK_SELECT, 1) != 1)
		elog(ERROR, "replica vanished");
	replica_region = csms_col_text(0, 2);
	replica_key_id = *DatumGetUUIDP(csms_col(0, 3, &isnull));
	primary_region = csms_col_text(0, 4);
	name = csms_col_text(0, 5);

	args[0] = UUIDPGetDatum(primary_id);
	args[1] = UUIDPGetDatum(replica_id);
	csms_exec(&q_apply_metadata, args, NULL, SPI_OK_UPDATE, 0);
	csms_exec(&q_apply_tags_clear, args, NULL, SPI_OK_DELETE, 0);
	csms_exec(&q_apply_tags_copy, args, NULL, SPI_OK_INSERT, 0);
	csms_exec(&q_apply_versions_drop, args, NULL, SPI_OK_DELETE, 0);

	/* versions the replica lacks: decrypt from the primary, seal for the replica */
	n = csms_exec(&q_apply_versions_missing, args, NULL, SPI_OK_SELECT, 0);
	missing = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		HeapTuple	row = missing->vals[i];
		TupleDesc	desc = missing->tupdesc;
		int			version = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		CsmsKey    *from;
		bytea	   *plain;
		char		kind;

		csms_call_need_root_key(call);
		if (replica_key == NULL)
		{
			replica_key = csms_key_by_id(call, &replica_key_id);
			if (!replica_key->enabled)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("key \"%s\" of the replica of secret \"%s\" in region \"%s\" is disabled",
								replica_key->alias, name, replica_region),
						 errdetail("The change cannot reach the replica, so it is not made."),
						 errhint("Enable the key in region \"%s\", or delete the replica.", replica_region)));
			csms_key_material(call, replica_key, replica_key->version);
		}

		from = csms_key_for_version(call, DatumGetUUIDP(SPI_getbinval(row, desc, 4, &isnull)),
									TextDatumGetCString(SPI_getbinval(row, desc, 8, &isnull)),
									TextDatumGetCString(SPI_getbinval(row, desc, 9, &isnull)),
									DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull)));
		plain = csms_open_value(call, primary_id, primary_region, name, version, from,
								DatumGetByteaPP(SPI_getbinval(row, desc, 6, &isnull)),
								DatumGetByteaPP(SPI_getbinval(row, desc, 7, &isnull)),
								&kind);
		csms_wipe(from->material, CSMS_KEY_LEN);
		{
			Datum		create_time = SPI_getbinval(row, desc, 2, &isnull);
			Datum		expire_time = SPI_getbinval(row, desc, 3, &isnull);

			csms_store_version(call, replica_id, replica_region, version, replica_key,
							   kind, VARDATA(plain), VARSIZE(plain) - VARHDRSZ,
							   &create_time, isnull ? NULL : &expire_time, NULL);
		}
		csms_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	}
	if (replica_key)
		csms_wipe(replica_key->material, CSMS_KEY_LEN);

	csms_exec(&q_apply_expiry, args, NULL, SPI_OK_UPDATE, 0);
	csms_current_refresh(replica_id);
}

static CsmsStmt q_replicas_of = {
	"SELECT id FROM csms.secrets WHERE name OPERATOR(pg_catalog.=) $2"
	" AND primary_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY region FOR NO KEY UPDATE",
	2, {UUIDOID, TEXTOID}
};

/* Apply a primary's state to every one of its replicas. */
void
csms_replicas_sync(CsmsCall *call, const pg_uuid_t *primary_id, const char *name)
{
	Datum		args[2];
	SPITupleTable *replicas;
	uint64		n,
				i;

	args[0] = UUIDPGetDatum(primary_id);
	args[1] = csms_text_datum(name);
	n = csms_exec(&q_replicas_of, args, NULL, SPI_OK_SELECT, 0);
	replicas = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		pg_uuid_t	id = *DatumGetUUIDP(SPI_getbinval(replicas->vals[i],
													  replicas->tupdesc, 1, &isnull));

		csms_replica_apply(call, primary_id, &id);
	}
}

/* csms_secret.replicas ------------------------------------------------------ */

static CsmsStmt q_replica_rows = {
	"SELECT r.id, r.kms_key_id::pg_catalog.text,"
	" COALESCE(g.project_id, a.home_project_id), r.region, r.replica_type,"
	" 'InSync', r.create_time, r.update_time"
	" FROM csms.secrets r CROSS JOIN csms.account a"
	" LEFT JOIN csms.regions g ON g.name OPERATOR(pg_catalog.=) r.region"
	" WHERE (r.name OPERATOR(pg_catalog.=) $3 AND r.primary_id OPERATOR(pg_catalog.=) $1 AND $2)"
	"    OR (r.id OPERATOR(pg_catalog.=) (SELECT s.primary_id FROM csms.secrets s"
	"        WHERE s.id OPERATOR(pg_catalog.=) $1) AND NOT $2)"
	" ORDER BY r.region",
	3, {UUIDOID, BOOLOID, TEXTOID}
};

/*
 * The replicas array of a csms_secret: for a PRIMARY each replica, for a
 * REPLICA its primary, for a STANDALONE secret nothing.
 */
Datum
csms_replicas_datum(CsmsCall *call, Oid array_type, const pg_uuid_t *id,
					const char *name, const char *replica_type)
{
	Oid			elem_type = get_element_type(array_type);
	TupleDesc	desc;
	Datum	   *elems;
	Datum		args[3];
	SPITupleTable *rows;
	uint64		n,
				i;
	ArrayType  *arr;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (strcmp(replica_type, "STANDALONE") == 0)
		return PointerGetDatum(construct_empty_array(elem_type));

	args[0] = UUIDPGetDatum(id);
	args[1] = BoolGetDatum(strcmp(replica_type, "PRIMARY") == 0);
	args[2] = csms_text_datum(name);
	n = csms_exec(&q_replica_rows, args, NULL, SPI_OK_SELECT, 0);
	rows = SPI_tuptable;
	desc = lookup_rowtype_tupdesc_copy(elem_type, -1);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8];
		int			c;

		for (c = 0; c < 8; c++)
			values[c] = SPI_getbinval(rows->vals[i], rows->tupdesc, c + 1, &nulls[c]);
		elems[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	get_typlenbyvalalign(elem_type, &typlen, &typbyval, &typalign);
	arr = construct_array(elems, (int) n, elem_type, typlen, typbyval, typalign);
	return PointerGetDatum(arr);
}

/* csms_create_replica ------------------------------------------------------- */

static CsmsStmt q_replica_in_region = {
	"SELECT id, COALESCE(primary_id OPERATOR(pg_catalog.=) $3, false) FROM csms.secrets"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
	3, {TEXTOID, TEXTOID, UUIDOID}
};

static CsmsStmt q_replica_insert = {
	"INSERT INTO csms.secrets (id, region, name, state, kms_key_id, description,"
	" secret_type, auto_rotation, event_subscriptions, enterprise_project_id,"
	" create_time, update_time, replica_type, primary_id, last_version,"
	" stage_names, stage_versions, stage_times, version_count)"
	" SELECT $1, $2, p.name, p.state, $3, p.description, p.secret_type,"
	" p.auto_rotation, p.event_subscriptions, p.enterprise_project_id,"
	" pg_catalog.now(), pg_catalog.now(), 'REPLICA', p.id, p.last_version,"
	" p.stage_names, p.stage_versions, p.stage_times, p.version_count"
	" FROM csms.secrets p WHERE p.id OPERATOR(pg_catalog.=) $4"
	" ON CONFLICT DO NOTHING",
	4, {UUIDOID, TEXTOID, UUIDOID, UUIDOID}
};

static CsmsStmt q_set_replica_type = {
	"UPDATE csms.secrets SET replica_type = $2, primary_id = NULL"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TEXTOID}
};

static CsmsStmt q_make_primary = {
	"UPDATE csms.secrets SET replica_type = 'PRIMARY' WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_key_global = {
	"SELECT region FROM csms.keys WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/*
 * The key of the target region that encrypts a replica: csms/default there
 * by default (created if missing), a key of that region by id or alias, or
 * -- as the seed says -- a well-formed key id that does not exist yet, which
 * is created there with that id.
 */
static CsmsKey *
replica_key(CsmsCall *target, const char *ref)
{
	pg_uuid_t	uuid;
	CsmsKey    *key;
	Datum		arg;

	if (ref == NULL)
		return csms_key_resolve(target, NULL, true, false);
	if (csms_parse_uuid(ref, &uuid))
	{
		arg = UUIDPGetDatum(&uuid);
		if (csms_exec(&q_key_global, &arg, NULL, SPI_OK_SELECT, 1) == 0)
		{
			char	   *alias = psprintf("csms/%s", ref);

			key = csms_key_create(target, alias,
								  "Created for a replica secret, as the replica asked for this key id",
								  &uuid);
			if (key == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("key \"%s\" already exists in region \"%s\"", alias, target->region)));
			return key;
		}
		if (strcmp(csms_col_text(0, 1), target->region) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key %s belongs to region \"%s\", not to region \"%s\"",
							ref, csms_col_text(0, 1), target->region),
					 errdetail("A replica is encrypted under a key of its own region.")));
	}
	else
	{
		/* an alias: only of a key that exists there (the seed creates ids only) */
		static CsmsStmt q_alias_there = {
			"SELECT FROM csms.keys WHERE region OPERATOR(pg_catalog.=) $1"
			" AND alias OPERATOR(pg_catalog.=) $2 AND purpose OPERATOR(pg_catalog.=) 'secret'",
			2, {TEXTOID, TEXTOID}
		};
		Datum		args[2];

		args[0] = csms_text_datum(target->region);
		args[1] = csms_text_datum(ref);
		if (csms_exec(&q_alias_there, args, NULL, SPI_OK_SELECT, 1) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid key \"%s\" for a replica in region \"%s\"",
							csms_trunc(ref), target->region),
					 errdetail("A replica takes a key id (created in the target region if it does not exist there) or the alias of a key of the target region.")));
	}
	return csms_key_resolve(target, ref, false, false);
}

Datum
csms_create_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *region = csms_arg_text(fcinfo, 1, "region");
	char	   *key_ref = csms_arg_text_opt(fcinfo, 2);
	CsmsSecret *s;
	CsmsCall	target;
	CsmsKey    *key;
	pg_uuid_t	replica_id;
	Datum		args[4];
	bool		isnull;
	char	   *result;

	csms_check_name("region", region);
	csms_call_begin(&call, "csms_create_replica", CSMS_NEED_ROOT_KEY);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META);
	if (strcmp(s->replica_type, "REPLICA") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" in region \"%s\" is a replica", name, call.region),
				 errdetail("A replica of a replica cannot be created."),
				 errhint("Create the replica from the primary secret.")));
	if (strcmp(region, call.region) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret \"%s\" already lives in region \"%s\"", name, region),
				 errdetail("A replica goes to a region other than its primary's.")));

	/* the target region, as a call frame of its own */
	target = call;
	strlcpy(target.region, region, sizeof(target.region));
	args[0] = csms_text_datum(region);
	if (csms_exec(&q_region_project, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("region \"%s\" does not exist", region),
				 errdetail("Known regions: %s.", csms_known_regions())));
	strlcpy(target.project_id, csms_col_text(0, 1), sizeof(target.project_id));

	/* lock the primary: replicas of one secret are created one at a time */
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META);
	call.changed_primary = false;	/* the new replica is synced below */

	args[0] = csms_text_datum(region);
	args[1] = csms_text_datum(name);
	args[2] = UUIDPGetDatum(&s->id);
	if (csms_exec(&q_replica_in_region, args, NULL, SPI_OK_SELECT, 1) == 1)
	{
		if (DatumGetBool(csms_col(0, 2, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("secret \"%s\" already has a replica in region \"%s\"", name, region)));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret \"%s\" already exists in region \"%s\"", name, region),
				 errdetail("A replica has the name of its primary, and that name is taken in the target region.")));
	}

	key = replica_key(&target, key_ref);
	csms_key_require_enabled(key);

	csms_random_uuid(&replica_id);
	args[0] = UUIDPGetDatum(&replica_id);
	args[1] = csms_text_datum(region);
	args[2] = UUIDPGetDatum(&key->id);
	args[3] = UUIDPGetDatum(&s->id);
	if (csms_exec(&q_replica_insert, args, NULL, SPI_OK_INSERT, 0) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret \"%s\" already exists in region \"%s\"", name, region)));
	args[0] = UUIDPGetDatum(&s->id);
	csms_exec(&q_make_primary, args, NULL, SPI_OK_UPDATE, 0);
	csms_replica_apply(&call, &s->id, &replica_id);

	result = MemoryContextStrdup(call.caller_cxt, csms_uuid_text(&replica_id));
	csms_call_end(&call);
	PG_RETURN_DATUM(DirectFunctionCall1(uuid_in, CStringGetDatum(result)));
}

/* csms_delete_replica ------------------------------------------------------- */

static CsmsStmt q_replica_of_in = {
	"SELECT id FROM csms.secrets WHERE name OPERATOR(pg_catalog.=) $3"
	" AND region OPERATOR(pg_catalog.=) $2 AND primary_id OPERATOR(pg_catalog.=) $1",
	3, {UUIDOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_standalone_if_alone = {
	"UPDATE csms.secrets SET replica_type = 'STANDALONE'"
	" WHERE id OPERATOR(pg_catalog.=) $1 AND NOT EXISTS"
	" (SELECT FROM csms.secrets r WHERE r.name OPERATOR(pg_catalog.=) $2"
	"  AND r.primary_id OPERATOR(pg_catalog.=) $1)",
	2, {UUIDOID, TEXTOID}
};

/* Called in the primary's region: removes the replica in `region`. */
Datum
csms_delete_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *region = csms_arg_text(fcinfo, 1, "region");
	CsmsSecret *s;
	Datum		args[3];
	bool		isnull;
	pg_uuid_t	replica_id;

	csms_check_name("region", region);
	csms_call_begin(&call, "csms_delete_replica", 0);
	args[0] = csms_text_datum(region);
	if (csms_exec(&q_region_project, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("region \"%s\" does not exist", region),
				 errdetail("Known regions: %s.", csms_known_regions())));
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META);
	call.changed_primary = false;
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(region);
	args[2] = csms_text_datum(s->name);
	if (csms_exec(&q_replica_of_in, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" has no replica in region \"%s\"", name, region)));
	replica_id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	csms_secret_delete(&replica_id);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(s->name);
	csms_exec(&q_standalone_if_alone, args, NULL, SPI_OK_UPDATE, 0);
	csms_call_end(&call);
	PG_RETURN_VOID();
}

/* csms_promote_replica ------------------------------------------------------ */

/*
 * Called in the replica's region: the replica becomes a STANDALONE secret,
 * writable, and its primary forgets it.
 */
Datum
csms_promote_replica(PG_FUNCTION_ARGS)
{
	CsmsCall	call;
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsSecret *s;
	Datum		args[2];
	HeapTuple	tup;
	TupleDesc	tupdesc;
	static CsmsStmt q_lock_primary = {
		"SELECT FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {UUIDOID}
	};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	csms_call_begin(&call, "csms_promote_replica", 0);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META);
	if (strcmp(s->replica_type, "REPLICA") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" in region \"%s\" is not a replica", name, call.region)));
	/* the primary first, as every write does, then the replica */
	args[0] = UUIDPGetDatum(&s->primary_id);
	csms_exec(&q_lock_primary, args, NULL, SPI_OK_SELECT, 0);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum("STANDALONE");
	csms_exec(&q_set_replica_type, args, NULL, SPI_OK_UPDATE, 0);
	args[0] = UUIDPGetDatum(&s->primary_id);
	args[1] = csms_text_datum(s->name);	/* a replica has its primary's name */
	csms_exec(&q_standalone_if_alone, args, NULL, SPI_OK_UPDATE, 0);
	tup = csms_secret_tuple(&call, tupdesc, &s->id);
	csms_call_end(&call);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
