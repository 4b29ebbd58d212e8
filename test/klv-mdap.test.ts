// ST 1303 multi-dimensional arrays: all five array processing algorithms, from bytes laid out by
// hand after the standard, through the public decoder, and round trips through the encoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../src/klv/bytes.js';
import { decodeKlv, encodeKlv, toHex } from '../src/klv/index.js';
import { decodeMdap, naturalFloat, naturalUint, writeMdap } from '../src/klv/st1303.js';
import { hex, plain } from './klv-helpers.js';

function decode(bytes: Uint8Array, natural = naturalUint) {
  return plain(decodeMdap(bytes, 0, bytes.length, natural));
}

function encode(value: unknown, natural = naturalUint): Uint8Array {
  const w = new ByteWriter();
  writeMdap(w, value, natural);
  return w.finish();
}

describe('ST 1303 MDAP', () => {
  it('Boolean (3): one bit per element, most significant first, the last byte padded', () => {
    // 2 × 5, E_bytes 1, APA 3; bits 10101 10001 → 1010 1100 | 01.. ....
    const bytes = hex('02 02 05 01 03 ac 40');
    const v = decode(bytes);
    expect(v).toMatchObject({ sizes: [2, 5], apa: 3, apaText: 'Boolean' });
    expect(v.elements).toEqual([true, false, true, false, true, true, false, false, false, true]);
    expect(toHex(encode(v))).toBe(toHex(bytes));
    expect(() => decode(hex('02 02 05 01 03 ac 40 00'))).toThrow(/Boolean array of 10 elements needs 2 bytes, has 3/);
    expect(() => decode(hex('02 02 05 01 03 ac'))).toThrow(/10 elements cannot fit in 1 bytes/);
  });

  it('Unsigned Integer (4): a BER-OID bias, then each element as a BER-OID above it', () => {
    // 1 × 4, E_bytes 1, APA 4, bias 5; 5, 7, 300 (295 = 0x82 0x27 as BER-OID), 5
    const bytes = hex('01 04 01 04 05 00 02 82 27 00');
    const v = decode(bytes);
    expect(v).toMatchObject({ sizes: [4], apa: 4, apaText: 'Unsigned Integer', bias: 5, elements: [5, 7, 300, 5] });
    expect(toHex(encode(v))).toBe(toHex(bytes));
    expect(() => decode(hex('01 04 01 04 05 00 02'))).toThrow(/ends after 2 of 4 elements/);
    expect(() => encode({ sizes: [2], apa: 4, elements: [1, -1] })).toThrow(/integers ≥ 0, got -1/);
  });

  it('Run-Length Encoding (5): a default element, then rectangular patches over it', () => {
    // 3 × 4 of 2-byte unsigned, default 7; patch 9 at (1,1) spanning 2 × 2; patch 1 at (0,3) spanning 1 × 1.
    const bytes = hex('02 03 04 02 05 0007  0009 01 01 02 02  0001 00 03 01 01');
    const v = decode(bytes);
    expect(v).toMatchObject({ sizes: [3, 4], elementSize: 2, apa: 5, apaText: 'Run-Length Encoding', defaultElement: 7 });
    expect(v.elements).toEqual([7, 7, 7, 1, 7, 9, 9, 7, 7, 9, 9, 7]);
    // The encoder writes runs along rows; what it writes decodes to the same array.
    const again = encode(v);
    expect(decode(again)).toEqual(v);
    expect(again.length).toBeLessThan(2 + 2 + 1 + 1 + 12 * 2 + 2);
    // A patch that leaves the array is refused, not written out of bounds.
    expect(() => decode(hex('02 03 04 02 05 0007  0009 02 03 02 02'))).toThrow(/patch at \[2,3\] of \[2,2\] leaves the \[3,4\] array/);
    expect(() => decode(hex('02 03 04 02 05 0007  0009 01'))).toThrow();
  });

  it('Natural (1) and IMAP (2) keep working, and unknown algorithms are named', () => {
    const natural = hex('01 02 04 01 3f800000 c0000000');
    expect(decode(natural, naturalFloat)).toMatchObject({ apa: 1, elements: [1, -2] });
    expect(() => decode(hex('01 02 04 06 00'), naturalFloat)).toThrow(/algorithm 6 is not one of ST 1303's 1..5/);
    const imap = encode({ sizes: [3], imapParams: { min: 0, max: 100 }, elements: [0, 50, 100] }, naturalFloat);
    const v = decode(imap, naturalFloat);
    expect(v.apa).toBe(2);
    v.elements.forEach((e: number, i: number) => expect(e).toBeCloseTo([0, 50, 100][i]!, 2));
  });

  it('a count too large for the bytes given is refused before anything is allocated', () => {
    expect(() => decode(hex('02 84 80 00 84 80 00 01 01 00 00'))).toThrow(/cannot fit in 2 bytes/);
    expect(() => decode(hex('02 84 80 00 84 80 00 01 05 00'))).toThrow(/exceeds the 16,777,216 supported/);
  });

  it('round trips every algorithm for random shapes and values', () => {
    const shape = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(shape, fc.integer({ min: 3, max: 5 }), fc.infiniteStream(fc.integer({ min: 0, max: 3 })), (sizes, apa, stream) => {
        const count = sizes.reduce((a, b) => a * b, 1);
        const draws = stream.take(count);
        const elements = [...draws].map((x) => (apa === 3 ? x % 2 === 1 : apa === 4 ? 1000 + x * 70 : x));
        const value = { sizes, apa, elements };
        expect(decode(encode(value)).elements).toEqual(elements);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes an RLE array nested in a packet (ST 0601 → ST 1601 correspondence points)', () => {
    const rows = { sizes: [2, 3], apa: 5, elementSize: 2, elements: [0, 0, 0, 4, 4, 0] };
    const unit = encodeKlv({ tags: { 2: 1_700_000_000_000_000, 98: { 4: rows } } });
    const [packet] = decodeKlv(unit);
    const points = plain(packet!.tags['98']!.value)['4'].value;
    expect(points).toMatchObject({ sizes: [2, 3], apa: 5, defaultElement: 0, elements: [0, 0, 0, 4, 4, 0] });
  });
});
