-- Hostile schemas (issue 12, ../shared/spec/api.md Milestone 4): a role that
-- may create objects in a schema on the search_path of whoever calls the
-- extension, or in the schema the extension is installed in, defines there
-- a shadow of every operator name for every pair of the types the extension
-- uses, and of every function its SQL texts call.  Each shadow counts its
-- runs.  Then the role calls every API function, with that schema first on
-- its search_path; then CREATE EXTENSION and ALTER EXTENSION UPDATE run
-- with shadows in the target schema.  No shadow may run.
--
-- The names come from the code: scripts/check-sql.pl lists the functions
-- the SQL texts call and the types of their parameters and casts; the rest
-- of the types from the catalogs (sql/hostile_harness.psql).
\set regress_db :DBNAME
\i sql/hostile_harness.psql
\set funcs `perl scripts/check-sql.pl --functions`
\set text_types `perl scripts/check-sql.pl --types`
\set relations `perl scripts/check-sql.pl --relations`
SELECT harness.shadow_types(:'text_types', :'relations') AS types \gset
SELECT pg_catalog.cardinality(:'types'::regtype[]) AS types_shadowed, :'types' AS types;
SELECT :'funcs' AS functions_shadowed;

CREATE ROLE csms_hostile;
CREATE ROLE csms_hostile_heir;	-- whom it gives its secrets to (csms_reassign_owned)
GRANT csms_hostile_heir TO csms_hostile;
CREATE SCHEMA hostile AUTHORIZATION csms_hostile;
GRANT CREATE ON SCHEMA public TO csms_hostile;
-- its rotation function: of its own, as a rotation function must be
CREATE FUNCTION public.hostile_rotate(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT 'rotated' $$;
ALTER FUNCTION public.hostile_rotate(text, text) OWNER TO csms_hostile;
-- the first gate is open: the role may call every function of the extension
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT d.objid FROM pg_depend d
			  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
				AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
	LOOP
		EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO csms_hostile', f);
	END LOOP;
END
$$;
-- an event its secrets subscribe to, so that notifications are sent under the shadows
SELECT name FROM csms_create_event('ev-hostile', '{SECRET_VERSION_CREATED,SECRET_DELETED}',
	notification => '{"target_type": "NOTIFY", "target_name": "hostile"}');

SET ROLE csms_hostile;
CREATE SEQUENCE hostile.shadow_runs;
SELECT * FROM harness.make_shadows('hostile', :'types', :'funcs', 'hostile.shadow_runs');
-- the shadows work: the role's own unqualified = runs one
SET search_path = hostile, pg_catalog, public;
SELECT harness.run($$SELECT 1 = 1$$) IS NULL AS shadowed;
RESET search_path;
SELECT last_value AS shadow_runs FROM hostile.shadow_runs;
SELECT pg_catalog.setval('hostile.shadow_runs', 1, false) AS reset;

-- 1. the shadows in a schema of the caller's, first on its search_path
SET harness.suffix = 'a';
SET search_path = hostile, pg_catalog, public;
\i sql/hostile_calls.psql
RESET search_path;
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS shadow_runs FROM hostile.shadow_runs;
CALL harness.drop_shadows('hostile');

-- 2. the shadows in public, the schema the extension lives in
CREATE SEQUENCE public.shadow_runs;
SELECT * FROM harness.make_shadows('public', :'types', :'funcs', 'public.shadow_runs');
SET harness.suffix = 'b';
SET search_path = public, pg_catalog;
\i sql/hostile_calls.psql
RESET search_path;
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS shadow_runs FROM public.shadow_runs;
CALL harness.drop_shadows('public');

-- 3. the shadows in the role's temporary schema, which it puts first, with
-- temporary tables named like the extension's
CREATE TEMP TABLE secrets (id uuid, name text);
CREATE TEMP TABLE versions (secret_id uuid);
CREATE TEMP TABLE keys (id uuid);
CREATE TEMP TABLE account (domain_id text);
CREATE SEQUENCE pg_temp.shadow_runs;
SELECT * FROM harness.make_shadows('pg_temp', :'types', :'funcs', 'pg_temp.shadow_runs');
SET harness.suffix = 'c';
SET search_path = pg_temp, pg_catalog, public;
\i sql/hostile_calls.psql
RESET search_path;
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS shadow_runs FROM pg_temp.shadow_runs;
CALL harness.drop_shadows('pg_temp');
SELECT last_value AS api_calls FROM harness.calls;
RESET ROLE;

-- 4. CREATE EXTENSION with the shadows in the target schema (the types of
-- pg_catalog only: the extension's own do not exist yet)
SELECT pg_catalog.array_agg(t) AS install_types
  FROM pg_catalog.unnest(:'types'::regtype[]) t JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) t
 WHERE y.typnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace \gset
CREATE DATABASE csms_hostile_install;
\c csms_hostile_install
SET client_min_messages = warning;
\i sql/hostile_harness.psql
RESET client_min_messages;
GRANT CREATE ON SCHEMA public TO csms_hostile;
SET ROLE csms_hostile;
CREATE SEQUENCE public.shadow_runs;
SELECT operators > 0 AS operators, functions > 0 AS functions, not_made
  FROM harness.make_shadows('public', :'install_types', :'funcs', 'public.shadow_runs');
RESET ROLE;
-- the released 1.0 script runs some of them, and its REVOKE from PUBLIC
-- then finds no function to revoke (the flaw this suite was written for)
SET client_min_messages = warning;
CREATE EXTENSION secrets VERSION '1.0';
RESET client_min_messages;
SELECT is_called AS shadows_ran_in_1_0 FROM public.shadow_runs;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS public_may_call_1_0
  FROM pg_catalog.pg_depend d
 WHERE d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
									WHERE e.extname OPERATOR(pg_catalog.=) 'secrets')
   AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND pg_catalog.has_function_privilege('public', d.objid, 'EXECUTE');
DROP EXTENSION secrets;
SELECT pg_catalog.setval('public.shadow_runs', 1, false) AS reset;
-- 1.1 runs none, and revokes every function from PUBLIC
CREATE EXTENSION secrets;
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS shadow_runs FROM public.shadow_runs;
SELECT pg_catalog.count(*) AS public_may_call
  FROM pg_catalog.pg_depend d
 WHERE d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
									WHERE e.extname OPERATOR(pg_catalog.=) 'secrets')
   AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND pg_catalog.has_function_privilege('public', d.objid, 'EXECUTE');
SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'secrets';
DROP EXTENSION secrets;

-- 5. ALTER EXTENSION UPDATE with the shadows in the target schema: 1.0
-- installed into schema app while it was clean, then shadowed
CREATE SCHEMA app;
GRANT USAGE, CREATE ON SCHEMA app TO csms_hostile;
SET client_min_messages = warning;
CREATE EXTENSION secrets VERSION '1.0' SCHEMA app;
RESET client_min_messages;
SET ROLE csms_hostile;
CREATE SEQUENCE app.shadow_runs;
SELECT operators > 0 AS operators, functions > 0 AS functions, not_made
  FROM harness.make_shadows('app', :'install_types', :'funcs', 'app.shadow_runs');
RESET ROLE;
ALTER EXTENSION secrets UPDATE;
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS shadow_runs FROM app.shadow_runs;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'secrets';

\c :regress_db
DROP DATABASE csms_hostile_install;
-- what the role made goes to the administrator, then its grants (access control)
SELECT csms_reassign_owned('csms_hostile', current_user) > 0 AS reassigned;
DROP OWNED BY csms_hostile;
DROP ROLE csms_hostile, csms_hostile_heir;
DROP SCHEMA harness CASCADE;
