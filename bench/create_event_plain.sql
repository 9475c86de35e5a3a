-- create with an event, plain: the INSERT, an audit row with a JSON payload,
-- and pg_notify of it, in one statement
WITH r AS (INSERT INTO plain (name, value) VALUES ('e' || nextval('bench_seq'), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB') RETURNING name),
     e AS (INSERT INTO plain_events (at, name, content) SELECT now(), r.name, jsonb_build_object('eventType', 'SECRET_VERSION_CREATED', 'eventTime', now(), 'data', jsonb_build_object('secretName', r.name, 'versionId', 'v1')) FROM r RETURNING content)
SELECT pg_notify('bench_events', content::text) FROM e;
