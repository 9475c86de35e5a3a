-- A short tour of the secrets API, run by `make run`.
\set ECHO queries
\pset footer off

-- The first CREATE EXTENSION of a cluster makes a root key file (and warns).
CREATE EXTENSION secrets;
SELECT csms_root_key_fingerprint();

-- A secret: version v1 holds the value, with stage SYSCURRENT.
SELECT name, state, kms_key_id, replica_type FROM csms_create_secret('app-db', secret_string => 's3cr3t-v1', description => 'database password of the app');
SELECT csms_get_secret_value('app-db');

-- A new version takes SYSCURRENT; the old one becomes SYSPREVIOUS.
SELECT id, version_stages FROM csms_create_secret_version('app-db', 's3cr3t-v2');
SELECT id, version_stages FROM csms_list_secret_versions('app-db');
SELECT csms_get_secret_value('app-db') AS current, csms_get_secret_value('app-db', 'v1') AS v1;

-- Stages: label a version, move SYSCURRENT back (a rollback of the value).
SELECT * FROM csms_update_secret_stage('app-db', 'SYSCURRENT', 'v1');
SELECT csms_get_secret_value('app-db');

-- Binary values, and several values in one call.
SELECT name FROM csms_create_secret('tls-key', secret_binary => '\x00010203ff'::bytea);
SELECT secret_name, id, secret_string, secret_binary FROM csms_batch_get_secret_value('{app-db,tls-key}');

-- Master keys: a key of your own, rotation, moving a secret to it.
SELECT alias, state, key_version FROM csms_create_key('app/keys', 'keys of the app team');
SELECT alias, key_version FROM csms_rotate_key('app/keys');
SELECT name, kms_key_id FROM csms_update_secret('app-db', kms_key_id => 'app/keys');
SELECT alias, state, key_version FROM csms_list_keys();

-- What is stored: ciphertext and wrapped data keys only.
SELECT v.version, length(v.ciphertext) AS ciphertext_bytes, length(v.wrapped_dek) AS wrapped_dek_bytes,
       encode(substr(v.ciphertext, 1, 12), 'hex') AS nonce
  FROM csms.versions v JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'app-db' ORDER BY 1;

-- Errors name the object (with a SQLSTATE for programs) and never hold a value.
\set VERBOSITY default
\set ON_ERROR_STOP 0
SELECT csms_get_secret_value('missing');
SELECT csms_create_secret('app-db', 'again');
SELECT (csms_disable_secret('app-db')).state;
SELECT csms_get_secret_value('app-db');
SELECT (csms_enable_secret('app-db')).state;

-- Passwords from the CSPRNG.
SELECT csms_generate_random_password(24, exclude_punctuation => true, require_each_included_type => true);

-- Lifecycle: an event whose notifications this session hears at commit,
-- a deletion scheduled and cancelled, tags, and the due work on demand.
SELECT name, event_types, notification FROM csms_create_event('app-events',
	'{SECRET_VERSION_CREATED,SECRET_DELETED}',
	notification => '{"target_type": "NOTIFY", "target_name": "app_events"}');
LISTEN app_events;
SELECT name FROM csms_create_secret('old-token', 't-1', event_subscriptions => '{app-events}');
SELECT csms_create_secret_tag('old-token', 'team', 'app');
SELECT resource_name, tags FROM csms_list_resource_instances('filter', tags => '[{"key": "team", "values": ["app"]}]');
SELECT name, state, scheduled_delete_time FROM csms_schedule_secret_deletion('old-token', 7);
SELECT csms_get_secret_value('old-token');
SELECT name, state FROM csms_cancel_secret_deletion('old-token');
SELECT name, state FROM csms_schedule_secret_deletion('old-token', 7);
SET csms.now_offset = '8d';	-- a test aid: the due work's clock a week ahead
CALL csms_run_maintenance();
RESET csms.now_offset;
SELECT event_type, secret_name, status FROM csms_list_notification_records(5);

-- Rotation: a PG-ROLE secret rotates a real role's password (a SCRAM-SHA-256
-- verifier computed in C, so the password is in no statement or catalog);
-- a COMMON secret rotates through a rotation function; every attempt is a task.
SET password_encryption = 'scram-sha-256';
DROP ROLE IF EXISTS tour_app;
CREATE ROLE tour_app LOGIN PASSWORD 'tour-first-password';
SELECT name, secret_type FROM csms_create_secret('tour-app-db',
	'{"username": "tour_app", "password": "tour-first-password", "dbname": "secrets"}',
	secret_type => 'PG-ROLE');
SELECT secret_name, version_id FROM csms_rotate_secret('tour-app-db');
SELECT secret ->> 'username' AS username, length(secret ->> 'password') AS password_length
  FROM (SELECT csms_get_secret_value('tour-app-db')::jsonb AS secret) s;
SELECT left(rolpassword, 19) AS stored FROM pg_authid WHERE rolname = 'tour_app';
CREATE OR REPLACE FUNCTION tour_token(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT 'token-' || version_id $$;
SELECT name, rotation_func_urn FROM csms_create_secret('tour-token', 'token-v1',
	rotation_func_urn => 'tour_token', auto_rotation => true, rotation_period => '30d');
SELECT secret_name, version_id FROM csms_rotate_secret('tour-token');
SELECT csms_get_secret_value('tour-token');
SELECT secret_name, task_status, operate_type, trigger_type, version_id FROM csms_list_secret_tasks(page_size => 5);
SELECT csms_delete_secret('tour-app-db');
DROP ROLE tour_app;
