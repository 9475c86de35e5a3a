-- Stages: attach, move, show, delete; SYSCURRENT hands SYSPREVIOUS on;
-- built-in stages cannot be deleted.
\set VERBOSITY terse

SELECT name FROM csms_create_secret('st', 'one');
SELECT (csms_create_secret_version('st', 'two')).id;
SELECT (csms_create_secret_version('st', 'three')).id;
SELECT id, version_stages FROM csms_list_secret_versions('st');

-- attach a custom stage, then move it
SELECT name, secret_name, version_id, update_time IS NOT NULL AS has_time FROM csms_update_secret_stage('st', 'AWSPENDING', 'v1');
SELECT name, version_id FROM csms_update_secret_stage('st', 'AWSPENDING', 'v2');
SELECT name, secret_name, version_id FROM csms_show_secret_stage('st', 'AWSPENDING');

-- moving SYSCURRENT hands SYSPREVIOUS to the version that had it
SELECT name, version_id FROM csms_update_secret_stage('st', 'SYSCURRENT', 'v1');
SELECT id, version_stages FROM csms_list_secret_versions('st');
SELECT csms_get_secret_value('st');
-- moving it onto the version that has it changes nothing
SELECT name, version_id FROM csms_update_secret_stage('st', 'SYSCURRENT', 'latest');
SELECT id, version_stages FROM csms_list_secret_versions('st');
-- SYSPREVIOUS may be moved by hand
SELECT name, version_id FROM csms_update_secret_stage('st', 'SYSPREVIOUS', 'v2');
SELECT id, version_stages FROM csms_list_secret_versions('st');

-- errors
SELECT try($$SELECT csms_update_secret_stage('st', 'X', 'v9')$$);
SELECT try($$SELECT csms_update_secret_stage('st', 'X', 'nine')$$);
SELECT try($$SELECT csms_update_secret_stage('st', 'bad stage', 'v1')$$);
SELECT try($$SELECT csms_update_secret_stage('st', repeat('s', 65), 'v1')$$);
SELECT try($$SELECT csms_update_secret_stage('st', NULL, 'v1')$$);
SELECT try($$SELECT csms_update_secret_stage('st', 'X', NULL)$$);
SELECT try($$SELECT csms_update_secret_stage('missing', 'X', 'v1')$$);
SELECT try($$SELECT csms_show_secret_stage('st', 'NOPE')$$);
SELECT try($$SELECT csms_show_secret_stage('st', 'bad stage')$$);
SELECT try($$SELECT csms_show_secret_stage('missing', 'SYSCURRENT')$$);

-- delete: custom stages only
SELECT csms_delete_secret_stage('st', 'AWSPENDING');
SELECT try($$SELECT csms_show_secret_stage('st', 'AWSPENDING')$$);
SELECT try($$SELECT csms_delete_secret_stage('st', 'AWSPENDING')$$);
SELECT try($$SELECT csms_delete_secret_stage('st', 'SYSCURRENT')$$);
SELECT try($$SELECT csms_delete_secret_stage('st', 'SYSPREVIOUS')$$);
SELECT try($$SELECT csms_delete_secret_stage('st', 'bad stage')$$);
SELECT try($$SELECT csms_delete_secret_stage('missing', 'X')$$);
SELECT id, version_stages FROM csms_list_secret_versions('st');

-- stages on a disabled secret can still be managed; its values cannot be read
SELECT state FROM csms_disable_secret('st');
SELECT name, version_id FROM csms_update_secret_stage('st', 'LABEL', 'v3');
SELECT name, version_id FROM csms_show_secret_stage('st', 'LABEL');
SELECT csms_delete_secret_stage('st', 'LABEL');
SELECT state FROM csms_enable_secret('st');

-- rollback restores the stage where it was
BEGIN;
SELECT name, version_id FROM csms_update_secret_stage('st', 'SYSCURRENT', 'v3');
ROLLBACK;
SELECT name, version_id FROM csms_show_secret_stage('st', 'SYSCURRENT');
