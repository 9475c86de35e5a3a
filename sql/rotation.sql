-- Rotation (issue 17, ../shared/spec/api.md Milestone 7): csms_rotate_secret,
-- csms_list_secret_tasks, PG-ROLE secrets (SingleUser, MultiUser), rotation
-- functions, automatic rotation in the due work and its three-failure rule,
-- replicas that follow.  Real logins with the rotated passwords are in
-- t/016_rotation.pl; races in specs/rotation_race.spec.
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
CREATE ROLE rot_app LOGIN PASSWORD 'app initial';
CREATE ROLE rot_blue LOGIN PASSWORD 'blue initial';
CREATE ROLE rot_green LOGIN PASSWORD 'green initial';
CREATE ROLE rot_nologin NOLOGIN;
CREATE ROLE rot_super LOGIN SUPERUSER;
CREATE ROLE rot_repl LOGIN REPLICATION;
CREATE ROLE rot_self LOGIN;			-- no CREATEROLE: may rotate only itself
CREATE ROLE rot_creator CREATEROLE;	-- may rotate roles that are not superusers
CREATE ROLE rot_writer;				-- holds write on some secrets
CREATE ROLE rot_stranger;			-- holds nothing
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT d.objid FROM pg_depend d
			  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
				AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
				AND d.objid::regprocedure::text LIKE 'csms\_%'
	LOOP
		EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO rot_self, rot_creator, rot_writer, rot_stranger', f);
	END LOOP;
END
$$;

-- the credentials a PG-ROLE secret holds, and whether the password is new
CREATE FUNCTION creds(secret text, stage text DEFAULT 'SYSCURRENT')
RETURNS TABLE (version_id text, username text, password_length int, host text, port int, dbname text)
LANGUAGE sql AS $$
	SELECT v.id, j->>'username', length(j->>'password'), j->>'host', (j->>'port')::int, j->>'dbname'
	  FROM csms_show_secret_stage(secret, stage) st,
		   csms_show_secret_version(secret, st.version_id) v,
		   LATERAL (SELECT v.secret_string::jsonb AS j) x
$$;
-- the role's stored password: a SCRAM-SHA-256 verifier of 4096 iterations
CREATE FUNCTION verifier_ok(role name) RETURNS boolean LANGUAGE sql AS $$
	SELECT rolpassword ~ '^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$'
	  FROM pg_authid WHERE rolname = role
$$;
CREATE TEMP TABLE before AS SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'rot\_%';

-- PG-ROLE, SingleUser ------------------------------------------------------
SELECT name, secret_type, rotation_config FROM csms_create_secret('pg-app',
	secret_string => '{"username": "rot_app", "password": "app initial", "host": "db.internal", "port": 5432, "dbname": "shop"}',
	secret_type => 'PG-ROLE');
SELECT version_id = 'v2' AS v2, secret_name FROM csms_rotate_secret('pg-app');
-- the same role and connection details, a new 32-character password
SELECT * FROM creds('pg-app');
SELECT * FROM creds('pg-app', 'SYSPREVIOUS');
SELECT (SELECT secret_string FROM csms_show_secret_version('pg-app', 'v2')) <>
	   (SELECT secret_string FROM csms_show_secret_version('pg-app', 'v1')) AS changed;
-- the role got a verifier, never the password; and not the one it had
SELECT verifier_ok('rot_app') AS verifier,
	   rolpassword <> (SELECT rolpassword FROM before WHERE rolname = 'rot_app') AS replaced,
	   strpos(rolpassword, (SELECT csms_get_secret_value('pg-app')::jsonb->>'password')) = 0 AS no_password
  FROM pg_authid WHERE rolname = 'rot_app';
SELECT secret_name, rotation_func_urn, task_status, operate_type, trigger_type, attempt_nums,
	   task_error_code, task_error_msg, version_id
  FROM csms_list_secret_tasks('pg-app');
-- rotation_time moved; no automatic rotation, no next time
SELECT rotation_time IS NOT NULL AS rotated, next_rotation_time FROM csms_show_secret('pg-app');

-- a rotation rolled back: the password, the value, the task, all as before
CREATE TEMP TABLE kept AS SELECT rolpassword FROM pg_authid WHERE rolname = 'rot_app';
BEGIN;
SELECT version_id FROM csms_rotate_secret('pg-app');
ROLLBACK;
SELECT (SELECT rolpassword FROM pg_authid WHERE rolname = 'rot_app') = (SELECT rolpassword FROM kept) AS same_password,
	   (SELECT version_id FROM creds('pg-app')) AS current,
	   (SELECT count(*) FROM csms_list_secret_tasks('pg-app')) AS tasks;

