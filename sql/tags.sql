-- Tags (issue 16 item 4, ../shared/spec/api.md Milestone 6): the tags of one
-- secret (create, delete, batch, list), the tag keys of a region, secrets
-- found by tags and name (csms_list_resource_instances) through indexes,
-- privileges, replicas, every limit and error with its SQLSTATE.  In regions
-- of its own, so that what other suites leave does not show.
\set VERBOSITY terse
SET client_min_messages = warning;
SELECT csms_create_region('tg-home') IS NOT NULL AS home, csms_create_region('tg-eu') IS NOT NULL AS eu;
SET csms.region = 'tg-home';

-- One secret's tags ---------------------------------------------------------
SELECT name FROM csms_create_secret('tg-app', 'x', tags => '{"env": "prod", "team": "payments"}');
SELECT * FROM csms_list_secret_tags('tg-app');
SELECT csms_create_secret_tag('tg-app', 'owner', 'alice');
SELECT * FROM csms_list_secret_tags('tg-app');
-- a key the secret has takes the new value, as in the cloud
SELECT csms_create_secret_tag('tg-app', 'owner', 'bob');
SELECT * FROM csms_list_secret_tags('tg-app') WHERE key = 'owner';
-- a change touches update_time; the value a tag has already changes nothing
SELECT update_time AS before FROM csms_show_secret('tg-app') \gset
SELECT csms_create_secret_tag('tg-app', 'owner', 'bob');
SELECT update_time = :'before' AS unchanged FROM csms_show_secret('tg-app');
SELECT csms_create_secret_tag('tg-app', 'owner', 'carol');
SELECT update_time > :'before' AS touched FROM csms_show_secret('tg-app');
-- the rules of csms_create_secret's tags: letters of any script, spaces
-- inside, "_.:=+-@" (and "/" in values), an empty value, the longest ones
SELECT csms_create_secret_tag('tg-app', 'Kostenstelle Süd', '');
SELECT csms_create_secret_tag('tg-app', repeat('k', 127) || 'ü', repeat('v', 254) || 'ü');
SELECT csms_create_secret_tag('tg-app', 'a.b:c=d+e-f@g_h', 'a/b:c=d+e-f@g_h i');
SELECT left(key, 20) AS key, length(key), left(value, 20) AS value, length(value)
  FROM csms_list_secret_tags('tg-app');
SELECT csms_delete_secret_tag('tg-app', 'Kostenstelle Süd');
SELECT csms_delete_secret_tag('tg-app', repeat('k', 127) || 'ü');
SELECT csms_delete_secret_tag('tg-app', 'a.b:c=d+e-f@g_h');
SELECT try($$SELECT csms_delete_secret_tag('tg-app', 'a.b:c=d+e-f@g_h')$$);
SELECT * FROM csms_list_secret_tags('tg-app');
-- a batch: create puts each tag (new keys, new values); delete takes a key,
-- or a key with a value only when the secret has that value; a tag the
-- secret does not have is no error
SELECT csms_batch_secret_tags('tg-app', 'create',
	'[{"key": "owner", "value": "dave"}, {"key": "tier", "value": "1"}, {"key": "cost", "value": "cc-7"}]');
SELECT * FROM csms_list_secret_tags('tg-app');
SELECT csms_batch_secret_tags('tg-app', 'delete',
	'[{"key": "tier"}, {"key": "owner", "value": "nobody"}, {"key": "cost", "value": "cc-7"}, {"key": "never"}]');
