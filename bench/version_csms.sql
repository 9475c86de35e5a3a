-- new version: a new SYSCURRENT version of a random secret
\set id random(1, :n)
SELECT id FROM csms_create_secret_version('s' || :id, secret_string => '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB');
