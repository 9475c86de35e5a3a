-- Secrets: create with every field, show, list and page, update, enable,
-- disable, delete; every limit at and past its bound; rollback.
\set VERBOSITY terse

-- all fields
SELECT name, state, description, secret_type, auto_rotation, rotation_period,
       rotation_config, event_subscriptions, enterprise_project_id, rotation_func_urn,
       region, replica_type, replicas, scheduled_delete_time, rotation_time, last_used_time,
       id::text ~ '^[0-9a-f-]{36}$' AS id_ok, domain_id = (SELECT domain_id FROM csms.account) AS domain_ok,
       create_time = update_time AS fresh, next_rotation_time - create_time AS next_rotation_in
  FROM csms_create_secret('db-main', secret_string => 'p@ss',
		description => 'main database', secret_type => 'RDS-FG', auto_rotation => true,
		rotation_period => '30d',
		rotation_config => '{"InstanceId": "i-1", "SecretSubType": "MultiUser"}',
		event_subscriptions => '{rotation-events}', enterprise_project_id => 'proj-1',
		rotation_func_urn => 'rotate_demo',
		tags => '{"env": "prod", "team": "db"}') \gx
SELECT key, value FROM csms.tags t JOIN csms.secrets s ON s.id = t.secret_id
 WHERE s.name = 'db-main' ORDER BY key;

-- defaults
SELECT name, state, description, secret_type, auto_rotation, rotation_period, rotation_config,
       next_rotation_time, event_subscriptions, enterprise_project_id, rotation_func_urn
  FROM csms_create_secret('plain', 'x');
SELECT (csms_show_secret('plain')).secret_type;

-- ids are version 7 UUIDs (RFC 9562): the first 48 bits are the time of
-- creation in milliseconds, so the ids of secrets made one after the other
-- increase (and their index entries go to the right edge of the index)
BEGIN;
SELECT id AS id1, create_time AS t1 FROM csms_create_secret('uuid-a', 'x') \gset
SELECT id AS id2 FROM csms_create_secret('uuid-b', 'x') \gset
SELECT substr(:'id1', 15, 1) AS version, substr(:'id1', 20, 1) IN ('8', '9', 'a', 'b') AS variant,
       :'id1'::uuid < :'id2'::uuid AS increasing,
       abs(('x' || translate(substr(:'id1', 1, 13), '-', ''))::bit(48)::bigint
           - (extract(epoch FROM :'t1'::timestamptz) * 1000)::bigint) < 1000 AS time_of_creation;
ROLLBACK;

-- show never returns a value; unknown and malformed names
SELECT name, description FROM csms_show_secret('db-main');
SELECT try($$SELECT csms_show_secret('missing')$$);
SELECT try($$SELECT csms_show_secret('bad name')$$);
SELECT try($$SELECT csms_show_secret(NULL)$$);

-- names: 1 to 64 of [a-zA-Z0-9_-]
SELECT length(name) FROM csms_create_secret(repeat('n', 64), 'x');
SELECT try($$SELECT csms_create_secret(repeat('n', 65), 'x')$$);
SELECT try($$SELECT csms_create_secret('', 'x')$$);
SELECT try($$SELECT csms_create_secret('a.b', 'x')$$);
SELECT try($$SELECT csms_create_secret('ünï', 'x')$$);
SELECT name FROM csms_create_secret('A_z-09', 'x');
SELECT try($$SELECT csms_create_secret('db-main', 'x')$$);

-- exactly one of string and binary
SELECT try($$SELECT csms_create_secret('v1', 'x', '\x00'::bytea)$$);
SELECT try($$SELECT csms_create_secret('v1')$$);

-- value size: 32768 bytes at most, for strings and binaries
SELECT name FROM csms_create_secret('big-s', repeat('s', 32768));
SELECT name FROM csms_create_secret('big-b', secret_binary => decode(repeat('ab', 32768), 'hex'));
SELECT try($$SELECT csms_create_secret('big-s2', repeat('s', 32769))$$);
SELECT try($$SELECT csms_create_secret('big-b2', secret_binary => decode(repeat('ab', 32769), 'hex'))$$);
SELECT try($$SELECT csms_create_secret('big-u', repeat('é', 16385))$$);	-- 32770 bytes

-- description: 2048 bytes
SELECT length(description) FROM csms_create_secret('d1', 'x', description => repeat('d', 2048));
SELECT try($$SELECT csms_create_secret('d2', 'x', description => repeat('d', 2049))$$);

