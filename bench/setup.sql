-- Schema of a benchmark database: the extension, pgcrypto, and the plain and
-- pgcrypto tables that the csms_* functions are measured against.  The data
-- is loaded by run.sh (in batches, timed).
\set ON_ERROR_STOP 1
SET client_min_messages = error;	-- the root key WARNING of the first CREATE EXTENSION
CREATE EXTENSION secrets;
CREATE EXTENSION pgcrypto;
RESET client_min_messages;

-- the same names and values as the secrets, unencrypted; names are C-collated
-- like csms.secrets.name
CREATE TABLE plain (
	name	text COLLATE "C" PRIMARY KEY,
	value	text NOT NULL
);

-- the same values encrypted with pgp_sym_encrypt (default options)
CREATE TABLE enc (
	name	text COLLATE "C" PRIMARY KEY,
	value	bytea NOT NULL
);

-- names of the secrets and rows made by the create workloads
CREATE SEQUENCE bench_seq;

-- the event of the create with a subscription (create_event): every create
-- notifies a channel (nobody listens) and writes a notification record
SELECT name FROM csms_create_event('bench-events', '{SECRET_VERSION_CREATED}',
	notification => '{"target_type": "NOTIFY", "target_name": "bench_events"}');
-- its plain counterpart: the row, an audit row, and the same notification
CREATE TABLE plain_events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL,
	name	text NOT NULL,
	content	jsonb NOT NULL
);

-- tagged secrets as a DBA would keep them: a table, and a table of their
-- tags (one value per key) indexed for the filter by (key, value)
CREATE TABLE plain_tagged (
	name	text COLLATE "C" PRIMARY KEY,
	value	text NOT NULL
);
CREATE TABLE plain_tags (
	name	text COLLATE "C" NOT NULL REFERENCES plain_tagged,
	key		text NOT NULL,
	value	text NOT NULL,
	PRIMARY KEY (name, key)
);
CREATE INDEX plain_tags_key_value ON plain_tags (key, value, name);

-- the rotation function of the COMMON secrets rot-func-<i> (rotate_func.sql):
-- as trivial as one can be, so that the rotation's own cost shows
CREATE FUNCTION bench_rot(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT repeat('x', 100) $$;
