-- Regions and replica secrets (seed 000): regions, csms_create_replica with
-- the seed's example, every change of the primary reaching the replica in
-- the same transaction, read-only replicas, delete and promote, errors.
\set VERBOSITY terse

-- regions
SELECT csms_create_region('cn-text-x') ~ '^[0-9a-f]{32}$' AS project_id_ok;
SELECT csms_create_region('eu-west-y') <> csms_create_region('ap-east-z') AS distinct_projects;
SELECT * FROM csms_list_regions();
SELECT try($$SELECT csms_create_region('cn-text-x')$$);
SELECT try($$SELECT csms_create_region('local')$$);
SELECT try($$SELECT csms_create_region('bad region')$$);
SELECT try($$SELECT csms_create_region(repeat('r', 65))$$);
SELECT try($$SELECT csms_create_region(NULL)$$);
SET csms.region = 'cn-text-x';
SELECT * FROM csms_list_regions();
-- each region has its own keys and names
SELECT count(*) AS keys_here FROM csms_list_keys();
SELECT name, region FROM csms_create_secret('only-here', 'x');
RESET csms.region;
SELECT try($$SELECT csms_show_secret('only-here')$$);
SET csms.region = 'no-such-region';
SELECT try($$SELECT csms_show_secret('only-here')$$);
RESET csms.region;

-- the seed's example: a replica in cn-text-x under a key id that does not exist yet
SELECT name FROM csms_create_secret('test', 'first value', description => 'description',
	tags => '{"env": "prod"}', rotation_period => '30d');
SELECT id FROM csms_create_secret_version('test', secret_binary => '\x00ff'::bytea, version_stages => '{BIN}');
SELECT id FROM csms_create_secret_version('test', 'third value');
SELECT csms_create_replica('test', 'cn-text-x', '0d0466b0-e727-4d9c-b35d-f84bb474a37f') AS replica_id \gset
SELECT :'replica_id' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_ok;
-- the source is PRIMARY and lists its replica
SELECT name, replica_type, array_length(replicas, 1) AS replicas FROM csms_show_secret('test');
SELECT r.id = :'replica_id' AS id_ok, r.kms_key_id, r.project_id = (SELECT project_id FROM csms.regions WHERE name = 'cn-text-x') AS project_ok,
       r.region, r.replica_type, r.status, r.created_at IS NOT NULL AS created
  FROM csms_show_secret('test') s, unnest(s.replicas) r;
-- the copy is REPLICA, encrypted under the new key of its region, and lists its primary
SET csms.region = 'cn-text-x';
SELECT id = :'replica_id' AS id_ok, name, replica_type, kms_key_id, description, region, rotation_period
  FROM csms_show_secret('test');
SELECT r.region, r.replica_type, r.status, r.project_id = (SELECT home_project_id FROM csms.account) AS project_ok
  FROM csms_show_secret('test') s, unnest(s.replicas) r;
SELECT key_id, alias, region, state FROM csms_list_keys() WHERE key_id = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';
SELECT id, version_stages FROM csms_list_secret_versions('test');
SELECT csms_get_secret_value('test', 'v1'), csms_get_secret_binary('test', 'v2'), csms_get_secret_value('test');
SELECT key, value FROM csms.tags WHERE secret_id = :'replica_id';
-- fresh data keys: no ciphertext or wrapped key is shared with the primary
SELECT count(*) AS shared FROM csms.versions r JOIN csms.versions p
    ON (p.ciphertext = r.ciphertext OR p.wrapped_dek = r.wrapped_dek) AND p.secret_id <> r.secret_id
 WHERE r.secret_id = :'replica_id';
-- a replica is read-only, and says where its primary is
SELECT try_detail($$SELECT csms_create_secret_version('test', 'x')$$);
SELECT try($$SELECT csms_update_secret('test', description => 'x')$$);
SELECT try($$SELECT csms_update_secret_stage('test', 'X', 'v1')$$);
SELECT try($$SELECT csms_delete_secret_stage('test', 'BIN')$$);
SELECT try($$SELECT csms_update_secret_version('test', 'v1', now())$$);
SELECT try($$SELECT csms_disable_secret('test')$$);
SELECT try($$SELECT csms_delete_secret('test')$$);
SELECT try($$SELECT csms_create_replica('test', 'eu-west-y')$$);
RESET csms.region;

