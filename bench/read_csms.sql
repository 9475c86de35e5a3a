-- read: the SYSCURRENT value of a random secret (csms_get_secret_value)
\set id random(1, :n)
SELECT csms_get_secret_value('s' || :id);
