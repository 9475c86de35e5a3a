-- Access: ordinary roles may call only what they are granted and never
-- touch the state tables; the root key settings are superuser-only; a
-- caller's search_path cannot redirect the extension's statements.
\set VERBOSITY terse

CREATE ROLE csms_app LOGIN;
SELECT name FROM csms_create_secret('app-db', 'app password');

SET ROLE csms_app;
SELECT try($$SELECT csms_get_secret_value('app-db')$$);
SELECT try($$SELECT * FROM csms_list_secrets()$$);
SELECT try($$SELECT * FROM csms.secrets$$);
SELECT try($$SELECT * FROM csms.versions$$);
SELECT try($$SET csms.root_key_file = '/tmp/key'$$);
SELECT try($$SET csms.root_key_command = 'echo'$$);
SELECT try($$SHOW csms.root_key_command$$);
SELECT try($$SET csms.track_last_used = off$$);
SET csms.region = '';
RESET ROLE;

-- grant exactly one function: it works for that role, through its own checks
GRANT EXECUTE ON FUNCTION csms_get_secret_value(text, text) TO csms_app;
SET ROLE csms_app;
SELECT try($$SELECT csms_get_secret_value('app-db')$$);
RESET ROLE;
-- ... once the role also holds the privilege read on the secret (the second gate)
SELECT privileges FROM csms_grant('app-db', 'csms_app', '{read}');
SET ROLE csms_app;
SELECT csms_get_secret_value('app-db');
SELECT try($$SELECT csms_get_secret_value('missing')$$);
SELECT try($$SELECT csms_create_secret('mine', 'x')$$);
SELECT try($$SELECT * FROM csms.secrets$$);
RESET ROLE;

-- a hostile search_path: objects named like the ones the extension uses, in a
-- schema searched before pg_catalog, are never called
CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO csms_app;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'evil now() called'; END$$;
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'evil = called'; END$$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'evil count() called'; END$$;
CREATE TABLE evil.secrets (id int);
SET search_path = evil, pg_catalog, public;
SELECT name FROM csms_create_secret('search-path', 'still safe');
SELECT id FROM csms_create_secret_version('search-path', 'still safe 2');
SELECT csms_get_secret_value('search-path');
SELECT name FROM csms_list_secrets(100) WHERE name OPERATOR(pg_catalog.=) 'search-path';
SELECT id, version_stages FROM csms_list_secret_versions('search-path');
SELECT name FROM csms_update_secret_stage('search-path', 'LBL', 'v1');
SELECT csms_delete_secret('search-path');
SET ROLE csms_app;
SELECT csms_get_secret_value('app-db');
RESET ROLE;
RESET search_path;

-- the caller's identity is back after each call, also after an error
SET ROLE csms_app;
SELECT try($$SELECT csms_get_secret_value('missing')$$);
SELECT current_user;
RESET ROLE;

DROP SCHEMA evil CASCADE;
REVOKE EXECUTE ON FUNCTION csms_get_secret_value(text, text) FROM csms_app;
DROP OWNED BY csms_app;
DROP ROLE csms_app;