-- a new version of a PG-ROLE secret is checked as the first one
SELECT try($$SELECT csms_create_secret_version('pg-app', 'not json')$$);
SELECT try($$SELECT csms_create_secret_version('pg-app', '{"username": "rot_super", "password": "x"}')$$);
SELECT id FROM csms_create_secret_version('pg-app', '{"username": "rot_app", "password": "set by hand"}');
-- the role is the one the secret was made for: a writer cannot point it at another
SELECT try($$SELECT csms_create_secret_version('pg-app', '{"username": "rot_blue", "password": "x"}')$$);

-- PG-ROLE, MultiUser: the role under SYSPREVIOUS takes the new password ----
SELECT name, rotation_config FROM csms_create_secret('pg-multi',
	secret_string => '{"username": "rot_blue", "password": "blue initial"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["rot_blue", "rot_green"]}');
SELECT version_id FROM csms_rotate_secret('pg-multi');
SELECT * FROM creds('pg-multi');
SELECT * FROM creds('pg-multi', 'SYSPREVIOUS');
-- blue kept its password (its clients keep working); green has a new one
SELECT rolname, rolpassword = (SELECT b.rolpassword FROM before b WHERE b.rolname = a.rolname) AS unchanged
  FROM pg_authid a WHERE rolname IN ('rot_blue', 'rot_green') ORDER BY 1;
SELECT version_id FROM csms_rotate_secret('pg-multi');
SELECT * FROM creds('pg-multi');
SELECT * FROM creds('pg-multi', 'SYSPREVIOUS');
SELECT rolname, rolpassword = (SELECT b.rolpassword FROM before b WHERE b.rolname = a.rolname) AS unchanged
  FROM pg_authid a WHERE rolname IN ('rot_blue', 'rot_green') ORDER BY 1;
SELECT operate_type, version_id FROM csms_list_secret_tasks('pg-multi');

-- PG-ROLE refusals at creation: the role, the value, the config -------------
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_super", "password": "x"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_nologin", "password": "x"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_missing", "password": "x"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', secret_binary => '\x00', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', 'secret pw', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '["rot_app", "pw"]', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw", "pw2": "x"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"password": "pw"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw", "port": 0}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw", "port": "5432"}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw", "host": 1}', secret_type => 'PG-ROLE')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "TripleUser"}')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_blue", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "MultiUser"}')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_blue", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["rot_blue", "rot_blue"]}')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["rot_blue", "rot_green"]}')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_blue", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["rot_blue", "rot_super"]}')$$);
SELECT try($$SELECT csms_create_secret('pg-x', '{"username": "rot_app", "password": "pw"}', secret_type => 'PG-ROLE',
	rotation_config => '{"Usernames": ["rot_blue", "rot_green"]}')$$);
-- no value shows in any of these messages
SELECT count(*) AS none FROM csms_list_secrets(1000) WHERE name = 'pg-x';

-- whose role: the owner's right to change the password decides ------------
SET ROLE rot_self;
SELECT try($$SELECT csms_create_secret('pg-other', '{"username": "rot_app", "password": "x"}', secret_type => 'PG-ROLE')$$);
SELECT name FROM csms_create_secret('pg-self', '{"username": "rot_self", "password": "x"}', secret_type => 'PG-ROLE');
SELECT version_id FROM csms_rotate_secret('pg-self');
SELECT csms_grant('pg-self', 'rot_writer', '{write}') IS NOT NULL AS granted;
RESET ROLE;
SELECT verifier_ok('rot_self') AS verifier;
SET ROLE rot_creator;
SELECT name FROM csms_create_secret('pg-created', '{"username": "rot_app", "password": "x"}', secret_type => 'PG-ROLE');
SELECT try($$SELECT csms_create_secret('pg-repl', '{"username": "rot_repl", "password": "x"}', secret_type => 'PG-ROLE')$$);
SELECT version_id FROM csms_rotate_secret('pg-created');
RESET ROLE;
-- the owner loses the right: the rotation fails, the attempt is a task
ALTER ROLE rot_creator NOCREATEROLE;
SET ROLE rot_creator;
SELECT try($$SELECT csms_rotate_secret('pg-created')$$);
SELECT task_status, task_error_code, task_error_msg FROM csms_list_secret_tasks('pg-created');
SELECT version_id FROM creds('pg-created');
RESET ROLE;
ALTER ROLE rot_creator CREATEROLE;
-- a role that became a superuser is refused
ALTER ROLE rot_app SUPERUSER;
SELECT try($$SELECT csms_rotate_secret('pg-app')$$);
ALTER ROLE rot_app NOSUPERUSER;
CREATE ROLE rot_missing_later LOGIN;
SELECT name FROM csms_create_secret('pg-gone', '{"username": "rot_missing_later", "password": "x"}', secret_type => 'PG-ROLE');
DROP ROLE rot_missing_later;
SELECT try($$SELECT csms_rotate_secret('pg-gone')$$);

