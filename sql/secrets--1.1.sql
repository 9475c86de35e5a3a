/* sql/secrets--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION secrets" to load this file. \quit

/*
 * State lives in schema csms, owned by the extension and closed to ordinary
 * roles.  The API functions (csms_*) are C functions in the extension's
 * schema; they reach these tables as the owner of schema csms after their
 * own privilege and state checks, so callers need no privilege here.
 *
 * Nothing in these tables is plaintext: values are AES-256-GCM ciphertexts
 * under per-version data keys, data keys are wrapped by master key material,
 * and master key material is wrapped by the root key, which is never stored
 * in the database (see README.md, "Storage and encryption format").
 */
CREATE SCHEMA csms;
REVOKE ALL ON SCHEMA csms FROM PUBLIC;

-- The account: one row, made by CREATE EXTENSION.
CREATE TABLE csms.account (
	singleton		boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	domain_id		text NOT NULL CHECK (domain_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'),
	-- HMAC-SHA-256 of the label 'csms/root-key-check/v1' under the root key
	root_check		bytea NOT NULL CHECK (pg_catalog.length(root_check) OPERATOR(pg_catalog.=) 32),
	home_region		text NOT NULL,
	home_project_id	text NOT NULL CHECK (home_project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'),
	create_time		timestamptz NOT NULL
);

-- Regions of the account other than the home region (which lives in account).
CREATE TABLE csms.regions (
	name			text PRIMARY KEY CHECK (name OPERATOR(pg_catalog.~) '^[a-zA-Z0-9_-]{1,64}$'),
	project_id		text NOT NULL UNIQUE CHECK (project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'),
	create_time		timestamptz NOT NULL
);

-- Master keys (CMKs) and the region backup keys.
CREATE TABLE csms.keys (
	id				uuid PRIMARY KEY,
	region			text COLLATE pg_catalog."C" NOT NULL,
	alias			text NOT NULL,
	purpose			text NOT NULL CHECK (purpose OPERATOR(pg_catalog.=) ANY (ARRAY['secret', 'backup'])),
	state			text NOT NULL CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['ENABLED', 'DISABLED'])),
	description		text,
	current_version	integer NOT NULL CHECK (current_version OPERATOR(pg_catalog.>=) 1),
	create_time		timestamptz NOT NULL,
	update_time		timestamptz NOT NULL,
	UNIQUE (region, alias),
	/*
	 * The role that owns the key (1.1): its creator; the extension's owner
	 * for the keys the extension makes (csms/default, csms/backup).  A
	 * regrole, so that pg_dump writes it by name.
	 */
	owner			pg_catalog.regrole NOT NULL
);

-- Key material versions: nonce(12) || AES-256-GCM(root key, 32 bytes) || tag(16),
-- AAD 'csms/cmk/v1|<key id>|<version>'.
CREATE TABLE csms.key_versions (
	key_id			uuid NOT NULL REFERENCES csms.keys ON DELETE CASCADE,
	version			integer NOT NULL CHECK (version OPERATOR(pg_catalog.>=) 1),
	material		bytea NOT NULL CHECK (pg_catalog.length(material) OPERATOR(pg_catalog.=) 60),
	create_time		timestamptz NOT NULL,
	PRIMARY KEY (key_id, version)
);

/*
 * The hot tables -- secrets, versions -- have no foreign keys and no CHECK
 * constraints: every write to them is one of the extension's own
 * statements, after the C code has checked what a constraint would (names,
 * states, version numbers, that a key, secret or version exists), and a
 * constraint would cost more than the rest of a write (a foreign-key check
 * is a query per row, a CHECK is parsed again by every statement; see
 * bench/README.md).  The rules the code keeps:
 *   - a version's secret exists; each stage of a secret (stage_names[i],
 *     stage_versions[i]) names a version of it that exists; a version's
 *     (key_id, key_version) exists in key_versions (keys are never
 *     deleted), and so does a secret's kms_key_id;
 *   - deleting a secret deletes its versions and tags
 *     (csms_secret_delete, the one place), a pruned version holds no stage;
 *   - state and replica_type take the values listed at their columns.
 * A raw edit that breaks them makes the API refuse, never return a wrong
 * value: every ciphertext is bound to its secret, version and key
 * (sql/tamper.sql).
 */
CREATE TABLE csms.secrets (
	id				uuid PRIMARY KEY,
	/*
	 * A copy of the SYSCURRENT version's row of csms.versions, so that
	 * reading the latest value is one index lookup.  Kept by the code
	 * (csms_current_refresh) wherever SYSCURRENT moves or a data key is
	 * re-wrapped; NULL when there is no SYSCURRENT version.
	 *
	 * The columns a read uses come first, the fixed-width ones leading:
	 * a read takes the row apart only up to current_ciphertext, and the
	 * offsets of the first four are known without looking at the row.
	 * Behind twenty columns of varying width, taking them apart cost a
	 * read 1,000 instructions (callgrind, bench/profile.sh), a thirtieth
	 * of all it does above a bare SELECT.
	 */
	current_version	integer,
	current_key_version integer,
	current_key_id	uuid,
	state			text NOT NULL,	-- ENABLED, DISABLED, PENDING_DELETE, FROZEN
	current_wrapped_dek bytea,
	current_ciphertext bytea,
	region			text COLLATE pg_catalog."C" NOT NULL,	-- C: lookups by (region, name) compare bytes, whatever the database collation
	name			text COLLATE pg_catalog."C" NOT NULL,	-- ^[a-zA-Z0-9_-]{1,64}$, checked by the code
	kms_key_id		uuid NOT NULL,	-- a row of csms.keys
	description		text,
	secret_type		text NOT NULL,
	auto_rotation	boolean NOT NULL,
	rotation_period	text,
	rotation_config	jsonb,
	rotation_time	timestamptz,
	next_rotation_time timestamptz,
	event_subscriptions text[] NOT NULL,
	enterprise_project_id text NOT NULL,
	rotation_func_urn text,
	create_time		timestamptz NOT NULL,
	update_time		timestamptz NOT NULL,
	scheduled_delete_time timestamptz,
	replica_type	text NOT NULL DEFAULT 'STANDALONE',	-- STANDALONE, PRIMARY, REPLICA
	primary_id		uuid,			-- a REPLICA: its primary (kept by the code: no self-reference, which pg_dump would warn about).
									-- Not indexed: a replica has its primary's name, and the code finds replicas by (name, primary_id)
	last_version	integer NOT NULL,
	/*
	 * The stages: stage_names[i] (^[a-zA-Z0-9_-]{1,64}$, distinct) marks
	 * version stage_versions[i] since stage_times[i]; at most 12
	 * (CSMS_MAX_STAGES), in no particular order, the three arrays of one
	 * length.  Written by the code in one place (csms_stages_set and the
	 * inserts that make a secret), with the row's other columns, so that a
	 * new version is one HOT update of this row.  SYSCURRENT is the version
	 * that current_version copies.
	 */
	stage_names		text[] NOT NULL,
	stage_versions	integer[] NOT NULL,
	stage_times		timestamptz[] NOT NULL,
	/*
	 * How many rows of csms.versions the secret has (at most
	 * CSMS_MAX_VERSIONS, 20), kept by the code with every version insert
	 * and delete, so that a new version knows without counting whether the
	 * oldest version without a stage must go.
	 */
	version_count	integer NOT NULL,
	/*
	 * The role that owns the secret (1.1): its creator, the restoring role
	 * of a restored one, the primary's owner for a replica.  A regrole, so
	 * that pg_dump writes it by name.
	 */
	owner			pg_catalog.regrole NOT NULL,
	/*
	 * When the value was last read (the API's last_used_time; 1.1, before
	 * in a table of its own): '-infinity' for never.  A read replaces it
	 * only when it is csms.last_used_grain old, and then in place, as
	 * VACUUM writes pg_class's statistics: no row version, no transaction
	 * id, no row lock a change of the secret would wait for (the reader's
	 * own write, or with shared_preload_libraries the usage worker's).
	 * Never NULL, so that the row's length never changes.
	 */
	last_used_time	timestamptz NOT NULL DEFAULT '-infinity',
	/*
	 * While the secret is PENDING_DELETE (1.1): the state it had when its
	 * deletion was scheduled, which csms_cancel_secret_deletion gives back.
	 */
	state_before_deletion text,
	/*
	 * Automatic rotations that failed in a row since the last success
	 * (1.1): the third turns auto_rotation off.  NULL for none.
	 */
	rotation_failures integer,
	/*
	 * name first: a lookup compares names, and regions only between rows
	 * of one name (a secret and its replicas), never on the way down
	 */
	CONSTRAINT secrets_name_region_key UNIQUE (name, region)
)
/*
 * Room on each page for the updates a secret's row takes (a new version
 * with its stages and its copy, stage moves), so that they stay HOT: none
 * of them changes an indexed column.
 */
WITH (fillfactor = 75);
ALTER TABLE csms.secrets ALTER COLUMN current_ciphertext SET STORAGE EXTERNAL;

-- One row per version: the value sealed under a fresh data key (DEK), and the
-- DEK sealed under the master key's material version key_version.
--   ciphertext:  nonce || AES-256-GCM(dek, kind byte || value) || tag,
--                AAD 'csms/value/v1|<domain_id>|<region>|<secret id>|v<N>'
--   wrapped_dek: nonce || AES-256-GCM(cmk material, dek) || tag,
--                AAD 'csms/dek/v1|<secret id>|v<N>|<key id>|<key version>'
CREATE TABLE csms.versions (
	secret_id		uuid NOT NULL,	-- a row of csms.secrets
	version			integer NOT NULL,	-- 1 or more
	create_time		timestamptz NOT NULL,
	expire_time		timestamptz,
	key_id			uuid NOT NULL,	-- with key_version, a row of csms.key_versions
	key_version		integer NOT NULL,
	wrapped_dek		bytea NOT NULL,
	ciphertext		bytea NOT NULL,
	/*
	 * The expire_time that SECRET_VERSION_EXPIRED was fired for (1.1), by
	 * the maintenance once that time has passed: a version fires once per
	 * expiry, and again when its expiry is moved and passes again.
	 */
	expiry_announced timestamptz,
	PRIMARY KEY (secret_id, version)
);
-- ciphertext does not compress: do not let TOAST try
ALTER TABLE csms.versions ALTER COLUMN ciphertext SET STORAGE EXTERNAL;

CREATE TABLE csms.tags (
	secret_id		uuid NOT NULL REFERENCES csms.secrets ON DELETE CASCADE,
	key				text NOT NULL,
	value			text NOT NULL,
	PRIMARY KEY (secret_id, key)
);

/*
 * pg_dump carries the state (ciphertext and wrapped keys only).  Restoring a
 * dump runs CREATE EXTENSION, which makes a fresh account row, and then loads
 * the dumped one: the dumped account replaces the fresh one as long as the
 * fresh one holds nothing yet.
 */
CREATE FUNCTION csms.account_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF EXISTS (SELECT FROM csms.account) THEN
		IF EXISTS (SELECT FROM csms.secrets) OR EXISTS (SELECT FROM csms.keys)
			OR EXISTS (SELECT FROM csms.regions) THEN
			RAISE EXCEPTION 'the account of extension "secrets" already holds data'
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Restore a dump into a database where the extension was just created.';
		END IF;
		DELETE FROM csms.account;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER account_before_insert BEFORE INSERT ON csms.account
	FOR EACH ROW EXECUTE FUNCTION csms.account_before_insert();
REVOKE ALL ON FUNCTION csms.account_before_insert() FROM PUBLIC;

/*
 * The read path (value.c, frame.c, keyring.c) caches the account row and keys
 * per backend; a change to either table invalidates those caches in every
 * backend when it commits.
 */
CREATE FUNCTION csms.cache_invalidate() RETURNS trigger
AS 'MODULE_PATHNAME', 'csms_cache_invalidate' LANGUAGE C;
REVOKE ALL ON FUNCTION csms.cache_invalidate() FROM PUBLIC;
CREATE TRIGGER cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON csms.account FOR EACH STATEMENT EXECUTE FUNCTION csms.cache_invalidate();
CREATE TRIGGER cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON csms.keys FOR EACH STATEMENT EXECUTE FUNCTION csms.cache_invalidate();

SELECT pg_catalog.pg_extension_config_dump('csms.account', '');
SELECT pg_catalog.pg_extension_config_dump('csms.regions', '');
SELECT pg_catalog.pg_extension_config_dump('csms.keys', '');
SELECT pg_catalog.pg_extension_config_dump('csms.key_versions', '');
SELECT pg_catalog.pg_extension_config_dump('csms.secrets', '');
SELECT pg_catalog.pg_extension_config_dump('csms.versions', '');
SELECT pg_catalog.pg_extension_config_dump('csms.tags', '');

-- Result types ------------------------------------------------------------

CREATE TYPE @extschema@.csms_replica AS (
	id				uuid,
	kms_key_id		text,
	project_id		text,
	region			text,
	replica_type	text,
	status			text,
	created_at		timestamptz,
	updated_at		timestamptz
);

CREATE TYPE @extschema@.csms_secret AS (
	id				uuid,
	name			text,
	state			text,
	kms_key_id		text,
	description		text,
	create_time		timestamptz,
	update_time		timestamptz,
	scheduled_delete_time timestamptz,
	secret_type		text,
	auto_rotation	boolean,
	rotation_period	text,
	rotation_config	jsonb,
	rotation_time	timestamptz,
	next_rotation_time timestamptz,
	last_used_time	timestamptz,
	event_subscriptions text[],
	enterprise_project_id text,
	rotation_func_urn text,
	domain_id		text,
	region			text,
	replica_type	text,
	replicas		@extschema@.csms_replica[],
	owner			name
);

CREATE TYPE @extschema@.csms_version_metadata AS (
	id				text,
	create_time		timestamptz,
	expire_time		timestamptz,
	kms_key_id		text,
	secret_name		text,
	version_stages	text[]
);

CREATE TYPE @extschema@.csms_version AS (
	id				text,
	create_time		timestamptz,
	expire_time		timestamptz,
	kms_key_id		text,
	secret_name		text,
	version_stages	text[],
	secret_string	text,
	secret_binary	bytea
);

CREATE TYPE @extschema@.csms_stage AS (
	name			text,
	secret_name		text,
	update_time		timestamptz,
	version_id		text
);

CREATE TYPE @extschema@.csms_key AS (
	key_id			text,
	alias			text,
	region			text,
	state			text,
	description		text,
	key_version		integer,
	create_time		timestamptz,
	update_time		timestamptz,
	owner			name
);

-- Internal -----------------------------------------------------------------

-- Makes the account row: loads or generates the root key and stores its check
-- value.  Called once, below; not part of the API.
CREATE FUNCTION csms.init_account() RETURNS void
	AS 'MODULE_PATHNAME', 'csms_init_account' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION csms.init_account() FROM PUBLIC;

-- Root key ---------------------------------------------------------------

CREATE FUNCTION @extschema@.csms_root_key_fingerprint() RETURNS text
	AS 'MODULE_PATHNAME', 'csms_root_key_fingerprint' LANGUAGE C VOLATILE;

-- Master keys ------------------------------------------------------------

CREATE FUNCTION @extschema@.csms_create_key(alias text, description text DEFAULT NULL)
	RETURNS @extschema@.csms_key
	AS 'MODULE_PATHNAME', 'csms_create_key' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_list_keys()
	RETURNS SETOF @extschema@.csms_key
	AS 'MODULE_PATHNAME', 'csms_list_keys' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_enable_key(key text)
	RETURNS @extschema@.csms_key
	AS 'MODULE_PATHNAME', 'csms_enable_key' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_disable_key(key text)
	RETURNS @extschema@.csms_key
	AS 'MODULE_PATHNAME', 'csms_disable_key' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_rotate_key(key text)
	RETURNS @extschema@.csms_key
	AS 'MODULE_PATHNAME', 'csms_rotate_key' LANGUAGE C VOLATILE;

-- Secrets ----------------------------------------------------------------

CREATE FUNCTION @extschema@.csms_create_secret(
	name text,
	secret_string text DEFAULT NULL,
	secret_binary bytea DEFAULT NULL,
	kms_key_id text DEFAULT NULL,
	description text DEFAULT NULL,
	secret_type text DEFAULT 'COMMON',
	auto_rotation boolean DEFAULT false,
	rotation_period text DEFAULT NULL,
	rotation_config jsonb DEFAULT NULL,
	event_subscriptions text[] DEFAULT NULL,
	enterprise_project_id text DEFAULT NULL,
	rotation_func_urn text DEFAULT NULL,
	tags jsonb DEFAULT NULL)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_create_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_show_secret(name text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_show_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_list_secrets(
	page_size integer DEFAULT 50,
	marker text DEFAULT NULL,
	event_name text DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_list_secrets' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_update_secret(
	name text,
	kms_key_id text DEFAULT NULL,
	description text DEFAULT NULL,
	auto_rotation boolean DEFAULT NULL,
	rotation_period text DEFAULT NULL,
	event_subscriptions text[] DEFAULT NULL,
	rotation_func_urn text DEFAULT NULL)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_update_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_delete_secret(name text) RETURNS void
	AS 'MODULE_PATHNAME', 'csms_delete_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_enable_secret(name text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_enable_secret' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.csms_disable_secret(name text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_disable_secret' LANGUAGE C VOLATILE;

-- Versions and values ----------------------------------------------------

CREATE FUNCTION @extschema@.csms_create_secret_version(
	name text,
	secret_string text DEFAULT NULL,
	secret_binary bytea DEFAULT NULL,
	version_stages text[] DEFAULT NULL,
	expire_time timestamptz DEFAULT NULL)
	RETURNS @extschema@.csms_version_metadata
	AS 'MODULE_PATHNAME', 'csms_create_secret_version' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_list_secret_versions(
	name text,
	page_size integer DEFAULT 50,
	marker text DEFAULT NULL)
	RETURNS SETOF @extschema@.csms_version_metadata
	AS 'MODULE_PATHNAME', 'csms_list_secret_versions' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_show_secret_version(
	name text, version_id text DEFAULT 'latest')
	RETURNS @extschema@.csms_version
	AS 'MODULE_PATHNAME', 'csms_show_secret_version' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_get_secret_value(
	name text, version_id text DEFAULT 'latest')
	RETURNS text
	AS 'MODULE_PATHNAME', 'csms_get_secret_value' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_get_secret_binary(
	name text, version_id text DEFAULT 'latest')
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'csms_get_secret_binary' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_batch_get_secret_value(names text[])
	RETURNS SETOF @extschema@.csms_version
	AS 'MODULE_PATHNAME', 'csms_batch_get_secret_value' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_update_secret_version(
	name text, version_id text, expire_time timestamptz)
	RETURNS @extschema@.csms_version_metadata
	AS 'MODULE_PATHNAME', 'csms_update_secret_version' LANGUAGE C VOLATILE;

-- Stages -------------------------------------------------------------------

CREATE FUNCTION @extschema@.csms_update_secret_stage(
	name text, stage_name text, version_id text)
	RETURNS @extschema@.csms_stage
	AS 'MODULE_PATHNAME', 'csms_update_secret_stage' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_show_secret_stage(name text, stage_name text)
	RETURNS @extschema@.csms_stage
	AS 'MODULE_PATHNAME', 'csms_show_secret_stage' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_delete_secret_stage(name text, stage_name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'csms_delete_secret_stage' LANGUAGE C VOLATILE;

-- Backup and restore -------------------------------------------------------

CREATE FUNCTION @extschema@.csms_backup_secret(name text) RETURNS text
	AS 'MODULE_PATHNAME', 'csms_backup_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_restore(secret_blob text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_restore' LANGUAGE C VOLATILE;

-- Regions and replicas -------------------------------------------------------

CREATE FUNCTION @extschema@.csms_create_region(name text) RETURNS text
	AS 'MODULE_PATHNAME', 'csms_create_region' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_list_regions() RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'csms_list_regions' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_create_replica(name text, region text, kms_key_id text DEFAULT NULL)
	RETURNS uuid
	AS 'MODULE_PATHNAME', 'csms_create_replica' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_delete_replica(name text, region text) RETURNS void
	AS 'MODULE_PATHNAME', 'csms_delete_replica' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.csms_promote_replica(name text)
	RETURNS @extschema@.csms_secret
	AS 'MODULE_PATHNAME', 'csms_promote_replica' LANGUAGE C VOLATILE;

-- Passwords ----------------------------------------------------------------

CREATE FUNCTION @extschema@.csms_generate_random_password(
	length integer DEFAULT 32,
	exclude_characters text DEFAULT NULL,
	exclude_lowercase boolean DEFAULT false,
	exclude_uppercase boolean DEFAULT false,
	exclude_numbers boolean DEFAULT false,
	exclude_punctuation boolean DEFAULT false,
	include_space boolean DEFAULT false,
	require_each_included_type boolean DEFAULT false)
	RETURNS text
	AS 'MODULE_PATHNAME', 'csms_generate_random_password' LANGUAGE C VOLATILE;

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

-- Secure by default: nobody but superusers may call the API until an
-- administrator grants EXECUTE on what each role may call.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT d.objid::pg_catalog.regprocedure
		  FROM pg_catalog.pg_depend d
		 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
							  WHERE e.extname OPERATOR(pg_catalog.=) 'secrets')
		   AND d.deptype OPERATOR(pg_catalog.=) 'e'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f);
	END LOOP;
END
$$;

-- The account and the home region: the region named by csms.region at this
-- moment, else 'local'.
SELECT csms.init_account();
