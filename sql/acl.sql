-- Access control (issue 14, ../shared/spec/api.md Milestone 5): owners,
-- the privileges on secrets (read, write, describe, manage) and keys (use,
-- manage), grants by name and pattern, csms_admin, inheritance, listings
-- that show only what the caller may describe, ownership and DROP ROLE.
SET client_min_messages = warning;
SELECT csms_create_region('eu') IS NOT NULL AS eu;

CREATE ROLE acl_exact;		-- holds exactly the privilege a call needs
CREATE ROLE acl_allbut;		-- holds every other one
CREATE ROLE acl_other;		-- the grantee of grants that calls make
CREATE ROLE acl_keyowner;
-- the first gate (EXECUTE) open for them: the second is the subject here
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT d.objid FROM pg_depend d
			  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
				AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
				AND d.objid::regprocedure::text LIKE 'csms\_%'
	LOOP
		EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO acl_exact, acl_allbut, acl_keyowner', f);
	END LOOP;
END
$$;

-- a call as a role: 'ok', or its SQLSTATE and message
CREATE FUNCTION acl_try(role name, region text, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text := 'ok';
BEGIN
	PERFORM set_config('csms.region', region, false);
	BEGIN
		EXECUTE format('SET ROLE %I', role);
		EXECUTE sql;
		RESET ROLE;
	EXCEPTION WHEN OTHERS THEN
		RESET ROLE;
		result := SQLSTATE || ': ' || SQLERRM;
	END;
	PERFORM set_config('csms.region', '', false);
	RETURN result;
END
$$;

-- the fixture of each row: secret mx (a string, stage LBL on v1, a replica
-- in eu), mb (binary), key mk (owned by acl_keyowner) and a backup of mk-s
CREATE FUNCTION acl_fixture() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	blob text;
BEGIN
	PERFORM set_config('csms.region', 'eu', false);
	PERFORM csms_delete_secret(name) FROM csms_list_secrets(1000) WHERE replica_type <> 'REPLICA';
	PERFORM set_config('csms.region', '', false);
	PERFORM csms_delete_replica(s.name, r.region)
	   FROM csms_list_secrets(1000) s, unnest(s.replicas) r;
	PERFORM csms_delete_secret(name) FROM csms_list_secrets(1000);
	PERFORM csms_revoke_key(k, r) FROM unnest('{mk,eu:mk}'::text[]) k,
		unnest('{acl_exact,acl_allbut,acl_other}'::name[]) r;
	PERFORM csms_enable_key('mk');
	PERFORM csms_create_secret('mx', 'value x', tags => '{"env": "prod"}',
		rotation_func_urn => 'rotate_demo');
	PERFORM csms_create_secret_version('mx', 'value x2', version_stages => '{LBL}');
	PERFORM csms_update_secret_stage('mx', 'LBL', 'v1');
	PERFORM csms_create_replica('mx', 'eu');
	PERFORM csms_create_secret('mb', secret_binary => '\x0102');
	PERFORM csms_create_secret('mk-s', 'on mk', kms_key_id => 'mk');
	blob := csms_backup_secret('mk-s');
	PERFORM csms_delete_secret('mk-s');
	CREATE TEMP TABLE IF NOT EXISTS acl_blob (blob text);
	TRUNCATE acl_blob;
	INSERT INTO acl_blob VALUES (blob);
	GRANT SELECT ON acl_blob TO acl_exact, acl_allbut;
END
$$;

SET ROLE acl_keyowner;
SELECT alias, owner FROM csms_create_key('mk', 'a key of its own');
SET csms.region = 'eu';
SELECT alias, owner FROM csms_create_key('mk', 'the same alias in eu');
RESET csms.region;
RESET ROLE;

-- the matrix: each function, the privilege it needs, on what
CREATE TABLE acl_matrix (n serial, fn text, on_what text, privilege text, region text,
						 call text, extra text[] DEFAULT '{}');
INSERT INTO acl_matrix (fn, on_what, privilege, region, call) VALUES
	('csms_show_secret', 'secret', 'describe', '', $$SELECT * FROM csms_show_secret('mx')$$),
	('csms_show_secret (replica)', 'secret', 'describe', 'eu', $$SELECT * FROM csms_show_secret('mx')$$),
	('csms_list_secret_versions', 'secret', 'describe', '', $$SELECT * FROM csms_list_secret_versions('mx')$$),
	('csms_show_secret_stage', 'secret', 'describe', '', $$SELECT * FROM csms_show_secret_stage('mx', 'LBL')$$),
	('csms_list_grants', 'secret', 'describe', '', $$SELECT * FROM csms_list_grants('mx')$$),
	('csms_has_privilege', 'secret', 'describe', '', $$SELECT csms_has_privilege('acl_other', 'mx', 'read')$$),
	('csms_get_secret_value', 'secret', 'read', '', $$SELECT csms_get_secret_value('mx')$$),
	('csms_get_secret_value (version)', 'secret', 'read', '', $$SELECT csms_get_secret_value('mx', 'v1')$$),
	('csms_get_secret_value (replica)', 'secret', 'read', 'eu', $$SELECT csms_get_secret_value('mx')$$),
	('csms_get_secret_binary', 'secret', 'read', '', $$SELECT csms_get_secret_binary('mb')$$),
	('csms_show_secret_version', 'secret', 'read', '', $$SELECT * FROM csms_show_secret_version('mx', 'v1')$$),
	('csms_batch_get_secret_value', 'secret', 'read', '', $$SELECT * FROM csms_batch_get_secret_value('{mx}')$$),
	('csms_backup_secret', 'secret', 'read', '', $$SELECT csms_backup_secret('mx')$$),
	('csms_create_secret_version', 'secret', 'write', '', $$SELECT * FROM csms_create_secret_version('mx', 'new')$$),
	('csms_update_secret_version', 'secret', 'write', '', $$SELECT * FROM csms_update_secret_version('mx', 'v1', now() + '1 day')$$),
	('csms_update_secret_stage', 'secret', 'write', '', $$SELECT * FROM csms_update_secret_stage('mx', 'LBL', 'v2')$$),
	('csms_delete_secret_stage', 'secret', 'write', '', $$SELECT csms_delete_secret_stage('mx', 'LBL')$$),
	('csms_rotate_secret', 'secret', 'write', '', $$SELECT * FROM csms_rotate_secret('mx')$$),
	('csms_update_secret', 'secret', 'manage', '', $$SELECT * FROM csms_update_secret('mx', description => 'd')$$),
	('csms_disable_secret', 'secret', 'manage', '', $$SELECT * FROM csms_disable_secret('mx')$$),
	('csms_enable_secret', 'secret', 'manage', '', $$SELECT * FROM csms_enable_secret('mx')$$),
	('csms_delete_secret', 'secret', 'manage', '', $$SELECT csms_delete_secret('mb')$$),
	('csms_create_replica', 'secret', 'manage', '', $$SELECT csms_create_replica('mb', 'eu')$$),
	('csms_delete_replica', 'secret', 'manage', '', $$SELECT csms_delete_replica('mx', 'eu')$$),
	('csms_promote_replica', 'secret', 'manage', 'eu', $$SELECT * FROM csms_promote_replica('mx')$$),
	('csms_grant', 'secret', 'manage', '', $$SELECT * FROM csms_grant('mx', 'acl_other', '{manage}')$$),
	('csms_revoke', 'secret', 'manage', '', $$SELECT csms_revoke('mx', 'acl_other')$$),
	('csms_list_secret_tags', 'secret', 'describe', '', $$SELECT * FROM csms_list_secret_tags('mx')$$),
	('csms_list_secret_tags (replica)', 'secret', 'describe', 'eu', $$SELECT * FROM csms_list_secret_tags('mx')$$),
	('csms_create_secret_tag', 'secret', 'manage', '', $$SELECT csms_create_secret_tag('mx', 'team', 'a')$$),
	('csms_delete_secret_tag', 'secret', 'manage', '', $$SELECT csms_delete_secret_tag('mx', 'env')$$),
	('csms_batch_secret_tags', 'secret', 'manage', '', $$SELECT csms_batch_secret_tags('mx', 'create', '[{"key": "team", "value": "a"}]')$$),
	('csms_create_secret (kms_key_id)', 'key', 'use', '', $$SELECT * FROM csms_create_secret('new', 'x', kms_key_id => 'mk')$$),
	('csms_restore', 'key', 'use', '', $$SELECT * FROM csms_restore((SELECT blob FROM acl_blob))$$),
	('csms_rotate_key', 'key', 'manage', '', $$SELECT * FROM csms_rotate_key('mk')$$),
	('csms_disable_key', 'key', 'manage', '', $$SELECT * FROM csms_disable_key('mk')$$),
	('csms_enable_key', 'key', 'manage', '', $$SELECT * FROM csms_enable_key('mk')$$),
	('csms_grant_key', 'key', 'manage', '', $$SELECT * FROM csms_grant_key('mk', 'acl_other', '{manage}')$$),
	('csms_revoke_key', 'key', 'manage', '', $$SELECT csms_revoke_key('mk', 'acl_other')$$);
-- calls that need a privilege on a key as well as one on a secret
INSERT INTO acl_matrix (fn, on_what, privilege, region, call, extra) VALUES
	('csms_update_secret (kms_key_id)', 'key', 'use', '', $$SELECT * FROM csms_update_secret('mx', kms_key_id => 'mk')$$, '{manage}'),
	('csms_create_secret_version (on mk)', 'key', 'use', '', $$SELECT * FROM csms_create_secret_version('mx', 'new')$$, '{write}'),
	('csms_create_replica (kms_key_id)', 'key', 'use', '', $$SELECT csms_create_replica('mb', 'eu', 'mk')$$, '{manage}');

CREATE FUNCTION acl_walk() RETURNS TABLE (fn text, on_what text, privilege text, with_it text, without_it text)
LANGUAGE plpgsql AS $$
DECLARE
	m acl_matrix;
	all_privs text[];
	r text;
BEGIN
	FOR m IN SELECT * FROM acl_matrix ORDER BY n LOOP
		fn := m.fn;
		on_what := m.on_what;
		privilege := m.privilege;
		all_privs := CASE m.on_what WHEN 'secret' THEN '{read,write,describe,manage}'::text[]
									ELSE '{use,manage}'::text[] END;
		FOREACH r IN ARRAY ARRAY['acl_exact', 'acl_allbut'] LOOP
			PERFORM acl_fixture();
			IF m.fn = 'csms_create_secret_version (on mk)' THEN
				PERFORM csms_update_secret('mx', kms_key_id => 'mk');
			END IF;
			IF m.on_what = 'secret' THEN
				PERFORM csms_grant(s, r, CASE r WHEN 'acl_exact' THEN ARRAY[m.privilege]
											ELSE array_remove(all_privs, m.privilege) END)
				   FROM unnest('{mx,mb}'::text[]) s;
			ELSE
				PERFORM csms_grant(s, r, m.extra) FROM unnest('{mx,mb}'::text[]) s
				  WHERE m.extra <> '{}';
				PERFORM csms_grant_key(k, r, CASE r WHEN 'acl_exact' THEN ARRAY[m.privilege]
												ELSE array_remove(all_privs, m.privilege) END)
				   FROM unnest('{mk,eu:mk}'::text[]) k
				  WHERE k = 'mk' OR m.fn = 'csms_create_replica (kms_key_id)';
			END IF;
			IF r = 'acl_exact' THEN
				with_it := acl_try(r, m.region, m.call);
			ELSE
				without_it := acl_try(r, m.region, m.call);
			END IF;
		END LOOP;
		RETURN NEXT;
	END LOOP;
END
$$;

-- for every function: the role with exactly the privilege it needs succeeds,
-- the role with every other privilege on the same object is refused
CREATE TEMP TABLE acl_result AS SELECT * FROM acl_walk();
SELECT * FROM acl_result;
SELECT count(*) AS rows, count(*) FILTER (WHERE with_it = 'ok') AS allowed,
	   count(*) FILTER (WHERE without_it LIKE '42501: permission denied for %') AS refused
  FROM acl_result;
SELECT acl_fixture();

-- Arguments ---------------------------------------------------------------
SELECT try($$SELECT csms_grant('mx', 'acl_other', NULL)$$);
SELECT try($$SELECT csms_grant('mx', 'acl_other', '{}')$$);
SELECT try_detail($$SELECT csms_grant('mx', 'acl_other', '{read,fly}')$$);
SELECT try_detail($$SELECT csms_grant('mx', 'acl_other', '{use}')$$);
SELECT try_detail($$SELECT csms_grant_key('mk', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('mx', 'acl_other', '{{read}}')$$);
SELECT try($$SELECT csms_grant('mx', 'acl_other', '{read,NULL}')$$);
SELECT try($$SELECT csms_grant('mx', 'no_such_role', '{read}')$$);
SELECT try($$SELECT csms_grant('mx', NULL, '{read}')$$);
SELECT try($$SELECT csms_grant(NULL, 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('nope', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('bad name', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('m*x', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('xx:mx', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant('bad region:mx', 'acl_other', '{read}')$$);
SELECT try($$SELECT csms_grant_key('nope', 'acl_other', '{use}')$$);
SELECT try($$SELECT csms_revoke('mx', 'no_such_role')$$);
SELECT try($$SELECT csms_revoke('mx', 'acl_other', '{fly}')$$);
SELECT try($$SELECT csms_has_privilege('acl_other', 'mx', 'fly')$$);
SELECT try($$SELECT csms_has_privilege('acl_other', 'm*', 'read')$$);
SELECT try($$SELECT csms_has_privilege('no_such_role', 'mx', 'read')$$);
SELECT try($$SELECT csms_has_privilege('acl_other', 'nope', 'read')$$);
SELECT try($$SELECT csms_revoke(NULL, 'acl_other')$$);
SELECT try($$SELECT csms_revoke('mx', NULL)$$);
SELECT try($$SELECT csms_revoke('m*x', 'acl_other')$$);
SELECT try($$SELECT csms_revoke('nope', 'acl_other')$$);
SELECT try($$SELECT csms_grant_key(NULL, 'acl_other', '{use}')$$);
SELECT try($$SELECT csms_grant_key('mk', 'acl_other', NULL)$$);
SELECT try($$SELECT csms_grant_key('bad key!*', 'acl_other', '{use}')$$);
SELECT try($$SELECT csms_revoke_key('nope', 'acl_other')$$);
SELECT try($$SELECT csms_revoke_key('mk', 'acl_other', '{read}')$$);
SELECT try($$SELECT * FROM csms_list_grants('bad name')$$);
SELECT try($$SELECT * FROM csms_list_grants('xx:mx')$$);
SELECT try($$SELECT * FROM csms_list_grants('nope')$$);
SELECT try($$SELECT csms_has_privilege(NULL, 'mx', 'read')$$);
SELECT try($$SELECT csms_has_privilege('acl_other', NULL, 'read')$$);
SELECT try($$SELECT csms_has_privilege('acl_other', 'mx', NULL)$$);
SELECT try($$SELECT csms_has_privilege('acl_other', 'mx', 'use')$$);
SELECT try($$SELECT csms_set_owner(NULL, 'acl_other')$$);
SELECT try($$SELECT csms_set_owner('mx', NULL)$$);
SELECT try($$SELECT csms_set_owner('nope', 'acl_other')$$);
SELECT try($$SELECT csms_set_owner('bad name', 'acl_other')$$);
SELECT try($$SELECT csms_reassign_owned(NULL, 'acl_other')$$);
SELECT try($$SELECT csms_reassign_owned('acl_other', NULL)$$);
SELECT try($$SELECT csms_reassign_owned('no_such_role', 'acl_other')$$);
SELECT try($$SELECT csms.caller_may_see('secret', 'acl_other', gen_random_uuid(), 'mx', 'local')$$);
-- a replica takes no grants of its own: its primary's hold for it
SELECT try($$SELECT set_config('csms.region', 'eu', true), csms_grant('mx', 'acl_other', '{read}')$$);

-- Grants: adding to a grant, revoking part of it, then all; nothing to revoke is no error
SELECT object_type, object, region, grantee, privileges FROM csms_grant('mx', 'acl_other', '{describe}');
SELECT object_type, object, region, grantee, privileges FROM csms_grant('mx', 'acl_other', '{manage,read,read}');
SELECT object, privileges FROM csms_list_grants('mx');
SELECT csms_revoke('mx', 'acl_other', '{read,write}');
SELECT object, privileges FROM csms_list_grants('mx');
SELECT csms_revoke('mx', 'acl_other');
SELECT csms_revoke('mx', 'acl_other');
SELECT count(*) AS grants FROM csms_list_grants('mx');
SELECT object_type, object, region, grantee, privileges FROM csms_grant_key('mk', 'acl_other', '{manage,use}');
SELECT csms_revoke_key('mk', 'acl_other', '{manage}');
SELECT object_type, object, region, grantee, privileges FROM csms_list_grants() WHERE object_type = 'key';
SELECT csms_revoke_key('mk', 'acl_other');

-- manage through a grant gives only what its holder holds: it is not read
SELECT privileges FROM csms_grant('mx', 'acl_exact', '{manage}');
SELECT acl_try('acl_exact', '', $$SELECT csms_grant('mx', 'acl_exact', '{read}')$$);
SELECT acl_try('acl_exact', '', $$SELECT csms_grant('mx', 'acl_other', '{describe,manage}')$$);
SELECT acl_try('acl_exact', '', $$SELECT csms_grant('mx', 'acl_other', '{manage}')$$);
SELECT grantee, privileges FROM csms_list_grants('mx') ORDER BY grantee;
SELECT csms_revoke('mx', r) FROM unnest('{acl_exact,acl_other}'::name[]) r;
-- grants and revokes in any state
SELECT state FROM csms_disable_secret('mx');
SELECT privileges FROM csms_grant('mx', 'acl_other', '{describe}');
SELECT csms_revoke('mx', 'acl_other');
SELECT state FROM csms_enable_secret('mx');
-- the dependencies again, as after pg_upgrade (which does not carry them)
SELECT privileges FROM csms_grant('mx', 'acl_other', '{read}');
SELECT count(*) AS dependencies FROM pg_shdepend
 WHERE refobjid = 'acl_other'::regrole AND objid = 'csms.grants'::regclass;
DELETE FROM pg_shdepend WHERE refobjid = 'acl_other'::regrole AND objid = 'csms.grants'::regclass;
SELECT count(*) AS dependencies FROM pg_shdepend
 WHERE refobjid = 'acl_other'::regrole AND objid = 'csms.grants'::regclass;
SELECT csms.record_role_dependencies();
SELECT count(*) AS dependencies FROM pg_shdepend
 WHERE refobjid = 'acl_other'::regrole AND objid = 'csms.grants'::regclass;
SELECT acl_try('acl_other', '', $$SELECT csms.record_role_dependencies()$$);
SELECT csms_revoke('mx', 'acl_other');

-- Ownership -----------------------------------------------------------------
CREATE ROLE app_a;
CREATE ROLE app_b;
CREATE ROLE csms_ops IN ROLE csms_admin;
GRANT acl_exact TO app_a, app_b, csms_ops;		-- the EXECUTE grants
-- the creator owns; a replica has its primary's owner; its own grants come
-- from the primary
SET ROLE app_a;
SELECT name, owner FROM csms_create_secret('a-db', 'a pass');
SELECT csms_create_replica('a-db', 'eu') IS NOT NULL AS replicated;
SET csms.region = 'eu';
SELECT name, replica_type, owner FROM csms_show_secret('a-db');
RESET csms.region;
SELECT try($$SELECT csms_get_secret_value('mx')$$);
RESET ROLE;
-- ALTER ROLE ... RENAME keeps it: the owner is a role, not a name
ALTER ROLE app_a RENAME TO app_a2;
SELECT name, owner FROM csms_show_secret('a-db');
ALTER ROLE app_a2 RENAME TO app_a;
-- a restored secret belongs to the role that restores it
SELECT csms_backup_secret('mb') AS blob \gset
SELECT csms_delete_secret('mb');
SET ROLE app_b;
SELECT name, owner FROM csms_restore(:'blob');
SELECT csms_get_secret_binary('mb');
RESET ROLE;
-- csms_set_owner: the owner may give a secret to a role whose privileges it
-- has; manage alone is not enough; csms_admin may give it to anyone
SELECT privileges FROM csms_grant('a-db', 'app_b', '{manage}');
SELECT acl_try('app_b', '', $$SELECT csms_set_owner('a-db', 'app_b')$$);
SELECT acl_try('app_a', '', $$SELECT csms_set_owner('a-db', 'app_b')$$);
GRANT app_b TO app_a;
SELECT acl_try('app_a', '', $$SELECT csms_set_owner('a-db', 'app_b')$$);
SET csms.region = 'eu';
SELECT name, owner FROM csms_show_secret('a-db');
RESET csms.region;
REVOKE app_b FROM app_a;
SELECT acl_try('csms_ops', '', $$SELECT csms_set_owner('a-db', 'app_a')$$);
SELECT acl_try('app_b', '', $$SELECT csms_set_owner('a-db', 'nobody')$$);
SELECT acl_try('app_b', '', $$SELECT csms_set_owner('a*', 'app_b')$$);
SELECT name, owner FROM csms_show_secret('a-db');
-- DROP ROLE refuses while the role owns secrets or holds grants, in any
-- database; DROP OWNED refuses while it owns secrets and takes its grants
\set VERBOSITY terse
DROP ROLE app_a;
DROP OWNED BY app_a;
SELECT try($$SELECT csms_reassign_owned('app_a', 'nobody')$$);
SELECT acl_try('app_b', '', $$SELECT csms_reassign_owned('app_a', 'app_b')$$);
SELECT csms_reassign_owned('app_a', 'app_b') AS reassigned;
SELECT name, owner FROM csms_list_secrets() WHERE name = 'a-db';
SELECT oid AS app_b_oid FROM pg_roles WHERE rolname = 'app_b' \gset
DROP OWNED BY app_b;
SELECT csms_reassign_owned('app_b', current_user) AS reassigned;
SELECT count(*) AS grants_of_app_b FROM csms.grants WHERE grantee = :app_b_oid;
DROP OWNED BY app_b;
DROP OWNED BY app_a;
SELECT count(*) AS grants_of_app_b FROM csms.grants WHERE grantee = :app_b_oid;
DROP ROLE app_a, app_b;
-- nothing in the tables names the dropped roles, so no later role with
-- their OIDs could hold anything of theirs
SELECT count(*) AS dangling FROM (
	SELECT owner::oid AS role FROM csms.secrets UNION ALL SELECT owner::oid FROM csms.keys
	UNION ALL SELECT grantee::oid FROM csms.grants) r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE oid = r.role);
\set VERBOSITY default

-- Listings: only what the caller may describe, paged over what it may see --
CREATE ROLE lister;
GRANT acl_exact TO lister;
SELECT count(*) AS made FROM generate_series(0, 9) i,
	LATERAL csms_create_secret(format('p-%s', i), 'v') c;
SELECT count(*) AS granted FROM generate_series(1, 9, 2) i,
	LATERAL csms_grant(format('p-%s', i), 'lister', '{describe}') g;
SELECT privileges FROM csms_grant('p-4', 'lister', '{read}');	-- read alone does not list
SET ROLE lister;
SELECT name FROM csms_list_secrets(2);
SELECT name FROM csms_list_secrets(2, 'p-3');
SELECT name FROM csms_list_secrets(2, 'p-7');
SELECT name FROM csms_list_secrets(2, 'p-9');
SELECT csms_get_secret_value('p-4');
SELECT try($$SELECT * FROM csms_list_secret_versions('p-4')$$);
SELECT count(*) AS versions FROM csms_list_secret_versions('p-5');
SELECT alias FROM csms_list_keys();
SELECT object, grantee, privileges FROM csms_list_grants();
RESET ROLE;
SELECT privileges FROM csms_grant_key('mk', 'lister', '{use}');
SET ROLE lister;
SELECT alias FROM csms_list_keys();
RESET ROLE;

-- Batches: the whole batch is refused when one name is not readable, and
-- only the names the caller may describe are named
SET ROLE lister;
SELECT try_detail($$SELECT * FROM csms_batch_get_secret_value('{p-4,p-5}')$$);
SELECT try_detail($$SELECT * FROM csms_batch_get_secret_value('{p-4,p-6}')$$);
SELECT try_detail($$SELECT * FROM csms_batch_get_secret_value('{p-4,p-5,p-6}')$$);
SELECT try_detail($$SELECT * FROM csms_batch_get_secret_value('{p-4,nope}')$$);
SELECT secret_name FROM csms_batch_get_secret_value('{p-4}');
RESET ROLE;

-- Patterns: for csms_admin; optionally in one region; "*" is every name -
SELECT acl_try('lister', '', $$SELECT csms_grant('p-*', 'lister', '{read}')$$);
SELECT object, region, privileges FROM csms_grant('p-*', 'lister', '{read}');
SELECT acl_try('lister', '', $$SELECT string_agg(csms_get_secret_value(name), ',') FROM unnest('{p-0,p-5,p-9}'::text[]) name$$);
SELECT acl_try('lister', '', $$SELECT csms_get_secret_value('a-db')$$);
SET ROLE csms_ops;
SELECT object, region, privileges FROM csms_grant('eu:a-*', 'lister', '{read}');
SELECT object, region, privileges FROM csms_grant_key('*', 'lister', '{use}');
RESET ROLE;
SELECT acl_try('lister', 'eu', $$SELECT csms_get_secret_value('a-db')$$);
SELECT acl_try('lister', '', $$SELECT csms_get_secret_value('a-db')$$);
SELECT object_type, object, region, grantee, privileges FROM csms_list_grants('a-db');
SET csms.region = 'eu';
SELECT object_type, object, region, grantee, privileges FROM csms_list_grants('a-db');
RESET csms.region;
SELECT object, region, grantee FROM csms_list_grants('eu:a-*');
SELECT object, region, grantee FROM csms_list_grants('p-*');
SELECT try($$SELECT csms_grant('ZZ:a-*', 'lister', '{read}')$$);
SELECT try($$SELECT csms_grant('p-*-*', 'lister', '{read}')$$);
SELECT csms_revoke('eu:a-*', 'lister');
SELECT csms_revoke_key('*', 'lister');
SELECT acl_try('lister', 'eu', $$SELECT csms_get_secret_value('a-db')$$);
-- a revoke holds from the next call on (the grants cache of this backend)
SELECT acl_try('lister', '', $$SELECT csms_get_secret_value('p-5')$$);
SELECT csms_revoke('p-*', 'lister');
SELECT acl_try('lister', '', $$SELECT csms_get_secret_value('p-5')$$);

-- Inheritance -------------------------------------------------------------
CREATE ROLE readers NOLOGIN;
CREATE ROLE member_in IN ROLE readers;
CREATE ROLE member_noin NOINHERIT IN ROLE readers;
GRANT acl_exact TO member_in;
GRANT EXECUTE ON FUNCTION csms_get_secret_value(text, text) TO member_noin, readers;
SELECT privileges FROM csms_grant('p-0', 'readers', '{read}');
SELECT acl_try('member_in', '', $$SELECT csms_get_secret_value('p-0')$$);
SELECT acl_try('member_noin', '', $$SELECT csms_get_secret_value('p-0')$$);
SELECT acl_try('member_noin', '', $$SET ROLE readers; SELECT csms_get_secret_value('p-0')$$);
SELECT csms_has_privilege('member_in', 'p-0', 'read') AS member_in,
	   csms_has_privilege('member_noin', 'p-0', 'read') AS member_noin,
	   csms_has_privilege('readers', 'p-0', 'write') AS readers_write;
-- csms_admin holds everything, through membership too
SELECT acl_try('csms_ops', '', $$SELECT csms_get_secret_value('p-1')$$);
SELECT csms_has_privilege('csms_ops', 'p-1', 'manage') AS admin_manages;
-- a SECURITY DEFINER function acts with its owner's privileges, as for tables
CREATE ROLE app_c;
GRANT acl_exact TO app_c;
CREATE SCHEMA app_c AUTHORIZATION app_c;
GRANT USAGE ON SCHEMA app_c TO member_in;
SET ROLE app_c;
SELECT name FROM csms_create_secret('c-db', 'c pass');
CREATE FUNCTION app_c.password() RETURNS text LANGUAGE sql SECURITY DEFINER
	SET search_path = public, pg_catalog AS $$ SELECT csms_get_secret_value('c-db') $$;
CREATE FUNCTION app_c.password_invoker() RETURNS text LANGUAGE sql
	SET search_path = public, pg_catalog AS $$ SELECT csms_get_secret_value('c-db') $$;
RESET ROLE;
SELECT acl_try('member_in', '', $$SELECT app_c.password()$$);
SELECT acl_try('member_in', '', $$SELECT app_c.password_invoker()$$);

-- Clean up --------------------------------------------------------------
DROP SCHEMA app_c CASCADE;
SET csms.region = 'eu';
SELECT count(*) AS deleted FROM csms_list_secrets() s, csms_delete_secret(s.name) d
 WHERE s.replica_type <> 'REPLICA';
RESET csms.region;
SELECT count(*) AS deleted FROM csms_list_secrets() s, unnest(s.replicas) r,
	csms_delete_replica(s.name, r.region) d;
SELECT count(*) AS deleted FROM csms_list_secrets() s, csms_delete_secret(s.name) d;
SELECT csms_reassign_owned(r, current_user) >= 0 AS reassigned
  FROM unnest('{app_c,acl_keyowner,lister,csms_ops,readers,member_in,member_noin,acl_exact,acl_allbut,acl_other}'::name[]) r;
DROP OWNED BY app_c, acl_keyowner, lister, csms_ops, readers, member_in, member_noin,
	acl_exact, acl_allbut, acl_other;
DROP ROLE app_c, acl_keyowner, lister, csms_ops, readers, member_in, member_noin,
	acl_exact, acl_allbut, acl_other;
SELECT count(*) AS grants_left FROM csms.grants;
DROP TABLE acl_matrix, acl_blob;
DROP FUNCTION acl_walk(), acl_fixture(), acl_try(name, text, text);
