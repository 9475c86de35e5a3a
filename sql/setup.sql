-- Installs the extension for the regression suites and checks what the
-- install script creates.
SET client_min_messages = error;	-- the WARNING about a generated key file names a path
CREATE EXTENSION secrets;
RESET client_min_messages;

-- events that secrets of the suites subscribe to (a subscription names an
-- event that exists: sql/lifecycle.sql); they fire only for rotations
SELECT name FROM csms_create_event('rotation-events', '{SECRET_ROTATED}',
	notification => '{"target_type": "NOTIFY", "target_name": "rotations"}');
SELECT name FROM csms_create_event('ev1', '{SECRET_ROTATED}',
	notification => '{"target_type": "NOTIFY", "target_name": "rotations"}');

-- try(sql): run a statement, return 'ok' or 'SQLSTATE: message', so that
-- expected files show both the code and the text of every error.
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- try_detail(sql): the same, with the DETAIL of the error
CREATE FUNCTION try_detail(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' / ' || nullif(detail, ''), '');
END
$$;

-- every API function, its arguments, and its volatility (anything that uses
-- keys or randomness must be VOLATILE)
SELECT p.oid::regprocedure AS function, p.provolatile AS vol, p.prosecdef AS secdef
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
   AND d.deptype = 'e'
 ORDER BY p.oid::regprocedure::text;

-- secure by default: PUBLIC may execute none of them
SELECT count(*) AS public_executable
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-- the state tables, and that pg_dump carries them
SELECT c.relname, c.oid = ANY (e.extconfig) AS dumped
  FROM pg_class c CROSS JOIN pg_extension e
 WHERE c.relnamespace = 'csms'::regnamespace AND c.relkind = 'r' AND e.extname = 'secrets'
 ORDER BY 1;

-- the account: random domain and home project ids, the home region, and the
-- root key check value
SELECT domain_id ~ '^[0-9a-f]{32}$' AS domain_ok,
       home_project_id ~ '^[0-9a-f]{32}$' AS project_ok,
       home_region, length(root_check) AS check_len
  FROM csms.account;
SELECT csms_root_key_fingerprint() ~ '^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$' AS fingerprint_ok;
SELECT csms_root_key_fingerprint() = (SELECT substr(encode(root_check, 'hex'), 1, 4) || '-' ||
	substr(encode(root_check, 'hex'), 5, 4) || '-' || substr(encode(root_check, 'hex'), 9, 4) || '-' ||
	substr(encode(root_check, 'hex'), 13, 4) FROM csms.account) AS fingerprint_is_check_value;

-- the account is made once, by CREATE EXTENSION only
SELECT try($$SELECT csms.init_account()$$);
-- a second account row is refused while the first holds data
SELECT (csms_create_key('setup-key')).alias;
SELECT try($$INSERT INTO csms.account (domain_id, root_check, home_region, home_project_id, create_time)
	VALUES (repeat('a', 32), decode(repeat('00', 32), 'hex'), 'x', repeat('b', 32), now())$$);
SELECT (csms_disable_key('setup-key')).state;

-- the region setting: empty and the home region's name both mean home
SHOW csms.region;
SET csms.region = 'local';
SELECT count(*) FROM csms_list_keys();
SET csms.region = 'nowhere';
SELECT try($$SELECT * FROM csms_list_keys()$$);
RESET csms.region;

-- a rotation function the suites name (rotation_func_urn): the new value
-- from the secret's name and the new version's id
CREATE FUNCTION public.rotate_demo(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT 'rotated ' || secret_name || ' ' || version_id $$;
