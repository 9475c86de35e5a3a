-- create: INSERT of a 100-byte value encrypted with pgp_sym_encrypt
INSERT INTO enc (name, value) VALUES ('c' || nextval('bench_seq'), pgp_sym_encrypt('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB', 'bench-passphrase'));
