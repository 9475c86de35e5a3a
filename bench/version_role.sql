-- new version of a PG-ROLE secret, the rotation's counterpart: the same
-- secrets (rot-role-<id>) and a value of the rotation's size and shape
-- ({"username": "bench_role_<id>", "password": <32 characters>}), given by
-- the client; nothing is done to the role
\set id random(1, :n)
SELECT id FROM csms_create_secret_version('rot-role-' || :id, secret_string => '{"username": "bench_role_' || :id || '", "password": "0123456789abcdefghijklmnopqrstuv"}');
