#!/usr/bin/env node
// jose_interop.mjs: proves that the backup blobs of the secrets extension are
// standard JWE (RFC 7516) that the `jose` npm package opens and makes, using
// nothing of the extension but what an operator holds: the root key and the
// rows of csms.keys / csms.key_versions.  Used by t/005_backup_interop.pl.
//
//   node jose_interop.mjs COMMAND [OPTIONS]
//
// The backup key, recovered offline (every command):
//   --root-key-file PATH   file holding the root key as 64 hex characters,
//                          e.g. <data directory>/csms_root.key
//   --root-key-hex HEX     the root key itself (or env CSMS_ROOT_KEY_HEX)
//   --key-id UUID          id of the region's backup key:
//                            SELECT id FROM csms.keys WHERE purpose = 'backup'
//                              AND region = '<region>'
//   --key-version N        its material version (keys.current_version; 1)
//   --material HEX         the sealed material, hex (a leading \x is allowed):
//                            SELECT encode(material, 'hex') FROM csms.key_versions
//                              WHERE key_id = '<id>' AND version = <N>
//   The material is nonce(12) || AES-256-GCM(root key, 32 bytes) || tag(16)
//   with AAD "csms/cmk/v1|<key id>|<version>"; it is opened with node:crypto.
//
// Commands:
//   open --blob-file PATH
//       Strips the prefix, opens the JWE with jose.compactDecrypt (A256KW +
//       A256GCM only), checks the protected header (kid = --key-id) and the
//       shape of the format-1 payload, and prints one line of JSON:
//         {"protectedHeader": {...}, "payload": {...},
//          "values_hex": {"v1": "<hex of the value's bytes>", ...}}
//       (for a secret_string, the hex of its UTF-8 bytes).
//   seal-new --domain-id ID --region R --project-id P --kms-key-id UUID
//            --name NAME [--variant V]
//       Builds a format-1 payload for a secret that does not exist yet (a new
//       random id, two versions: v1 binary with zero bytes and a custom stage,
//       v2 a string with non-ASCII characters and quotes; tags), seals it
//       with jose.CompactEncrypt for the backup key, and prints one line of
//       JSON: {"blob": "<prefix + JWE>", "payload": {...},
//              "values_hex": {...}}.
//   seal --payload-file PATH [--variant V]
//       Seals the bytes of PATH as the payload (for payloads the tests edit),
//       printing the same JSON (payload parsed when it is JSON, else null).
//   Variants (seal and seal-new):
//       ok (default)   alg A256KW, enc A256GCM, kid = backup key, its key
//       random-key     kid = backup key id, but a random 32-byte key
//       foreign        a random kid (a UUID) and a random key
//       a128gcm        alg A256KW with the backup key, enc A128GCM
//       dir            alg dir (the backup key used as the content key), A256GCM
//
// Exit status: 0 on success, 1 on any failure (message on stderr).

import { readFileSync } from 'node:fs';
import { createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as jose from 'jose';

const PREFIX = ')CloudSecretManagementBackupV1.com';

function fail(msg) {
  process.stderr.write(`jose_interop: ${msg}\n`);
  process.exit(1);
}

function hexBytes(what, hex, len) {
  const h = String(hex).trim().replace(/^\\x/, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(h) || (len !== undefined && h.length !== 2 * len))
    fail(`${what} is not ${len === undefined ? '' : len + ' bytes of '}hex`);
  return Buffer.from(h, 'hex');
}

// (a) the backup key, from the root key and the sealed material.
function backupKey(opts) {
  let rootHex = opts['root-key-hex'] ?? process.env.CSMS_ROOT_KEY_HEX;
  if (opts['root-key-file'] !== undefined)
    rootHex = readFileSync(opts['root-key-file'], 'latin1');
  if (rootHex === undefined)
    fail('give --root-key-file, --root-key-hex or CSMS_ROOT_KEY_HEX');
  const root = hexBytes('the root key', rootHex, 32);
  const keyId = opts['key-id'];
  if (keyId === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId))
    fail('--key-id must be the backup key id (a lower-case UUID)');
  const version = opts['key-version'] ?? '1';
  if (!/^[1-9][0-9]*$/.test(version))
    fail('--key-version must be a positive integer');
  if (opts.material === undefined)
    fail('give --material');
  const sealed = hexBytes('the sealed material', opts.material, 60);
  const aad = Buffer.from(`csms/cmk/v1|${keyId}|${version}`, 'ascii');
  const d = createDecipheriv('aes-256-gcm', root, sealed.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(44, 60));
  let key;
  try {
    key = Buffer.concat([d.update(sealed.subarray(12, 44)), d.final()]);
  } catch {
    fail('the sealed material failed authentication (wrong root key, key id or version)');
  }
  root.fill(0);
  return { keyId, key: new Uint8Array(key) };
}

