-- Tampering with stored ciphertext: a flipped byte anywhere, swapped
-- ciphertexts or data keys between rows, truncation, damaged key material.
-- Every read fails with XX001; no read returns a wrong value.  Restoring the
-- original bytes makes reads work again, which shows each case was live.
-- The SYSCURRENT version is stored twice (its row in csms.versions and a
-- copy on the secret's row, which the latest read uses): the helpers below
-- edit both, as an attacker with write access to the tables would; the
-- last section tampers with each place alone.
\set VERBOSITY terse

SELECT name FROM csms_create_secret('ta', 'value of a');
SELECT name FROM csms_create_secret('tb', 'value of b');
SELECT (csms_create_secret_version('ta', 'second of a')).id;

CREATE TEMP TABLE saved AS
	SELECT s.name, v.version, v.ciphertext, v.wrapped_dek, v.key_id, v.key_version
	  FROM csms.versions v JOIN csms.secrets s ON s.id = v.secret_id
	 WHERE s.name IN ('ta', 'tb');
CREATE FUNCTION restore_saved() RETURNS void LANGUAGE sql AS $$
	UPDATE csms.versions v SET ciphertext = sv.ciphertext, wrapped_dek = sv.wrapped_dek,
		key_id = sv.key_id, key_version = sv.key_version
	  FROM saved sv JOIN csms.secrets s ON s.name = sv.name
	 WHERE v.secret_id = s.id AND v.version = sv.version;
	UPDATE csms.secrets s SET current_ciphertext = sv.ciphertext,
		current_wrapped_dek = sv.wrapped_dek, current_key_id = sv.key_id,
		current_key_version = sv.key_version
	  FROM saved sv WHERE s.name = sv.name AND s.current_version = sv.version
$$;
CREATE FUNCTION flip(b bytea, pos int) RETURNS bytea LANGUAGE sql AS $$
	SELECT set_byte(b, pos, get_byte(b, pos) # 1)
$$;
CREATE FUNCTION set_ct(secret text, ver int, ct bytea) RETURNS void LANGUAGE sql AS $$
	UPDATE csms.versions SET ciphertext = ct
	 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = secret) AND version = ver;
	UPDATE csms.secrets SET current_ciphertext = ct WHERE name = secret AND current_version = ver
$$;
CREATE FUNCTION set_dek(secret text, ver int, dek bytea) RETURNS void LANGUAGE sql AS $$
	UPDATE csms.versions SET wrapped_dek = dek
	 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = secret) AND version = ver;
	UPDATE csms.secrets SET current_wrapped_dek = dek WHERE name = secret AND current_version = ver
$$;

-- a flipped bit in every byte of the value ciphertext (nonce, body, tag)
SELECT count(*) AS positions,
       count(*) FILTER (WHERE r LIKE 'XX001: value of version "v1" of secret "tb" failed authentication') AS refused
  FROM (SELECT pos, (SELECT set_ct('tb', 1, flip(ciphertext, pos)) FROM saved WHERE name = 'tb'),
			   try($$SELECT csms_get_secret_value('tb')$$) AS r, restore_saved()
		  FROM generate_series(0, (SELECT length(ciphertext) - 1 FROM saved WHERE name = 'tb')) pos) s;
-- and in every byte of the wrapped data key
SELECT count(*) AS positions,
       count(*) FILTER (WHERE r LIKE 'XX001: data key of version "v1" of secret "tb" failed authentication') AS refused
  FROM (SELECT pos, (SELECT set_dek('tb', 1, flip(wrapped_dek, pos)) FROM saved WHERE name = 'tb'),
			   try($$SELECT csms_get_secret_value('tb')$$) AS r, restore_saved()
		  FROM generate_series(0, 59) pos) s;
SELECT csms_get_secret_value('tb');

-- two secrets' rows swapped: ciphertext and data key together
SELECT set_ct('tb', 1, (SELECT ciphertext FROM saved WHERE name = 'ta' AND version = 1));
SELECT set_dek('tb', 1, (SELECT wrapped_dek FROM saved WHERE name = 'ta' AND version = 1));
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT restore_saved();
-- only the ciphertexts swapped (each with its own data key)
SELECT set_ct('tb', 1, (SELECT ciphertext FROM saved WHERE name = 'ta' AND version = 1));
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT restore_saved();
-- two versions of one secret swapped
SELECT set_ct('ta', 1, (SELECT ciphertext FROM saved WHERE name = 'ta' AND version = 2));
SELECT set_dek('ta', 1, (SELECT wrapped_dek FROM saved WHERE name = 'ta' AND version = 2));
SELECT try($$SELECT csms_get_secret_value('ta', 'v1')$$);
SELECT restore_saved();
-- rows edited with foreign keys off, as a raw edit of the files would be
SET session_replication_role = replica;
SELECT id AS ta_id FROM csms.secrets WHERE name = 'ta' \gset
SELECT id AS tb_id FROM csms.secrets WHERE name = 'tb' \gset
-- a version renumbered
UPDATE csms.versions SET version = 3 WHERE secret_id = :'ta_id' AND version = 2;
UPDATE csms.secrets SET stage_versions = array_replace(stage_versions, 2, 3),
	current_version = 3 WHERE id = :'ta_id';
