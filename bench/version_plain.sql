-- new version: UPDATE of the value of a random row of the plain table
\set id random(1, :n)
UPDATE plain SET value = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB' WHERE name = 's' || :id;
