// Properties of the TypeScript KLV decoders on arbitrary bytes: they return or throw KlvError (nothing
// else), finish promptly, and every value they return lies in its documented range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EG0104_TABLE,
  KlvError,
  ST0102_TABLE,
  ST0601_TABLE,
  ST0903_TABLE,
  STANDARD_KEYS,
  decodeBerLength,
  decodeBerOid,
  decodeKlv,
  decodeKlvSet,
  encodeBerLength,
  encodeBerOid,
  imapbDecodeDetailed,
  imapbParams,
  type KlvTags,
  type KlvValue,
} from '../src/klv/index.js';
import { ImapbKind, MappedIntKind, MappedUintKind } from '../src/klv/kinds.js';
import type { Table } from '../src/klv/localset.js';

const RUNS = Number(process.env.FMV_PROP_RUNS ?? 400);
// A hang guard, not a speed target: one decode of a few hundred bytes taking seconds is a loop.
const HANG_MS = 2000;

/** Runs fn; a thrown value must be a KlvError with a code; returns the result or undefined. */
function onlyKlvError<T>(fn: () => T): T | undefined {
  const t0 = performance.now();
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof KlvError)) throw new Error(`threw ${String(e)} (${(e as Error)?.constructor?.name}), not a KlvError`);
    expect(e.code).toMatch(/^ERR_KLV_/);
    return undefined;
  } finally {
    expect(performance.now() - t0).toBeLessThan(HANG_MS);
  }
}

/** Touches every decoded value (packets build their tags lazily). */
function walk(v: unknown, depth = 0): void {
  expect(depth).toBeLessThan(64);
  if (v === null || typeof v !== 'object') return;
  for (const x of Object.values(v as Record<string, unknown>)) walk(x, depth + 1);
}

/** [min, max] a numeric row documents, or undefined when its kind has no range. */
function rangeOf(table: Table, tag: number): [number, number] | undefined {
  const k = table.get(tag)?.kind;
  if (k instanceof MappedUintKind || k instanceof MappedIntKind) return [k.min, k.max];
  if (k instanceof ImapbKind) return [k.a, k.b];
  return undefined;
}

function checkRanges(table: Table, tags: KlvTags): void {
  for (const [key, t] of Object.entries(tags)) {
    const range = rangeOf(table, Number(key));
    if (range === undefined || t.error !== undefined) continue;
    const value: KlvValue = t.value;
    if (value === null) continue;
    expect(typeof value, `${table.standard} tag ${key}`).toBe('number');
    const [min, max] = range;
    const slack = 1e-9 * Math.max(1, Math.abs(min), Math.abs(max));
    expect(value as number, `${table.standard} tag ${key} (${t.name}) = ${String(value)} outside ${min}..${max}`).toBeGreaterThanOrEqual(min - slack);
    expect(value as number, `${table.standard} tag ${key} (${t.name}) = ${String(value)} outside ${min}..${max}`).toBeLessThanOrEqual(max + slack);
  }
}

const LOCAL: [keyof typeof STANDARD_KEYS, Table][] = [
  ['ST0601', ST0601_TABLE],
  ['ST0102', ST0102_TABLE],
  ['ST0903', ST0903_TABLE],
];

/** An item sequence whose tags are the table's ranged rows, with values of the right length. */
function rangedItems(table: Table): fc.Arbitrary<Uint8Array> {
  const rows = table.list.filter((r) => rangeOf(table, r.tag) !== undefined && r.tag < 128);
  const item = fc.constantFrom(...rows).chain((r) => {
    const k = r.kind;
    const len = k instanceof ImapbKind ? (k.fixed ?? k.defaultLength) : (k as MappedUintKind).bytes;
    return fc.uint8Array({ minLength: len, maxLength: len }).map((v) => Uint8Array.from([r.tag, len, ...v]));
  });
  return fc.array(item, { maxLength: 12 }).map((items) => Uint8Array.from(items.flatMap((i) => [...i])));
}