SELECT * FROM csms_list_secret_tags('tg-app');
SELECT update_time AS before FROM csms_show_secret('tg-app') \gset
SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "never"}, {"key": "owner", "value": "nobody"}]');
SELECT update_time = :'before' AS unchanged FROM csms_show_secret('tg-app');
-- a batch is checked whole before anything is written; a rollback takes tags back
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "ok", "value": "1"}, {"key": "bad#", "value": "2"}]')$$);
BEGIN;
SELECT csms_create_secret_tag('tg-app', 'temp', 'x');
SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "env"}]');
SELECT * FROM csms_list_secret_tags('tg-app');
ROLLBACK;
SELECT * FROM csms_list_secret_tags('tg-app');
-- a disabled secret takes changes of its metadata, tags included
SELECT state FROM csms_disable_secret('tg-app');
SELECT csms_create_secret_tag('tg-app', 'disabled', 'yes');
SELECT csms_delete_secret_tag('tg-app', 'disabled');
SELECT state FROM csms_enable_secret('tg-app');

-- 20 tags per secret: tg-app has 3; 17 more reach 20
SELECT csms_batch_secret_tags('tg-app', 'create',
	(SELECT jsonb_agg(jsonb_build_object('key', 'k' || g, 'value', 'v')) FROM generate_series(1, 17) g));
