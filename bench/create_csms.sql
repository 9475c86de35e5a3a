-- create: a new secret with a 100-byte value
SELECT id FROM csms_create_secret('c' || nextval('bench_seq'), secret_string => '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB');
