-- Memory held by one backend before and after reading :n different secrets,
-- each in its own statement and transaction (psql \gexec), as an application
-- connection would.  Prints one line:
--   anon_fresh ctx_fresh anon_warm ctx_warm anon_after ctx_after
-- anon_*: RssAnon of the backend in kB (private memory; shared buffers are
-- not counted); ctx_*: bytes in pg_backend_memory_contexts.
-- fresh = just connected; warm = after one csms_get_secret_value (library
-- loaded, plans prepared); after = after reading secrets s1 .. s:n.
\set ON_ERROR_STOP 1
\set QUIET 1
SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
                     'RssAnon:\s+(\d+)'))[1]::bigint AS anon_fresh,
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)::bigint AS ctx_fresh
\gset
SELECT csms_get_secret_value('s1') IS NOT NULL AS ok \gset
SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
                     'RssAnon:\s+(\d+)'))[1]::bigint AS anon_warm,
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)::bigint AS ctx_warm
\gset
\o /dev/null
SELECT format('SELECT csms_get_secret_value(%L)', 's' || g)
  FROM generate_series(1, :n) g
\gexec
\o
SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
                     'RssAnon:\s+(\d+)'))[1]::bigint AS anon_after,
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)::bigint AS ctx_after
\gset
\echo :anon_fresh :ctx_fresh :anon_warm :ctx_warm :anon_after :ctx_after
