-- Versions: ids, default stage moves, explicit stages, the 20-version limit,
-- the 12-stage limit, listing and paging, expiry, rollback.
\set VERBOSITY terse

SELECT name FROM csms_create_secret('ver', 'one');
SELECT id, secret_name, version_stages, expire_time, kms_key_id = (SELECT kms_key_id FROM csms_show_secret('ver')) AS key_ok
  FROM csms_create_secret_version('ver', 'two');
SELECT id, version_stages FROM csms_create_secret_version('ver', secret_binary => '\x0102'::bytea);
SELECT id, version_stages FROM csms_list_secret_versions('ver');

-- explicit stages move exactly those stages
SELECT id, version_stages FROM csms_create_secret_version('ver', 'four', version_stages => '{TEST,QA}');
SELECT id, version_stages FROM csms_list_secret_versions('ver');
SELECT id, version_stages FROM csms_create_secret_version('ver', 'five', version_stages => '{QA,SYSCURRENT}');
SELECT id, version_stages FROM csms_list_secret_versions('ver');
SELECT csms_get_secret_value('ver');

-- stage lists
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => '{}')$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => '{a,a}')$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => '{"bad stage"}')$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => ARRAY['a', NULL])$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => '{{a},{b}}')$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => (SELECT array_agg('s' || g) FROM generate_series(1, 13) g))$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', version_stages => ARRAY[repeat('s', 65)])$$);
SELECT id FROM csms_create_secret_version('ver', 'x', version_stages => ARRAY[repeat('s', 64)]);