-- every change of the primary reaches the replica
SELECT id FROM csms_create_secret_version('test', 'fourth value');
SELECT name, version_id FROM csms_update_secret_stage('test', 'QA', 'v1');
SELECT name, version_id FROM csms_update_secret_stage('test', 'SYSCURRENT', 'v3');
SELECT csms_delete_secret_stage('test', 'BIN');
SELECT id, expire_time FROM csms_update_secret_version('test', 'v2', '2030-01-01 00:00+00');
SELECT description, auto_rotation FROM csms_update_secret('test', description => 'changed', auto_rotation => true);
SELECT alias FROM csms_create_key('test-key-2');
SELECT name FROM csms_update_secret('test', kms_key_id => 'test-key-2');
SET csms.region = 'cn-text-x';
SELECT description, auto_rotation, rotation_period, next_rotation_time IS NOT NULL AS scheduled,
       kms_key_id AS replica_key_unchanged FROM csms_show_secret('test');
SELECT id, expire_time, version_stages FROM csms_list_secret_versions('test');
SELECT csms_get_secret_value('test'), csms_get_secret_value('test', 'v4');
RESET csms.region;
-- state
SELECT state FROM csms_disable_secret('test');
SET csms.region = 'cn-text-x';
SELECT state FROM csms_show_secret('test');
SELECT try($$SELECT csms_get_secret_value('test')$$);
RESET csms.region;
SELECT state FROM csms_enable_secret('test');
-- pruning: versions that leave the primary leave the replica
SELECT count(*) FROM (SELECT csms_create_secret_version('test', 'v' || g) FROM generate_series(5, 22) g) s;
SELECT (SELECT array_agg(id ORDER BY substr(id, 2)::int) FROM csms_list_secret_versions('test')) AS primary_versions \gset
SET csms.region = 'cn-text-x';
SELECT array_agg(id ORDER BY substr(id, 2)::int) = :'primary_versions' AS same_versions, count(*) FROM csms_list_secret_versions('test');
SELECT csms_get_secret_value('test');
RESET csms.region;
-- csms.secrets.version_count, kept by the code, is each secret's number of versions
SELECT s.region, s.name, s.version_count, count(v.version) AS versions
  FROM csms.secrets s LEFT JOIN csms.versions v ON v.secret_id = s.id
 GROUP BY s.id HAVING s.version_count <> count(v.version);

-- a rollback leaves the replica as it was
BEGIN;
SELECT id FROM csms_create_secret_version('test', 'rolled back');
SELECT description FROM csms_update_secret('test', description => 'rolled back');
SET LOCAL csms.region = 'cn-text-x';
SELECT csms_get_secret_value('test'), description FROM csms_show_secret('test');
ROLLBACK;
SET csms.region = 'cn-text-x';
SELECT csms_get_secret_value('test'), description FROM csms_show_secret('test');
RESET csms.region;

-- a change that cannot reach a replica is not made at all
SET csms.region = 'cn-text-x';
SELECT state FROM csms_disable_key('0d0466b0-e727-4d9c-b35d-f84bb474a37f');
RESET csms.region;
SELECT try_detail($$SELECT csms_create_secret_version('test', 'blocked')$$);
SELECT csms_get_secret_value('test');
SET csms.region = 'cn-text-x';
SELECT state FROM csms_enable_key('0d0466b0-e727-4d9c-b35d-f84bb474a37f');
RESET csms.region;