SELECT count(*) AS tags FROM csms_list_secret_tags('tg-app');
-- at 20, new values of its keys are fine, a new key is not, alone or in a batch
SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k1", "value": "w"}, {"key": "env", "value": "stage"}]');
SELECT try_detail($$SELECT csms_create_secret_tag('tg-app', 'k18', 'v')$$);
SELECT try_detail($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k2", "value": "w"}, {"key": "k18", "value": "v"}]')$$);
SELECT key, value FROM csms_list_secret_tags('tg-app') WHERE key IN ('k1', 'k2', 'env');
-- a batch of 20 that only replaces fits; 21 are refused before the secret is looked at
SELECT csms_batch_secret_tags('tg-app', 'create',
	(SELECT jsonb_agg(jsonb_build_object('key', 'k' || g, 'value', 'x')) FROM generate_series(1, 17) g)
	|| '[{"key": "env", "value": "prod"}, {"key": "team", "value": "payments"}, {"key": "owner", "value": "erin"}]');
SELECT count(*) FILTER (WHERE value = 'x') AS replaced, count(*) AS tags FROM csms_list_secret_tags('tg-app');
SELECT try_detail($$SELECT csms_batch_secret_tags('nope', 'create',
	(SELECT jsonb_agg(jsonb_build_object('key', 'k' || g, 'value', 'x')) FROM generate_series(1, 21) g))$$);
-- room again: one batch deletes 17
SELECT csms_batch_secret_tags('tg-app', 'delete',
	(SELECT jsonb_agg(jsonb_build_object('key', 'k' || g)) FROM generate_series(1, 17) g));
SELECT * FROM csms_list_secret_tags('tg-app');

-- Errors ---------------------------------------------------------------------
SELECT try($$SELECT csms_create_secret_tag('nope', 'k', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('bad name', 'k', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag(NULL, 'k', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', NULL, 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', 'k', NULL)$$);
SELECT try_detail($$SELECT csms_create_secret_tag('tg-app', '', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', repeat('k', 129), 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', ' lead', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', 'trail ', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', '_sys_k', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', 'a/b', 'v')$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', E'tab\tkey', 'v')$$);
SELECT try_detail($$SELECT csms_create_secret_tag('tg-app', 'k', repeat('v', 256))$$);
SELECT try($$SELECT csms_create_secret_tag('tg-app', 'k', 'semi;colon')$$);
SELECT try($$SELECT csms_delete_secret_tag('nope', 'env')$$);
SELECT try($$SELECT csms_delete_secret_tag('tg-app', NULL)$$);
SELECT try($$SELECT csms_delete_secret_tag('tg-app', '')$$);
SELECT try($$SELECT csms_delete_secret_tag('tg-app', 'absent')$$);
SELECT try($$SELECT * FROM csms_list_secret_tags('nope')$$);
SELECT try($$SELECT * FROM csms_list_secret_tags(NULL)$$);
SELECT try($$SELECT * FROM csms_list_secret_tags('bad name')$$);
-- the batch's arguments
SELECT try_detail($$SELECT csms_batch_secret_tags('tg-app', 'update', '[{"key": "k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', NULL, '[{"key": "k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', NULL)$$);
SELECT try($$SELECT csms_batch_secret_tags(NULL, 'create', '[{"key": "k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('nope', 'create', '[{"key": "k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('nope', 'delete', '[{"key": "k"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '{"k": "v"}')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '"k"')$$);
SELECT try_detail($$SELECT csms_batch_secret_tags('tg-app', 'create', '["k"]')$$);
SELECT try_detail($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k"}]')$$);
SELECT try_detail($$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k", "value": 1}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": 1, "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k", "value": "v", "extra": true}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "k", "value": null}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k", "value": "v"}, {"key": "k", "value": "w"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "k"}, {"key": "k", "value": "w"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "_sys_k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "k", "value": "semi;colon"}]')$$);
SELECT * FROM csms_list_secret_tags('tg-app');

-- Privileges: changes need manage, reading describe ----------------------------
CREATE ROLE tg_none;		-- no privilege on the secrets
CREATE ROLE tg_read;		-- read only
CREATE ROLE tg_describe;
CREATE ROLE tg_manage;
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT d.objid FROM pg_depend d
			  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets')
				AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
				AND d.objid::regprocedure::text LIKE 'csms\_%'
	LOOP
		EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO tg_none, tg_read, tg_describe, tg_manage', f);
	END LOOP;
END
$$;
-- a call as a role: 'ok', or its SQLSTATE and message
CREATE FUNCTION tg_as(role name, sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text := 'ok';
BEGIN
	EXECUTE format('SET ROLE %I', role);
	BEGIN
		EXECUTE sql;
	EXCEPTION WHEN OTHERS THEN
		result := SQLSTATE || ': ' || SQLERRM;
	END;
	RESET ROLE;
	RETURN result;
END
$$;
SELECT privileges FROM csms_grant('tg-app', 'tg_read', '{read}');
SELECT privileges FROM csms_grant('tg-app', 'tg_describe', '{describe}');
SELECT privileges FROM csms_grant('tg-app', 'tg_manage', '{manage}');
SELECT r AS role,
	   tg_as(r, $$SELECT * FROM csms_list_secret_tags('tg-app')$$) AS list,
	   tg_as(r, format($$SELECT csms_create_secret_tag('tg-app', 'by', %L)$$, r)) AS "create",
	   tg_as(r, $$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "by2", "value": "x"}]')$$) AS batch_create,
	   tg_as(r, $$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "by2"}]')$$) AS batch_delete,
	   tg_as(r, $$SELECT csms_delete_secret_tag('tg-app', 'by')$$) AS "delete"
  FROM unnest('{tg_none,tg_read,tg_describe,tg_manage}'::name[]) r \gx
SELECT * FROM csms_list_secret_tags('tg-app');
-- the owner holds every privilege: a role that owns a secret tags it
SET ROLE tg_none;
SELECT name, owner FROM csms_create_secret('tg-own', 'x', tags => '{"mine": "yes"}');
SELECT csms_create_secret_tag('tg-own', 'also', 'mine');
SELECT * FROM csms_list_secret_tags('tg-own');
RESET ROLE;
SELECT csms_delete_secret('tg-own');

-- Replicas: read-only, and following their primary's tags ----------------------
SELECT csms_create_replica('tg-app', 'tg-eu') IS NOT NULL AS replicated;
SET csms.region = 'tg-eu';
SELECT * FROM csms_list_secret_tags('tg-app');
SELECT try($$SELECT csms_create_secret_tag('tg-app', 'k', 'v')$$);
SELECT try($$SELECT csms_delete_secret_tag('tg-app', 'env')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "k", "value": "v"}]')$$);
SELECT try($$SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "env"}]')$$);
-- the grants of the primary hold for its replica
SELECT tg_as('tg_describe', $$SELECT * FROM csms_list_secret_tags('tg-app')$$) AS describe_on_replica,
	   tg_as('tg_manage', $$SELECT csms_create_secret_tag('tg-app', 'k', 'v')$$) AS manage_on_replica;
SET csms.region = 'tg-home';
-- a change of the primary reaches the replica in its transaction, and a
-- rollback takes it back from both
BEGIN;
SELECT csms_create_secret_tag('tg-app', 'synced', 'yes');
SELECT csms_batch_secret_tags('tg-app', 'delete', '[{"key": "team"}]');
SET LOCAL csms.region = 'tg-eu';
SELECT * FROM csms_list_secret_tags('tg-app');
ROLLBACK;
SET csms.region = 'tg-eu';
SELECT * FROM csms_list_secret_tags('tg-app');
SET csms.region = 'tg-home';
SELECT csms_batch_secret_tags('tg-app', 'create', '[{"key": "synced", "value": "yes"}, {"key": "owner", "value": "frank"}]');
SELECT csms_delete_secret_tag('tg-app', 'team');
SET csms.region = 'tg-eu';
SELECT * FROM csms_list_secret_tags('tg-app');
-- the replica's region lists it, with the primary's tags
SELECT * FROM csms_list_project_tags();
SELECT resource_name, tags, (resource_detail).region, (resource_detail).replica_type
  FROM csms_list_resource_instances('filter', tags => '[{"key": "synced", "values": ["yes"]}]');
SET csms.region = 'tg-home';
SELECT csms_delete_replica('tg-app', 'tg-eu');
-- a secret goes with its tags
SELECT id AS app_id FROM csms_show_secret('tg-app') \gset
SELECT csms_delete_secret('tg-app');
SELECT count(*) AS tags_left FROM csms.tags WHERE secret_id = :'app_id';

-- The tags of a region, secrets by tags and name --------------------------------
SELECT name FROM csms_create_secret('pay-db', 'x', description => 'the payments database',
	tags => '{"env": "prod", "team": "payments"}');
SELECT name FROM csms_create_secret('pay-api', 'x', tags => '{"env": "test", "team": "payments"}');
SELECT name FROM csms_create_secret('bill-db', 'x', tags => '{"env": "prod", "team": "billing"}');
SELECT name FROM csms_create_secret('bill_x', 'x', tags => '{"env": "dev"}');
SELECT name FROM csms_create_secret('billAx', 'x');
SELECT * FROM csms_list_project_tags();
SELECT key, t.values FROM csms_list_project_tags() t WHERE key = 'env';
-- every secret, by name (bytes: "-" < "A" < "_"), each with all its tags and how many were found
SELECT resource_id = (csms_show_secret(resource_name)).id AS id_ok, resource_name, tags, total_count
  FROM csms_list_resource_instances('filter');
-- the secret's metadata, as csms_show_secret has it
SELECT (resource_detail).name, (resource_detail).description, (resource_detail).state,
	   (resource_detail).owner, (resource_detail).region
  FROM csms_list_resource_instances('filter', tags => '[{"key": "team", "values": ["payments"]}]');
-- values of one key are OR-ed, keys AND-ed, an empty list is any value
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "env", "values": ["prod", "test"]}]');
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "env", "values": ["prod"]}, {"key": "team", "values": ["payments"]}]');
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "team", "values": []}]');
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "team", "values": []}, {"key": "env", "values": ["prod", "prod", "dev"]}]');
SELECT count(*) FROM csms_list_resource_instances('filter', tags => '[{"key": "nokey", "values": []}]');
SELECT count(*) FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": ["none"]}]');
SELECT count(*) AS all_secrets FROM csms_list_resource_instances('filter', tags => '[]', matches => '[]');
-- matches: the names that start with the value (with every value, when there are several);
-- a value is taken literally: "_" is an underscore, "%" no wildcard
SELECT resource_name FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "bill"}]');
SELECT resource_name FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "bill_"}]');
SELECT resource_name FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "pay-db"}]');
SELECT resource_name FROM csms_list_resource_instances('filter',
	matches => '[{"key": "resource_name", "value": "bill"}, {"key": "resource_name", "value": "bill-"}]');
