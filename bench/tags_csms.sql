-- list by tag: a page of 10 of the 100 secrets of a random team, with their
-- tags and how many there are (csms_list_resource_instances)
\set id random(0, :n / 100 - 1)
SELECT resource_id, resource_name, tags, total_count
  FROM csms_list_resource_instances('filter',
       tags => jsonb_build_array(jsonb_build_object('key', 'team', 'values', jsonb_build_array('t' || :id))));
