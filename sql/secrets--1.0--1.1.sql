/* sql/secrets--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION secrets UPDATE TO '1.1'" to load this file. \quit

/*
 * 1.1: the CHECK constraints name their operators with their schema.  The
 * 1.0 install script wrote them unqualified, and CREATE EXTENSION resolves
 * them in the schema the extension is created in: an operator that someone
 * who may create objects there had made with exactly matching argument
 * types would have been bound into the constraint, and would run as the
 * table's owner on every write.  Each constraint is made again, bound to
 * pg_catalog's operator, as a fresh 1.1 install makes it.
 */
ALTER TABLE csms.account
	DROP CONSTRAINT account_domain_id_check,
	ADD CONSTRAINT account_domain_id_check
		CHECK (domain_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'),
	DROP CONSTRAINT account_root_check_check,
	ADD CONSTRAINT account_root_check_check
		CHECK (pg_catalog.length(root_check) OPERATOR(pg_catalog.=) 32),
	DROP CONSTRAINT account_home_project_id_check,
	ADD CONSTRAINT account_home_project_id_check
		CHECK (home_project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$');
ALTER TABLE csms.regions
	DROP CONSTRAINT regions_name_check,
	ADD CONSTRAINT regions_name_check
		CHECK (name OPERATOR(pg_catalog.~) '^[a-zA-Z0-9_-]{1,64}$'),
	DROP CONSTRAINT regions_project_id_check,
	ADD CONSTRAINT regions_project_id_check
		CHECK (project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$');
ALTER TABLE csms.keys
	DROP CONSTRAINT keys_purpose_check,
	ADD CONSTRAINT keys_purpose_check
		CHECK (purpose OPERATOR(pg_catalog.=) ANY (ARRAY['secret', 'backup'])),
	DROP CONSTRAINT keys_state_check,
	ADD CONSTRAINT keys_state_check
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['ENABLED', 'DISABLED'])),
	DROP CONSTRAINT keys_current_version_check,
	ADD CONSTRAINT keys_current_version_check
		CHECK (current_version OPERATOR(pg_catalog.>=) 1);
ALTER TABLE csms.key_versions
	DROP CONSTRAINT key_versions_version_check,
	ADD CONSTRAINT key_versions_version_check
		CHECK (version OPERATOR(pg_catalog.>=) 1),
	DROP CONSTRAINT key_versions_material_check,
	ADD CONSTRAINT key_versions_material_check
		CHECK (pg_catalog.length(material) OPERATOR(pg_catalog.=) 60);

/*
 * 1.1: owners.  Every secret and key that 1.0 made belongs to the
 * extension's owner; hand them to their applications with
 * csms_reassign_owned() or csms_grant() (README, Access control).
 */
ALTER TABLE csms.keys ADD COLUMN owner pg_catalog.regrole;
UPDATE csms.keys SET owner = (SELECT e.extowner FROM pg_catalog.pg_extension e
							  WHERE e.extname OPERATOR(pg_catalog.=) 'secrets');
ALTER TABLE csms.keys ALTER COLUMN owner SET NOT NULL;
ALTER TABLE csms.secrets ADD COLUMN owner pg_catalog.regrole;
UPDATE csms.secrets SET owner = (SELECT e.extowner FROM pg_catalog.pg_extension e
								 WHERE e.extname OPERATOR(pg_catalog.=) 'secrets');
ALTER TABLE csms.secrets ALTER COLUMN owner SET NOT NULL;

/*
 * 1.1: last_used_time moves from csms.usage onto the secret's row, where
 * the read already is; reads write it in place (see the install script).
 * The UPDATE writes the column into every row: only a value stored in the
 * row itself can be overwritten in place.
 */
ALTER TABLE csms.secrets ADD COLUMN last_used_time timestamptz NOT NULL DEFAULT '-infinity';
UPDATE csms.secrets s
   SET last_used_time = COALESCE((SELECT u.last_used_time FROM csms.usage u
								   WHERE u.secret_id OPERATOR(pg_catalog.=) s.id),
								 '-infinity');
ALTER EXTENSION secrets DROP TABLE csms.usage;
DROP TABLE csms.usage;

ALTER TYPE @extschema@.csms_key ADD ATTRIBUTE owner name;
ALTER TYPE @extschema@.csms_secret ADD ATTRIBUTE owner name;

-- Access control (1.1) -----------------------------------------------------

/*
 * Grants of privileges on secrets and keys to roles, beyond their owners.
 * A grant names one secret or key by id (object_id; it goes when the
 * secret goes), or a pattern: the names (aliases for keys) that start with
 * prefix, in one region or, with region NULL, in every region.  Roles are
 * regroles, so that pg_dump writes them by name; a role that owns or holds
 * anything here cannot be dropped (pg_shdepend, see csms.role_dependencies).
 */
CREATE TABLE csms.grants (
	object_type		text NOT NULL CHECK (object_type OPERATOR(pg_catalog.=) ANY (ARRAY['secret', 'key'])),
	object_id		uuid,
	region			text COLLATE pg_catalog."C",
	prefix			text COLLATE pg_catalog."C",
	grantee			pg_catalog.regrole NOT NULL,
	privileges		text[] NOT NULL,
	grant_time		timestamptz NOT NULL,
	CHECK ((object_id IS NULL) OPERATOR(pg_catalog.<>) (prefix IS NULL)),
	CHECK (region IS NULL OR prefix IS NOT NULL),
	CHECK (pg_catalog.cardinality(privileges) OPERATOR(pg_catalog.>) 0 AND privileges
		   OPERATOR(pg_catalog.<@) ARRAY['read', 'write', 'describe', 'manage', 'use']::pg_catalog.text[])
);
CREATE UNIQUE INDEX grants_object_key ON csms.grants (object_type, object_id, grantee)
	WHERE object_id IS NOT NULL;
CREATE UNIQUE INDEX grants_pattern_key ON csms.grants
	(object_type, (COALESCE(region, ''::pg_catalog.text)), prefix, grantee)
	WHERE prefix IS NOT NULL;
SELECT pg_catalog.pg_extension_config_dump('csms.grants', '');
-- the privilege checks cache the grants per backend (acl.c)
CREATE TRIGGER cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON csms.grants FOR EACH STATEMENT EXECUTE FUNCTION csms.cache_invalidate();

/*
 * A role that owns a secret or key, or holds a grant, has a shared
 * dependency (pg_shdepend) on the table that says so, so that DROP ROLE
 * refuses to drop it, in every database, as for the objects it owns.  The
 * API records it as it writes; this trigger records it for rows that arrive
 * otherwise (pg_restore).  DROP OWNED BY removes a role's grants (csms.drop_owned); PostgreSQL
 * fires no event trigger for REASSIGN OWNED: csms_reassign_owned() is its
 * counterpart.
 */
CREATE FUNCTION csms.role_dependencies() RETURNS trigger
	AS 'MODULE_PATHNAME', 'csms_role_dependencies' LANGUAGE C;
REVOKE ALL ON FUNCTION csms.role_dependencies() FROM PUBLIC;
CREATE TRIGGER role_dependencies AFTER INSERT ON csms.secrets
	FOR EACH STATEMENT EXECUTE FUNCTION csms.role_dependencies();
CREATE TRIGGER role_dependencies AFTER INSERT ON csms.keys
	FOR EACH STATEMENT EXECUTE FUNCTION csms.role_dependencies();
CREATE TRIGGER role_dependencies AFTER INSERT ON csms.grants
	FOR EACH STATEMENT EXECUTE FUNCTION csms.role_dependencies();

CREATE FUNCTION csms.drop_owned() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'csms_drop_owned' LANGUAGE C;
REVOKE ALL ON FUNCTION csms.drop_owned() FROM PUBLIC;
CREATE EVENT TRIGGER csms_drop_owned ON ddl_command_start WHEN TAG IN ('DROP OWNED')
	EXECUTE FUNCTION csms.drop_owned();

-- the dependencies again, for every role (after pg_upgrade, which drops them)
CREATE FUNCTION csms.record_role_dependencies() RETURNS void
	AS 'MODULE_PATHNAME', 'csms_record_role_dependencies' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION csms.record_role_dependencies() FROM PUBLIC;
COMMENT ON FUNCTION csms.record_role_dependencies() IS 'Record the roles of every secret, key and grant as dependencies, as after pg_upgrade';

-- what a listing shows: the caller may describe the secret, see the key (acl.c)
CREATE FUNCTION csms.caller_may_see(object_type text, owner pg_catalog.regrole, id uuid,
									name text, region text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'csms_caller_may_see' LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION csms.caller_may_see(text, pg_catalog.regrole, uuid, text, text) FROM PUBLIC;

-- the administrators of every secret and key: superusers and its members
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) 'csms_admin') THEN
		CREATE ROLE csms_admin NOLOGIN;
	END IF;
