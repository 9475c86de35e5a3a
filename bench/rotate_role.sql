-- rotation of a PG-ROLE SingleUser secret: a new password for its login role
-- bench_role_<id> (a SCRAM-SHA-256 verifier, CSMS_SCRAM_ITERATIONS PBKDF2
-- iterations, set with ALTER ROLE), the new SYSCURRENT version holding it and
-- a task row; the 20-version limit prunes the oldest unstaged version
\set id random(1, :n)
SELECT version_id FROM csms_rotate_secret('rot-role-' || :id);