SELECT try($$SELECT csms_get_secret_value('ta')$$);
UPDATE csms.versions SET version = 2 WHERE secret_id = :'ta_id' AND version = 3;
UPDATE csms.secrets SET stage_versions = array_replace(stage_versions, 3, 2),
	current_version = 2 WHERE id = :'ta_id';
-- a secret's rows moved under another id
UPDATE csms.secrets SET id = '00000000-0000-4000-8000-000000000001' WHERE id = :'tb_id';
UPDATE csms.versions SET secret_id = '00000000-0000-4000-8000-000000000001' WHERE secret_id = :'tb_id';
SELECT try($$SELECT csms_get_secret_value('tb')$$);
UPDATE csms.secrets SET id = :'tb_id' WHERE id = '00000000-0000-4000-8000-000000000001';
UPDATE csms.versions SET secret_id = :'tb_id' WHERE secret_id = '00000000-0000-4000-8000-000000000001';
-- a secret moved to another region
INSERT INTO csms.regions VALUES ('elsewhere', repeat('e', 32), now());
UPDATE csms.secrets SET region = 'elsewhere' WHERE id = :'tb_id';
SET csms.region = 'elsewhere';
SELECT try($$SELECT csms_get_secret_value('tb')$$);
RESET csms.region;
UPDATE csms.secrets SET region = 'local' WHERE id = :'tb_id';
DELETE FROM csms.regions WHERE name = 'elsewhere';
RESET session_replication_role;
SELECT csms_get_secret_value('ta'), csms_get_secret_value('tb');
-- a secret renamed keeps working (the name is not part of the AAD, the id is)
UPDATE csms.secrets SET name = 'tb-renamed' WHERE name = 'tb';
SELECT csms_get_secret_value('tb-renamed');
UPDATE csms.secrets SET name = 'tb' WHERE name = 'tb-renamed';

-- truncated and emptied ciphertexts
SELECT set_ct('tb', 1, substr((SELECT ciphertext FROM saved WHERE name = 'tb'), 1, 28));
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT set_ct('tb', 1, ''::bytea);
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT set_dek('tb', 1, substr((SELECT wrapped_dek FROM saved WHERE name = 'tb'), 1, 59));
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT restore_saved();

-- the data key pointed at another key version of the same key
SELECT alias, key_version FROM csms_rotate_key('csms/default');
UPDATE csms.versions SET key_version = 2 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = 'tb');
UPDATE csms.secrets SET current_key_version = 2 WHERE name = 'tb';
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT restore_saved();
SELECT csms_get_secret_value('tb');

-- the data key pointed at another key, after reads of the real one (its data
-- key is remembered by what it was opened with, the key included)
SELECT (csms_create_key('tamper/other')).alias;
SELECT name FROM csms_create_secret('tc', 'under the other key', kms_key_id => 'tamper/other');
SELECT csms_get_secret_value('tb'), csms_get_secret_value('tc');
UPDATE csms.versions SET key_id = (SELECT id FROM csms.keys WHERE alias = 'tamper/other')
 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = 'tb');
UPDATE csms.secrets SET current_key_id = (SELECT id FROM csms.keys WHERE alias = 'tamper/other')
 WHERE name = 'tb';
SELECT try($$SELECT csms_get_secret_value('tb')$$);
SELECT restore_saved();
SELECT csms_get_secret_value('tb');

-- damaged master key material (a new session, so nothing is cached)
SELECT k.id AS default_key, kv.material AS orig_material
  FROM csms.keys k JOIN csms.key_versions kv ON kv.key_id = k.id
 WHERE k.alias = 'csms/default' AND kv.version = 1 \gset