-- type and rotation
SELECT try($$SELECT csms_create_secret('t1', 'x', secret_type => 'OTHER')$$);
SELECT try($$SELECT csms_create_secret('t1', 'x', secret_type => 'RDS-FG')$$);
SELECT try($$SELECT csms_create_secret('t1', 'x', secret_type => 'GaussDB-FG', rotation_config => '{"InstanceId": "i"}')$$);
SELECT try($$SELECT csms_create_secret('t1', 'x', secret_type => 'RDS-FG', rotation_config => '{"InstanceId": "i", "SecretSubType": "Both"}')$$);
SELECT try($$SELECT csms_create_secret('t1', 'x', rotation_config => '[1]')$$);
SELECT try($$SELECT csms_create_secret('t1', 'x', rotation_config => jsonb_build_object('k', repeat('c', 1020)))$$);
SELECT secret_type FROM csms_create_secret('t2', 'x', secret_type => 'GaussDB-FG', rotation_config => '{"InstanceId": "i", "SecretSubType": "SingleUser"}');
SELECT try($$SELECT csms_create_secret('r1', 'x', auto_rotation => true)$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => '3h')$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => '8761h')$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => '366d')$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => '10m')$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => 'h')$$);
SELECT try($$SELECT csms_create_secret('r1', 'x', rotation_period => '24 h')$$);
SELECT rotation_period, next_rotation_time IS NULL AS not_scheduled FROM csms_create_secret('r2', 'x', rotation_period => '4h');
SELECT rotation_period, next_rotation_time - create_time AS next_in FROM csms_create_secret('r3', 'x', auto_rotation => true, rotation_period => '8760h');
SELECT rotation_period, next_rotation_time - create_time AS next_in FROM csms_create_secret('r4', 'x', auto_rotation => true, rotation_period => '365d');

-- events: at most one, by name
SELECT try($$SELECT csms_create_secret('e1', 'x', event_subscriptions => '{a,b}')$$);
SELECT try($$SELECT csms_create_secret('e1', 'x', event_subscriptions => '{"bad name"}')$$);
SELECT try_detail($$SELECT csms_create_secret('e1', 'x', event_subscriptions => '{"bad name"}')$$);
SELECT try($$SELECT csms_create_secret('e1', 'x', event_subscriptions => ARRAY[NULL]::text[])$$);
SELECT event_subscriptions FROM csms_create_secret('e2', 'x', event_subscriptions => '{}');

-- enterprise project and URN
SELECT enterprise_project_id FROM csms_create_secret('p1', 'x', enterprise_project_id => repeat('p', 36));
SELECT try($$SELECT csms_create_secret('p2', 'x', enterprise_project_id => repeat('p', 37))$$);
SELECT try($$SELECT csms_create_secret('p2', 'x', enterprise_project_id => '')$$);
SELECT try($$SELECT csms_create_secret('p2', 'x', rotation_func_urn => E'urn\n')$$);

-- tags: at most 20, keys and values checked
SELECT name FROM csms_create_secret('tg1', 'x', tags => (SELECT jsonb_object_agg('k' || g, 'v') FROM generate_series(1, 20) g));
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => (SELECT jsonb_object_agg('k' || g, 'v') FROM generate_series(1, 21) g))$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '{"_sys_x": "v"}')$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '{" lead": "v"}')$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '{"k": 1}')$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '["k"]')$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => jsonb_build_object(repeat('k', 129), 'v'))$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => jsonb_build_object('k', repeat('v', 256)))$$);
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '{"k": "a#b"}')$$);
SELECT name FROM csms_create_secret('tg3', 'x', tags => '{"ключ": "значение/1", "a.b:c=d+e-f@g": ""}');

-- a failed create leaves nothing behind
SELECT count(*) AS secrets_before FROM csms.secrets \gset
SELECT try($$SELECT csms_create_secret('tg2', 'x', tags => '{"_sys_x": "v"}')$$);
SELECT count(*) = :secrets_before AS unchanged FROM csms.secrets;

-- rollback
BEGIN;
SELECT name FROM csms_create_secret('rolled-back', 'x');
ROLLBACK;
SELECT try($$SELECT csms_show_secret('rolled-back')$$);
SELECT count(*) FROM csms.secrets WHERE name = 'rolled-back';

-- list: by name, paging with an exclusive marker, event filter
SELECT name FROM csms_list_secrets(5);
SELECT name FROM csms_list_secrets(3, marker => 'd1');
SELECT name FROM csms_list_secrets(marker => 'tg3');
SELECT name FROM csms_list_secrets(event_name => 'rotation-events');
SELECT count(*) FROM csms_list_secrets(1000);
SELECT try($$SELECT * FROM csms_list_secrets(0)$$);
SELECT try($$SELECT * FROM csms_list_secrets(1001)$$);
SELECT try($$SELECT * FROM csms_list_secrets(marker => 'bad name')$$);
SELECT try($$SELECT * FROM csms_list_secrets(event_name => 'bad name')$$);

-- update: only what is given changes
SELECT description, auto_rotation, rotation_period, event_subscriptions, update_time > create_time AS updated
  FROM csms_update_secret('db-main', description => 'renamed');
