/*-------------------------------------------------------------------------
 *
 * replica.c
 *	  Regions and replica secrets (see replica.h).
 *
 * src/replica.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "util.h"
#include "validate.h"
#include "spi.h"
#include "keyring.h"
#include "envelope.h"
#include "frame.h"
#include "secret.h"
#include "version.h"
#include "event.h"
#include "replica.h"

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

/* A new region with a random project id */
void
csms_region_create(const char *name, char *project_out)
{
	uint8		raw[16];
	Datum		args[2];

	csms_check_name("region", name);
	if (csms_random_bytes(raw, sizeof(raw)) != CSMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	csms_hex_encode(raw, sizeof(raw), project_out);
	args[0] = csms_text_datum(name);
	args[1] = csms_text_datum(project_out);
	if (csms_exec(&q_region_insert, args, NULL, SPI_OK_INSERT, 0) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("region \"%s\" already exists", name)));
}

/* Every region but the call's, by name */
void
csms_region_list(CsmsCall *call, ReturnSetInfo *rsinfo)
{
	Datum		arg = csms_text_datum(call->region);
	uint64		n,
				i;

	n = csms_exec(&q_region_list, &arg, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		value;
		bool		isnull;

		value = csms_col(i, 1, &isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
}

/* A region that must exist, for the replica calls. */
static void
require_region(const char *region, char *project_out)
{
	csms_check_name("region", region);
	if (!csms_region_project(region, project_out))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("region \"%s\" does not exist", region),
				 errdetail("Known regions: %s.", csms_known_regions())));
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
	"SELECT r.id, r.region, r.kms_key_id, p.region, p.name, p.secret_type,"
	" p.event_subscriptions"
	" FROM csms.secrets r JOIN csms.secrets p ON p.id OPERATOR(pg_catalog.=) r.primary_id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/*
 * Make replica `replica_id` equal to its primary `primary_id`: the one
 * function that applies a primary's change to a replica.  With announce,
 * the versions it gains fire SECRET_VERSION_CREATED in the replica's
 * region (for the replica's subscription there); a new replica's copies
 * of existing versions do not.
 */
static void
replica_apply(CsmsCall *call, const pg_uuid_t *primary_id, const pg_uuid_t *replica_id,
			  bool announce)
{
	CsmsEventSubject *gained;
	char	   *secret_type;
	const char *event;
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
	secret_type = csms_col_text(0, 6);
	event = csms_event_subscribed(csms_col(0, 7, &isnull));

	args[0] = UUIDPGetDatum(primary_id);
	args[1] = UUIDPGetDatum(replica_id);
	csms_exec(&q_apply_metadata, args, NULL, SPI_OK_UPDATE, 0);
	csms_exec(&q_apply_tags_clear, args, NULL, SPI_OK_DELETE, 0);
	csms_exec(&q_apply_tags_copy, args, NULL, SPI_OK_INSERT, 0);
	csms_exec(&q_apply_versions_drop, args, NULL, SPI_OK_DELETE, 0);

	/* versions the replica lacks: decrypt from the primary, seal for the replica */
	n = csms_exec(&q_apply_versions_missing, args, NULL, SPI_OK_SELECT, 0);
	missing = SPI_tuptable;
	gained = palloc0(sizeof(CsmsEventSubject) * Max(n, 1));
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
			replica_key = csms_key_by_id(&replica_key_id);
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

			gained[i].id = *replica_id;
			gained[i].name = name;
			gained[i].region = replica_region;
			gained[i].secret_type = secret_type;
			gained[i].event = event;
			gained[i].version = version;
			gained[i].expire_time = isnull ? DT_NOBEGIN : DatumGetTimestampTz(expire_time);
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
	if (announce)
		csms_events_fire(CSMS_EVENT_VERSION_CREATED, gained, (int) n);
}

static CsmsStmt q_replicas_of = {
	"SELECT id FROM csms.secrets WHERE name OPERATOR(pg_catalog.=) $2"
	" AND primary_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY region FOR NO KEY UPDATE",
	2, {UUIDOID, TEXTOID}
};

/*
 * Apply a primary's state to every one of its replicas, locked in region
 * order (the order every writer takes them in).
 */
void
csms_replicas_follow(CsmsCall *call, const CsmsSecret *s)
{
	Datum		args[2];
	SPITupleTable *replicas;
	uint64		n,
				i;

	if (strcmp(s->replica_type, "PRIMARY") != 0)
		return;
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(s->name);
	n = csms_exec(&q_replicas_of, args, NULL, SPI_OK_SELECT, 0);
	replicas = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		pg_uuid_t	id = *DatumGetUUIDP(SPI_getbinval(replicas->vals[i],
													  replicas->tupdesc, 1, &isnull));

		replica_apply(call, &s->id, &id, true);
	}
}

static CsmsStmt q_replica_in_region = {
	"SELECT id, COALESCE(primary_id OPERATOR(pg_catalog.=) $3, false) FROM csms.secrets"
	" WHERE region OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
	3, {TEXTOID, TEXTOID, UUIDOID}
};

static CsmsStmt q_replica_insert = {
	"INSERT INTO csms.secrets (id, region, name, state, kms_key_id, description,"
	" secret_type, auto_rotation, event_subscriptions, enterprise_project_id,"
	" create_time, update_time, replica_type, primary_id, last_version,"
	" stage_names, stage_versions, stage_times, version_count, owner)"
	" SELECT $1, $2, p.name, p.state, $3, p.description, p.secret_type,"
	" p.auto_rotation, p.event_subscriptions, p.enterprise_project_id,"
	" pg_catalog.now(), pg_catalog.now(), 'REPLICA', p.id, p.last_version,"
	" p.stage_names, p.stage_versions, p.stage_times, p.version_count, p.owner"
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

/* A replica of a secret in another region (replica.h) */
void
csms_replica_create(CsmsCall *call, const char *name, const char *region,
					const char *key_ref, pg_uuid_t *replica_id)
{
	CsmsSecret *s;
	CsmsCall	target;
	CsmsKey    *key;
	Datum		args[4];
	bool		isnull;

	csms_check_name("region", region);
	csms_call_need_root_key(call);
	s = csms_secret_open(call, name, CSMS_ACT_READ_META, CSMS_PRIV_MANAGE);
	if (strcmp(s->replica_type, "REPLICA") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" in region \"%s\" is a replica", name, call->region),
				 errdetail("A replica of a replica cannot be created."),
				 errhint("Create the replica from the primary secret.")));
	if (strcmp(region, call->region) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret \"%s\" already lives in region \"%s\"", name, region),
				 errdetail("A replica goes to a region other than its primary's.")));

	/* the target region, as a call of its own */
	target = *call;
	strlcpy(target.region, region, sizeof(target.region));
	require_region(region, target.project_id);

	/* lock the primary: replicas of one secret are created one at a time */
	s = csms_secret_open(call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_MANAGE);

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
	csms_acl_check_key(call, key, region, CSMS_PRIV_USE);
	csms_key_require_enabled(key);

	csms_new_uuid(replica_id);
	args[0] = UUIDPGetDatum(replica_id);
	args[1] = csms_text_datum(region);
	args[2] = UUIDPGetDatum(&key->id);
	args[3] = UUIDPGetDatum(&s->id);
	if (csms_exec(&q_replica_insert, args, NULL, SPI_OK_INSERT, 0) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret \"%s\" already exists in region \"%s\"", name, region)));
	args[0] = UUIDPGetDatum(&s->id);
	csms_exec(&q_make_primary, args, NULL, SPI_OK_UPDATE, 0);
	replica_apply(call, &s->id, replica_id, false);
}