SELECT count(*) AS disjoint FROM csms_list_resource_instances('filter',
	matches => '[{"key": "resource_name", "value": "bill"}, {"key": "resource_name", "value": "pay"}]');
SELECT count(*) AS percent FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "bill%"}]');
SELECT count(*) AS percent FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "%"}]');
SELECT count(*) AS empty FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": ""}]');
SELECT count(*) AS space FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "bill db"}]');
SELECT count(*) AS too_long FROM csms_list_resource_instances('filter',
	matches => jsonb_build_array(jsonb_build_object('key', 'resource_name', 'value', repeat('b', 65))));
-- tags and a name together
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "env", "values": ["prod"]}]', matches => '[{"key": "resource_name", "value": "pay"}]');
-- pages: page_size (default 10) and offset (default 0); total_count counts them all
SELECT resource_name, total_count FROM csms_list_resource_instances('filter', page_size => 2);
SELECT resource_name, total_count FROM csms_list_resource_instances('filter', page_size => 2, "offset" => 2);
SELECT resource_name, total_count FROM csms_list_resource_instances('filter', page_size => 2, "offset" => 4);
SELECT count(*) FROM csms_list_resource_instances('filter', "offset" => 5);
-- count: one row, the number; page_size and offset are ignored, as in the cloud
SELECT * FROM csms_list_resource_instances('count', tags => '[{"key": "env", "values": ["prod"]}]');
SELECT total_count FROM csms_list_resource_instances('count', page_size => 0, "offset" => -1);
SELECT total_count FROM csms_list_resource_instances('count',
	tags => '[{"key": "team", "values": []}]', matches => '[{"key": "resource_name", "value": "pay-"}]');
