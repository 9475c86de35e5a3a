-- new version: a new SYSCURRENT version of a random secret that has one
-- replica (in region eu-bench), which the same transaction re-encrypts and
-- writes too
\set id random(1, :n)
SELECT id FROM csms_create_secret_version('r' || :id, secret_string => '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB');
