-- create: INSERT of a 100-byte value into the plain table
INSERT INTO plain (name, value) VALUES ('c' || nextval('bench_seq'), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB');