SELECT description, auto_rotation, next_rotation_time IS NULL AS unscheduled
  FROM csms_update_secret('db-main', auto_rotation => false);
SELECT auto_rotation, rotation_period, next_rotation_time - update_time AS next_in
  FROM csms_update_secret('db-main', auto_rotation => true, rotation_period => '12h');
SELECT event_subscriptions, rotation_func_urn FROM csms_update_secret('db-main', event_subscriptions => '{}', rotation_func_urn => '');
SELECT description FROM csms_update_secret('db-main', description => '');
SELECT try($$SELECT csms_update_secret('plain', auto_rotation => true)$$);
SELECT try($$SELECT csms_update_secret('plain', rotation_period => '1h')$$);
SELECT try($$SELECT csms_update_secret('plain', description => repeat('d', 2049))$$);
SELECT try($$SELECT csms_update_secret('plain', event_subscriptions => '{a,b}')$$);
SELECT try($$SELECT csms_update_secret('missing', description => 'x')$$);
SELECT try($$SELECT csms_update_secret('plain', kms_key_id => 'missing')$$);
SELECT try($$SELECT csms_update_secret('plain', kms_key_id => 'bad key!')$$);

-- a new key re-wraps the data key of every version; values stay the same
SELECT alias FROM csms_create_key('rewrap-to');
SELECT (csms_create_secret_version('plain', 'y')).id;
SELECT v.version, v.ciphertext AS ct, v.wrapped_dek AS dek FROM csms.versions v
  JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'plain' AND v.version = 1 \gset before_
SELECT kms_key_id = (SELECT key_id FROM csms_list_keys() WHERE alias = 'rewrap-to') AS moved
  FROM csms_update_secret('plain', kms_key_id => 'rewrap-to');
SELECT v.version, v.key_id = s.kms_key_id AS on_new_key FROM csms.versions v
  JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'plain' ORDER BY 1;
SELECT bool_and(v.wrapped_dek <> :'before_dek') AS dek_rewrapped FROM csms.versions v
  JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'plain' AND v.version = :before_version;
SELECT bool_and(v.ciphertext = :'before_ct') AS value_untouched FROM csms.versions v
  JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'plain' AND v.version = :before_version;
SELECT csms_get_secret_value('plain', 'v1'), csms_get_secret_value('plain', 'v2');
-- so the old key can be disabled afterwards
SELECT state FROM csms_disable_key('csms/default');
SELECT csms_get_secret_value('plain', 'v1');
SELECT state FROM csms_enable_key('csms/default');

-- enable and disable
SELECT state FROM csms_disable_secret('plain');
SELECT state FROM csms_disable_secret('plain');
SELECT name, state FROM csms_show_secret('plain');
SELECT try($$SELECT csms_get_secret_value('plain')$$);
SELECT try($$SELECT csms_create_secret_version('plain', 'z')$$);
SELECT description FROM csms_update_secret('plain', description => 'disabled secrets take metadata changes');
SELECT state FROM csms_enable_secret('plain');
SELECT csms_get_secret_value('plain');
SELECT try($$SELECT csms_enable_secret('missing')$$);
SELECT try($$SELECT csms_disable_secret(NULL)$$);

-- states set outside the API (scheduled deletion and freezing come later) are honoured
UPDATE csms.secrets SET state = 'PENDING_DELETE' WHERE name = 'r2';
SELECT try($$SELECT csms_get_secret_value('r2')$$);
SELECT try($$SELECT csms_update_secret('r2', description => 'x')$$);
SELECT try($$SELECT csms_enable_secret('r2')$$);
UPDATE csms.secrets SET state = 'FROZEN' WHERE name = 'r2';
SELECT try($$SELECT csms_get_secret_value('r2')$$);
SELECT try($$SELECT csms_delete_secret('r2')$$);
UPDATE csms.secrets SET state = 'ENABLED' WHERE name = 'r2';

-- delete: immediate, everything goes, and the name is free again
SELECT (csms_create_secret_version('r2', 'second')).id;
SELECT id AS r2_id FROM csms_show_secret('r2') \gset
SELECT csms_delete_secret('r2');
SELECT try($$SELECT csms_show_secret('r2')$$);
SELECT (SELECT count(*) FROM csms.versions WHERE secret_id = :'r2_id') AS versions,
       (SELECT count(*) FROM csms.secrets WHERE id = :'r2_id') AS stages;  -- on its row
SELECT try($$SELECT csms_delete_secret('r2')$$);
SELECT try($$SELECT csms_delete_secret('bad name')$$);
SELECT (csms_create_secret('r2', 'again')).name, csms_get_secret_value('r2');
SELECT csms_delete_secret('tg1');
SELECT count(*) AS tags_left FROM csms.tags t WHERE NOT EXISTS (SELECT FROM csms.secrets s WHERE s.id = t.secret_id);
