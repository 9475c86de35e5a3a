-- new version: UPDATE with a value encrypted by pgp_sym_encrypt
\set id random(1, :n)
UPDATE enc SET value = pgp_sym_encrypt('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB', 'bench-passphrase') WHERE name = 's' || :id;
