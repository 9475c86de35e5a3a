-- Lifecycle (issue 16, ../shared/spec/api.md Milestone 6): scheduled
-- deletion and its cancel, events and their notification records, version
-- expiry, and the due work (csms_run_maintenance) under csms.now_offset.
-- Delivery of the notifications to a LISTENing session, the background
-- worker and crashes are in t/014_lifecycle.pl.
SET client_min_messages = warning;

-- what a record says, without its ids and times
CREATE FUNCTION records(n int DEFAULT 50) RETURNS TABLE (event_type text, secret_name text,
	event_name text, target text, status text, version text, expires boolean)
LANGUAGE sql AS $$
	SELECT event_type, secret_name, event_name, target_type || ':' || target_name, status,
	       content->'data'->>'versionId', content->'data' ? 'versionExpireTime'
	  FROM csms_list_notification_records(n)
$$;

-- Events ----------------------------------------------------------------
SELECT name, event_types, state, notification, id IS NOT NULL AS has_id,
       create_time = update_time AS fresh
  FROM csms_create_event('lc_events', ARRAY['SECRET_VERSION_CREATED', 'SECRET_VERSION_EXPIRED',
       'SECRET_DELETED'], notification => '{"target_type": "NOTIFY", "target_name": "lc_channel"}');
SELECT name, state, notification->>'target_name' AS channel
  FROM csms_create_event('lc_quiet', '{SECRET_ROTATED}', 'DISABLED',
       '{"target_type": "NOTIFY", "target_name": "lc_quiet"}');
