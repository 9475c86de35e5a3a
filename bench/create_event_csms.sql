-- create with an event: a new secret with a 100-byte value that subscribes to
-- an event (SECRET_VERSION_CREATED: a record and a pg_notify at commit)
SELECT id FROM csms_create_secret('e' || nextval('bench_seq'), secret_string => '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB', event_subscriptions => '{bench-events}');