END
$$;

CREATE TYPE @extschema@.csms_grant AS (
	object_type		text,
	object			text,
	region			text,
	grantee			name,
	privileges		text[],
	grant_time		timestamptz
);

CREATE FUNCTION @extschema@.csms_grant(secret text, to_role name, privileges text[])
	RETURNS @extschema@.csms_grant
	AS 'MODULE_PATHNAME', 'csms_grant' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_revoke(secret text, from_role name, privileges text[] DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_revoke' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_grant_key(key text, to_role name, privileges text[])
	RETURNS @extschema@.csms_grant
	AS 'MODULE_PATHNAME', 'csms_grant_key' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_revoke_key(key text, from_role name, privileges text[] DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_revoke_key' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_grants(secret text DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_grant
	AS 'MODULE_PATHNAME', 'csms_list_grants' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_has_privilege(role name, secret text, privilege text)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'csms_has_privilege' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_set_owner(secret text, new_owner name)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_set_owner' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_reassign_owned(old_role name, new_role name)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'csms_reassign_owned' LANGUAGE C VOLATILE;

-- the new functions, as every function of a fresh install: no EXECUTE for PUBLIC
REVOKE ALL ON FUNCTION @extschema@.csms_grant(text, name, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_revoke(text, name, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_grant_key(text, name, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_revoke_key(text, name, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_grants(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_has_privilege(name, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_set_owner(text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_reassign_owned(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION csms.caller_may_see(text, pg_catalog.regrole, uuid, text, text) FROM PUBLIC;

-- Tags (1.1) ---------------------------------------------------------------

/*
 * csms_list_resource_instances finds secrets by tags through this index:
 * each (key, value) of a filter, or a key with any value, is one range of
 * it, which holds the secret ids too (src/tag.c).
 */
CREATE INDEX tags_key_value_idx ON csms.tags (key, value, secret_id);

CREATE TYPE @extschema@.csms_tag AS (
	key				text,
	value			text
);

CREATE TYPE @extschema@.csms_project_tag AS (
	key				text,
	"values"		text[]
);

CREATE TYPE @extschema@.csms_resource_instance AS (
	resource_id		uuid,
	resource_name	text,
	tags			jsonb,
	total_count		bigint,
	resource_detail	@extschema@.csms_secret
);

CREATE FUNCTION @extschema@.csms_create_secret_tag(name text, key text, value text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_create_secret_tag' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_delete_secret_tag(name text, key text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_delete_secret_tag' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_batch_secret_tags(name text, action text, tags jsonb)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_batch_secret_tags' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_secret_tags(name text)
	RETURNS SETOF @extschema@.csms_tag
	AS 'MODULE_PATHNAME', 'csms_list_secret_tags' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_project_tags()
	RETURNS SETOF @extschema@.csms_project_tag
	AS 'MODULE_PATHNAME', 'csms_list_project_tags' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_resource_instances(
	action text,
	tags jsonb DEFAULT NULL,
	matches jsonb DEFAULT NULL,
	page_size integer DEFAULT 10,
	"offset" integer DEFAULT 0)
	RETURNS SETOF @extschema@.csms_resource_instance
	AS 'MODULE_PATHNAME', 'csms_list_resource_instances' LANGUAGE C VOLATILE;

-- the new functions, as every function of a fresh install: no EXECUTE for PUBLIC
REVOKE ALL ON FUNCTION @extschema@.csms_create_secret_tag(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_delete_secret_tag(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_batch_secret_tags(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_secret_tags(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_project_tags() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_resource_instances(text, jsonb, jsonb, integer, integer) FROM PUBLIC;

COMMENT ON TYPE @extschema@.csms_tag IS 'A tag of a secret: a key and its value';
COMMENT ON TYPE @extschema@.csms_project_tag IS 'A tag key of the secrets of a region, with every value it has there';
COMMENT ON TYPE @extschema@.csms_resource_instance IS 'A secret found by tags and name, with its tags and metadata, and how many were found';
COMMENT ON FUNCTION @extschema@.csms_create_secret_tag IS 'Tag a secret, or give a key it has a new value (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_delete_secret_tag IS 'Remove a tag from a secret (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_batch_secret_tags IS 'Create or delete 1 to 20 tags of a secret at once (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_list_secret_tags IS 'The tags of a secret, by key (privilege describe)';
COMMENT ON FUNCTION @extschema@.csms_list_project_tags IS 'The tag keys of the session''s region, with their values, on the secrets the caller may describe';
COMMENT ON FUNCTION @extschema@.csms_list_resource_instances IS 'Secrets of the session''s region that the caller may describe, by tags and name prefix: a page, or how many';

-- What \df+ and \dT+ show ------------------------------------------------------

COMMENT ON TYPE @extschema@.csms_replica IS 'A replica of a secret in another region, as csms_secret.replicas lists it';
COMMENT ON TYPE @extschema@.csms_secret IS 'The metadata of a secret (never a value)';
COMMENT ON TYPE @extschema@.csms_version_metadata IS 'The metadata of a version of a secret (never a value)';
COMMENT ON TYPE @extschema@.csms_version IS 'A version of a secret with its value (secret_string or secret_binary)';
COMMENT ON TYPE @extschema@.csms_stage IS 'A stage of a secret and the version it marks';
COMMENT ON TYPE @extschema@.csms_key IS 'A master key (CMK) of a region, without its material';
COMMENT ON TYPE @extschema@.csms_grant IS 'A grant of privileges on a secret or key, or on a name pattern, to a role';
COMMENT ON FUNCTION @extschema@.csms_root_key_fingerprint IS 'Fingerprint of the root key this database was created with (needs no key)';
COMMENT ON FUNCTION @extschema@.csms_create_key IS 'Create a master key in the session''s region, owned by the caller';
COMMENT ON FUNCTION @extschema@.csms_list_keys IS 'Master keys of the session''s region that the caller may see';
COMMENT ON FUNCTION @extschema@.csms_enable_key IS 'Enable a master key (privilege manage on it)';
COMMENT ON FUNCTION @extschema@.csms_disable_key IS 'Disable a master key: it neither encrypts nor decrypts (privilege manage on it)';
COMMENT ON FUNCTION @extschema@.csms_rotate_key IS 'Add a material version to a master key for new encryptions (privilege manage on it)';
COMMENT ON FUNCTION @extschema@.csms_create_secret IS 'Create a secret with version v1 (SYSCURRENT), owned by the caller';
COMMENT ON FUNCTION @extschema@.csms_show_secret IS 'The metadata of a secret (privilege describe)';
COMMENT ON FUNCTION @extschema@.csms_list_secrets IS 'Secrets of the session''s region that the caller may describe, by name, a page at a time';
COMMENT ON FUNCTION @extschema@.csms_update_secret IS 'Change a secret''s key, description, rotation or events (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_delete_secret IS 'Delete a secret with every version, at once (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_enable_secret IS 'Enable a secret: it serves its values again (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_disable_secret IS 'Disable a secret: it keeps its versions but serves no value (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_create_secret_version IS 'Add a version to a secret, SYSCURRENT unless stages are given (privilege write)';
COMMENT ON FUNCTION @extschema@.csms_list_secret_versions IS 'The versions of a secret, without values (privilege describe)';
COMMENT ON FUNCTION @extschema@.csms_show_secret_version IS 'A version of a secret with its value (privilege read)';
COMMENT ON FUNCTION @extschema@.csms_get_secret_value IS 'The secret_string of a version of a secret, latest by default (privilege read)';
COMMENT ON FUNCTION @extschema@.csms_get_secret_binary IS 'The secret_binary of a version of a secret, latest by default (privilege read)';
COMMENT ON FUNCTION @extschema@.csms_batch_get_secret_value IS 'The SYSCURRENT version of each secret named, with its value (privilege read on each)';
COMMENT ON FUNCTION @extschema@.csms_update_secret_version IS 'Change the expiry of a version (privilege write)';
COMMENT ON FUNCTION @extschema@.csms_update_secret_stage IS 'Attach a stage to a version, or move it there (privilege write)';
COMMENT ON FUNCTION @extschema@.csms_show_secret_stage IS 'The version a stage marks (privilege describe)';
COMMENT ON FUNCTION @extschema@.csms_delete_secret_stage IS 'Remove a custom stage (privilege write)';
COMMENT ON FUNCTION @extschema@.csms_backup_secret IS 'An encrypted backup blob of a secret with every version (privilege read)';
COMMENT ON FUNCTION @extschema@.csms_restore IS 'Recreate a secret from a backup blob of this account and region, owned by the caller';
COMMENT ON FUNCTION @extschema@.csms_create_region IS 'Create a region of the account; returns its project id';
COMMENT ON FUNCTION @extschema@.csms_list_regions IS 'The regions where replicas of the session''s secrets may be created';
COMMENT ON FUNCTION @extschema@.csms_create_replica IS 'Copy a secret into another region as a read-only replica (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_delete_replica IS 'Delete the replica of a secret in a region (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_promote_replica IS 'Make a replica a writable standalone secret (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_generate_random_password IS 'A random password from OpenSSL''s CSPRNG, without modulo bias';
COMMENT ON FUNCTION @extschema@.csms_grant IS 'Grant privileges on a secret, or on a name pattern (csms_admin), to a role';
COMMENT ON FUNCTION @extschema@.csms_revoke IS 'Revoke privileges (all by default) on a secret or name pattern from a role';
COMMENT ON FUNCTION @extschema@.csms_grant_key IS 'Grant privileges (use, manage) on a master key, or on an alias pattern (csms_admin), to a role';
COMMENT ON FUNCTION @extschema@.csms_revoke_key IS 'Revoke privileges (all by default) on a master key or alias pattern from a role';
COMMENT ON FUNCTION @extschema@.csms_list_grants IS 'Grants the caller may see, or those that hold for one secret';
COMMENT ON FUNCTION @extschema@.csms_has_privilege IS 'Whether a role holds a privilege (read, write, describe, manage) on a secret';
COMMENT ON FUNCTION @extschema@.csms_set_owner IS 'Give a secret (with its replicas) to another role, as ALTER ... OWNER TO';
COMMENT ON FUNCTION @extschema@.csms_reassign_owned IS 'Give every secret and key a role owns in this database to another role';

/*
 * 1.1: scheduled deletion keeps the state to give back on cancel; the
 * maintenance records which expiry of a version it announced.
 */
ALTER TABLE csms.secrets ADD COLUMN state_before_deletion text;
ALTER TABLE csms.secrets ADD COLUMN rotation_failures integer;
ALTER TABLE csms.versions ADD COLUMN expiry_announced timestamptz;

-- Lifecycle (1.1): scheduled deletion, version expiry, events ---------------

-- due deletions, found by the maintenance without a scan of every secret
CREATE INDEX secrets_deletion_due ON csms.secrets (scheduled_delete_time)
	WHERE scheduled_delete_time IS NOT NULL;
-- versions whose expiry has not been announced yet (SECRET_VERSION_EXPIRED)
CREATE INDEX versions_expiry_due ON csms.versions (expire_time)
	WHERE expire_time IS NOT NULL
	  AND (expiry_announced IS NULL OR expire_time OPERATOR(pg_catalog.<>) expiry_announced);

/*
 * Events of a region (the cloud's CreateSecretEvent): a secret that names
 * one in event_subscriptions has it fire for the event types it lists, while
 * it is ENABLED.  The notification goes to a pg_notify channel (target_name),
 * delivered when the change commits.  Managed by csms_admin; every caller may
 * see them (they hold no secret).
 */
CREATE TABLE csms.events (
	id				uuid PRIMARY KEY,
	region			text COLLATE pg_catalog."C" NOT NULL,
	name			text COLLATE pg_catalog."C" NOT NULL,	-- ^[a-zA-Z0-9_-]{1,64}$, checked by the code
	event_types		text[] NOT NULL,	-- 1..12 distinct of the five types, checked by the code
	state			text NOT NULL CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['ENABLED', 'DISABLED'])),
	target_type		text NOT NULL CHECK (target_type OPERATOR(pg_catalog.=) 'NOTIFY'),
	target_name		text NOT NULL,	-- the channel: ^[a-zA-Z0-9_-]{1,63}$, checked by the code
	create_time		timestamptz NOT NULL,
	update_time		timestamptz NOT NULL,
	CONSTRAINT events_name_region_key UNIQUE (name, region)
);
SELECT pg_catalog.pg_extension_config_dump('csms.events', '');

/*
 * Every notification sent (the cloud's notification records), kept three
 * months (the maintenance deletes older ones).  The payload (content) is
 * what the channel received: names, ids and times, never a value.
 */
CREATE TABLE csms.notification_records (
	id				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	create_time		timestamptz NOT NULL,
	region			text COLLATE pg_catalog."C" NOT NULL,
	event_name		text NOT NULL,
	secret_id		uuid NOT NULL,
	secret_name		text NOT NULL,
	secret_type		text NOT NULL,
	event_type		text NOT NULL,
	target_type		text NOT NULL,
	target_name		text NOT NULL,
	content			jsonb NOT NULL,
	status			text NOT NULL
);
CREATE INDEX notification_records_create_time ON csms.notification_records (create_time);
SELECT pg_catalog.pg_extension_config_dump('csms.notification_records', '');
SELECT pg_catalog.pg_extension_config_dump('csms.notification_records_id_seq', '');

CREATE TYPE @extschema@.csms_event AS (
	id				uuid,
	name			text,
	event_types		text[],
	state			text,
	notification	jsonb,
	create_time		timestamptz,
	update_time		timestamptz
);

CREATE TYPE @extschema@.csms_notification_record AS (
	id				bigint,
	create_time		timestamptz,
	event_name		text,
	event_type		text,
	secret_name		text,
	secret_type		text,
	target_type		text,
	target_name		text,
	status			text,
	content			jsonb
);

CREATE FUNCTION @extschema@.csms_schedule_secret_deletion(name text,
	recovery_window_in_days integer DEFAULT 30)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_schedule_secret_deletion' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_cancel_secret_deletion(name text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_cancel_secret_deletion' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_create_event(name text, event_types text[],
	state text DEFAULT 'ENABLED', notification jsonb DEFAULT NULL)
	RETURNS @extschema@.csms_event
	AS 'MODULE_PATHNAME', 'csms_create_event' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_show_event(name text)
	RETURNS @extschema@.csms_event
	AS 'MODULE_PATHNAME', 'csms_show_event' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_events(page_size integer DEFAULT 50, marker text DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_event
	AS 'MODULE_PATHNAME', 'csms_list_events' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_update_event(name text, event_types text[] DEFAULT NULL,
	state text DEFAULT NULL, notification jsonb DEFAULT NULL)
	RETURNS @extschema@.csms_event
	AS 'MODULE_PATHNAME', 'csms_update_event' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_delete_event(name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_delete_event' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_notification_records(page_size integer DEFAULT 50,
	marker bigint DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_notification_record
	AS 'MODULE_PATHNAME', 'csms_list_notification_records' LANGUAGE C VOLATILE;
-- a procedure: each batch of due work commits on its own (CALL it outside a transaction block)
CREATE PROCEDURE @extschema@.csms_run_maintenance()
	AS 'MODULE_PATHNAME', 'csms_run_maintenance' LANGUAGE C;

COMMENT ON TYPE @extschema@.csms_event IS 'An event: which changes of its subscribed secrets notify which channel';
COMMENT ON TYPE @extschema@.csms_notification_record IS 'A notification an event sent, with its payload (never a value)';
COMMENT ON FUNCTION @extschema@.csms_schedule_secret_deletion IS 'Schedule a secret''s deletion in 7 to 30 days; until then it serves no value and takes no change (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_cancel_secret_deletion IS 'Cancel a scheduled deletion: the secret gets back the state it had (privilege manage)';
COMMENT ON FUNCTION @extschema@.csms_create_event IS 'Create an event of the session''s region that notifies a pg_notify channel (csms_admin)';
COMMENT ON FUNCTION @extschema@.csms_show_event IS 'An event of the session''s region';
COMMENT ON FUNCTION @extschema@.csms_list_events IS 'Events of the session''s region, by name, a page at a time';
COMMENT ON FUNCTION @extschema@.csms_update_event IS 'Change an event''s types, state or channel (csms_admin)';
COMMENT ON FUNCTION @extschema@.csms_delete_event IS 'Delete an event no secret subscribes to (csms_admin)';
COMMENT ON FUNCTION @extschema@.csms_list_notification_records IS 'Notifications sent in the session''s region for secrets the caller may describe, newest first';
COMMENT ON PROCEDURE @extschema@.csms_run_maintenance IS 'Do the due work now: purge secrets due for deletion, announce expired versions, drop old notification records (csms_admin)';

REVOKE ALL ON FUNCTION @extschema@.csms_schedule_secret_deletion(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_cancel_secret_deletion(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_create_event(text, text[], text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_show_event(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_events(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_update_event(text, text[], text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_delete_event(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_notification_records(integer, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.csms_run_maintenance() FROM PUBLIC;

-- Rotation (1.1): rotate now, automatic rotation, the tasks ----------------

-- due automatic rotations, found by the maintenance without a scan of every secret
CREATE INDEX secrets_rotation_due ON csms.secrets (next_rotation_time)
	WHERE auto_rotation AND next_rotation_time IS NOT NULL;

/*
 * Every rotation, manual or automatic, successful or failed (the cloud's
 * ListSecretTask): what was rotated, how, when, the version it made or the
 * error it met (never a value).  Deleted with its secret; the maintenance
 * deletes tasks older than three months.
 */
CREATE TABLE csms.secret_tasks (
	seq				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,	-- the listing's order
	id				uuid NOT NULL UNIQUE,
	secret_id		uuid NOT NULL,	-- a row of csms.secrets (no foreign key: a failed rotation's task is written beside the secret's lock)
	region			text COLLATE pg_catalog."C" NOT NULL,
	secret_name		text COLLATE pg_catalog."C" NOT NULL,
	rotation_func_urn text,
	status			text NOT NULL CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['SUCCESS', 'FAILED'])),
	operate_type	text NOT NULL,	-- SINGLE_USER, MULTI_USER, FUNCTION
	trigger_type	text NOT NULL CHECK (trigger_type OPERATOR(pg_catalog.=) ANY (ARRAY['MANUAL', 'AUTOMATIC'])),
	task_time		timestamptz NOT NULL,
	attempt_nums	integer NOT NULL,	-- the attempts in a row this one ends (1 after a success)
	error_code		text,			-- FAILED: the SQLSTATE
	error_msg		text,			-- FAILED: the error's message (at most 512 characters)
	version			integer			-- SUCCESS: the version it made
);
CREATE INDEX secret_tasks_secret ON csms.secret_tasks (secret_id, seq);
CREATE INDEX secret_tasks_region ON csms.secret_tasks (region, seq);
CREATE INDEX secret_tasks_time ON csms.secret_tasks (task_time);
SELECT pg_catalog.pg_extension_config_dump('csms.secret_tasks', '');
SELECT pg_catalog.pg_extension_config_dump('csms.secret_tasks_seq_seq', '');

CREATE TYPE @extschema@.csms_rotation AS (
	rotation_task_id uuid,
	secret_name		text,
	version_id		text
);

CREATE TYPE @extschema@.csms_secret_task AS (
	task_id			uuid,
	secret_name		text,
	rotation_func_urn text,
	task_status		text,
	operate_type	text,
	trigger_type	text,
	task_time		timestamptz,
	attempt_nums	integer,
	task_error_code	text,
	task_error_msg	text,
	version_id		text
);

CREATE FUNCTION @extschema@.csms_rotate_secret(name text)
	RETURNS @extschema@.csms_rotation
	AS 'MODULE_PATHNAME', 'csms_rotate_secret' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_secret_tasks(secret_name text DEFAULT NULL,
	status text DEFAULT NULL, task_id uuid DEFAULT NULL, page_size integer DEFAULT 50,
	marker uuid DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_secret_task
	AS 'MODULE_PATHNAME', 'csms_list_secret_tasks' LANGUAGE C VOLATILE;

COMMENT ON TYPE @extschema@.csms_rotation IS 'A rotation: its task and the version it made SYSCURRENT';
COMMENT ON TYPE @extschema@.csms_secret_task IS 'A rotation task: how a secret was rotated, when, and the version made or the error met';
COMMENT ON FUNCTION @extschema@.csms_rotate_secret IS 'Rotate a secret now: a new SYSCURRENT version from its rotation (PG-ROLE: a new password set on the role), in this transaction (privilege write)';
COMMENT ON FUNCTION @extschema@.csms_list_secret_tasks IS 'Rotation tasks of the session''s region for secrets the caller may describe, newest first';

REVOKE ALL ON FUNCTION @extschema@.csms_rotate_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.csms_list_secret_tasks(text, text, uuid, integer, uuid) FROM PUBLIC;