UPDATE csms.key_versions SET material = set_byte(material, 20, get_byte(material, 20) # 1)
 WHERE key_id = :'default_key' AND version = 1;
\c
\set VERBOSITY terse
SELECT try($$SELECT csms_get_secret_value('tb')$$);
UPDATE csms.key_versions SET material = :'orig_material' WHERE key_id = :'default_key' AND version = 1;
-- material of one key version moved to another version
UPDATE csms.key_versions SET material = (SELECT material FROM csms.key_versions
	WHERE key_id = :'default_key' AND version = 2) WHERE key_id = :'default_key' AND version = 1;
\c
\set VERBOSITY terse
SELECT try($$SELECT csms_get_secret_value('tb')$$);
UPDATE csms.key_versions SET material = :'orig_material' WHERE key_id = :'default_key' AND version = 1;
\c
SELECT csms_get_secret_value('tb');

-- the value ciphertext is bound to the account: another domain id fails
SELECT domain_id AS orig_domain FROM csms.account \gset
UPDATE csms.account SET domain_id = repeat('0', 32);
\set VERBOSITY terse
SELECT try($$SELECT csms_get_secret_value('tb')$$);
UPDATE csms.account SET domain_id = :'orig_domain';
SELECT csms_get_secret_value('tb');

-- each copy of the SYSCURRENT version is authenticated on its own: a flipped
-- byte in the copy on the secret's row fails the latest read, and one in the
-- csms.versions row fails the reads that use that row
SELECT csms_get_secret_value('ta'), (csms_show_secret_version('ta', 'v2')).secret_string;
SELECT current_ciphertext AS orig_ct FROM csms.secrets WHERE name = 'ta' \gset
UPDATE csms.secrets SET current_ciphertext = flip(current_ciphertext, 30) WHERE name = 'ta';
SELECT try($$SELECT csms_get_secret_value('ta')$$);
SELECT try($$SELECT csms_get_secret_value('ta', 'v2')$$);
SELECT (csms_show_secret_version('ta', 'v2')).secret_string;
UPDATE csms.secrets SET current_ciphertext = :'orig_ct' WHERE name = 'ta';
UPDATE csms.versions SET ciphertext = flip(ciphertext, 30)
 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = 'ta') AND version = 2;
SELECT csms_get_secret_value('ta');
SELECT try($$SELECT csms_show_secret_version('ta', 'v2')$$);
SELECT try($$SELECT csms_backup_secret('ta')$$);
UPDATE csms.versions SET ciphertext = :'orig_ct'
 WHERE secret_id = (SELECT id FROM csms.secrets WHERE name = 'ta') AND version = 2;
SELECT csms_get_secret_value('ta'), (csms_show_secret_version('ta', 'v2')).secret_string;

-- the hot tables have no foreign keys and no CHECK constraints (the code
-- keeps their rules, see the install script): rows that break them, as a raw
-- edit would make, are refused with XX001 and never read as a value
SELECT name FROM csms_create_secret('raw', 'raw value');
SELECT id AS raw_id FROM csms.secrets WHERE name = 'raw' \gset
UPDATE csms.secrets SET state = 'BOGUS' WHERE id = :'raw_id';
SELECT try($$SELECT csms_get_secret_value('raw')$$);
SELECT try($$SELECT csms_create_secret_version('raw', 'x')$$);
SELECT try($$SELECT csms_show_secret('raw')$$);
UPDATE csms.secrets SET state = 'ENABLED', replica_type = 'BOGUS' WHERE id = :'raw_id';
SELECT try($$SELECT csms_create_secret_version('raw', 'x')$$);
UPDATE csms.secrets SET replica_type = 'STANDALONE' WHERE id = :'raw_id';
-- stages whose arrays do not line up, or that name a stage twice
UPDATE csms.secrets SET stage_versions = '{1,1}' WHERE id = :'raw_id';
SELECT try($$SELECT csms_create_secret_version('raw', 'x')$$);
UPDATE csms.secrets SET stage_names = '{SYSCURRENT,SYSCURRENT}',
	stage_times = ARRAY[now(), now()] WHERE id = :'raw_id';
SELECT try($$SELECT csms_show_secret_stage('raw', 'SYSCURRENT')$$);
UPDATE csms.secrets SET stage_names = '{SYSCURRENT}', stage_versions = '{1}',
	stage_times = ARRAY[now()] WHERE id = :'raw_id';
-- a version whose key does not exist
SELECT (csms_create_secret_version('raw', 'second')).id;
UPDATE csms.versions SET key_id = '00000000-0000-4000-8000-000000000002'
 WHERE secret_id = :'raw_id' AND version = 1;
SELECT try($$SELECT csms_get_secret_value('raw', 'v1')$$);
SELECT try($$SELECT csms_show_secret_version('raw', 'v1')$$);
UPDATE csms.secrets SET current_key_id = '00000000-0000-4000-8000-000000000002' WHERE id = :'raw_id';
SELECT try($$SELECT csms_get_secret_value('raw')$$);
-- a version numbered 0 or less is not one the API made
UPDATE csms.versions SET version = -1 WHERE secret_id = :'raw_id' AND version = 1;
SELECT try($$SELECT csms_get_secret_value('raw', 'v1')$$);
SELECT id FROM csms_list_secret_versions('raw');
-- deleting a secret deletes its versions, stages and tags, orphans included
SELECT name FROM csms_create_secret('raw2', 'x', tags => '{"a": "b"}');
SELECT csms_delete_secret('raw'), csms_delete_secret('raw2');
SELECT (SELECT count(*) FROM csms.versions WHERE secret_id = :'raw_id') AS versions,
       (SELECT count(*) FROM csms.secrets WHERE id = :'raw_id') AS stages,  -- on its row
       (SELECT count(*) FROM csms.tags t WHERE NOT EXISTS
         (SELECT FROM csms.secrets s WHERE s.id = t.secret_id)) AS orphan_tags;
