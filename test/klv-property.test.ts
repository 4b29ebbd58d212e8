import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GeoJsonBuilder,
  KlvError,
  ST0102_TABLE,
  ST0601_TABLE,
  ST0903_TABLE,
  decodeKlv,
  encodeKlv,
  imapbParams,
  packetsToCsv,
  toNdjsonLine,
  type KlvPacket,
  type TagRow,
} from '../src/klv/index.js';
import { EnumKind, FlagsKind, ImapbKind, IntKind, MappedIntKind, MappedUintKind, StringKind, UintKind } from '../src/klv/kinds.js';
import { hex, loadVectors, pesPackets, SHARED, plain, type Json } from './klv-helpers.js';

type Arb = fc.Arbitrary<unknown>;

/** Text that survives UTF-8 encoding unchanged. */
const text = (maxLength = 24): fc.Arbitrary<string> => fc.string({ unit: 'grapheme', maxLength });

const finite = (min: number, max: number): fc.Arbitrary<number> =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));

/** Value generator and tolerance for a table row, from its mapping kind. */
function scalarArb(r: TagRow): { arb: Arb; tol: number } | undefined {
  const k = r.kind;
  if (k instanceof MappedUintKind) return { arb: finite(k.min, k.max), tol: k.scale / 2 + 1e-9 * Math.max(Math.abs(k.min), Math.abs(k.max)) };
  if (k instanceof MappedIntKind) return { arb: finite(k.min, k.max), tol: k.scale / 2 + 1e-12 * Math.abs(k.max) };
  if (k instanceof ImapbKind) return { arb: finite(k.a, k.b), tol: imapbParams(k.a, k.b, k.defaultLength).sR };
  if (k instanceof EnumKind || k instanceof FlagsKind) return { arb: fc.integer({ min: 0, max: 2 ** (8 * (k.fixed ?? 2)) - 1 }), tol: 0 };
  if (k instanceof UintKind) {
    const max = k.fixed !== undefined ? Math.min(2 ** (8 * k.fixed) - 1, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
    return { arb: fc.integer({ min: 0, max: Math.min(max, 2 ** 53 - 1) }), tol: 0 };
  }
  if (k instanceof IntKind) {
    const lim = k.fixed !== undefined ? 2 ** (8 * k.fixed - 1) : 2 ** 52;
    return { arb: fc.integer({ min: -lim, max: lim - 1 }), tol: 0 };
  }
  if (k instanceof StringKind) return { arb: text(), tol: 0 };
  return undefined;
}

const location = fc.record({ lat: finite(-90, 90), lon: finite(-180, 180), hae: fc.option(finite(-900, 9000), { nil: null }) });

/** Pack and list tags of ST 0601 with generators and field tolerances. */
const PACKS: Record<number, { arb: Arb; tol: number }> = {
  81: { arb: fc.record({ x0: fc.nat(255), y0: fc.nat(255), x1: fc.nat(255), y1: fc.nat(255) }), tol: 0 },
  94: {
    arb: fc.record({
      version: fc.nat(127),
      sensorIdType: fc.constant(3),
      platformIdType: fc.constant(2),
      sensorId: fc.uuid(),
      platformId: fc.uuid(),
      windowId: fc.constant(null),
      minorId: fc.constant(null),
    }),
    tol: 0,
  },
  115: { arb: fc.record({ id: fc.nat(2 ** 20), command: text(), timestamp: fc.option(fc.nat(2 ** 52), { nil: null }) }), tol: 0 },
  116: { arb: fc.array(fc.nat(2 ** 30), { maxLength: 6 }), tol: 0 },
  121: { arb: fc.array(fc.nat(200), { maxLength: 6 }), tol: 0 },
  122: {
    arb: fc.record({
      codingMethod: fc.integer({ min: 1, max: 16 }),
      overflightCountry: fc.option(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }), { nil: null }),
      operatorCountry: fc.option(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }), { nil: null }),
      countryOfManufacture: fc.option(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }), { nil: null }),
    }),
    tol: 0,
  },
  127: { arb: fc.record({ numerator: fc.nat(2 ** 28), denominator: fc.integer({ min: 1, max: 2 ** 20 }) }), tol: 1e-12 },
  128: { arb: fc.array(fc.record({ id: fc.nat(1000), min: finite(0, 1e9), max: finite(0, 1e9), name: text(12) }), { maxLength: 3 }), tol: 0.5 },
  130: { arb: fc.record({ takeoff: location, recovery: location }), tol: 0.002 },
  138: { arb: fc.array(fc.record({ id: fc.nat(1000), type: fc.nat(4), name: text(16) }), { maxLength: 3 }), tol: 0 },
  139: { arb: fc.uniqueArray(fc.nat(40), { maxLength: 8 }).map((xs) => xs.sort((a, b) => a - b)), tol: 0 },
  140: {
    arb: fc.array(
      fc.record({
        stationId: fc.nat(300),
        hardpointId: fc.nat(300),
        carriageId: fc.nat(300),
        storeId: fc.nat(300),
        generalStatus: fc.nat(11),
        engagementStatus: fc.nat(15),
        weaponType: text(12),
      }),
      { maxLength: 3 },
    ),
    tol: 0,
  },
  141: {
    arb: fc.array(fc.record({ id: fc.nat(3000), order: fc.integer({ min: -32768, max: 32767 }), info: fc.nat(3), location }), { maxLength: 3 }),
    tol: 0.002,
  },
  142: {
    arb: fc.record({
      azimuth: fc.record({ start: finite(0, 360), range: finite(0, 360) }),
      elevation: fc.record({ start: finite(-180, 180), range: finite(0, 360) }),
      roll: fc.option(fc.record({ start: finite(0, 360), range: finite(0, 360) }), { nil: null }),
    }),
    tol: 1e-4,
  },
  143: { arb: fc.record({ localId: fc.nat(2 ** 20), universalId: fc.option(fc.uuid(), { nil: null }) }), tol: 0 },
};

