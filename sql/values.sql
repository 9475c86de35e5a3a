-- Values: strings and binaries round-trip exactly (empty, zero bytes,
-- non-ASCII, the size limit), latest and versioned reads, batches.
\set VERBOSITY terse

SELECT name FROM csms_create_secret('s-empty', '');
SELECT name FROM csms_create_secret('s-utf8', 'pässwörd ✓ 密码 🔑');
SELECT name FROM csms_create_secret('b-zero', secret_binary => '\x00000100ff00'::bytea);
SELECT name FROM csms_create_secret('b-empty', secret_binary => ''::bytea);
SELECT name FROM csms_create_secret('s-max', repeat('0123456789abcdef', 2048));
SELECT name FROM csms_create_secret('b-max', secret_binary => (SELECT string_agg(set_byte('\x00'::bytea, 0, g % 256), ''::bytea) FROM generate_series(1, 32768) g));

SELECT csms_get_secret_value('s-empty') = '' AS empty_ok;
SELECT csms_get_secret_value('s-utf8');
SELECT csms_get_secret_binary('b-zero');
SELECT length(csms_get_secret_binary('b-empty')) AS empty_len;
SELECT md5(csms_get_secret_value('s-max')) = md5(repeat('0123456789abcdef', 2048)) AS max_string_ok;
SELECT length(csms_get_secret_binary('b-max')), md5(csms_get_secret_binary('b-max')) =
	md5((SELECT string_agg(set_byte('\x00'::bytea, 0, g % 256), ''::bytea) FROM generate_series(1, 32768) g)) AS max_binary_ok;

-- a string read as binary gives its bytes; a binary read as text is refused
SELECT csms_get_secret_binary('s-utf8') = convert_to('pässwörd ✓ 密码 🔑', 'UTF8') AS bytes_ok;
SELECT try($$SELECT csms_get_secret_value('b-zero')$$);

-- show: metadata and exactly one of the two value columns
SELECT id, secret_name, version_stages, secret_string, secret_binary FROM csms_show_secret_version('s-utf8');
SELECT id, secret_string IS NULL AS no_string, secret_binary FROM csms_show_secret_version('b-zero', 'latest');
SELECT id, secret_string, secret_binary FROM csms_show_secret_version('s-empty', 'v1');

-- versions
SELECT (csms_create_secret_version('s-utf8', 'second')).id;
SELECT csms_get_secret_value('s-utf8'), csms_get_secret_value('s-utf8', 'v1'), csms_get_secret_value('s-utf8', 'v2'),
       csms_get_secret_value('s-utf8', NULL);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v3')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v0')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v01')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v2147483648')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v2147483647')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v99999999999')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'LATEST')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', '')$$);
SELECT try($$SELECT csms_get_secret_value('s-utf8', 'v-1')$$);
SELECT try($$SELECT csms_get_secret_binary('s-utf8', 'v3')$$);
SELECT try($$SELECT csms_show_secret_version('s-utf8', 'v3')$$);
SELECT try($$SELECT csms_get_secret_value('missing')$$);
SELECT try($$SELECT csms_get_secret_value('bad name')$$);
SELECT try($$SELECT csms_get_secret_value(NULL)$$);
SELECT try($$SELECT csms_show_secret_version(NULL)$$);

