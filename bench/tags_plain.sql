-- list by tag: the same page from the plain tables (plain_tagged, and
-- plain_tags indexed by (key, value, name)), with the rows' tags and how
-- many match
\set id random(0, :n / 100 - 1)
SELECT s.name, (SELECT jsonb_object_agg(t.key, t.value) FROM plain_tags t WHERE t.name = s.name) AS tags,
       count(*) OVER () AS total_count
  FROM plain_tagged s
 WHERE s.name IN (SELECT t.name FROM plain_tags t WHERE t.key = 'team' AND t.value = 't' || :id)
 ORDER BY s.name LIMIT 10;
