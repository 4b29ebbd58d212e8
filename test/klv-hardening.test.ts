// KLV decoding and encoding where producers, damage and hostile bytes push: item lengths the
// standard allows, out-of-range values, damaged unit lengths, size bombs, and spreadsheet output.
import { describe, expect, it } from 'vitest';
import { CsvWriter, GeoJsonBuilder, decodeBerOid, decodeKlv, encodeKlv, packetsToCsv, toHex, toNdjsonLine } from '../src/klv/index.js';
import { plain } from './klv-helpers.js';

/** The value bytes of the first item with `tag` in a one-byte-tag local set unit. */
function itemBytes(unit: Uint8Array, tag: number): Uint8Array {
  let p = 16;
  const first = unit[p]!;
  p += first < 0x80 ? 1 : 1 + (first & 0x7f);
  while (p < unit.length) {
    const t = unit[p]!;
    const len = unit[p + 1]!;
    if (t === tag) return unit.subarray(p + 2, p + 2 + len);
    p += 2 + len;
  }
  throw new Error(`tag ${tag} not found`);
}

describe('KLV hardening', () => {
  it('IMAPB items stay within the lengths the standards allow, whatever the value', () => {
    for (const v of [1234.5678, 3.3, 20999.1, 0.1]) expect(itemBytes(encodeKlv({ tags: { 109: v } }), 109).length).toBeLessThanOrEqual(4);
    expect(itemBytes(encodeKlv({ tags: { 120: 33.333 } }), 120).length).toBeLessThanOrEqual(3);
    const vmti = encodeKlv({ standard: 'ST0903', tags: { 4: 5, 11: 12.345 } });
    expect(itemBytes(vmti, 11)).toHaveLength(2);
  });

  it('an out-of-range value is never clamped to a plausible wrong one', () => {
    // Signed mapped fields have an "out of range" code of their own; it decodes to null with that error.
    const lat = decodeKlv(encodeKlv({ tags: { 13: 95 } }))[0]!;
    expect(plain(lat.tags['13'])).toMatchObject({ value: null, error: expect.stringMatching(/indicator|range/i) });
    expect(decodeKlv(encodeKlv({ tags: { 13: 89.9999999 } }))[0]!.tags['13']!.value).toBeCloseTo(90, 5);
    // Unsigned mapped fields have none: refused.
    expect(() => encodeKlv({ tags: { 5: 370 } })).toThrow(expect.objectContaining({ code: 'ERR_KLV_ENCODE', message: expect.stringMatching(/370 is outside 0\.\.360/) }));
    expect(() => encodeKlv({ tags: { 5: -10 } })).toThrow(/outside 0\.\.360/);
  });

  it('ST 0102 fields sized uint16 are written in 2 bytes', () => {
    expect(toHex(itemBytes(encodeKlv({ standard: 'ST0102', tags: { 1: 1, 22: 12 } }), 22))).toBe('000c');
  });

  it('a damaged unit length does not swallow the valid units after it', () => {
    const good = encodeKlv({ tags: { 2: 1_700_000_000_000_000, 13: 35.1 } });
    const damaged = Buffer.from(good);
    // Length byte → 0x82 0x7F 0xFF (32,767 bytes), as a bit error would leave it (the unit grows by two bytes).
    const broken = Buffer.concat([damaged.subarray(0, 16), Buffer.from([0x82, 0x7f, 0xff]), damaged.subarray(17)]);
    const packets = decodeKlv(Buffer.concat([broken, good, good, good]));
    expect(packets).toHaveLength(4);
    expect(packets[0]!.error).toMatch(/declares 32767 value bytes.*cut at the next key/);
    expect(packets.slice(1).map((p) => p.checksumValid)).toEqual([true, true, true]);
  });

  it('a few bytes claiming a huge run-length array are refused, not allocated', () => {
    // ST 0601 tag 95 (SAR motion imagery set) → tag 22, an MDAP: 1 dimension of 2^23 elements, RLE.
    const mdap = [0x01, 0x84, 0x80, 0x80, 0x00, 0x01, 0x05, 0x00];
    const inner = [22, mdap.length, ...mdap];
    const packet = decodeKlv(encodeKlv({ tags: { 2: 1_700_000_000_000_000, 95: { 1: 10 } } }))[0]!;
    expect(packet.error).toBeUndefined();
    const unit = Buffer.from(encodeKlv({ tags: { 2: 1_700_000_000_000_000 } }));
    // Splice tag 95 with the hostile MDAP in before the checksum, fixing the lengths by re-encoding raw.
    const item95 = Buffer.from([95, inner.length, ...inner]);
    const body = Buffer.concat([unit.subarray(17, unit.length - 4), item95]);
    const raw = Buffer.concat([unit.subarray(0, 16), Buffer.from([body.length]), body]);
    const decoded = decodeKlv(raw)[0]!;
    const sar = plain(decoded.tags['95']);
    expect(sar.value['22']).toMatchObject({ error: expect.stringMatching(/larger than its 1 bytes can describe/) });
  });

  it('units whose items arrive in no order at all still give JSON in tag order', () => {
    const items: number[] = [];
    for (let i = 0; i < 4000; i++) items.push(127 - (i % 120), 1, i & 0x7f);
    const body = Buffer.from(items);
    const unit = Buffer.concat([Buffer.from('060e2b34020b01010e01030101000000', 'hex'), Buffer.from([0x82, body.length >> 8, body.length & 0xff]), body]);
    const packet = decodeKlv(unit)[0]!;
    expect(toNdjsonLine(packet)).toBe(JSON.stringify(packet));
  });

  it('CSV: only ST 0601/0903 tag 2 is a time, and text a spreadsheet would run is neutralised', () => {
    const p0102 = decodeKlv(encodeKlv({ standard: 'ST0102', tags: { 1: 1, 2: 7 } }))[0]!;
    const csv0102 = packetsToCsv([p0102]).split('\n');
    expect(csv0102[1]!.split(',')[1]).toBe('');
    const hostile = decodeKlv(encodeKlv({ tags: { 2: 1_700_000_000_000_000, 3: '=HYPERLINK("http://x","y")', 4: '-1', 13: -35.5 } }))[0]!;
    const w = new CsvWriter([3, 4, 13]);
    const row = w.row(hostile);
    expect(row).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(row).toContain(",'-1,");
    expect(row).toMatch(/,-35\.4\d*\n$/);
  });

  it('a BER-OID past 2^53 is an error, not a silently rounded number', () => {
    expect(() => decodeBerOid(Buffer.from('ffffffffffffff7f', 'hex'))).toThrow(expect.objectContaining({ code: 'ERR_KLV_BER', message: expect.stringMatching(/beyond 2\^53/) }));
    expect(decodeBerOid(Buffer.from('8fffffffffff7f', 'hex')).value).toBe(2 ** 46 - 1);
  });

  it('a footprint across the antimeridian becomes a MultiPolygon cut at 180°, not a band around the globe', () => {
    const at = (corners: number[][]) => {
      const tags: Record<number, number> = { 2: 1_700_000_000_000_000 };
      corners.forEach(([lat, lon], i) => {
        tags[82 + 2 * i] = lat!;
        tags[83 + 2 * i] = lon!;
      });
      const g = new GeoJsonBuilder().add(decodeKlv(encodeKlv({ tags }))[0]!);
      return plain(g.toFeatureCollection()).features.find((f: { properties: { kind: string } }) => f.properties.kind === 'footprint').geometry;
    };
    const plainOne = at([[10, 20], [10, 21], [11, 21], [11, 20]]);
    expect(plainOne.type).toBe('Polygon');
    const crossing = at([[10, 179.5], [10, -179.5], [11, -179.5], [11, 179.5]]);
    expect(crossing.type).toBe('MultiPolygon');
    expect(crossing.coordinates).toHaveLength(2);
    const lons = crossing.coordinates.flat(3).filter((_: number, i: number) => i % 2 === 0);
    expect(Math.max(...lons)).toBeCloseTo(180, 6);
    expect(Math.min(...lons)).toBeCloseTo(-180, 6);
    for (const [poly] of crossing.coordinates) {
      const ls = poly.map((p: number[]) => p[0]);
      expect(Math.max(...ls) - Math.min(...ls)).toBeCloseTo(0.5, 4);
    }
  });
});
