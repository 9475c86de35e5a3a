-- Backup blobs and csms_restore: round trip, the rules of the seed (same
-- account, same region, free name), every kind of bad input, and a few
-- hundred random mutations of a real blob.
\set VERBOSITY terse

SELECT name FROM csms_create_secret('bk', 'first: päss "q" \ é',
	description => 'backed up', tags => '{"env": "prod", "team": "db"}',
	auto_rotation => true, rotation_period => '30d',
	event_subscriptions => '{ev1}', rotation_func_urn => 'rotate_demo');
SELECT id FROM csms_create_secret_version('bk', secret_binary => '\x00ff000102'::bytea, version_stages => '{BIN}');
SELECT id FROM csms_create_secret_version('bk', '', expire_time => '2031-01-01 00:00+00');
SELECT id FROM csms_create_secret_version('bk', repeat('z', 32768));
SELECT csms_get_secret_value('bk', 'v1') IS NOT NULL AS read;

CREATE TEMP TABLE before AS
	SELECT s.*, (SELECT jsonb_agg(to_jsonb(v) ORDER BY v.id) FROM csms_list_secret_versions('bk') v) AS versions
	  FROM csms_show_secret('bk') s;
SELECT csms_backup_secret('bk') AS blob \gset
SELECT left(:'blob', 34) AS prefix, length(:'blob') > 40000 AS long_enough,
       array_length(string_to_array(substr(:'blob', 35), '.'), 1) AS segments;
-- the protected header is the one design.md gives
CREATE FUNCTION b64url_decode(s text) RETURNS bytea LANGUAGE sql AS $$
	SELECT decode(rpad(translate(s, '-_', '+/'), (length(s) + 3) / 4 * 4, '='), 'base64')
$$;
SELECT convert_from(b64url_decode(split_part(substr(:'blob', 35), '.', 1)), 'UTF8')::jsonb - 'kid' AS header,
	   (convert_from(b64url_decode(split_part(substr(:'blob', 35), '.', 1)), 'UTF8')::jsonb ->> 'kid')
	     = (SELECT id::text FROM csms.keys WHERE purpose = 'backup' AND region = 'local') AS kid_is_backup_key,
	   length(b64url_decode(split_part(substr(:'blob', 35), '.', 2))) AS wrapped_cek_len,
	   length(b64url_decode(split_part(substr(:'blob', 35), '.', 3))) AS iv_len,
	   length(b64url_decode(split_part(substr(:'blob', 35), '.', 5))) AS tag_len;
-- one backup key per region, never listed, never usable for secrets
SELECT alias, purpose, state FROM csms.keys WHERE purpose = 'backup';
SELECT count(*) FROM csms_list_keys() WHERE alias = 'csms/backup';
SELECT try($$SELECT csms_create_secret('x', 'x', kms_key_id => 'csms/backup')$$);
-- the blob holds no plaintext
SELECT position('päss' IN :'blob') = 0 AND position('backed up' IN :'blob') = 0 AS opaque;
-- two backups of the same secret differ (fresh content key and IV)
SELECT csms_backup_secret('bk') <> :'blob' AS fresh;

-- round trip: delete, restore, everything is back
CREATE TEMP TABLE old_ct AS SELECT ciphertext, wrapped_dek FROM csms.versions WHERE secret_id = (SELECT id FROM before);
SELECT csms_delete_secret('bk');
SELECT name, state, replica_type, replicas, description, secret_type, auto_rotation,
       rotation_period, event_subscriptions, rotation_func_urn, scheduled_delete_time
  FROM csms_restore(:'blob');
SELECT r.id = b.id AS same_id, r.create_time = b.create_time AS same_create_time,
       r.kms_key_id = b.kms_key_id AS same_key, r.domain_id = b.domain_id AS same_domain,
       r.next_rotation_time = b.next_rotation_time AS same_schedule
  FROM csms_show_secret('bk') r, before b;
SELECT (SELECT jsonb_agg(to_jsonb(v) ORDER BY v.id) FROM csms_list_secret_versions('bk') v) = b.versions AS same_versions
  FROM before b;
SELECT csms_get_secret_value('bk', 'v1'), csms_get_secret_binary('bk', 'v2'),
       csms_get_secret_value('bk', 'v3') = '' AS v3_empty, md5(csms_get_secret_value('bk')) = md5(repeat('z', 32768)) AS v4_ok;
SELECT key, value FROM csms.tags WHERE secret_id = (SELECT id FROM before) ORDER BY key;
-- values were encrypted afresh: new data keys and nonces
SELECT count(*) AS versions, count(o.ciphertext) AS reused_ciphertexts, count(o2.wrapped_dek) AS reused_keys
  FROM csms.versions v LEFT JOIN old_ct o ON o.ciphertext = v.ciphertext LEFT JOIN old_ct o2 ON o2.wrapped_dek = v.wrapped_dek
 WHERE v.secret_id = (SELECT id FROM before);
-- new versions continue the numbering
SELECT id FROM csms_create_secret_version('bk', 'after restore');