-- values and expiry
SELECT try($$SELECT csms_create_secret_version('ver')$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', '\x00'::bytea)$$);
SELECT try($$SELECT csms_create_secret_version('ver', repeat('x', 32769))$$);
SELECT try($$SELECT csms_create_secret_version('ver', 'x', expire_time => 'infinity')$$);
SELECT try($$SELECT csms_create_secret_version('missing', 'x')$$);
SELECT try($$SELECT csms_create_secret_version(NULL, 'x')$$);
SELECT id, expire_time FROM csms_create_secret_version('ver', 'expiring', expire_time => '2030-01-01 00:00:00+00');
SELECT id, expire_time FROM csms_update_secret_version('ver', 'v1', '2031-06-30 12:00:00+00');
SELECT id, expire_time FROM csms_update_secret_version('ver', 'v1', NULL);
SELECT id, expire_time FROM csms_update_secret_version('ver', 'latest', '2032-01-01 00:00:00+00');
SELECT try($$SELECT csms_update_secret_version('ver', 'v99', now())$$);
SELECT try($$SELECT csms_update_secret_version('ver', 'x1', now())$$);
SELECT try($$SELECT csms_update_secret_version('ver', NULL, now())$$);
SELECT try($$SELECT csms_update_secret_version('ver', 'v1', '-infinity')$$);
SELECT try($$SELECT csms_update_secret_version('missing', 'v1', now())$$);

-- list: ascending, paged, marker exclusive, 'latest' as a marker
SELECT id FROM csms_list_secret_versions('ver', 2);
SELECT id FROM csms_list_secret_versions('ver', 2, 'v2');
SELECT id FROM csms_list_secret_versions('ver', marker => 'latest');
SELECT id FROM csms_list_secret_versions('ver', marker => 'v2147483647');
SELECT try($$SELECT * FROM csms_list_secret_versions('ver', 0)$$);
SELECT try($$SELECT * FROM csms_list_secret_versions('ver', 1001)$$);
SELECT try($$SELECT * FROM csms_list_secret_versions('ver', marker => 'bad')$$);
SELECT try($$SELECT * FROM csms_list_secret_versions('missing')$$);

-- at most 20 versions: the oldest version without a stage goes
SELECT name FROM csms_create_secret('many', 'v1');
SELECT count(*) FROM (SELECT csms_create_secret_version('many', 'value ' || g) FROM generate_series(2, 20) g) s;
SELECT count(*), min(id), max(id) FROM csms_list_secret_versions('many');
SELECT id FROM csms_create_secret_version('many', 'value 21');
SELECT count(*) AS versions, min(substr(id, 2)::int) AS oldest FROM csms_list_secret_versions('many');
SELECT id FROM csms_create_secret_version('many', 'value 22');
SELECT count(*) AS versions, min(substr(id, 2)::int) AS oldest FROM csms_list_secret_versions('many');
SELECT try($$SELECT csms_get_secret_value('many', 'v1')$$);
SELECT csms_get_secret_value('many', 'v3');
-- a version that holds a stage is kept however old
SELECT name FROM csms_update_secret_stage('many', 'KEEP', 'v3');
SELECT count(*) FROM (SELECT csms_create_secret_version('many', 'more ' || g) FROM generate_series(1, 5) g) s;
SELECT count(*) AS versions, min(substr(id, 2)::int) AS oldest FROM csms_list_secret_versions('many');
SELECT id, version_stages FROM csms_list_secret_versions('many', 2);
-- csms.secrets.version_count, kept by the code, is each secret's number of versions
SELECT s.region, s.name, s.version_count, count(v.version) AS versions
  FROM csms.secrets s LEFT JOIN csms.versions v ON v.secret_id = s.id
 GROUP BY s.id HAVING s.version_count <> count(v.version);

-- at most 12 stages per secret
SELECT name FROM csms_create_secret('stg', 'x');
SELECT id, array_length(version_stages, 1) FROM csms_create_secret_version('stg', 'y',
	version_stages => (SELECT array_agg('s' || g) FROM generate_series(1, 11) g));
SELECT try($$SELECT csms_create_secret_version('stg', 'z', version_stages => '{one-more}')$$);
SELECT try($$SELECT csms_update_secret_stage('stg', 'one-more', 'v1')$$);
SELECT id FROM csms_create_secret_version('stg', 'z', version_stages => '{s1,s2}');
-- the default move adds SYSPREVIOUS, which does not fit either
SELECT try($$SELECT csms_create_secret_version('stg', 'z')$$);
-- nor does moving SYSCURRENT by hand, which hands SYSPREVIOUS on (a 13th stage)
SELECT try($$SELECT csms_update_secret_stage('stg', 'SYSCURRENT', 'v2')$$);
SELECT count(*) AS stages, count(*) FILTER (WHERE st = 'SYSPREVIOUS') AS sysprevious
  FROM csms_list_secret_versions('stg') v, unnest(v.version_stages) st;

-- rollback of a new version leaves nothing
BEGIN;
SELECT id FROM csms_create_secret_version('ver', 'rolled back');
ROLLBACK;
SELECT id, version_stages FROM csms_list_secret_versions('ver', marker => 'v6');
SELECT id FROM csms_create_secret_version('ver', 'after rollback');

-- update_time moves with every change
SELECT update_time > create_time AS touched FROM csms_show_secret('ver');

-- the rows csms_create_secret and csms_create_secret_version return are
-- built without reading the tables back: they equal what is stored
CREATE TEMP TABLE made AS SELECT * FROM csms_create_secret('rows', 'v', description => 'd',
	auto_rotation => true, rotation_period => '30d', rotation_config => '{"a": 1}',
	event_subscriptions => '{ev1}', enterprise_project_id => 'proj',
	rotation_func_urn => 'rotate_demo', tags => '{"k": "v"}');
SELECT (SELECT row(m.*)::text FROM made m) = (SELECT row(s.*)::text FROM csms_show_secret('rows') s) AS same;
CREATE TEMP TABLE made2 AS SELECT * FROM csms_create_secret('rows2', secret_binary => '\x01', rotation_period => '5h');
SELECT (SELECT row(m.*)::text FROM made2 m) = (SELECT row(s.*)::text FROM csms_show_secret('rows2') s) AS same;
CREATE TEMP TABLE made_v AS SELECT * FROM csms_create_secret_version('rows2', 'x',
	version_stages => '{b,A,a,SYSCURRENT}', expire_time => '2030-01-01 00:00+00');
SELECT (SELECT row(m.*)::text FROM made_v m) =
       (SELECT row(l.*)::text FROM csms_list_secret_versions('rows2') l WHERE id = 'v2') AS same,
       id, version_stages FROM made_v;
CREATE TEMP TABLE made_v3 AS SELECT * FROM csms_create_secret_version('rows2', 'y');
SELECT (SELECT row(m.*)::text FROM made_v3 m) =
       (SELECT row(l.*)::text FROM csms_list_secret_versions('rows2') l WHERE id = 'v3') AS same,
       id, version_stages FROM made_v3;
SELECT id, version_stages FROM csms_list_secret_versions('rows2');
SELECT csms_get_secret_value('rows2'), csms_get_secret_value('rows2', 'v2');
SELECT csms_delete_secret('rows'), csms_delete_secret('rows2');
