#!/usr/bin/env node
// offline_open.mjs: opens one version of a secret with nothing but the root
// key and the rows of the csms tables, following README.md ("Storage and
// encryption format", offline recovery), with node:crypto only.  It pins the
// storage format: the AADs, the nonce || ciphertext || tag layout and the
// kind byte.  Used by t/008_offline_recovery.pl.
//
//   node offline_open.mjs < request.json
//
// request: {"root_key_hex", "domain_id", "region", "secret_id", "version",
//           "key_id", "key_version", "material_hex", "wrapped_dek_hex",
//           "ciphertext_hex"}   (hex may start with \x, as psql prints bytea)
// prints:  {"kind": "s" | "b", "value_hex": "..."}
// Exit status: 0 on success, 1 on any failure (message on stderr).

import { readFileSync } from 'node:fs';
import { createDecipheriv } from 'node:crypto';

function fail(msg) {
  process.stderr.write(`offline_open: ${msg}\n`);
  process.exit(1);
}

function hex(s, what) {
  if (typeof s !== 'string') fail(`${what} is missing`);
  const h = s.startsWith('\\x') ? s.slice(2) : s;
  if (!/^([0-9a-f]{2})*$/i.test(h)) fail(`${what} is not hex`);
  return Buffer.from(h, 'hex');
}

// nonce(12) || AES-256-GCM ciphertext || tag(16), under key, with aad
function open(key, sealed, aad, what) {
  if (key.length !== 32) fail(`${what}: the key is not 32 bytes`);
  if (sealed.length < 28) fail(`${what}: shorter than nonce and tag`);
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch (e) {
    fail(`${what}: authentication failed under AAD "${aad}"`);
  }
}

const r = JSON.parse(readFileSync(0, 'utf8'));
const root = hex(r.root_key_hex.trim(), 'root_key_hex');
const material = open(root, hex(r.material_hex, 'material_hex'),
  `csms/cmk/v1|${r.key_id}|${r.key_version}`, 'master key material');
const dek = open(material, hex(r.wrapped_dek_hex, 'wrapped_dek_hex'),
  `csms/dek/v1|${r.secret_id}|v${r.version}|${r.key_id}|${r.key_version}`, 'data key');
const plain = open(dek, hex(r.ciphertext_hex, 'ciphertext_hex'),
  `csms/value/v1|${r.domain_id}|${r.region}|${r.secret_id}|v${r.version}`, 'value');
const kind = String.fromCharCode(plain[0]);
if (kind !== 's' && kind !== 'b') fail(`unknown kind byte ${plain[0]}`);
process.stdout.write(JSON.stringify({ kind, value_hex: plain.subarray(1).toString('hex') }) + '\n');
