-- read: pgp_sym_decrypt of a random row (same values as plain)
\set id random(1, :n)
SELECT pgp_sym_decrypt(value, 'bench-passphrase') FROM enc WHERE name = 's' || :id;
