/** Shared helpers for the KLV tests (not library code). */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { fromHex } from '../src/klv/index.js';
import type { KlvTag, KlvTags } from '../src/klv/index.js';

export const SHARED = '/work/shared';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function loadVectors(): Json {
  return JSON.parse(readFileSync(`${SHARED}/klv/vectors.json`, 'utf8'));
}

export function loadKwiverStream(): Json[] {
  return JSON.parse(inflateSync(readFileSync(`${SHARED}/samples/kwiver/video_stream_klv.json.zz`)).toString('utf8'));
}

export function loadKwiverGold(): Json[] {
  // KWIVER writes non-finite doubles as bare Infinity/NaN, which JSON.parse rejects.
  const text = readFileSync(`${SHARED}/samples/kwiver/klv_gold.json`, 'utf8').replace(/:\s*(-?Infinity|NaN)\b/g, ': "$1"');
  return JSON.parse(text);
}

export const hex = fromHex;

/** Plain-JSON view of decoded output (getters and toJSON applied). */
export function plain<T>(x: T): Json {
  return JSON.parse(JSON.stringify(x));
}

const VALUE_NOTES = /^(error indicator|positive infinity|negative infinity|positive quiet NaN|negative quiet NaN|positive signalling NaN|negative signalling NaN|below minimum|above maximum|user defined)$/;

/** Every `error` (malformed item or broken set) in a tags tree, with its path; error indicators and IMAPB specials are values, not errors. */
export function collectErrors(tags: KlvTags, path = ''): string[] {
  const out: string[] = [];
  const visit = (v: unknown, p: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${p}[${i}]`));
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.error === 'string' && !VALUE_NOTES.test(o.error)) out.push(`${p}: ${o.error}`);
      for (const [k, x] of Object.entries(o)) if (k !== 'error') visit(x, `${p}.${k}`);
    }
  };
  for (const [k, t] of Object.entries(tags)) visit(t as KlvTag, `${path}${k}`);
  return out;
}

/** Microseconds since 1970 of an ISO-8601 text, keeping up to 6 fraction digits. */
export function isoMicros(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new Error(`bad ISO text ${s}`);
  const base = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]}`);
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return base * 1000 + Number(frac);
}

export interface PesPacket {
  streamId: number;
  pts: number | null;
  payload: Uint8Array;
}

/**
 * Minimal MPEG-TS demultiplexer for the tests: reassembles the PES packets
 * of one PID (payload_unit_start_indicator starts a new one) and strips the
 * PES header. Enough for the sample files; not library code.
 */
