// The short fuzz smoke of the normal test run: the committed seed corpus and every regression input
// found by `npm run fuzz` (fuzz/regressions/<harness>/), plus seeded byte mutations of the seeds,
// through the public probe() and extractKlv() on the shipped addon. Each ends in a result or a
// typed error; none crashes or hangs the process.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { KlvError } from '../src/klv/index.js';
import { extractKlv } from '../src/klv-extract.js';
import { probe } from '../src/probe.js';
import { repoRoot, scratch } from './helpers/paths.js';

const fuzz = join(repoRoot, 'fuzz');
// Harnesses whose inputs start with one parameter byte; 'R' asks the KLV scan for a raw KLV stream.
const PREFIXED = new Set(['probe', 'klv_scan']);
const MEDIA = ['probe', 'klv_scan', 'demux_decode'];

interface Case {
  name: string;
  bytes: Buffer;
  raw: boolean;
}

function cases(dir: string): Case[] {
  const out: Case[] = [];
  for (const harness of MEDIA) {
    const d = join(dir, harness);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const all = readFileSync(join(d, f));
      const prefixed = PREFIXED.has(harness);
      out.push({ name: `${harness}/${f}`, bytes: prefixed ? all.subarray(1) : all, raw: prefixed && all[0] === 0x52 });
    }
  }
  return out;
}

/** Seeded byte flips, runs of 0x47/0xff and cuts: the cheap mutations that reach the demuxer's edges. */
function mutate(bytes: Buffer, seed: number): Buffer {
  let s = seed;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % Math.max(1, n);
  };
  const b = Buffer.from(bytes);
  for (let i = 0; i < 1 + next(24); i++) b[next(b.length)] = next(256);
  if (next(2)) b.fill(next(2) ? 0x47 : 0xff, next(b.length), next(b.length));
  return next(3) === 0 ? b.subarray(0, next(b.length) + 1) : b;
}

const dir = scratch('fuzz-replay');
mkdirSync(dir, { recursive: true });

async function replay(c: Case): Promise<string> {
  const path = join(dir, `${c.name.replace(/\W/g, '_')}.${c.raw ? 'klv' : 'ts'}`);
  writeFileSync(path, c.bytes);
  let outcome = '';
  try {
    const info = await probe(path, { timeoutMs: 20_000 });
    outcome += `probe ok (${info.klv.length} KLV)`;
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
    outcome += `probe ${e.code}`;
  }
  try {
    let n = 0;
    for await (const p of extractKlv(path, { timeoutMs: 20_000 })) {
      void p.tags;
      n++;
    }
    outcome += `, ${n} KLV`;
  } catch (e) {
    if (!(e instanceof MediaError) && !(e instanceof KlvError)) throw e;
    outcome += `, extract ${e.code}`;
  }
  return outcome;
}

describe('fuzz corpus replay (smoke)', () => {
  const seeds = cases(join(fuzz, 'corpus'));
  const regressions = cases(join(fuzz, 'regressions'));

  it('has a seed corpus for every media harness', () => {
    for (const h of MEDIA) expect(seeds.some((c) => c.name.startsWith(`${h}/`)), h).toBe(true);
  });

  it('seeds and regression inputs end in a result or a typed error', async () => {
    for (const c of [...seeds, ...regressions]) await expect(replay(c), c.name).resolves.toMatch(/^probe/);
  });

  it('seeded mutations of the seeds end in a result or a typed error', async () => {
    const media = seeds.filter((c) => c.name.startsWith('demux_decode/'));
    for (const c of media) {
      for (let seed = 1; seed <= 6; seed++) await expect(replay({ ...c, name: `${c.name}-m${seed}`, bytes: mutate(c.bytes, seed * 7919) }), `${c.name} mutation ${seed}`).resolves.toMatch(/^probe/);
    }
  });
});