describe('BER and BER-OID on arbitrary bytes (fast-check)', () => {
  for (const [decode, encode, maxBytes] of [
    [decodeBerLength, encodeBerLength, 5],
    [decodeBerOid, encodeBerOid, 8],
  ] as const) {
    it(`${decode.name} returns a non-negative exact integer from 1..${maxBytes} bytes, or throws KlvError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat(14), (bytes, offset) => {
          const r = onlyKlvError(() => decode(bytes, offset));
          if (r === undefined) return;
          expect(Number.isSafeInteger(r.value) && r.value >= 0).toBe(true);
          expect(r.length).toBeGreaterThanOrEqual(1);
          expect(r.length).toBeLessThanOrEqual(maxBytes);
          expect(offset + r.length).toBeLessThanOrEqual(bytes.length);
          // The shortest encoding of the value reads back as the same value.
          expect(decode(encode(r.value)).value).toBe(r.value);
        }),
        { numRuns: RUNS * 5 },
      );
    });
  }

  it('offsets that are not a position in the buffer are refused with ERR_KLV_ARGUMENT', () => {
    for (const offset of [-1, 0.5, Number.NaN, Infinity]) {
      for (const fn of [decodeBerLength, decodeBerOid]) {
        expect(() => fn(Uint8Array.of(1, 2, 3), offset), `${fn.name} offset ${offset}`).toThrow(expect.objectContaining({ code: 'ERR_KLV_ARGUMENT' }));
      }
    }
  });
});

describe('IMAPB on arbitrary bytes (fast-check)', () => {
  const range = fc
    .tuple(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.double({ min: 1e-3, max: 2e9, noNaN: true }))
    .map(([a, w]) => [a, a + w] as const)
    .filter(([a, b]) => b > a);

  it('a normal value lies in [a, b]; special values are named; only KlvError is thrown', () => {
    fc.assert(
      fc.property(range, fc.integer({ min: 1, max: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), ([a, b], length, bytes) => {
        const r = onlyKlvError(() => imapbDecodeDetailed(a, b, bytes, 0, length));
        if (r === undefined) return;
        if (r.special !== undefined) return;
        const { sR } = imapbParams(a, b, length);
        expect(Number.isFinite(r.value)).toBe(true);
        expect(r.value).toBeGreaterThanOrEqual(a - sR);
        expect(r.value).toBeLessThanOrEqual(b + 1e-12 * Math.max(Math.abs(a), Math.abs(b)));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('a length past the buffer or outside 1..8 is a KlvError, not a read past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9 }), fc.integer({ min: -2, max: 12 }), fc.integer({ min: -2, max: 12 }), (bytes, offset, length) => {
        onlyKlvError(() => imapbDecodeDetailed(0, 100, bytes, offset, length));
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('set decoders of every standard on arbitrary bytes (fast-check)', () => {
  for (const [standard, table] of [...LOCAL, ['EG0104', EG0104_TABLE] as const]) {
    it(`${standard}: lenient never throws, strict throws only KlvError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          const tags = decodeKlvSet(standard, bytes);
          walk(tags);
          walk(onlyKlvError(() => decodeKlvSet(standard, bytes, { strict: true })));
          void table;
        }),
        { numRuns: RUNS },
      );
    });
  }

  // ST 0102 has no ranged items; ST 0903's sit in nested packs, reached through the whole-unit property.
  for (const [standard, table] of LOCAL.filter(([, t]) => t.list.some((r) => rangeOf(t, r.tag) !== undefined && r.tag < 128))) {
    it(`${standard}: every ranged value decoded from well-framed random items is inside its range`, () => {
      fc.assert(
        fc.property(rangedItems(table), (bytes) => {
          checkRanges(table, decodeKlvSet(standard, bytes));
          const strict = onlyKlvError(() => decodeKlvSet(standard, bytes, { strict: true }));
          if (strict) checkRanges(table, strict);
        }),
        { numRuns: RUNS },
      );
    });
  }

  // Nested standards (ST 0102, 0806, 0903, 1002, 1010, 1204, 1206, 1303, 1601, 1602, ...) sit behind
  // their ST 0601 / ST 0903 tags: every tag gets arbitrary value bytes of arbitrary length.
  for (const [standard, table] of [LOCAL[0]!, LOCAL[2]!]) {
    it(`${standard}: every tag with arbitrary value bytes: lenient never throws, strict throws only KlvError`, () => {
      const tags = table.list.map((r) => r.tag);
      fc.assert(
        fc.property(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 300 }), (tag, value) => {
          const item = Uint8Array.from([...encodeBerOid(tag), ...encodeBerLength(value.length), ...value]);
          walk(decodeKlvSet(standard, item));
          walk(onlyKlvError(() => decodeKlvSet(standard, item, { strict: true })));
        }),
        { numRuns: RUNS * 10 },
      );
    });
  }

  it('found by these properties: an IMAPB code past b (ST 0601 tag 117, 7D 01 = 1000.06 of ±1000 °/s) is reported, not returned', () => {
    const tags = decodeKlvSet('ST0601', Uint8Array.of(117, 2, 0x7d, 0x01, 113, 3, 0x50, 0, 0));
    expect(tags['117']).toMatchObject({ value: null, error: 'above maximum' });
    expect(tags['113']).toMatchObject({ value: null, error: 'above maximum' });
    expect(imapbDecodeDetailed(-1000, 1000, Uint8Array.of(0x7d, 0x01))).toEqual({ value: Infinity, special: 'above maximum' });
    // The top code that does map inside the range still decodes as a value.
    expect(decodeKlvSet('ST0601', Uint8Array.of(117, 2, 0x7d, 0x00))['117']!.value).toBe(1000);
  });

  it('whole units: random bodies behind each standard key decode, and nested values stay in range', () => {
    const keys = Object.values(STANDARD_KEYS).map((k) => Uint8Array.from(Buffer.from(k, 'hex')));
    fc.assert(
      fc.property(fc.constantFrom(...keys), rangedItems(ST0601_TABLE), (key, body) => {
        const unit = Uint8Array.from([...key, ...encodeBerLength(body.length), ...body]);
        for (const p of decodeKlv(unit)) {
          walk(p.tags);
          if (p.standard === 'ST0601') checkRanges(ST0601_TABLE, p.tags);
        }
        onlyKlvError(() => decodeKlv(unit, { strict: true }).forEach((p) => walk(p.tags)));
      }),
      { numRuns: RUNS },
    );
  });
});