function isTime(s) {
  return typeof s === 'string' && !Number.isNaN(Date.parse(s));
}

function checkType(obj, path, key, types) {
  if (!(key in obj))
    throw new Error(`member "${path}${key}" is missing`);
  const v = obj[key];
  const t = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  if (!types.split('|').includes(t))
    throw new Error(`member "${path}${key}" is ${t}, not ${types}`);
  if (t === 'string' && types.includes('time') && !isTime(v))
    throw new Error(`member "${path}${key}" is not a time`);
  return v;
}

const b64re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// The shape of a format-1 payload; returns the value bytes by version id.
function validatePayload(p) {
  if (p === null || typeof p !== 'object' || Array.isArray(p))
    throw new Error('the payload is not a JSON object');
  if (p.format !== 1)
    throw new Error(`format is ${JSON.stringify(p.format)}, not 1`);
  checkType(p, '', 'domain_id', 'string');
  checkType(p, '', 'region', 'string');
  checkType(p, '', 'project_id', 'string');
  const s = checkType(p, '', 'secret', 'object');
  for (const k of ['id', 'name', 'state', 'kms_key_id', 'secret_type', 'enterprise_project_id'])
    checkType(s, 'secret.', k, 'string');
  for (const k of ['description', 'rotation_period', 'rotation_func_urn'])
    checkType(s, 'secret.', k, 'string|null');
  for (const k of ['rotation_time', 'next_rotation_time', 'last_used_time'])
    checkType(s, 'secret.', k, 'string|null|time');
  for (const k of ['create_time', 'update_time'])
    checkType(s, 'secret.', k, 'string|time');
  checkType(s, 'secret.', 'auto_rotation', 'boolean');
  checkType(s, 'secret.', 'rotation_config', 'object|null');
  checkType(s, 'secret.', 'event_subscriptions', 'array');
  checkType(s, 'secret.', 'last_version', 'number');
  if ('tags' in p) {
    const t = checkType(p, '', 'tags', 'object');
    for (const [k, v] of Object.entries(t))
      if (typeof v !== 'string')
        throw new Error(`tag "${k}" is not a string`);
  }
  const versions = checkType(p, '', 'versions', 'array');
  if (versions.length === 0)
    throw new Error('no versions');
  const values = {};
  for (const v of versions) {
    const id = checkType(v, 'versions[].', 'id', 'string');
    if (!/^v[1-9][0-9]*$/.test(id) || id in values)
      throw new Error(`bad or repeated version id ${JSON.stringify(id)}`);
    checkType(v, 'versions[].', 'create_time', 'string|time');
    checkType(v, 'versions[].', 'expire_time', 'string|null|time');
    const stages = checkType(v, 'versions[].', 'stages', 'array');
    if (!stages.every((x) => typeof x === 'string'))
      throw new Error('a stage is not a string');
    const hasStr = 'secret_string' in v;
    const hasBin = 'secret_binary' in v;
    if (hasStr === hasBin)
      throw new Error(`version ${id} needs exactly one of secret_string and secret_binary`);
    if (hasStr) {
      checkType(v, 'versions[].', 'secret_string', 'string');
      values[id] = Buffer.from(v.secret_string, 'utf8');
    } else {
      const b = checkType(v, 'versions[].', 'secret_binary', 'string');
      if (!b64re.test(b))
        throw new Error(`version ${id}: secret_binary is not standard padded base64`);
      values[id] = Buffer.from(b, 'base64');
    }
  }
  return values;
}

function hexValues(values) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString('hex')]));
}

