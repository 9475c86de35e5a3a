/* sql/secrets--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION secrets UPDATE TO '1.1'" to load this file. \quit

/*
 * 1.1: the CHECK constraints name their operators with their schema.  The
 * 1.0 install script wrote them unqualified, and CREATE EXTENSION resolves
 * them in the schema the extension is created in: an operator that someone
 * who may create objects there had made with exactly matching argument
 * types would have been bound into the constraint, and would run as the
 * table's owner on every write.  Each constraint is made again, bound to
 * pg_catalog's operator, as a fresh 1.1 install makes it.
 */
ALTER TABLE csms.account
	DROP CONSTRAINT account_domain_id_check,
	ADD CONSTRAINT account_domain_id_check
		CHECK (domain_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'),
	DROP CONSTRAINT account_root_check_check,
	ADD CONSTRAINT account_root_check_check
		CHECK (pg_catalog.length(root_check) OPERATOR(pg_catalog.=) 32),
	DROP CONSTRAINT account_home_project_id_check,
	ADD CONSTRAINT account_home_project_id_check
		CHECK (home_project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$');
ALTER TABLE csms.regions
	DROP CONSTRAINT regions_name_check,
	ADD CONSTRAINT regions_name_check
		CHECK (name OPERATOR(pg_catalog.~) '^[a-zA-Z0-9_-]{1,64}$'),
	DROP CONSTRAINT regions_project_id_check,
	ADD CONSTRAINT regions_project_id_check
		CHECK (project_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$');
ALTER TABLE csms.keys
	DROP CONSTRAINT keys_purpose_check,
	ADD CONSTRAINT keys_purpose_check
		CHECK (purpose OPERATOR(pg_catalog.=) ANY (ARRAY['secret', 'backup'])),
	DROP CONSTRAINT keys_state_check,
	ADD CONSTRAINT keys_state_check
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['ENABLED', 'DISABLED'])),
	DROP CONSTRAINT keys_current_version_check,
	ADD CONSTRAINT keys_current_version_check
		CHECK (current_version OPERATOR(pg_catalog.>=) 1);
ALTER TABLE csms.key_versions
	DROP CONSTRAINT key_versions_version_check,
	ADD CONSTRAINT key_versions_version_check
		CHECK (version OPERATOR(pg_catalog.>=) 1),
	DROP CONSTRAINT key_versions_material_check,
	ADD CONSTRAINT key_versions_material_check
		CHECK (pg_catalog.length(material) OPERATOR(pg_catalog.=) 60);