/* Delete a secret's replica in a region (replica.h) */
void
csms_replica_delete(CsmsCall *call, const char *name, const char *region)
{
	CsmsSecret *s;
	Datum		args[3];
	bool		isnull;
	pg_uuid_t	replica_id;

	require_region(region, NULL);
	s = csms_secret_open(call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_MANAGE);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(region);
	args[2] = csms_text_datum(s->name);
	if (csms_exec(&q_replica_of_in, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" has no replica in region \"%s\"", name, region)));
	replica_id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	csms_secrets_delete(&replica_id, 1);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum(s->name);
	csms_exec(&q_standalone_if_alone, args, NULL, SPI_OK_UPDATE, 0);
}

/*
 * Called in the replica's region: the replica becomes a STANDALONE secret,
 * writable, and its primary forgets it.
 */
void
csms_replica_promote(CsmsCall *call, const char *name, pg_uuid_t *id)
{
	CsmsSecret *s;
	Datum		args[2];
	static CsmsStmt q_lock_primary = {
		"SELECT FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {UUIDOID}
	};

	s = csms_secret_open(call, name, CSMS_ACT_READ_META, CSMS_PRIV_MANAGE);
	if (strcmp(s->replica_type, "REPLICA") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" in region \"%s\" is not a replica", name, call->region)));
	/* the primary first, as every write does, then the replica */
	args[0] = UUIDPGetDatum(&s->primary_id);
	csms_exec(&q_lock_primary, args, NULL, SPI_OK_SELECT, 0);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = csms_text_datum("STANDALONE");
	csms_exec(&q_set_replica_type, args, NULL, SPI_OK_UPDATE, 0);
	/* the grants of its primary, which held for it, are now its own */
	{
		static CsmsStmt q_grants_copy = {
			"INSERT INTO csms.grants (object_type, object_id, grantee, privileges, grant_time)"
			" SELECT g.object_type, $2, g.grantee, g.privileges, g.grant_time"
			" FROM csms.grants g WHERE g.object_type OPERATOR(pg_catalog.=) 'secret'"
			"  AND g.object_id OPERATOR(pg_catalog.=) $1",
			2, {UUIDOID, UUIDOID}
		};

		args[0] = UUIDPGetDatum(&s->primary_id);
		args[1] = UUIDPGetDatum(&s->id);
		csms_exec(&q_grants_copy, args, NULL, SPI_OK_INSERT, 0);
	}
	args[0] = UUIDPGetDatum(&s->primary_id);
	args[1] = csms_text_datum(s->name);	/* a replica has its primary's name */
	csms_exec(&q_standalone_if_alone, args, NULL, SPI_OK_UPDATE, 0);
	*id = s->id;
}