SELECT total_count FROM csms_list_resource_instances('count', matches => '[{"key": "resource_name", "value": "%"}]');
-- at most 10 tags of at most 10 values each, 10 matches
SELECT name FROM csms_create_secret('tg-many', 'x',
	tags => (SELECT jsonb_object_agg('k' || g, 'v' || g) FROM generate_series(1, 10) g));
SELECT resource_name, total_count FROM csms_list_resource_instances('filter',
	tags => (SELECT jsonb_agg(jsonb_build_object('key', 'k' || g,
			 'values', (SELECT jsonb_agg('v' || h) FROM generate_series(1, 10) h))) FROM generate_series(1, 10) g),
	matches => (SELECT jsonb_agg(jsonb_build_object('key', 'resource_name', 'value', left('tg-many', g)))
				  FROM generate_series(1, 7) g) || '[{"key": "resource_name", "value": "tg"}, {"key": "resource_name", "value": "t"}, {"key": "resource_name", "value": "tg-many"}]');
SELECT csms_delete_secret('tg-many');
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('count',
	tags => (SELECT jsonb_agg(jsonb_build_object('key', 'k' || g, 'values', '[]'::jsonb)) FROM generate_series(1, 11) g))$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('count',
	tags => jsonb_build_array(jsonb_build_object('key', 'k', 'values', (SELECT jsonb_agg('v' || h) FROM generate_series(1, 11) h))))$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('count',
	matches => (SELECT jsonb_agg(jsonb_build_object('key', 'resource_name', 'value', 'pay')) FROM generate_series(1, 11)))$$);