-- who may rotate: write on the secret; the role is the owner's business
SET ROLE rot_writer;
SELECT version_id FROM csms_rotate_secret('pg-self');
SELECT try($$SELECT csms_rotate_secret('pg-app')$$);
RESET ROLE;
SET ROLE rot_stranger;
SELECT try($$SELECT csms_rotate_secret('pg-self')$$);
SELECT count(*) AS visible_tasks FROM csms_list_secret_tasks();
RESET ROLE;

-- rotation functions --------------------------------------------------------
CREATE FUNCTION rot_fail(secret_name text, version_id text) RETURNS text
	LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'upstream refused the rotation of %', secret_name; END $$;
CREATE FUNCTION rot_null(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT NULL::text $$;
CREATE FUNCTION rot_who(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT current_user || ' ' || current_setting('search_path') $$;
CREATE FUNCTION rot_wrong(secret_name text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
CREATE FUNCTION rot_wrong2(secret_name text, version_id text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION rot_twice(a text, b text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
CREATE FUNCTION rot_twice(a int) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
CREATE FUNCTION rot_private(secret_name text, version_id text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
REVOKE EXECUTE ON FUNCTION rot_private(text, text) FROM PUBLIC;
CREATE PROCEDURE rot_proc(a text, b text) LANGUAGE sql AS $$ SELECT 1 $$;

SELECT name, rotation_func_urn FROM csms_create_secret('fn', 'first', rotation_func_urn => 'rotate_demo');
SELECT version_id FROM csms_rotate_secret('fn');
SELECT csms_get_secret_value('fn');
SELECT operate_type, rotation_func_urn, version_id FROM csms_list_secret_tasks('fn');
-- named by signature, or schema-qualified; shown as it is stored
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'public.rotate_demo(text, text)');
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_who(text,text)');
-- it runs as its owner, under the call's search_path
SELECT version_id FROM csms_rotate_secret('fn');
SELECT csms_get_secret_value('fn');
-- what it sets ends with it: nothing reaches the caller's session
CREATE FUNCTION rot_sets(secret_name text, version_id text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'rot_evil, pg_catalog', false);
	PERFORM pg_catalog.set_config('work_mem', '77kB', false);
	SET LOCAL statement_timeout = '1s';
	RETURN 'set ' || version_id;
END $$;
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_sets');
SHOW search_path;
BEGIN;
SELECT version_id FROM csms_rotate_secret('fn');
SELECT current_setting('search_path') AS search_path, current_setting('work_mem') AS work_mem,
	   current_setting('statement_timeout') AS statement_timeout;
COMMIT;
SHOW search_path;
SHOW work_mem;
SELECT csms_get_secret_value('fn');
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_who');
DROP FUNCTION rot_sets(text, text);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_missing')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_missing(text,text)')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_wrong')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_wrong2')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_twice')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_proc(text,text)')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'rot_wrong(')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => E'rot\n')$$);
SELECT try($$SELECT csms_update_secret('fn', rotation_func_urn => 'urn:fss:local:abc:function:default:rotate:latest')$$);
SELECT try($$SELECT csms_create_secret('fn2', 'x', rotation_func_urn => 'lower')$$);
SET ROLE rot_writer;
SELECT try($$SELECT csms_create_secret('fn-private', 'x', rotation_func_urn => 'rot_private')$$);
-- it runs as its owner: a function of another role is refused, one's own runs as oneself
SELECT try($$SELECT csms_create_secret('fn-other', 'x', rotation_func_urn => 'rotate_demo')$$);
RESET ROLE;
CREATE FUNCTION rot_mine(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT current_user || ' ' || version_id $$;
ALTER FUNCTION rot_mine(text, text) OWNER TO rot_writer;
SET ROLE rot_writer;
SELECT name, rotation_func_urn FROM csms_create_secret('fn-mine', 'x', rotation_func_urn => 'rot_mine');
SELECT version_id FROM csms_rotate_secret('fn-mine');
SELECT csms_get_secret_value('fn-mine');
SELECT csms_delete_secret('fn-mine');
RESET ROLE;
DROP FUNCTION rot_mine(text, text);
-- a restore keeps a backup's rotation function only for a role that could name it
SELECT name FROM csms_create_secret('fn-bk', 'x', rotation_func_urn => 'rotate_demo');
SELECT csms_grant('fn-bk', 'rot_writer', '{read}') IS NOT NULL AS granted;
SET ROLE rot_writer;
SELECT csms_backup_secret('fn-bk') AS fn_blob \gset
RESET ROLE;
SELECT csms_delete_secret('fn-bk');
SET ROLE rot_writer;
SET client_min_messages = notice;
SELECT name, rotation_func_urn FROM csms_restore(:'fn_blob');
SET client_min_messages = warning;
SELECT csms_delete_secret('fn-bk');
RESET ROLE;
SELECT name, rotation_func_urn FROM csms_restore(:'fn_blob');
SELECT csms_delete_secret('fn-bk');

-- a COMMON secret without one is refused, and no task is written
SELECT name FROM csms_create_secret('plain-rot', 'x');
SELECT try($$SELECT csms_rotate_secret('plain-rot')$$);
SELECT count(*) AS tasks FROM csms_list_secret_tasks('plain-rot');
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => '');
SELECT try($$SELECT csms_rotate_secret('fn')$$);

