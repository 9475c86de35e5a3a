-- Master keys: create, list, enable, disable, rotate; alias rules; the
-- default key; key state honoured by encryption and decryption.
\set VERBOSITY terse

SELECT alias, region, state, description, key_version,
       key_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_v7,
       create_time = update_time AS fresh
  FROM csms_create_key('app/main', 'main application key');
SELECT alias, state, key_version FROM csms_create_key('other');
SELECT alias, state, key_version, description FROM csms_list_keys();

-- aliases
SELECT try($$SELECT csms_create_key('app/main')$$);
SELECT try($$SELECT csms_create_key('')$$);
SELECT try($$SELECT csms_create_key('has space')$$);
SELECT try($$SELECT csms_create_key('é')$$);
SELECT try($$SELECT csms_create_key(NULL)$$);
SELECT try($$SELECT csms_create_key('csms/default')$$);
SELECT try($$SELECT csms_create_key('csms/mine')$$);
SELECT try($$SELECT csms_create_key('0d0466b0-e727-4d9c-b35d-f84bb474a37f')$$);
SELECT length(alias) FROM csms_create_key(repeat('k', 255));
SELECT try($$SELECT csms_create_key(repeat('k', 256))$$);
SELECT alias FROM csms_create_key('a:b/c_d-e');
SELECT length(description) FROM csms_create_key('long-desc', repeat('d', 2048));
SELECT try($$SELECT csms_create_key('too-long-desc', repeat('d', 2049))$$);

-- the key material: one sealed 60-byte version per key, never the raw key
SELECT k.alias, v.version, length(v.material) AS sealed_len
  FROM csms.keys k JOIN csms.key_versions v ON v.key_id = k.id
 WHERE k.alias IN ('app/main', 'other') ORDER BY 1, 2;
SELECT count(DISTINCT material) = count(*) AS all_distinct FROM csms.key_versions;

-- enable, disable, by alias and by id
SELECT alias, state FROM csms_disable_key('other');
SELECT alias, state FROM csms_disable_key('other');
SELECT alias, state FROM csms_enable_key((SELECT key_id FROM csms_list_keys() WHERE alias = 'other'));
SELECT try($$SELECT csms_enable_key('missing')$$);
SELECT try($$SELECT csms_enable_key('00000000-0000-4000-8000-000000000000')$$);
SELECT try($$SELECT csms_enable_key('bad key!')$$);
SELECT try($$SELECT csms_enable_key(NULL)$$);
SELECT try($$SELECT csms_disable_key(repeat('x', 256))$$);

-- rotation: a new material version for new encryptions, old ones stay
SELECT (csms_create_secret('k1', 'before rotation', kms_key_id => 'app/main')).name;
SELECT alias, key_version, update_time > create_time AS updated FROM csms_rotate_key('app/main');
SELECT alias, key_version FROM csms_rotate_key('app/main');
SELECT (csms_create_secret_version('k1', 'after rotation')).id;
SELECT v.version, v.key_version FROM csms.versions v JOIN csms.secrets s ON s.id = v.secret_id
 WHERE s.name = 'k1' ORDER BY 1;
SELECT csms_get_secret_value('k1', 'v1'), csms_get_secret_value('k1', 'v2');
SELECT try($$SELECT csms_rotate_key('missing')$$);

-- a disabled key neither encrypts nor decrypts
SELECT state FROM csms_disable_key('app/main');
SELECT try($$SELECT csms_get_secret_value('k1')$$);
SELECT try($$SELECT csms_create_secret_version('k1', 'x')$$);
SELECT try($$SELECT csms_create_secret('k2', 'x', kms_key_id => 'app/main')$$);
SELECT try($$SELECT csms_rotate_key('app/main')$$);
SELECT state FROM csms_enable_key('app/main');
SELECT csms_get_secret_value('k1');

-- secrets name their key by id or alias; results show the id
SELECT s.kms_key_id = k.key_id AS by_alias
  FROM csms_create_secret('k3', 'x', kms_key_id => 'other') s, csms_list_keys() k WHERE k.alias = 'other';
SELECT s.kms_key_id = k.key_id AS by_id
  FROM csms_list_keys() k, csms_create_secret('k4', 'x', kms_key_id => k.key_id) s WHERE k.alias = 'other';
SELECT try($$SELECT csms_create_secret('k5', 'x', kms_key_id => 'missing')$$);
SELECT try($$SELECT csms_create_secret('k5', 'x', kms_key_id => '00000000-0000-4000-8000-000000000000')$$);
SELECT try($$SELECT csms_create_secret('k5', 'x', kms_key_id => 'not a key')$$);

-- csms/default: created on first use, once
SELECT count(*) FROM csms_list_keys() WHERE alias = 'csms/default';
SELECT (csms_create_secret('k6', 'x')).name;
SELECT (csms_create_secret('k7', 'x')).name;
SELECT alias, description FROM csms_list_keys() WHERE alias = 'csms/default';
SELECT (SELECT kms_key_id FROM csms_show_secret('k6')) = key_id AS default_used
  FROM csms_list_keys() WHERE alias = 'csms/default';

-- a disabled default key is refused like any other
SELECT state FROM csms_disable_key('csms/default');
SELECT try($$SELECT csms_create_secret('k8', 'x')$$);
SELECT state FROM csms_enable_key('csms/default');

-- every key of the region is listed
SELECT count(*) AS listed FROM csms_list_keys();
SELECT count(*) AS stored FROM csms.keys;

-- Material of a rotation that rolled back is gone: the backend that used it
-- (to seal a version, so it loaded it) must not keep it for the next
-- rotation, which gets the same version number and other material; a version
-- sealed afterwards reads in every session.
SELECT (csms_create_key('app/rollback')).alias;
SELECT (csms_create_secret('k9', 'first', kms_key_id => 'app/rollback')).name;
BEGIN;
SELECT key_version FROM csms_rotate_key('app/rollback');
SELECT (csms_create_secret_version('k9', 'rolled back')).id;
ROLLBACK;
SELECT key_version FROM csms_rotate_key('app/rollback');
SELECT (csms_create_secret_version('k9', 'second')).id;
-- the same with a savepoint
BEGIN;
SAVEPOINT s;
SELECT key_version FROM csms_rotate_key('app/rollback');
SELECT (csms_create_secret_version('k9', 'rolled back')).id;
ROLLBACK TO SAVEPOINT s;
SELECT key_version FROM csms_rotate_key('app/rollback');
SELECT (csms_create_secret_version('k9', 'third')).id;
COMMIT;
\c
\set VERBOSITY terse
SELECT csms_get_secret_value('k9', 'v1') AS v1, csms_get_secret_value('k9', 'v2') AS v2,
       csms_get_secret_value('k9') AS latest;