-- errors
SELECT try($$SELECT csms_create_replica('test', 'cn-text-x')$$);
SELECT try($$SELECT csms_create_replica('test', 'local')$$);
SELECT try($$SELECT csms_create_replica('test', 'nowhere')$$);
SELECT try($$SELECT csms_create_replica('missing', 'eu-west-y')$$);
SELECT try($$SELECT csms_create_replica('test', 'bad region')$$);
SELECT try($$SELECT csms_create_replica('test', NULL)$$);
SELECT try($$SELECT csms_create_replica('test', 'eu-west-y', 'no such alias')$$);
SELECT try($$SELECT csms_create_replica('test', 'eu-west-y', 'missing-alias')$$);
SELECT regexp_replace(try($$SELECT csms_create_replica('test', 'eu-west-y', (SELECT key_id FROM csms_list_keys() WHERE alias = 'test-key-2'))$$),
	'[0-9a-f-]{36}', '<id>') AS try;
SELECT try($$SELECT csms_delete_secret('test')$$);
-- the name already used in the target region
SELECT name FROM csms_create_secret('only-here', 'home');
SELECT try($$SELECT csms_create_replica('only-here', 'cn-text-x')$$);
-- a replica under an alias of the target region, and under its csms/default
SET csms.region = 'eu-west-y';
SELECT alias FROM csms_create_key('eu-key');
RESET csms.region;
SELECT csms_create_replica('test', 'eu-west-y', 'eu-key') IS NOT NULL AS created;
SELECT csms_create_replica('test', 'ap-east-z') IS NOT NULL AS created;
SELECT r.region, k.alias FROM csms_show_secret('test') s, unnest(s.replicas) r
  JOIN csms.keys k ON k.id::text = r.kms_key_id ORDER BY 1;

-- delete: from the primary's region, by region
SELECT csms_delete_replica('test', 'ap-east-z');
SELECT array_length(replicas, 1) AS replicas, replica_type FROM csms_show_secret('test');
SELECT try($$SELECT csms_delete_replica('test', 'ap-east-z')$$);
SELECT try($$SELECT csms_delete_replica('test', 'nowhere')$$);
SELECT try($$SELECT csms_delete_replica('missing', 'eu-west-y')$$);
SELECT csms_delete_replica('test', 'eu-west-y');
SET csms.region = 'eu-west-y';
SELECT try($$SELECT csms_show_secret('test')$$);
RESET csms.region;

-- promote: in the replica's region; it becomes a writable STANDALONE secret
SET csms.region = 'cn-text-x';
SELECT name, replica_type, replicas FROM csms_promote_replica('test');
SELECT id FROM csms_create_secret_version('test', 'written in cn-text-x');
SELECT try($$SELECT csms_promote_replica('test')$$);
SELECT try($$SELECT csms_promote_replica('missing')$$);
RESET csms.region;
SELECT name, replica_type, replicas FROM csms_show_secret('test');
SELECT csms_get_secret_value('test');
SELECT id FROM csms_create_secret_version('test', 'no longer synced');
SET csms.region = 'cn-text-x';
SELECT csms_get_secret_value('test');
RESET csms.region;
-- now the primary can go
SELECT csms_delete_secret('test');

-- a key created with a given id for a replica, in a transaction that rolled
-- back, is created again with other material: the session that used the
-- first one must not keep it (a new session reads the replica)
BEGIN;
SELECT name FROM csms_create_secret('rb-r', 'rolled back');
SELECT csms_create_replica('rb-r', 'ap-east-z', '6a0e2f9c-3b1d-4c8e-9f20-5d7a1b3c4e6f') IS NOT NULL AS created;
ROLLBACK;
SELECT name FROM csms_create_secret('rb-r', 'kept');
SELECT csms_create_replica('rb-r', 'ap-east-z', '6a0e2f9c-3b1d-4c8e-9f20-5d7a1b3c4e6f') IS NOT NULL AS created;
\c
\set VERBOSITY terse
SET csms.region = 'ap-east-z';
SELECT csms_get_secret_value('rb-r');
RESET csms.region;

-- backups honour regions: a replica's blob restores only in the replica's region
SELECT name FROM csms_create_secret('bk-r', 'x');
SELECT csms_create_replica('bk-r', 'eu-west-y') IS NOT NULL AS created;
SET csms.region = 'eu-west-y';
SELECT csms_backup_secret('bk-r') AS blob \gset
RESET csms.region;
SELECT try($$SELECT csms_restore('$$ || :'blob' || $$')$$);