-- a failed rotation: the caller's transaction rolls back, the task stays --
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_fail');
SELECT try($$SELECT csms_rotate_secret('fn')$$);
SELECT id FROM csms_show_secret_version('fn');
BEGIN;
SELECT try($$SELECT csms_rotate_secret('fn')$$);
ROLLBACK;
SELECT task_status, trigger_type, attempt_nums, task_error_code, task_error_msg, version_id
  FROM csms_list_secret_tasks('fn');
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_null');
SELECT try($$SELECT csms_rotate_secret('fn')$$);
-- a value past the size limit
CREATE FUNCTION rot_big(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT repeat('x', 40000) $$;
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_big');
SELECT try($$SELECT csms_rotate_secret('fn')$$);
DROP FUNCTION rot_big(text, text);
-- a function dropped after it was named
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rot_twice(text,text)');
DROP FUNCTION rot_twice(text, text);
SELECT try($$SELECT csms_rotate_secret('fn')$$);
SELECT task_status, task_error_code, task_error_msg FROM csms_list_secret_tasks('fn', page_size => 2);

-- states and replicas ------------------------------------------------------
SELECT rotation_func_urn FROM csms_update_secret('fn', rotation_func_urn => 'rotate_demo');
SELECT state FROM csms_disable_secret('fn');
SELECT try($$SELECT csms_rotate_secret('fn')$$);
SELECT state FROM csms_enable_secret('fn');
SELECT try($$SELECT csms_rotate_secret('no-such-secret')$$);
SELECT try($$SELECT csms_rotate_secret('bad name')$$);
SELECT try($$SELECT csms_rotate_secret(NULL)$$);
SELECT csms_create_region('rot-eu') IS NOT NULL AS region;
SELECT csms_create_replica('fn', 'rot-eu') IS NOT NULL AS replica;
SELECT version_id FROM csms_rotate_secret('fn');
SET csms.region = 'rot-eu';
-- the replica follows: the new version, SYSCURRENT, the rotation time
SELECT csms_get_secret_value('fn');
SELECT replica_type, rotation_time IS NOT NULL AS rotated FROM csms_show_secret('fn');
SELECT try($$SELECT csms_rotate_secret('fn')$$);
RESET csms.region;
SELECT csms_delete_replica('fn', 'rot-eu');

-- automatic rotation: the due work rotates, moves the times, counts failures
SELECT name, next_rotation_time - create_time AS next_in
  FROM csms_create_secret('auto', 'first', rotation_func_urn => 'rotate_demo',
	auto_rotation => true, rotation_period => '4h', event_subscriptions => '{rotation-events}');
CALL csms_run_maintenance();
SELECT count(*) AS not_yet FROM csms_list_secret_tasks('auto');
SET csms.now_offset = 14401;	-- 4 hours and a second later
CALL csms_run_maintenance();
SELECT task_status, trigger_type, attempt_nums, version_id FROM csms_list_secret_tasks('auto');
SELECT csms_get_secret_value('auto');
SELECT rotation_time - create_time BETWEEN '4 hours' AND '4 hours 1 minute' AS rotated_at,
	   next_rotation_time - rotation_time AS next_in, auto_rotation
  FROM csms_show_secret('auto');
SELECT event_type, event_name, content->'data'->>'secretName' AS secret,
	   content->'data'->>'versionId' AS version
  FROM csms_list_notification_records(1);
-- three failures in a row: auto_rotation goes off, SECRET_ROTATED_FAILED
SELECT csms_update_event('rotation-events', event_types => '{SECRET_ROTATED,SECRET_ROTATED_FAILED}') IS NOT NULL AS events;
SELECT rotation_func_urn FROM csms_update_secret('auto', rotation_func_urn => 'rot_fail');
SET csms.now_offset = 28802;	-- the next due time
CALL csms_run_maintenance();
SELECT next_rotation_time - now() - interval '28802 seconds' BETWEEN '59 minutes' AND '61 minutes' AS retry_in_an_hour,
	   auto_rotation FROM csms_show_secret('auto');
-- a success after a failure resets the count
SELECT rotation_func_urn FROM csms_update_secret('auto', rotation_func_urn => 'rotate_demo');
SET csms.now_offset = 32403;
CALL csms_run_maintenance();
SELECT task_status, attempt_nums, version_id FROM csms_list_secret_tasks('auto', page_size => 2);
SELECT rotation_func_urn FROM csms_update_secret('auto', rotation_func_urn => 'rot_fail');
SET csms.now_offset = 46804;
CALL csms_run_maintenance();
SET csms.now_offset = 50405;
CALL csms_run_maintenance();
SELECT auto_rotation, next_rotation_time IS NOT NULL AS scheduled FROM csms_show_secret('auto');
SET csms.now_offset = 54006;
CALL csms_run_maintenance();
SELECT auto_rotation, next_rotation_time FROM csms_show_secret('auto');
SELECT task_status, trigger_type, attempt_nums, task_error_msg
  FROM csms_list_secret_tasks('auto', page_size => 3);
SELECT event_type, content->'data'->>'secretName' AS secret FROM csms_list_notification_records(1);
-- off: nothing more is due
SET csms.now_offset = 90000;
CALL csms_run_maintenance();
SELECT count(*) AS tasks FROM csms_list_secret_tasks('auto');
RESET csms.now_offset;
-- a manual rotation fires SECRET_ROTATED too
SELECT rotation_func_urn FROM csms_update_secret('auto', rotation_func_urn => 'rotate_demo');
SELECT version_id FROM csms_rotate_secret('auto');
SELECT event_type, content->'data'->>'versionId' AS version FROM csms_list_notification_records(1);
SELECT csms_update_event('rotation-events', event_types => '{SECRET_ROTATED}') IS NOT NULL AS events;

-- the task list: filters, paging, errors ----------------------------------
SELECT secret_name, task_status FROM csms_list_secret_tasks(status => 'FAILED', page_size => 3);
SELECT task_id AS last_id FROM csms_list_secret_tasks(page_size => 2) ORDER BY task_time, task_id LIMIT 1 \gset
SELECT count(*) > 0 AS more FROM csms_list_secret_tasks(marker => :'last_id');
SELECT count(*) AS one FROM csms_list_secret_tasks(task_id => :'last_id');
SELECT try($$SELECT * FROM csms_list_secret_tasks(status => 'DONE')$$);
SELECT try($$SELECT * FROM csms_list_secret_tasks(secret_name => 'fn', task_id => gen_random_uuid())$$);
SELECT try($$SELECT * FROM csms_list_secret_tasks(marker => '00000000-0000-4000-8000-000000000000')$$);
SELECT try($$SELECT * FROM csms_list_secret_tasks(page_size => 0)$$);
SELECT try($$SELECT * FROM csms_list_secret_tasks(page_size => 1001)$$);
SELECT try($$SELECT * FROM csms_list_secret_tasks(secret_name => 'bad name')$$);
SELECT count(*) AS none FROM csms_list_secret_tasks('no-such-secret');
-- another region's tasks are not listed here
SET csms.region = 'rot-eu';
SELECT count(*) AS in_eu FROM csms_list_secret_tasks();
RESET csms.region;
-- the tasks go with their secret
SELECT csms_delete_secret('fn');
SELECT count(*) AS gone FROM csms.secret_tasks t
 WHERE NOT EXISTS (SELECT FROM csms.secrets s WHERE s.id = t.secret_id);

-- clean up
SELECT csms_delete_secret(n) FROM unnest('{pg-app,pg-multi,pg-self,pg-created,pg-gone,plain-rot,auto}'::text[]) n;
DROP FUNCTION creds(text, text), verifier_ok(name), rot_fail(text, text), rot_null(text, text),
	rot_who(text, text), rot_wrong(text), rot_wrong2(text, text), rot_twice(int),
	rot_private(text, text);
DROP PROCEDURE rot_proc(text, text);
DROP ROLE rot_app, rot_blue, rot_green, rot_nologin, rot_super, rot_repl;
DROP OWNED BY rot_self, rot_creator, rot_writer, rot_stranger;
DROP ROLE rot_self, rot_creator, rot_writer, rot_stranger;