-- errors
SELECT try($$SELECT * FROM csms_list_resource_instances(NULL)$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('list')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '{"env": "prod"}')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '"env"')$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('filter', tags => '["env"]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env"}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": "prod"}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "value": ["prod"]}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": [], "x": 1}]')$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": [1]}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "_sys_env", "values": []}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": ["a;b"]}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": []}, {"key": "env", "values": ["prod"]}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', matches => '{"key": "resource_name", "value": "pay"}')$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('filter', matches => '[{"key": "name", "value": "pay"}]')$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name"}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": 1}]')$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', matches => '[{"key": "resource_name", "value": "p", "x": 1}]')$$);
SELECT try_detail($$SELECT * FROM csms_list_resource_instances('filter',
	matches => jsonb_build_array(jsonb_build_object('key', 'resource_name', 'value', repeat('p', 256))))$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', page_size => 0)$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', page_size => 1001)$$);
SELECT try($$SELECT * FROM csms_list_resource_instances('filter', "offset" => -1)$$);
SET csms.region = 'nowhere';
SELECT try($$SELECT * FROM csms_list_resource_instances('count')$$);
SELECT try($$SELECT * FROM csms_list_project_tags()$$);
SET csms.region = 'tg-home';
-- the listings show the secrets the caller may describe: describe on
-- pay-db, read only on pay-api (not listed), a pattern grant on bill*
SELECT privileges FROM csms_grant('pay-db', 'tg_describe', '{describe}');
SELECT privileges FROM csms_grant('pay-api', 'tg_read', '{read}');
SELECT privileges FROM csms_grant('tg-home:bill*', 'tg_none', '{describe}');
SET ROLE tg_describe;
SELECT * FROM csms_list_project_tags();
SELECT resource_name, tags, total_count FROM csms_list_resource_instances('filter', tags => '[{"key": "env", "values": []}]');
SELECT total_count FROM csms_list_resource_instances('count');
SET ROLE tg_read;
SELECT count(*) AS tag_keys FROM csms_list_project_tags();
SELECT total_count FROM csms_list_resource_instances('count');
SET ROLE tg_none;
SELECT * FROM csms_list_project_tags();
SELECT resource_name, total_count FROM csms_list_resource_instances('filter');
RESET ROLE;
SELECT csms_revoke('tg-home:bill*', 'tg_none');

-- Through indexes ---------------------------------------------------------------
-- 2000 more secrets with three tags each (every 200th a fourth)
SELECT count(csms_create_secret('ix-' || g, 'x',
	tags => jsonb_build_object('team', 't' || (g % 50), 'env', (ARRAY['prod', 'test', 'dev'])[1 + g % 3],
							   'serial', g::text) || CASE WHEN g % 200 = 0 THEN '{"owner": "ops"}' ELSE '{}' END::jsonb))
  FROM generate_series(1, 2000) g;
-- vacuumed too, so that autovacuum does not change the plans below while they are shown
VACUUM ANALYZE csms.secrets, csms.tags;
-- The statements of src/tag.c: q_ri_page_pairs (a page by (key, value)
-- pairs) and q_ri_page_name (by a name prefix) are planned generically, as
-- the extension runs them, and for these values, as a session that forces
-- custom plans would run them; q_ri_count_tags_name (with a key of any
-- value) is planned for its values at every run.  A (key, value) pair is a
-- range of csms.tags_key_value_idx, a key with any value too, a name prefix
-- a range of csms.secrets_name_region_key.
PREPARE ri_page_pairs(text, text[], text[], text[], int8, text, text, int4, int4) AS
SELECT p.id, p.name, COALESCE((SELECT pg_catalog.jsonb_object_agg(t.key, t.value)
  FROM csms.tags t WHERE t.secret_id OPERATOR(pg_catalog.=) p.id), '{}'::pg_catalog.jsonb), p.total
  FROM (SELECT s.id, s.name, pg_catalog.count(*) OVER () AS total FROM
   (SELECT t.secret_id
	 FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)
	 JOIN csms.tags t ON t.key OPERATOR(pg_catalog.=) f.k AND t.value OPERATOR(pg_catalog.=) f.v
	GROUP BY t.secret_id HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) $5) g
   JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) g.secret_id
   WHERE s.region OPERATOR(pg_catalog.=) $1
	 AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)
   ORDER BY s.name LIMIT $8 OFFSET $9) p
 ORDER BY p.name;