-- a secret whose SYSCURRENT was moved away from every version has no latest
-- (a raw edit of the secret's row: the stage and its copy)
SELECT name FROM csms_create_secret('no-current', 'x');
UPDATE csms.secrets SET stage_names = '{}', stage_versions = '{}', stage_times = '{}',
	current_version = NULL, current_key_id = NULL,
	current_key_version = NULL, current_wrapped_dek = NULL, current_ciphertext = NULL
 WHERE name = 'no-current';
SELECT try($$SELECT csms_get_secret_value('no-current')$$);
SELECT csms_get_secret_value('no-current', 'v1');

-- a read sees what the same statement wrote before it
SELECT (csms_create_secret_version('s-empty', 'written in this statement')).id, csms_get_secret_value('s-empty');
SELECT csms_get_secret_value('s-empty', 'v1') = '' AS v1_still_empty;

-- last_used_time is set by reads
SELECT last_used_time IS NOT NULL AS used FROM csms_show_secret('s-utf8');
SELECT last_used_time IS NULL AS never_read FROM csms_create_secret('unread', 'x');
SELECT last_used_time IS NULL AS never_read FROM csms_show_secret('unread');
-- not when tracking is off
SET csms.track_last_used = off;
SELECT csms_get_secret_value('unread'), csms_get_secret_binary('unread');
SELECT csms_get_secret_value('unread', 'v1');
RESET csms.track_last_used;
SELECT last_used_time IS NULL AS never_read FROM csms_show_secret('unread');
-- stored on the secret's row ('-infinity' until the first read), overwritten
-- in place: the row keeps its version (ctid, xmin), the read takes no
-- transaction id, and a read-only transaction records it too
SELECT ctid AS ctid_before, xmin AS xmin_before, last_used_time AS stored_before
  FROM csms.secrets WHERE name = 'unread' \gset
SELECT :'stored_before' AS stored_before;
BEGIN READ ONLY;
SELECT csms_get_secret_value('unread');
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
-- the write's table lock is let go at once: an open reader keeps no DDL waiting
SELECT count(*) AS row_exclusive_held FROM pg_locks
 WHERE relation = 'csms.secrets'::regclass AND pid = pg_backend_pid()
   AND mode = 'RowExclusiveLock';
COMMIT;
SELECT ctid = :'ctid_before' AS same_ctid, xmin = :'xmin_before' AS same_xmin,
       last_used_time > '-infinity' AS stored
  FROM csms.secrets WHERE name = 'unread';
SELECT last_used_time IS NOT NULL AS now_read FROM csms_show_secret('unread');
SELECT last_used_time AS first_read FROM csms_show_secret('unread') \gset
-- within csms.last_used_grain (an hour by default) a read writes nothing ...
SELECT csms_get_secret_value('unread'), csms_get_secret_value('unread', 'v1');
SELECT last_used_time = :'first_read' AS kept FROM csms_show_secret('unread');
-- ... a grain later the next read replaces it, by either path (the SQL path
-- reads a version by number in a transaction that changed the secret first)
SET csms.last_used_grain = '1s';
SELECT pg_sleep(1.1);
SELECT csms_get_secret_value('unread');
SELECT last_used_time > :'first_read' AS replaced FROM csms_show_secret('unread');
SELECT last_used_time AS second_read FROM csms_show_secret('unread') \gset
SELECT pg_sleep(1.1);
BEGIN;
SELECT name FROM csms_update_secret('unread', description => 'read by the SQL path');
SELECT csms_get_secret_value('unread', 'v1');
COMMIT;
SELECT last_used_time > :'second_read' AS replaced_again FROM csms_show_secret('unread');
-- an index that covers the column would no longer match the row: with one,
-- reads leave the stored time alone
SELECT last_used_time AS third_read FROM csms_show_secret('unread') \gset
CREATE INDEX secrets_last_used ON csms.secrets (last_used_time);
SELECT pg_sleep(1.1);
SELECT csms_get_secret_value('unread');
SELECT last_used_time = :'third_read' AS kept_with_index FROM csms_show_secret('unread');
SET enable_seqscan = off;
SELECT count(*) AS found_by_index FROM csms.secrets
 WHERE last_used_time = :'third_read' AND name = 'unread';
RESET enable_seqscan;
DROP INDEX csms.secrets_last_used;
\c
SET csms.last_used_grain = '1s';
SELECT csms_get_secret_value('unread');
SELECT last_used_time > :'third_read' AS replaced_without_index FROM csms_show_secret('unread');
RESET csms.last_used_grain;
-- a secret read for the first time by a batch, one statement for many
SELECT count(csms_create_secret('touch-' || g, 'x')) FROM generate_series(1, 300) g;
SELECT count(*) FROM csms_batch_get_secret_value((SELECT array_agg('touch-' || g) FROM generate_series(1, 300) g));
SELECT count(*) AS read_secrets FROM csms.secrets
 WHERE name LIKE 'touch-%' AND last_used_time > '-infinity';
-- the usage settings: the grain is a superuser's setting from a second to a
-- day, the flush interval a server setting with a range, the slots exist only
-- with the library preloaded (t/007_usage.pl)
\set VERBOSITY sqlstate
SET csms.last_used_grain = 0;
SET csms.last_used_grain = '2d';
SET csms.last_used_grain = 'soon';
SHOW csms.last_used_grain;
-- only a superuser sets the grain (a role that could shorten it would make
-- every read write)
CREATE ROLE values_plain_role;
SET ROLE values_plain_role;
SET csms.last_used_grain = '1min';
RESET ROLE;
DROP ROLE values_plain_role;
SHOW csms.last_used_grain;
SET csms.usage_flush_interval = '5min';
ALTER SYSTEM SET csms.usage_flush_interval = '10ms';
ALTER SYSTEM SET csms.usage_flush_interval = '2h';
ALTER SYSTEM SET csms.usage_flush_interval = 'soon';
ALTER SYSTEM SET csms.usage_slots = 1000;
\set VERBOSITY default
SHOW csms.usage_flush_interval;

-- batch: SYSCURRENT of each, in the order given, duplicates kept
SELECT id, secret_name, secret_string, secret_binary FROM csms_batch_get_secret_value('{s-utf8,b-zero,s-utf8}');
SELECT count(*) FROM csms_batch_get_secret_value('{}');
SELECT try($$SELECT * FROM csms_batch_get_secret_value('{s-utf8,missing,also-missing}')$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value('{s-utf8,no-current}')$$);
SELECT name, state FROM csms_disable_secret('b-zero');
SELECT try($$SELECT * FROM csms_batch_get_secret_value('{s-utf8,b-zero}')$$);
-- both kinds of failure at once: the error names the missing, its detail the disabled
SELECT try_detail($$SELECT * FROM csms_batch_get_secret_value('{b-zero,missing,s-utf8}')$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value(ARRAY['s-utf8', NULL])$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value('{"bad name"}')$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value(NULL)$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value((SELECT array_agg('s' || g) FROM generate_series(1, 1001) g))$$);
SELECT try($$SELECT * FROM csms_batch_get_secret_value('{{a},{b}}')$$);

-- the stored ciphertext: value length + 1 kind byte + 28 bytes of nonce and tag
SELECT s.name, length(v.ciphertext) AS ct_len, length(v.wrapped_dek) AS dek_len
  FROM csms.versions v JOIN csms.secrets s ON s.id = v.secret_id
 WHERE s.name IN ('s-empty', 'b-zero', 's-max') AND v.version = 1 ORDER BY 1;
SELECT count(DISTINCT v.wrapped_dek) = count(*) AS deks_distinct,
       count(DISTINCT substr(v.ciphertext, 1, 12)) = count(*) AS nonces_distinct
  FROM csms.versions v;

-- A read that finds a time less than a grain old stays a read (no
-- transaction id, no row lock), in a new session too.  With preload no read
-- writes at all (t/007_usage.pl).
SELECT name FROM csms_create_secret('fresh-use', 'fresh');
SELECT csms_get_secret_value('fresh-use');
\c
BEGIN;
SELECT csms_get_secret_value('fresh-use');
SELECT pg_current_xact_id_if_assigned() IS NULL AS read_only;
COMMIT;
SELECT csms_delete_secret('fresh-use');
