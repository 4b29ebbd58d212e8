#!/usr/bin/env node
// Rewrites the committed seed corpus fuzz/corpus/<harness>/ from ../shared/samples (real KWIVER and
// MISB files, cut to their first kilobytes) and from a synthetic clip with sync (0x15) KLV made by
// the project itself. Each harness reads its first byte(s) as parameters, hence the prefixes.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../scripts/lib.mjs';

const samples = join(root, '..', 'shared', 'samples');
const corpus = join(root, 'fuzz', 'corpus');
const { synthesizeClip, encodeKlv } = await import(join(root, 'dist', 'index.js'));

const ts = {};
for (const f of readdirSync(join(samples, 'kwiver')).filter((n) => n.endsWith('.ts'))) ts[f.replace(/\.ts$/, '')] = readFileSync(join(samples, 'kwiver', f));
const klv = {};
for (const f of readdirSync(join(samples, 'klv'))) klv[f.replace(/\.bin$/, '')] = readFileSync(join(samples, 'klv', f));

const tmp = join(root, 'fuzz', 'build', 'seed');
mkdirSync(tmp, { recursive: true });
const unit = (s) => encodeKlv({ standard: 'ST0601', tags: { 2: 1_700_000_000_000_000 + s * 1e6, 13: 10 + s / 100, 14: 20, 15: 1000 } });
for (const [name, klvSync] of [['synthetic_sync', true], ['synthetic_async', false]]) {
  const path = join(tmp, `${name}.ts`);
  await synthesizeClip(path, { width: 64, height: 48, fps: 10, durationSeconds: 1, audio: false, preset: 'ultrafast', klvSync, klv: [0, 0.3, 0.6].map((s) => ({ seconds: s, data: unit(s) })) });
  ts[name] = readFileSync(path);
}

const put = (harness, name, bytes) => {
  mkdirSync(join(corpus, harness), { recursive: true });
  writeFileSync(join(corpus, harness, name), bytes);
};
rmSync(corpus, { recursive: true, force: true });
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
for (const [name, bytes] of Object.entries(klv)) {
  put('klv_framer', `${name}-async`, cat([0, 0], bytes, bytes));
  put('klv_framer', `${name}-sync-split`, cat([1, 40], bytes, [0, 0, 0, 0, 0], bytes));
  put('klv_scan', `${name}-raw`, cat('R', bytes, bytes));
}
for (const [name, bytes] of Object.entries(ts)) {
  const head = bytes.subarray(0, 24 * 1024);
  put('ts_tables', name, cat([3], bytes.subarray(0, 8 * 1024)));
  put('klv_scan', name, cat([1], head));
  put('probe', name, cat([1], head));
  put('demux_decode', name, head);
}
console.log(`seed corpus written to ${corpus}`);