PREPARE ri_count_tags_name(text, text[], text[], text[], int8, text, text, int4, int4) AS
SELECT pg_catalog.count(*) FROM
   (SELECT m.secret_id FROM
	 (SELECT t.secret_id
	   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)
	   JOIN csms.tags t ON t.key OPERATOR(pg_catalog.=) f.k AND t.value OPERATOR(pg_catalog.=) f.v
	  UNION ALL
	  SELECT t.secret_id FROM csms.tags t WHERE t.key OPERATOR(pg_catalog.=) ANY ($4)) m
	GROUP BY m.secret_id HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) $5) g
   JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) g.secret_id
   WHERE s.region OPERATOR(pg_catalog.=) $1
	 AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)
	 AND s.name OPERATOR(pg_catalog.>=) ($6 COLLATE pg_catalog."C")
	 AND s.name OPERATOR(pg_catalog.<) ($7 COLLATE pg_catalog."C");
PREPARE ri_page_name(text, text[], text[], text[], int8, text, text, int4, int4) AS
SELECT p.id, p.name, COALESCE((SELECT pg_catalog.jsonb_object_agg(t.key, t.value)
  FROM csms.tags t WHERE t.secret_id OPERATOR(pg_catalog.=) p.id), '{}'::pg_catalog.jsonb), p.total
  FROM (SELECT s.id, s.name, pg_catalog.count(*) OVER () AS total FROM csms.secrets s
   WHERE s.region OPERATOR(pg_catalog.=) $1
	 AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)
	 AND s.name OPERATOR(pg_catalog.>=) ($6 COLLATE pg_catalog."C")
	 AND s.name OPERATOR(pg_catalog.<) ($7 COLLATE pg_catalog."C")
   ORDER BY s.name LIMIT $8 OFFSET $9) p
 ORDER BY p.name;
