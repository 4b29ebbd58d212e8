/**
 * Golden output of the KLV decoder and writers. Every stream below is decoded
 * and written as NDJSON, JSON.stringify of the packets, CSV (both writers),
 * GeoJSON, the values a caller reads tag by tag, and the strict-mode verdict
 * of each unit; the text must equal the files in test/fixtures/klv-golden byte
 * for byte. The fixtures were written by the decoder before its fast paths, so
 * a speed-up cannot change what users get. KLV_GOLDEN_WRITE=1 rewrites them
 * (only for an intended change of output, reviewed in the diff).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with the benchmarks
import { flightPacket } from '../bench/klv-flight.mjs';
import {
  CsvWriter,
  GeoJsonBuilder,
  ST0102_KEY,
  ST0601_KEY,
  ST0903_KEY,
  bcc16,
  decodeKlv,
  decodeKlvUnit,
  encodeBerLength,
  encodeKlv,
  fromHex,
  packetsToCsv,
  toNdjsonLine,
  type KlvEncodeInput,
  type KlvPacket,
  type KlvTags,
} from '../src/klv/index.js';
import { KlvError } from '../src/klv/errors.js';
import { concat, loadVectors, pesPackets, type Json } from './klv-helpers.js';
import { kwiver, repoRoot, samples, scratch } from './helpers/paths.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'klv-golden');
const WRITE = process.env.KLV_GOLDEN_WRITE === '1';
const V = loadVectors();

/** A unit of `key` around `items`; with `checksum`, the closing tag-1 item the set needs. */
function unit(key: Uint8Array, items: Uint8Array, checksum: boolean): Uint8Array {
  const body = checksum ? concat([items, Uint8Array.of(1, 2)]) : items;
  const head = concat([key, encodeBerLength(body.length + (checksum ? 2 : 0))]);
  const u = concat([head, body, new Uint8Array(checksum ? 2 : 0)]);
  if (checksum) {
    const sum = bcc16(u.subarray(0, u.length - 2));
    u[u.length - 2] = sum >> 8;
    u[u.length - 1] = sum & 0xff;
  }
  return u;
}

const EG0104_KEY = fromHex('060e2b34020101010e01010201010000');

/** Each tag vector inside a unit of its own standard (EG 0104 items are universal-set items). */
function vectorUnits(): Uint8Array[] {
  return (V.tag_vectors as Json[]).map((v) => {
    const tlv = v.tlv_hex ? fromHex(v.tlv_hex) : concat([Uint8Array.of(v.tag), encodeBerLength(v.value_hex.length / 2), fromHex(v.value_hex)]);
    const std = String(v.standard);
    if (std.includes('0601')) return unit(ST0601_KEY, tlv, true);
    if (std.includes('0903')) return unit(ST0903_KEY, tlv, true);
    if (std.includes('0102')) return unit(ST0102_KEY, tlv, false);
    return unit(EG0104_KEY, tlv, false);
  });
}

/** The orbit of the benchmarks, with the damage real feeds carry spliced in. */
function flightUnits(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 90; i++) {
    const input = flightPacket(i) as KlvEncodeInput & { tags: Record<string, unknown> };
    if (i % 9 === 4) input.tags[13] = { value: null, error: 'error indicator' };
    if (i % 11 === 5) input.tags[115] = { value: { id: 1, command: 'zoom "in"', timestamp: null }, repeats: [{ value: { id: 2, command: 'b', timestamp: 5 } }] };
    if (i % 13 === 6) input.tags[47] = 0b101;
    if (i % 17 === 7) input.tags[3] = { value: 'ff00', error: 'string is not valid UTF-8' };
    const u = encodeKlv(input);
    if (i % 10 === 3) u[u.length - 1] = u[u.length - 1]! ^ 0x5a; // bad checksum
    out.push(u);
    if (i % 23 === 11) out.push(Uint8Array.of(0xde, 0xad, 0xbe, 0xef)); // junk between units
  }
  // A wrong-length item (tag 13 in 3 bytes), an unknown tag and an empty item.
  out.push(unit(ST0601_KEY, fromHex('0d03010203' + '7f0401020304' + '0f00'), true));
  // A truncated last unit.
  out.push(encodeKlv(flightPacket(90)).subarray(0, 120));
  return out;
}

function tsUnits(file: string, pid: number): Uint8Array[] {
  return pesPackets(kwiver(file), pid).map((p) => p.payload);
}

const STREAMS: Record<string, () => Uint8Array[]> = {
  vectors: vectorUnits,
  packets: () => (V.packet_vectors as Json[]).map((p) => fromHex(p.hex)),
  samples: () => readdirSync(join(samples, 'klv')).sort().map((f) => new Uint8Array(readFileSync(join(samples, 'klv', f)))),
  'h264-klv': () => tsUnits('h264_klv.ts', 0x101),
  aphill: () => tsUnits('aphill_short.ts', 0x101),
  flight: flightUnits,
};

/** What a caller sees reading tag by tag: key, name, type and value of each tag. */
function readValues(tags: KlvTags, out: string[]): void {
  for (const k in tags) {
    const t = tags[k]!;
    const v = t.value;
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    out.push(`${k} ${t.name} ${v === null ? 'null' : typeof v} ${text}${t.error !== undefined ? ` ! ${t.error}` : ''}`);
    for (const r of t.repeats ?? []) out.push(`${k}+ ${r.name} ${JSON.stringify(r.value)}`);
  }
}