-- the name must be free; so must the id
SELECT try($$SELECT csms_restore('$$ || :'blob' || $$')$$);
UPDATE csms.secrets SET name = 'bk-renamed' WHERE name = 'bk';
SELECT regexp_replace(try_detail($$SELECT csms_restore('$$ || :'blob' || $$')$$), '[0-9a-f-]{36}', '<id>') AS try;
SELECT csms_delete_secret('bk-renamed');

-- a disabled secret backs up; the restored one is enabled
SELECT state FROM csms_disable_secret((csms_restore(:'blob')).name);
SELECT csms_backup_secret('bk') AS blob_disabled \gset
SELECT csms_delete_secret('bk');
SELECT state FROM csms_restore(:'blob_disabled');
-- a frozen one does not
UPDATE csms.secrets SET state = 'FROZEN' WHERE name = 'bk';
SELECT try($$SELECT csms_backup_secret('bk')$$);
UPDATE csms.secrets SET state = 'ENABLED' WHERE name = 'bk';
SELECT try($$SELECT csms_backup_secret('missing')$$);
SELECT try($$SELECT csms_backup_secret('bad name')$$);
SELECT try($$SELECT csms_backup_secret(NULL)$$);

-- the secret's key: used again if it is still there, refused if disabled,
-- csms/default if it is gone
SELECT alias FROM csms_create_key('bk-key');
SELECT name FROM csms_create_secret('bk2', 'under bk-key', kms_key_id => 'bk-key');
SELECT csms_backup_secret('bk2') AS blob2 \gset
SELECT csms_delete_secret('bk2');
SELECT state FROM csms_disable_key('bk-key');
SELECT try($$SELECT csms_restore('$$ || :'blob2' || $$')$$);
SELECT state FROM csms_enable_key('bk-key');
SELECT k.alias FROM csms_restore(:'blob2') r JOIN csms_list_keys() k ON k.key_id = r.kms_key_id;
SELECT csms_delete_secret('bk2');
DELETE FROM csms.keys WHERE alias = 'bk-key';
SELECT k.alias FROM csms_restore(:'blob2') r JOIN csms_list_keys() k ON k.key_id = r.kms_key_id;
SELECT csms_get_secret_value('bk2');

