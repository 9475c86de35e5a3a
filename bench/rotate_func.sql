-- rotation of a COMMON secret through its rotation function bench_rot (SQL:
-- 100 bytes of 'x'), run as its owner: the new SYSCURRENT version and a task
-- row; the 20-version limit prunes the oldest unstaged version
\set id random(1, :n)
SELECT version_id FROM csms_rotate_secret('rot-func-' || :id);