function strictVerdict(u: Uint8Array): string {
  try {
    decodeKlv(u, { strict: true });
    return 'ok';
  } catch (e) {
    if (!(e instanceof KlvError)) throw e;
    return `${e.code} ${e.message}`;
  }
}

/** Every golden text of one stream, by file name. */
function outputs(name: string, units: Uint8Array[]): Record<string, string> {
  const lines = (xs: string[]): string => xs.map((x) => `${x}\n`).join('');
  // One decode call over the whole stream, and one per unit as PES payloads arrive.
  const whole = decodeKlv(concat(units), { stream: 1, pid: 0x101, carriage: 'async' });
  whole.forEach((p, i) => (p.pts = i / 30));
  const each: KlvPacket[] = units.flatMap((u) => decodeKlv(u));
  const values: string[] = [];
  for (const p of each) readValues(p.tags, values);
  const csv = new CsvWriter();
  const geo = new GeoJsonBuilder();
  for (const p of whole) geo.add(p);
  // Serialised before and after the tags objects are built (two code paths).
  const ndjson = lines(whole.map(toNdjsonLine));
  for (const p of whole) readValues(p.tags, []);
  return {
    [`${name}.ndjson`]: ndjson,
    [`${name}.values.txt`]: lines(values),
    [`${name}.csv`]: packetsToCsv(whole),
    [`${name}.writer.csv`]: csv.header() + whole.map((p) => csv.row(p)).join(''),
    [`${name}.geojson`]: `${JSON.stringify(geo.toFeatureCollection())}\n`,
    [`${name}.strict.txt`]: lines(units.map(strictVerdict)),
    // After the tags objects were built (the values above), both writers take the built path.
    [`${name}.after.ndjson`]: lines(whole.map(toNdjsonLine)),
    [`${name}.json.ndjson`]: lines(whole.map((p) => JSON.stringify(p))),
  };
}

describe('golden KLV output', () => {
  if (WRITE) mkdirSync(FIXTURES, { recursive: true });
  for (const [name, make] of Object.entries(STREAMS)) {
    it(`${name}: NDJSON, JSON, values, CSV, GeoJSON and strict verdicts are unchanged`, () => {
      const got = outputs(name, make());
      // Building the tags (JSON.stringify, readValues) must not change what NDJSON writes.
      expect(got[`${name}.after.ndjson`]).toBe(got[`${name}.ndjson`]);
      expect(got[`${name}.json.ndjson`]).toBe(got[`${name}.ndjson`]);
      delete got[`${name}.after.ndjson`];
      delete got[`${name}.json.ndjson`];
      for (const [file, text] of Object.entries(got)) {
        if (WRITE) writeFileSync(join(FIXTURES, file), text);
        expect(text, file).toBe(readFileSync(join(FIXTURES, file), 'utf8'));
      }
    });
  }

  it('packets decoded from the same bytes share no objects: changing one leaves the others as decoded', () => {
    const u = encodeKlv({ standard: 'ST0601', tags: { 2: 1, 3: 'M', 47: 0b101, 48: { 1: 1, 2: 2, 3: '//USA', 12: 2, 13: 'USA', 22: 12 } } });
    const [a, b, c] = decodeKlv(concat([u, u, u]));
    const before = JSON.stringify(b);
    const sec = a!.tags[48]!.value as KlvTags;
    sec[1]!.value = 99;
    sec[1]!.text = 'changed';
    delete sec[3];
    a!.tags[47]!.flags!.push('changed');
    a!.tags[3]!.value = 'changed';
    expect(JSON.stringify(b)).toBe(before);
    expect(JSON.stringify(c)).toBe(before);
    expect((c!.tags[48]!.value as KlvTags)[1]).not.toBe((b!.tags[48]!.value as KlvTags)[1]);
  });

  it('nested sets that repeat, alternate or change decode the same as the first time', () => {
    const sec = (c: number, country: string): Uint8Array => encodeKlv({ standard: 'ST0601', tags: { 2: 1, 48: { 1: c, 2: 2, 3: country, 12: 2, 13: country, 22: 12 } } });
    const a = sec(1, '//USA');
    const b = sec(2, '//GBR');
    const first = { a: JSON.stringify(decodeKlv(a)), b: JSON.stringify(decodeKlv(b)) };
    for (const [name, u] of [['a', a], ['a', a], ['a', a], ['b', b], ['a', a], ['b', b], ['b', b], ['b', b]] as const) {
      expect(JSON.stringify(decodeKlv(u))).toBe(first[name]);
    }
  });

  it('the single-unit decoder gives the same packets as decodeKlv', () => {
    for (const u of flightUnits().filter((x) => x[0] === 0x06)) {
      expect(JSON.stringify(decodeKlvUnit(u))).toBe(JSON.stringify(decodeKlv(u)[0]));
    }
  });

  it('fmv-ingest klv --format ndjson writes the golden lines of a raw KLV file', () => {
    const file = join(scratch('klv-golden'), 'flight.klv');
    writeFileSync(file, concat(flightUnits()));
    const out = execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'klv', file, '--format', 'ndjson'], { maxBuffer: 64 << 20 });
    if (WRITE) writeFileSync(join(FIXTURES, 'flight.cli.ndjson'), out);
    expect(out.toString('utf8')).toBe(readFileSync(join(FIXTURES, 'flight.cli.ndjson'), 'utf8'));
  });
});