-- bad input: each a clear error, never a partly restored secret
SELECT csms_delete_secret('bk');
SELECT count(*) AS secrets_before FROM csms.secrets \gset
SELECT try_detail($$SELECT csms_restore(NULL)$$);
SELECT try_detail($$SELECT csms_restore('')$$);
SELECT try_detail($$SELECT csms_restore('eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d')$$);
SELECT try_detail($$SELECT csms_restore(')CloudSecretManagementBackupV1.co')$$);
SELECT try_detail($$SELECT csms_restore(')CloudSecretManagementBackupV2.com' || substr('$$ || :'blob' || $$', 35))$$);
SELECT try_detail(format('SELECT csms_restore(%L)', left(:'blob', 34) || split_part(substr(:'blob', 35), '.', 1) || '.' || split_part(substr(:'blob', 35), '.', 2)));
SELECT try_detail(format('SELECT csms_restore(%L)', :'blob' || '.x'));
SELECT try_detail(format('SELECT csms_restore(%L)', left(:'blob', 34) || replace(substr(:'blob', 35), '.', '=.')));
SELECT try_detail($$SELECT csms_restore(overlay('$$ || :'blob' || $$' placing '+' from 60 for 1))$$);
-- headers with another alg, enc or an unknown kid (re-encoded, rest of the blob kept)
CREATE FUNCTION with_header(blob text, header text) RETURNS text LANGUAGE sql AS $$
	SELECT ')CloudSecretManagementBackupV1.com'
		|| rtrim(translate(encode(convert_to(header, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
		|| substr(blob, 35 + length(split_part(substr(blob, 35), '.', 1)))
$$;
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"x"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"A256KW","enc":"A128CBC-HS256","kid":"x"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"A256KW","enc":"A256GCM"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"A256KW","enc":"A256GCM","kid":"9f3efdc5-3f5e-4bed-a8d1-9616e50443ab"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"A256KW","enc":"A256GCM","kid":"not-a-uuid"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', '{"alg":"A256KW","alg":"A256KW","enc":"A256GCM","kid":"x"}')));
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob', 'not json')));
-- the real kid with another (equivalent) header: the AAD changes, so authentication fails
SELECT try_detail(format('SELECT csms_restore(%L)', with_header(:'blob',
	'{"kid":"' || (SELECT id FROM csms.keys WHERE purpose = 'backup' AND region = 'local') || '","alg":"A256KW","enc":"A256GCM"}')));
-- the seed's own example blob (RSA-OAEP-256, A128CBC-HS256, truncated)
SELECT try_detail($$SELECT csms_restore(')CloudSecretManagementBackupV1.comeyJraWQiOiI5ZjNlZmRjNS0zZjVlLTRiZWQtYThkMS05NjE2ZTUwNDQzYWIiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiUlNBLU9BRVAtMjU2In0.CtrOcFMSeW_qMdQjgKzNaWtC6hkSTdjOSMSr2IOKNa8OpbJH8rOaCt9l4LYLHKw8CF70YLWOODgaYrLiWuHgdR-O9hlALkT6CbXxJ-Cbmf6qpJF61kXKHX4TBe6-oV8t4PaPaSDDR_oeyt4Xl2EOOlHxs9PnU1st9Fkd7wOHNa4ueM16Ze5ICEdQK3cN1hnelid0zlb1qq58KhsSroNeI8B5RnoYDB-0eiFWD0XWJLppgkLnewXpuPLmLN_c558yUQ0u0VoUyBGB6EFePPbbT-Z1_LUCSRyiP9Y2S0Vz5jzzeabWZ4vZkW8JX57Wc-onHplUpsUUpIqcdHLjp40NEQ.VtA6Sg--jeA1QavYxY9z7Q.Mr6dLyontoJCaDaRFMAYg_qUdEPzd-aIIrCHWH7wvYayNpSFUjR5QJd3XPpGGy93y22jN-DoHZHclgMeureQwKq39QQF0xIdRqhOR2Lxy69PkgRaNtpz7ikLOlsbjh1wd7mbSmyolsK_0t1X9OlvOSmUMjxUXpXLzqLXxPY0R_MUxEanHb3V_vsLArF9sN1X7Km-fdUKXTV1EzVUq1eC5aSYqg3rGkLHPHG6lPXOetPWNsVCE1bX0Voh0XnlyFLSSoYzX45l04hR8JXgcP42FXfD7GugcNi7jTKuvxu4l2Q2v7wnk')$$);
-- truncated anywhere, and too long
SELECT try_detail(format('SELECT csms_restore(%L)', left(:'blob', length(:'blob') - 1)));
SELECT try_detail(format('SELECT csms_restore(%L)', left(:'blob', 200)));
SELECT try_detail($$SELECT csms_restore(repeat('x', 5242881))$$);
SELECT count(*) = :secrets_before AS nothing_restored FROM csms.secrets;

-- a flipped character in each segment: the header, the wrapped key, the IV,
-- the ciphertext and the tag
SELECT seg, try_detail(format('SELECT csms_restore(%L)', m)) AS result
  FROM (SELECT seg, left(:'blob', 34) || array_to_string(parts[1:seg-1] || overlay(parts[seg] placing
			CASE WHEN substr(parts[seg], 5, 1) = 'A' THEN 'B' ELSE 'A' END from 5 for 1) || parts[seg+1:5], '.') AS m
		  FROM (SELECT string_to_array(substr(:'blob', 35), '.') AS parts) p, generate_series(1, 5) seg) s
 ORDER BY seg;

-- a few hundred random mutations of a real blob: none restores, the server stays up
SELECT setseed(0.25);
CREATE TEMP TABLE mutations AS
	SELECT g, CASE g % 4
		WHEN 0 THEN overlay(b placing CASE WHEN substr(b, p, 1) = 'x' THEN 'y' ELSE 'x' END from p for 1)
		WHEN 1 THEN overlay(b placing '' from p for 1)
		WHEN 2 THEN overlay(b placing 'Q' from p for 0)
		ELSE left(b, p - 1) END AS m
	  FROM (SELECT g, :'blob' AS b, 1 + floor(random() * length(:'blob'))::int AS p
			  FROM generate_series(1, 400) g) s;
SELECT count(*) AS mutations,
       count(*) FILTER (WHERE r LIKE '22023:%' OR r LIKE '54000:%') AS refused,
       count(*) FILTER (WHERE r = 'ok') AS restored
  FROM (SELECT try(format('SELECT csms_restore(%L)', m)) AS r FROM mutations) s;
SELECT count(*) = :secrets_before AS nothing_restored FROM csms.secrets;
-- and the original still restores
SELECT name FROM csms_restore(:'blob');
SELECT csms_get_secret_value('bk', 'v1');

-- regions: a blob restores only in the region it was made in
INSERT INTO csms.regions VALUES ('eu-west-x', md5('eu-west-x'), now());
SET csms.region = 'eu-west-x';
SELECT name, region FROM csms_create_secret('bk', 'in eu-west-x');
SELECT csms_backup_secret('bk') AS blob_eu \gset
SELECT csms_delete_secret('bk');
RESET csms.region;
SELECT try($$SELECT csms_restore('$$ || :'blob_eu' || $$')$$);
SET csms.region = 'eu-west-x';
SELECT try($$SELECT csms_restore('$$ || :'blob' || $$')$$);
SELECT name, region FROM csms_restore(:'blob_eu');
SELECT csms_get_secret_value('bk');
SELECT count(*) AS backup_keys FROM csms.keys WHERE purpose = 'backup';
RESET csms.region;
-- csms.secrets.version_count, kept by the code, is each secret's number of versions
SELECT s.region, s.name, s.version_count, count(v.version) AS versions
  FROM csms.secrets s LEFT JOIN csms.versions v ON v.secret_id = s.id
 GROUP BY s.id HAVING s.version_count <> count(v.version);
