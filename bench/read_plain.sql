-- read: the value of a random row of an indexed plain table
\set id random(1, :n)
SELECT value FROM plain WHERE name = 's' || :id;