export function pesPackets(path: string, pid: number): PesPacket[] {
  const ts = readFileSync(path);
  const chunks: Buffer[][] = [];
  let current: Buffer[] | null = null;
  for (let i = 0; i + 188 <= ts.length; i += 188) {
    if (ts[i] !== 0x47) throw new Error(`lost TS sync at ${i}`);
    const p = ((ts[i + 1]! & 0x1f) << 8) | ts[i + 2]!;
    if (p !== pid) continue;
    const pusi = (ts[i + 1]! & 0x40) !== 0;
    const afc = (ts[i + 3]! >> 4) & 3;
    let off = 4;
    if (afc & 2) off += 1 + ts[i + 4]!;
    if (!(afc & 1) || off >= 188) continue;
    const payload = ts.subarray(i + off, i + 188);
    if (pusi) {
      current = [payload];
      chunks.push(current);
    } else if (current) current.push(payload);
  }
  return chunks.map((parts) => {
    const pes = Buffer.concat(parts);
    if (pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) throw new Error('PES start code missing');
    const streamId = pes[3]!;
    const pesLength = (pes[4]! << 8) | pes[5]!;
    const headerLength = pes[8]!;
    const ptsFlag = (pes[7]! & 0x80) !== 0;
    let pts: number | null = null;
    if (ptsFlag) {
      const b = pes.subarray(9, 14);
      pts = (b[0]! & 0x0e) * 536870912 + b[1]! * 4194304 + (b[2]! >> 1) * 32768 + b[3]! * 128 + (b[4]! >> 1);
    }
    const end = pesLength === 0 ? pes.length : 6 + pesLength;
    return { streamId, pts, payload: new Uint8Array(pes.subarray(9 + headerLength, end)) };
  });
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison with KWIVER's JSON output

/** KWIVER kebab-case field names that differ from ours after camel-casing. */
const ALIASES: Record<string, string> = {
  latitude: 'lat',
  longitude: 'lon',
  altitude: 'hae',
  takeOffLocation: 'takeoff',
  recoveryLocation: 'recovery',
  string: 'command',
  type: 'dataType',
  index: 'pixel',
  length: 'run',
};

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface Stats {
  compared: number;
  mismatches: string[];
}

function closeEnough(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= Math.max(1e-9, 1e-12 * Math.max(Math.abs(a), Math.abs(b)));
}

function isEmpty(v: unknown): boolean {
  return v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
}

function isSetItems(kw: unknown): boolean {
  return Array.isArray(kw) && kw.length > 0 && kw.every((x) => x && typeof x === 'object' && x.key && typeof x.key.integer === 'number');
}

/** Compares KWIVER's JSON value with our decoded value (plain JSON), counting scalar comparisons. */
export function compare(kw: Json, mine: Json, path: string, s: Stats): void {
  const miss = (why: string): void => {
    s.mismatches.push(`${path}: ${why} (kwiver ${JSON.stringify(kw)?.slice(0, 120)}, ours ${JSON.stringify(mine)?.slice(0, 120)})`);
  };
  if (kw === null) {
    if (!isEmpty(mine)) miss('kwiver empty');
    return;
  }
  if (typeof kw === 'number') {
    s.compared++;
    if (typeof mine !== 'number' || !closeEnough(kw, mine)) miss('number');
    return;
  }
  if (typeof kw === 'boolean') {
    s.compared++;
    if (mine !== kw) miss('boolean');
    return;
  }
  if (typeof kw === 'string') {
    s.compared++;
    // KWIVER shows UTF-16 country codes as raw bytes with NULs.
    const want = kw.replace(/\u0000/g, '');
    if (typeof mine === 'string' && (mine === want || mine === kw)) return;
    // KWIVER base64 for user data bytes; ours is hex.
    if (typeof mine === 'string' && Buffer.from(kw, 'base64').toString('hex') === mine) return;
    miss('string');
    return;
  }
  if (Array.isArray(kw)) {
    if (isSetItems(kw)) {
      if (mine === null || typeof mine !== 'object' || Array.isArray(mine)) {
        miss('expected a set');
        return;
      }
      compareSet(kw, mine, path, s);
      return;
    }
    if (kw.every((x) => x && typeof x === 'object' && typeof x.integer === 'number' && 'string' in x)) {
      // Flag lists: compared by bit numbers elsewhere.
      return;
    }
    if (!Array.isArray(mine) || mine.length !== kw.length) {
      miss(`array length ${kw.length}`);
      return;
    }
    kw.forEach((x, i) => compare(x, mine[i], `${path}[${i}]`, s));
    return;
  }
  if (typeof kw === 'object') {
    if ('length' in kw && 'value' in kw && Object.keys(kw).length === 2) return compare(kw.value, mine, path, s);
    if ('integer' in kw && 'string' in kw) return compare(kw.integer, mine, path, s);
    if ('bytes' in kw && 'hex' in kw) {
      s.compared++;
      if (typeof mine !== 'string' || mine.replace(/-/g, '') !== String(kw.hex).replace(/-/g, '')) miss('bytes');
      return;
    }
    if ('id' in kw && 'set' in kw) {
      compare(kw.id, mine?.targetId, `${path}.id`, s);
      compare(kw.set, mine?.tags, `${path}.set`, s);
      return;
    }
    if (mine === null || typeof mine !== 'object') {
      miss('expected an object');
      return;
    }
    for (const [k, v] of Object.entries(kw)) {
      const ck = camel(k) in mine ? camel(k) : (ALIASES[camel(k)] ?? camel(k));
      if (!(ck in mine)) continue;
      if (v !== null && typeof v === 'object' && 'kind' in (v as object)) continue;
      compare(v, mine[ck], `${path}.${ck}`, s);
    }
  }
}

export function compareSet(items: Json[], tags: Json, path: string, s: Stats): void {
  for (const item of items) {
    const n = item.key.integer as number;
    const t = tags[n];
    if (t === undefined) {
      s.mismatches.push(`${path}.${n}: missing`);
      continue;
    }
    if ('value-unparsed-bytes' in item) {
      // KWIVER could not parse it; ours must at least keep the bytes.
      continue;
    }
    if (Array.isArray(item.value) && item.value.every((x: Json) => x && typeof x.integer === 'number' && !('key' in x))) {
      // Flags: the set bit numbers must match.
      s.compared++;
      const bits = item.value.map((x: Json) => x.integer).sort();
      const ours: number[] = [];
      for (let b = 0; b < 16; b++) if (Math.floor(t.value / 2 ** b) % 2 === 1) ours.push(b);
      if (JSON.stringify(bits) !== JSON.stringify(ours)) s.mismatches.push(`${path}.${n}: flags ${bits} vs ${ours}`);
      continue;
    }
    compare(item.value, t.value, `${path}.${n}`, s);
  }
}