-- How a plan reads the tables, from EXPLAIN (COSTS OFF): "index X" for each
-- read of index X (an index, index-only or bitmap scan: which is the
-- planner's), with its conditions, and "sequential scan of T" for a table
-- read whole; how the rows are joined, grouped and sorted is left out
CREATE FUNCTION tg_plan_scans(sql text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP
		line := regexp_replace(line, '^\s*(->\s*)?', '');
		IF line ~ '^Index (Only )?Scan using ' THEN
			RETURN NEXT 'index ' || substring(line FROM 'using (\S+)');
		ELSIF line ~ '^Bitmap Index Scan on ' THEN
			RETURN NEXT 'index ' || substring(line FROM 'on (\S+)');
		ELSIF line ~ '^Seq Scan on ' THEN
			RETURN NEXT 'sequential scan of ' || substring(line FROM 'on (\S+)');
		ELSIF line ~ '^Index Cond: ' THEN
			RETURN NEXT '  ' || line;
		END IF;
	END LOOP;
END
$$;
SET plan_cache_mode = force_custom_plan;
SELECT tg_plan_scans($$EXECUTE ri_page_pairs('tg-home', '{team}', '{t7}', '{}', 1, '', '', 10, 0)$$) AS page_by_tag;
SELECT tg_plan_scans($$EXECUTE ri_count_tags_name('tg-home', '{team}', '{t7}', '{owner}', 2, 'ix-1', 'ix-2', 10, 0)$$)
	AS count_by_tags_and_name;
SELECT tg_plan_scans($$EXECUTE ri_page_name('tg-home', '{}', '{}', '{}', 0, 'ix-19', 'ix-1:', 10, 0)$$) AS page_by_name;
SET plan_cache_mode = force_generic_plan;
SELECT tg_plan_scans($$EXECUTE ri_page_pairs('tg-home', '{team}', '{t7}', '{}', 1, '', '', 10, 0)$$) AS generic_page_by_tag;
SELECT tg_plan_scans($$EXECUTE ri_page_name('tg-home', '{}', '{}', '{}', 0, 'ix-19', 'ix-1:', 10, 0)$$) AS generic_page_by_name;
RESET plan_cache_mode;
DROP FUNCTION tg_plan_scans(text);
DEALLOCATE ri_page_pairs;
DEALLOCATE ri_count_tags_name;
DEALLOCATE ri_page_name;
-- the API's own statements, as they run: the scans of the two tables counted
-- around the calls show no sequential scan, and both indexes used (each
-- kind of call runs several times: the first run of a generic plan makes
-- it, the later ones reuse it)
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE tg_scans AS
	SELECT relname, seq_scan FROM pg_stat_all_tables WHERE schemaname = 'csms' AND relname IN ('secrets', 'tags');
CREATE TEMP TABLE tg_index_scans AS
	SELECT indexrelname, idx_scan FROM pg_stat_all_indexes
	 WHERE schemaname = 'csms' AND indexrelname IN ('tags_key_value_idx', 'secrets_name_region_key');
SELECT resource_name, tags, total_count FROM csms_list_resource_instances('filter',
	tags => '[{"key": "team", "values": ["t7"]}]', page_size => 3);
SELECT resource_name, tags FROM csms_list_resource_instances('filter',
	tags => '[{"key": "owner", "values": []}, {"key": "team", "values": ["t0", "t1"]}]');
SELECT total_count FROM csms_list_resource_instances('count',
	tags => '[{"key": "team", "values": ["t7", "t8"]}]', matches => '[{"key": "resource_name", "value": "ix-1"}]');
SELECT resource_name FROM csms_list_resource_instances('filter',
	matches => '[{"key": "resource_name", "value": "ix-19"}]');
SELECT total_count FROM csms_list_resource_instances('count', matches => '[{"key": "resource_name", "value": "ix-20"}]');
SELECT count(*) AS rows FROM generate_series(1, 7) g,
	csms_list_resource_instances('filter', tags => jsonb_build_array(jsonb_build_object('key', 'team',
		'values', jsonb_build_array('t' || g)))) r;
SELECT count(*) AS rows FROM generate_series(1, 7) g,
	csms_list_resource_instances('filter', tags => jsonb_build_array(jsonb_build_object('key', 'team',
		'values', jsonb_build_array('t0', 't' || g)), '{"key": "owner", "values": []}'::jsonb)) r;
SELECT count(*) AS rows FROM generate_series(1, 7) g,
	csms_list_resource_instances('filter', matches => jsonb_build_array(jsonb_build_object('key', 'resource_name',
		'value', 'ix-1' || g))) r;
SELECT pg_stat_force_next_flush();
SELECT t.relname, t.seq_scan - b.seq_scan AS seq_scans
  FROM pg_stat_all_tables t JOIN tg_scans b USING (relname) WHERE t.schemaname = 'csms' ORDER BY 1;
SELECT i.indexrelname, i.idx_scan > b.idx_scan AS used
  FROM pg_stat_all_indexes i JOIN tg_index_scans b USING (indexrelname) WHERE i.schemaname = 'csms' ORDER BY 1;

-- Clean up ---------------------------------------------------------------------
DO $$
BEGIN
	LOOP
		PERFORM csms_delete_secret(name) FROM csms_list_secrets(1000);
		EXIT WHEN NOT FOUND;
	END LOOP;
END
$$;
SELECT count(*) AS secrets_left FROM csms.secrets WHERE region IN ('tg-home', 'tg-eu');
RESET csms.region;
DROP OWNED BY tg_none, tg_read, tg_describe, tg_manage;
DROP ROLE tg_none, tg_read, tg_describe, tg_manage;
DROP FUNCTION tg_as(name, text);
