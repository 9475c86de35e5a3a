-- new version of a COMMON secret with a rotation function, the rotation's
-- counterpart: the same secrets (rot-func-<id>) and a value of the same size
-- (100 bytes), given by the client (the shape of version_csms.sql)
\set id random(1, :n)
SELECT id FROM csms_create_secret_version('rot-func-' || :id, secret_string => '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB');