// (b) open a blob made by the extension.
async function open(opts, bk) {
  if (opts['blob-file'] === undefined)
    fail('open needs --blob-file');
  const blob = readFileSync(opts['blob-file'], 'latin1').trim();
  if (!blob.startsWith(PREFIX))
    fail('the blob does not start with the prefix');
  const jwe = blob.slice(PREFIX.length);
  let res;
  try {
    res = await jose.compactDecrypt(jwe, bk.key, {
      keyManagementAlgorithms: ['A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
  } catch (e) {
    fail(`jose.compactDecrypt failed: ${e.code ?? ''} ${e.message}`);
  }
  const h = res.protectedHeader;
  if (h.alg !== 'A256KW' || h.enc !== 'A256GCM' || h.kid !== bk.keyId)
    fail(`unexpected protected header ${JSON.stringify(h)}`);
  let payload, values;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(res.plaintext));
    values = validatePayload(payload);
  } catch (e) {
    fail(`invalid payload: ${e.message}`);
  }
  process.stdout.write(JSON.stringify({ protectedHeader: h, payload, values_hex: hexValues(values) }) + '\n');
}

// (c) seal a blob with jose.
async function seal(plaintext, variant, bk) {
  let alg = 'A256KW', enc = 'A256GCM', kid = bk.keyId, key = bk.key;
  switch (variant) {
    case 'ok':
      break;
    case 'random-key':
      key = new Uint8Array(randomBytes(32));
      break;
    case 'foreign':
      kid = randomUUID();
      key = new Uint8Array(randomBytes(32));
      break;
    case 'a128gcm':
      enc = 'A128GCM';
      break;
    case 'dir':
      alg = 'dir';
      break;
    default:
      fail(`unknown variant "${variant}"`);
  }
  const jwe = await new jose.CompactEncrypt(plaintext)
    .setProtectedHeader({ alg, enc, kid })
    .encrypt(key);
  return PREFIX + jwe;
}

function newPayload(opts) {
  for (const k of ['domain-id', 'region', 'project-id', 'kms-key-id', 'name'])
    if (opts[k] === undefined)
      fail(`seal-new needs --${k}`);
  // v1: binary, zero bytes at both ends and inside, bytes that are not UTF-8
  const binary = Buffer.from([0x00, 0x00, 0xff, 0x10, 0x00, 0x80, 0xc3, 0x28, 0x7f, 0x00]);
  return {
    format: 1,
    domain_id: opts['domain-id'],
    region: opts.region,
    project_id: opts['project-id'],
    secret: {
      id: randomUUID(),
      name: opts.name,
      state: 'ENABLED',
      kms_key_id: opts['kms-key-id'],
      description: 'Sealed by jose — «interop» ✓',
      secret_type: 'COMMON',
      auto_rotation: false,
      rotation_period: null,
      rotation_config: null,
      rotation_time: null,
      next_rotation_time: null,
      last_used_time: null,
      event_subscriptions: [],
      enterprise_project_id: '0',
      rotation_func_urn: null,
      create_time: '2024-02-29T12:34:56.789012+00:00',
      update_time: '2024-03-01T08:00:00.5+00:00',
      last_version: 2,
    },
    tags: { env: 'interop', 'made-by': 'jose npm', 'clé': 'välue ünïcode' },
    versions: [
      {
        id: 'v1',
        create_time: '2024-02-29T12:34:56.789012+00:00',
        expire_time: null,
        stages: ['SYSPREVIOUS', 'jose-stage'],
        secret_binary: binary.toString('base64'),
      },
      {
        id: 'v2',
        create_time: '2024-03-01T08:00:00.5+00:00',
        expire_time: '2099-12-31T23:59:59+00:00',
        stages: ['SYSCURRENT'],
        secret_string: 'jöse “says” \'hi\' "quoted" \\ back\\slash — 日本語 🔑 tab\there',
      },
    ],
  };
}

async function main() {
  const { values: opts, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'root-key-file': { type: 'string' },
      'root-key-hex': { type: 'string' },
      'key-id': { type: 'string' },
      'key-version': { type: 'string' },
      material: { type: 'string' },
      'blob-file': { type: 'string' },
      'payload-file': { type: 'string' },
      'domain-id': { type: 'string' },
      region: { type: 'string' },
      'project-id': { type: 'string' },
      'kms-key-id': { type: 'string' },
      name: { type: 'string' },
      variant: { type: 'string', default: 'ok' },
    },
  });
  if (positionals.length !== 1)
    fail('usage: jose_interop.mjs open|seal-new|seal [options] (see the head of the file)');
  const bk = backupKey(opts);
  switch (positionals[0]) {
    case 'open':
      await open(opts, bk);
      break;
    case 'seal-new': {
      const payload = newPayload(opts);
      const values = validatePayload(payload);
      const blob = await seal(new TextEncoder().encode(JSON.stringify(payload)), opts.variant, bk);
      process.stdout.write(JSON.stringify({ blob, payload, values_hex: hexValues(values) }) + '\n');
      break;
    }
    case 'seal': {
      if (opts['payload-file'] === undefined)
        fail('seal needs --payload-file');
      const bytes = readFileSync(opts['payload-file']);
      let payload = null;
      try {
        payload = JSON.parse(bytes.toString('utf8'));
      } catch {
        payload = null;
      }
      const blob = await seal(new Uint8Array(bytes), opts.variant, bk);
      process.stdout.write(JSON.stringify({ blob, payload }) + '\n');
      break;
    }
    default:
      fail(`unknown command "${positionals[0]}"`);
  }
  bk.key.fill(0);
}

main().catch((e) => fail(e.stack ?? String(e)));