SELECT try($$SELECT csms_create_event('lc_events', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('bad name', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event(NULL, '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('e', NULL, notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_EXPLODED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('e', '{SECRET_DELETED,SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('e', '{SECRET_DELETED,NULL}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('e', '{{SECRET_DELETED}}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', 'ON', '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_create_event('e', '{SECRET_DELETED}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => '{"target_type": "SMN", "target_name": "x"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "a b"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => jsonb_build_object('target_type', 'NOTIFY', 'target_name', repeat('c', 64)))$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x", "target_id": "y"}')$$);
SELECT try_detail($$SELECT csms_create_event('e', '{SECRET_DELETED}', notification => '["NOTIFY"]')$$);
-- a channel of 63 characters is the longest LISTEN takes
SELECT length(notification->>'target_name') FROM csms_create_event('lc_long', '{SECRET_DELETED}',
	notification => jsonb_build_object('target_type', 'NOTIFY', 'target_name', repeat('c', 63)));
-- at most 30 events in a region
SELECT count(*) FROM generate_series((SELECT count(*) + 1 FROM csms.events)::int, 30) i,
	LATERAL csms_create_event('lc_fill' || i, '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}');
SELECT try($$SELECT csms_create_event('lc_fill31', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT count(*) FROM csms_list_events() e, LATERAL csms_delete_event(e.name) WHERE e.name LIKE 'lc\_fill%';

SELECT name, event_types FROM csms_show_event('lc_events');
SELECT try($$SELECT csms_show_event('nothing')$$);
SELECT name FROM csms_list_events();
SELECT name FROM csms_list_events(1);
SELECT name FROM csms_list_events(10, 'lc_events');
SELECT try($$SELECT csms_list_events(0)$$);
SELECT try($$SELECT csms_list_events(10, 'bad marker')$$);
SELECT name, state, event_types, notification->>'target_name' AS channel, update_time > create_time AS updated
  FROM csms_update_event('lc_quiet', state => 'ENABLED');
SELECT name, state, event_types, notification->>'target_name' AS channel
  FROM csms_update_event('lc_quiet', '{SECRET_DELETED}', 'DISABLED', '{"target_type": "NOTIFY", "target_name": "lc_quiet2"}');
SELECT try($$SELECT csms_update_event('nothing', state => 'ENABLED')$$);
SELECT try($$SELECT csms_update_event('lc_quiet', state => 'OFF')$$);
SELECT try($$SELECT csms_update_event('lc_quiet', '{}')$$);
SELECT try($$SELECT csms_delete_event('nothing')$$);

-- Subscriptions ---------------------------------------------------------
SELECT try($$SELECT csms_create_secret('lc_nosuch', 'x', event_subscriptions => '{nothing}')$$);
SELECT name, event_subscriptions FROM csms_create_secret('lc_a', 'value a',
	event_subscriptions => '{lc_events}');
SELECT try_detail($$SELECT csms_delete_event('lc_events')$$);
SELECT id FROM csms_create_secret_version('lc_a', 'value a2');
-- a secret subscribed to a disabled event, or to one without the type: nothing
SELECT name FROM csms_create_secret('lc_b', 'value b', event_subscriptions => '{lc_quiet}');
SELECT id FROM csms_create_secret_version('lc_b', 'value b2');
SELECT try($$SELECT csms_update_secret('lc_b', event_subscriptions => '{nothing}')$$);
SELECT event_subscriptions FROM csms_update_secret('lc_b', event_subscriptions => '{lc_events}');
SELECT id FROM csms_create_secret_version('lc_b', 'value b3', expire_time => now() + interval '1 hour');
-- a change that rolls back leaves no record
BEGIN;
SELECT id FROM csms_create_secret_version('lc_a', 'value a3');
ROLLBACK;
SELECT * FROM records();
-- a restore is versions created in this region
SELECT csms_backup_secret('lc_b') AS blob \gset
SELECT csms_delete_secret('lc_b');
SELECT name FROM csms_restore(:'blob');
SELECT event_type, secret_name, version, expires FROM records(4);
-- the payload: names, ids and times, never a value
SELECT content ? 'eventTime' AS has_time, content->'data' ? 'secretId' AS has_id,
       content::text LIKE '%value%' AS holds_value,
       content->'data'->>'secretId' = (SELECT id::text FROM csms_show_secret('lc_b')) AS id_ok,
       content->'data'->>'region' AS region, content->>'eventName' AS event
  FROM csms_list_notification_records(1);
SELECT try($$SELECT csms_list_notification_records(0)$$);
SELECT try($$SELECT csms_list_notification_records(10, 0)$$);
SELECT count(*) FROM csms_list_notification_records(2);
SELECT count(*) FROM csms_list_notification_records(50, (SELECT max(id) FROM csms.notification_records));

-- a backup's subscription to an event that is gone is dropped on restore
SELECT name FROM csms_create_event('lc_tmp', '{SECRET_DELETED}',
	notification => '{"target_type": "NOTIFY", "target_name": "lc_tmp"}');
SELECT name FROM csms_create_secret('lc_t', 'value t', event_subscriptions => '{lc_tmp}');
SELECT csms_backup_secret('lc_t') AS blob_t \gset
SELECT csms_delete_secret('lc_t');
SELECT csms_delete_event('lc_tmp');
SET client_min_messages = notice;
SELECT name, event_subscriptions FROM csms_restore(:'blob_t');
SET client_min_messages = warning;
SELECT csms_delete_secret('lc_t');

-- Scheduled deletion ----------------------------------------------------
SELECT state, date_trunc('second', scheduled_delete_time - now()) AS window
  FROM csms_schedule_secret_deletion('lc_a');
SELECT try($$SELECT csms_cancel_secret_deletion(NULL)$$);
-- values and changes are refused, with the time and the way back
SELECT regexp_replace(try_detail($$SELECT csms_get_secret_value('lc_a')$$), '\d{4}-.*\+00', 'TIME');
SET client_min_messages = notice;
DO $$
DECLARE
	hint text;
BEGIN
	PERFORM csms_get_secret_value('lc_a');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RAISE NOTICE '%', regexp_replace(hint, '\d{4}-\d\d-\d\d [0-9:.]+[+-]\d\d', 'TIME');
END
$$;
SET client_min_messages = warning;
SELECT try($$SELECT csms_create_secret_version('lc_a', 'x')$$);
SELECT try($$SELECT csms_update_secret('lc_a', description => 'x')$$);
SELECT try($$SELECT csms_update_secret_stage('lc_a', 'S1', 'v1')$$);
SELECT try($$SELECT csms_enable_secret('lc_a')$$);
SELECT try($$SELECT csms_disable_secret('lc_a')$$);
SELECT regexp_replace(try($$SELECT csms_schedule_secret_deletion('lc_a', 7)$$), '\d{4}-.*\+00', 'TIME');
-- metadata can be read
SELECT name, state FROM csms_show_secret('lc_a');
SELECT name, state FROM csms_list_secrets() WHERE name = 'lc_a';
SELECT count(*) FROM csms_list_secret_versions('lc_a');
-- cancel: the state before comes back
SELECT state, scheduled_delete_time FROM csms_cancel_secret_deletion('lc_a');
SELECT try($$SELECT csms_cancel_secret_deletion('lc_a')$$);
SELECT csms_get_secret_value('lc_a');
SELECT state FROM csms_disable_secret('lc_a');
SELECT state, date_trunc('second', scheduled_delete_time - now()) AS window
  FROM csms_schedule_secret_deletion('lc_a', 7);
SELECT state FROM csms_cancel_secret_deletion('lc_a');
SELECT state FROM csms_enable_secret('lc_a');
SELECT try($$SELECT csms_schedule_secret_deletion('lc_a', 6)$$);
SELECT try($$SELECT csms_schedule_secret_deletion('lc_a', 31)$$);
SELECT try($$SELECT csms_schedule_secret_deletion('nothing')$$);
SELECT try($$SELECT csms_cancel_secret_deletion('nothing')$$);
-- a primary keeps its replicas: delete them first; a replica takes no write
SELECT name FROM csms_create_secret('lc_p', 'primary value');
SELECT csms_create_replica('lc_p', 'eu') IS NOT NULL AS replicated;
SELECT try($$SELECT csms_schedule_secret_deletion('lc_p')$$);
SET csms.region = 'eu';
SELECT try($$SELECT csms_schedule_secret_deletion('lc_p')$$);
RESET csms.region;
SELECT csms_delete_replica('lc_p', 'eu');
SELECT state FROM csms_schedule_secret_deletion('lc_p', 10);

-- a replica's new versions fire in its region, for the event of that name there
SET csms.region = 'eu';
SELECT name FROM csms_create_event('lc_events', '{SECRET_VERSION_CREATED}',
	notification => '{"target_type": "NOTIFY", "target_name": "lc_eu"}');
RESET csms.region;
SELECT name FROM csms_create_secret('lc_r', 'r1', event_subscriptions => '{lc_events}');
SELECT csms_create_replica('lc_r', 'eu') IS NOT NULL AS replicated;
SELECT id FROM csms_create_secret_version('lc_r', 'r2');
SET csms.region = 'eu';
SELECT event_type, secret_name, target, version FROM records();
RESET csms.region;
SELECT event_type, secret_name, target, version FROM records(2);
-- the replica's subscription is its primary's: it does not hold the event there
SET csms.region = 'eu';
SELECT csms_delete_event('lc_events');
RESET csms.region;
SELECT id FROM csms_create_secret_version('lc_r', 'r3');
SET csms.region = 'eu';
SELECT count(*) AS eu_records FROM records();
RESET csms.region;
SELECT csms_delete_replica('lc_r', 'eu');
SELECT csms_delete_secret('lc_r');

-- The due work ----------------------------------------------------------
SELECT try($$CALL csms_run_maintenance()$$);
-- nothing is due yet
CALL csms_run_maintenance();
SELECT try($$SET csms.now_offset = '4000d'$$);
SELECT try($$SET csms.now_offset = 'soon'$$);
SELECT try($$SET csms.maintenance_interval = '5min'$$);
SET csms.now_offset = '2h';
SHOW csms.now_offset;
-- lc_b's v3 expired: announced once
SET client_min_messages = notice;
CALL csms_run_maintenance();
CALL csms_run_maintenance();
SET client_min_messages = warning;
SELECT event_type, secret_name, version, expires FROM records(1);
SELECT expiry_announced = expire_time AS announced FROM csms.versions
 WHERE expire_time IS NOT NULL;
-- its expiry moved: announced again when that passes
SELECT id FROM csms_update_secret_version('lc_b', 'v3', expire_time => now() + interval '3 hours');
CALL csms_run_maintenance();
SELECT count(*) AS expired FROM records() WHERE event_type = 'SECRET_VERSION_EXPIRED';
SET csms.now_offset = '4h';
CALL csms_run_maintenance();
SELECT count(*) AS expired FROM records() WHERE event_type = 'SECRET_VERSION_EXPIRED';
-- the value stays readable after its expiry
SELECT csms_get_secret_value('lc_b', 'v3');
-- purges: lc_p is due after 10 days, with everything it had
SELECT state FROM csms_schedule_secret_deletion('lc_a', 7);
SET csms.now_offset = '8d';
SET client_min_messages = notice;
CALL csms_run_maintenance();
SET client_min_messages = warning;
SELECT name FROM csms_list_secrets() WHERE name LIKE 'lc\_%' ORDER BY 1;
SELECT event_type, secret_name FROM records(1);
-- batches run READ COMMITTED whatever the session's default
SET default_transaction_isolation = 'repeatable read';
CALL csms_run_maintenance();
RESET default_transaction_isolation;
SET csms.now_offset = '11d';
-- in a transaction block the whole work is one transaction, and rolls back with it
BEGIN;
CALL csms_run_maintenance();
SELECT count(*) FROM csms.secrets WHERE name = 'lc_p';
ROLLBACK;
SELECT count(*) FROM csms.secrets WHERE name = 'lc_p';
CALL csms_run_maintenance();
SELECT count(*) AS secrets, (SELECT count(*) FROM csms.versions v WHERE NOT EXISTS
	(SELECT FROM csms.secrets s WHERE s.id = v.secret_id)) AS orphan_versions
  FROM csms.secrets WHERE name IN ('lc_a', 'lc_p');
-- lc_p subscribed to nothing: no record
SELECT count(*) FROM records() WHERE secret_name = 'lc_p';
SELECT try($$SELECT csms_delete_event('lc_events')$$);
-- records are kept three months
SELECT count(*) > 0 AS records FROM csms.notification_records;
SET csms.now_offset = '93d';
CALL csms_run_maintenance();
SELECT count(*) AS records FROM csms.notification_records;
RESET csms.now_offset;

-- Rights ------------------------------------------------------------------
CREATE ROLE lc_user;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO lc_user;
SELECT name FROM csms_create_secret('lc_c', 'value c', event_subscriptions => '{lc_events}');
SELECT csms_grant('lc_c', 'lc_user', '{describe}') IS NOT NULL AS granted;
SET ROLE lc_user;
SELECT try($$SELECT csms_create_event('lc_mine', '{SECRET_DELETED}', notification => '{"target_type": "NOTIFY", "target_name": "x"}')$$);
SELECT try($$SELECT csms_update_event('lc_events', state => 'DISABLED')$$);
SELECT try($$SELECT csms_delete_event('lc_quiet')$$);
SELECT name FROM csms_show_event('lc_events');
SELECT try($$CALL csms_run_maintenance()$$);
SELECT try($$SET csms.now_offset = '1d'$$);
SELECT try($$SELECT csms_schedule_secret_deletion('lc_c')$$);
-- a record is shown to whom may describe its secret
SELECT event_type, secret_name FROM records();
RESET ROLE;
SELECT csms_revoke('lc_c', 'lc_user');
SET ROLE lc_user;
SELECT count(*) FROM records();
RESET ROLE;
SELECT csms_delete_secret('lc_c');
DROP OWNED BY lc_user;
DROP ROLE lc_user;
SELECT csms_delete_secret(name) FROM csms_list_secrets() WHERE name LIKE 'lc\_%';
SELECT csms_delete_event(name) FROM csms_list_events() WHERE name LIKE 'lc\_%';
DROP FUNCTION records(int);