function rowArbs(rows: readonly TagRow[], packs: Record<number, { arb: Arb; tol: number }> = {}): Map<number, { arb: Arb; tol: number }> {
  const out = new Map<number, { arb: Arb; tol: number }>();
  for (const r of rows) {
    if (r.tag === 1) continue; // checksum, recomputed
    const a = packs[r.tag] ?? scalarArb(r);
    if (a !== undefined) out.set(r.tag, a);
  }
  return out;
}

function tagsArb(arbs: Map<number, { arb: Arb; tol: number }>): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, Arb> = {};
  for (const [tag, a] of arbs) model[String(tag)] = a.arb;
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Deep comparison with an absolute tolerance on numbers; extra decoded fields (texts, derived values) are ignored. */
function assertClose(actual: Json, expected: Json, tol: number, path: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect(actual.length, path).toBe(expected.length);
    expected.forEach((e, i) => assertClose(actual[i], e, tol, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    for (const [k, e] of Object.entries(expected)) assertClose(actual?.[k], e, tol, `${path}.${k}`);
  } else if (typeof expected === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(expected)) {
    expect(actual, path).toBe(expected.toLowerCase());
  } else {
    expect(actual, path).toBe(expected);
  }
}

function checkTags(decoded: Json, input: Record<string, unknown>, arbs: Map<number, { arb: Arb; tol: number }>, where: string): void {
  for (const [k, v] of Object.entries(input)) {
    const t = decoded[k];
    expect(t, `${where} tag ${k}`).toBeDefined();
    expect(t.error, `${where} tag ${k} error`).toBeUndefined();
    assertClose(t.value, v, arbs.get(Number(k))!.tol, `${where} tag ${k}`);
  }
}

const RUNS = 300;

describe('round trips (fast-check)', () => {
  const arbs0601 = rowArbs(ST0601_TABLE.list, PACKS);
  const arbs0102 = rowArbs(ST0102_TABLE.list);

  it('ST 0601: random subsets of tags with in-range values', () => {
    fc.assert(
      fc.property(tagsArb(arbs0601), (tags) => {
        const bytes = encodeKlv({ standard: 'ST0601', tags });
        const [p] = decodeKlv(bytes, { strict: true });
        expect(p!.checksumValid).toBe(true);
        checkTags(plain(p!.tags), tags, arbs0601, 'ST 0601');
        // Lenient (lazy) decoding agrees with strict (eager) decoding, and so does its NDJSON.
        const lazy = decodeKlv(bytes)[0]!;
        const line = toNdjsonLine(lazy);
        expect(plain(lazy.tags)).toEqual(plain(p!.tags));
        expect(line).toBe(JSON.stringify(p));
      }),
      { numRuns: RUNS },
    );
  });

  it('ST 0601 with a nested ST 0102 security set', () => {
    fc.assert(
      fc.property(tagsArb(arbs0601), tagsArb(arbs0102), (tags, security) => {
        const [p] = decodeKlv(encodeKlv({ tags: { ...tags, 48: security } }), { strict: true });
        checkTags(plain(p!.tags['48']!.value), security, arbs0102, 'tag 48');
      }),
      { numRuns: 100 },
    );
  });

  it('ST 0102 standalone', () => {
    fc.assert(
      fc.property(tagsArb(arbs0102), (tags) => {
        const [p] = decodeKlv(encodeKlv({ standard: 'ST0102', tags }), { strict: true });
        expect(p!.standard).toBe('ST0102');
        expect(p!.checksumValid).toBeNull();
        checkTags(plain(p!.tags), tags, arbs0102, 'ST 0102');
      }),
      { numRuns: RUNS },
    );
  });

  const vtargetLegacy = (legacy: boolean): fc.Arbitrary<Record<string, unknown>> =>
    fc.record(
      {
        1: fc.nat(2 ** 32),
        4: fc.nat(255),
        5: fc.nat(100),
        10: finite(-19.2, 19.2),
        11: finite(-19.2, 19.2),
        12: finite(-900, 19000),
        17: fc.record({
          lat: finite(-90, 90),
          lon: finite(-180, 180),
          hae: finite(-900, 19000),
          sigmaEast: finite(0, 650),
          sigmaNorth: finite(0, 650),
          sigmaUp: finite(0, 650),
        }),
        21: fc.record({ row: fc.nat(255), column: fc.nat(255) }),
        23: fc.nat(4),
        ...(legacy ? {} : { 104: fc.record({ 6: text(10), 7: fc.nat(100), 10: fc.record({ east: finite(-900, 900), north: finite(-900, 900), up: finite(-900, 900) }) }) }),
      },
      { requiredKeys: [] },
    );

  // One step of the coarsest field: HAE as 2-byte IMAPB(-900, 19000) resolves 1 m.
  const TOL_0903 = 1;

  for (const legacy of [false, true]) {
    it(`ST 0903 ${legacy ? 'version 3 (integer encodings)' : 'version 4-6 (IMAPB)'}: standalone and nested in ST 0601 tag 74`, () => {
      fc.assert(
        fc.property(
          fc.record({
            2: fc.nat(2 ** 52),
            3: text(),
            5: fc.nat(2 ** 24 - 1),
            7: fc.nat(2 ** 24 - 1),
            8: fc.nat(65535),
            9: fc.nat(65535),
            11: finite(0, 180),
            12: finite(0, 180),
          }, { requiredKeys: [] }),
          legacy ? fc.integer({ min: 1, max: 3 }) : fc.integer({ min: 4, max: 6 }),
          fc.array(fc.record({ targetId: fc.nat(2 ** 21), tags: vtargetLegacy(legacy) }), { maxLength: 4 }),
          fc.array(fc.record({ 1: fc.nat(1000), 2: text(12), 5: fc.nat(1000) }, { requiredKeys: [] }), { maxLength: 2 }),
          (scalars, version, targets, algorithms) => {
            const tags = { ...scalars, 4: version, 101: targets, 102: algorithms };
            const standalone = decodeKlv(encodeKlv({ standard: 'ST0903', tags }), { strict: true })[0]!;
            expect(standalone.standard).toBe('ST0903');
            expect(standalone.checksumValid).toBe(true);
            const nested = decodeKlv(encodeKlv({ tags: { 2: 1, 74: tags } }), { strict: true })[0]!;
            for (const got of [plain(standalone.tags), plain(nested.tags['74']!.value)]) {
              expect(got['4'].value).toBe(version);
              for (const [k, v] of Object.entries(scalars)) assertClose(got[k].value, v, TOL_0903, `VMTI tag ${k}`);
              expect(got['101'].value).toHaveLength(targets.length);
              targets.forEach((t, i) => {
                const gt = got['101'].value[i];
                expect(gt.targetId).toBe(t.targetId);
                for (const [k, v] of Object.entries(t.tags)) {
                  const tv = gt.tags[k];
                  expect(tv?.error, `target ${i} tag ${k}`).toBeUndefined();
                  const value = k === '104' ? Object.fromEntries(Object.entries(tv.value).map(([kk, x]) => [kk, (x as Json).value])) : tv.value;
                  assertClose(value, v, TOL_0903, `target ${i} tag ${k}`);
                }
              });
              algorithms.forEach((a, i) => {
                for (const [k, v] of Object.entries(a)) expect(got['102'].value[i][k].value).toBe(v);
              });
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});

// ---------------------------------------------------------------------------
// Robustness

/** Everything a consumer might do with decoded packets must not throw. */
function consume(packets: KlvPacket[]): void {
  // The NDJSON writer's fast path must agree with the built tags.
  for (const p of packets) expect(toNdjsonLine(p)).toBe(JSON.stringify(p));
  JSON.stringify(packets);
  packetsToCsv(packets);
  const g = new GeoJsonBuilder();
  for (const p of packets) g.add(p);
  JSON.stringify(g.toFeatureCollection());
}

function strictOutcome(bytes: Uint8Array): void {
  try {
    consume(decodeKlv(bytes, { strict: true }));
  } catch (e) {
    if (!(e instanceof KlvError)) throw e;
    expect(e.code).toMatch(/^ERR_KLV_/);
  }
}

function samplePackets(): Uint8Array[] {
  const V = loadVectors();
  const out: Uint8Array[] = (V.packet_vectors as Json[]).map((v) => hex(v.hex));
  out.push(pesPackets(`${SHARED}/samples/kwiver/h264_klv.ts`, 0x101)[0]!.payload);
  out.push(...pesPackets(`${SHARED}/samples/kwiver/aphill_short.ts`, 0x101).slice(0, 2).map((p) => p.payload));
  return out;
}

type Mutation = { kind: 'flip'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'drop'; at: number; n: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

function mutate(base: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Array.from(base);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'cut') b = b.slice(0, at);
    else if (m.kind === 'drop') b.splice(at, m.n);
    else b.splice(at, 0, ...m.bytes);
  }
  return Uint8Array.from(b);
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
);

describe('robustness (fast-check)', () => {
  const samples = samplePackets();
  const KEY_0601 = hex('060e2b34020b01010e01030101000000');

  it('random bytes: lenient never throws, strict throws only KlvError', () => {
    const t0 = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        consume(decodeKlv(bytes));
        strictOutcome(bytes);
      }),
      { numRuns: 1000 },
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('random bodies behind a valid key: lenient never throws, strict throws only KlvError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys({ '060e2b34020b01010e01030101000000': 0, '060e2b34020b01010e01030306000000': 0, '060e2b34020301010e01030302000000': 0, '060e2b34020101010e01010201010000': 0, '060e2b34020b01010e0103030c000000': 0 })), fc.uint8Array({ maxLength: 400 }), (key, body) => {
        const bytes = Uint8Array.from([...hex(key), ...body]);
        consume(decodeKlv(bytes));
        strictOutcome(bytes);
      }),
      { numRuns: 1500 },
    );
  });

  it('random items inside a well-framed ST 0601 unit decode item by item', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 160 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 20 }), (items) => {
        const body: number[] = [];
        for (const [tag, v] of items) body.push(...(tag >= 128 ? [0x81, tag - 128] : [tag]), v.length, ...v);
        const unit = Uint8Array.from([...KEY_0601, ...(body.length < 128 ? [body.length] : [0x82, body.length >> 8, body.length & 0xff]), ...body]);
        const packets = decodeKlv(unit);
        consume(packets);
        expect(packets).toHaveLength(1);
        expect(packets[0]!.checksumValid).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated real packets: lenient never throws, strict throws only KlvError, all quickly', () => {
    const t0 = Date.now();
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), (i, muts) => {
        const bytes = mutate(samples[i]!, muts);
        const start = Date.now();
        consume(decodeKlv(bytes));
        strictOutcome(bytes);
        expect(Date.now() - start).toBeLessThan(1000);
      }),
      { numRuns: 1500 },
    );
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('units after a damaged one are still decoded', () => {
    const bad0 = samples[0]!;
    const good = samples[1]!;
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.integer({ min: 20, max: bad0.length - 1 }), value: fc.nat(255) }), { minLength: 1, maxLength: 8 }), (flips) => {
        // Damage inside the value keeps the unit's declared length, so the next units stay framed.
        const bad = Uint8Array.from(bad0);
        for (const f of flips) bad[f.at] = f.value;
        const packets = decodeKlv(Uint8Array.from([...bad, ...good, ...good]));
        consume(packets);
        expect(packets).toHaveLength(3);
        expect(packets[1]!.checksumValid).toBe(true);
        expect(packets[2]!.checksumValid).toBe(true);
        expect(plain(packets[2]!.tags)).toEqual(plain(decodeKlv(good)[0]!.tags));
      }),
      { numRuns: 300 },
    );
  });

  it('garbage between units is skipped (lenient) and rejected (strict)', () => {
    const good = samples[1]!;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((g) => !Buffer.from(g).includes(Buffer.from([0x06, 0x0e, 0x2b, 0x34]))), (garbage) => {
        const bytes = Uint8Array.from([...good, ...garbage.filter((x) => x !== 0x06), ...good]);
        const packets = decodeKlv(bytes);
        expect(packets.filter((p) => p.checksumValid === true)).toHaveLength(2);
        if (bytes.length > 2 * good.length) expect(() => decodeKlv(bytes, { strict: true })).toThrow(KlvError);
      }),
      { numRuns: 300 },
    );
  });
});
