import { describe, expect, it } from 'vitest';
import {
  KlvError,
  ST0601_TABLE,
  bcc16,
  decodeKlv,
  decodeKlvSet,
  decodeKlvUnit,
  encodeKlv,
  toHex,
  type KlvErrorCode,
  type KlvPacket,
} from '../src/klv/index.js';
import { SHARED, hex, loadVectors, pesPackets, plain, type Json } from './klv-helpers.js';

const V = loadVectors();
const vector = (id: string): Uint8Array => hex((V.packet_vectors as Json[]).find((v) => v.id === id).hex);
const KEY = '060e2b34020b01010e01030101000000';

function codeOf(fn: () => unknown): KlvErrorCode | 'none' | 'other' {
  try {
    fn();
    return 'none';
  } catch (e) {
    return e instanceof KlvError ? e.code : 'other';
  }
}

function errorOf(fn: () => unknown): KlvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KlvError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

/** An ST 0601 unit from raw item bytes, with a correct checksum. */
function unit(items: number[]): Uint8Array {
  const body = [...items, 0x01, 0x02];
  const head = [...hex(KEY), ...(body.length + 2 < 128 ? [body.length + 2] : [0x81, body.length + 2])];
  const bytes = Uint8Array.from([...head, ...body, 0, 0]);
  const cs = bcc16(bytes, 0, bytes.length - 2);
  bytes[bytes.length - 2] = cs >> 8;
  bytes[bytes.length - 1] = cs & 0xff;
  return bytes;
}

describe('packet shape', () => {
  it('decodeKlv fills the stream fields from options and defaults them to null', () => {
    const bytes = vector('pkt.st0601.klvdata_dynamic_only');
    const [a] = decodeKlv(bytes);
    expect([a!.pts, a!.stream, a!.pid, a!.carriage]).toEqual([null, null, null, null]);
    const [b] = decodeKlv(bytes, { pts: 12.5, stream: 2, pid: 0x1f1, carriage: 'sync' });
    expect([b!.pts, b!.stream, b!.pid, b!.carriage]).toEqual([12.5, 2, 0x1f1, 'sync']);
    expect(b!.key).toBe(KEY);
    expect(Object.keys(JSON.parse(JSON.stringify(b)))).toEqual(['pts', 'stream', 'pid', 'carriage', 'key', 'standard', 'checksumValid', 'tags']);
  });

  it('tag objects: camelCase name, full-precision value, units, text/flags/iso', () => {
    const [p] = decodeKlv(vector('pkt.st0601.kwiver_full'));
    const t = p!.tags;
    expect(t['13']).toEqual({ name: 'sensorLatitude', value: 60.176822966978335, units: 'deg' });
    expect(plain(t['2'])).toEqual({ name: 'precisionTimeStamp', value: 1224807209913000, units: 'us', iso: '2008-10-24T00:13:29.913Z' });
    expect(t['2']!.iso).toBe('2008-10-24T00:13:29.913Z');
    expect(t['34']).toEqual({ name: 'icingDetected', value: 2, units: undefined, text: 'Icing Detected' });
    expect(t['47']!.flags).toEqual(['Laser Range', 'Slant Range', 'Image Invalid']);
    expect(t['48']!.value).toEqual({});
    expect(t['143']!.name).toBe('metadataSubstreamIdPack');
    // Every ST 0601 row name is camelCase and unique.
    for (const r of ST0601_TABLE.list) expect(r.name).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ST0601_TABLE.list.map((r) => r.name)).size).toBe(ST0601_TABLE.list.length);
    expect(ST0601_TABLE.list.map((r) => r.tag)).toEqual(Array.from({ length: 143 }, (_, i) => i + 1));
  });

  it('error indicators decode to null; unsigned fields have none', () => {
    const [p] = decodeKlv(vector('pkt.st0601.klvdata_realflight_pkt0'));
    expect(p!.tags['23']).toEqual({ name: 'frameCenterLatitude', value: null, units: 'deg', error: 'error indicator' });
    // 0x80000000 is a normal value of an unsigned field: 2^31 · 360 / (2^32 − 1).
    expect(p!.tags['20']!.value).toBeCloseTo(180, 6);
    const again = decodeKlv(encodeKlv(p!))[0]!;
    expect(again.tags['23']).toEqual(p!.tags['23']);
  });

  it('unknown tags are kept as hex; zero-length items decode to empty values', () => {
    const [p] = decodeKlv(unit([0x81, 0x7f, 0x03, 0xaa, 0xbb, 0xcc, 0x03, 0x00, 0x05, 0x00, 0x30, 0x00, 0x74, 0x00]));
    expect(p!.checksumValid).toBe(true);
    expect(p!.tags['255']).toEqual({ name: 'unknown', value: 'aabbcc' });
    expect(p!.tags['3']!.value).toBe('');
    expect(p!.tags['5']!.value).toBeNull();
    expect(p!.tags['48']!.value).toEqual({});
    expect(p!.tags['116']!.value).toEqual([]);
    expect(toHex(encodeKlv(p!))).toBe(toHex(unit([0x03, 0x00, 0x05, 0x00, 0x30, 0x00, 0x74, 0x00, 0x81, 0x7f, 0x03, 0xaa, 0xbb, 0xcc])));
  });

  it('repeated tags (tag 115 may repeat) are kept in order under `repeats`', () => {
    const cmd = (id: number, s: string): number[] => [0x73, 2 + s.length, id, s.length, ...Buffer.from(s)];
    const [p] = decodeKlv(unit([...cmd(1, 'go'), ...cmd(2, 'stop'), ...cmd(3, 'hold')]));
    const t = p!.tags['115']!;
    expect(t.value).toEqual({ id: 1, command: 'go', timestamp: null });
    expect(t.repeats!.map((r) => (r.value as Json).command)).toEqual(['stop', 'hold']);
  });

  it('malformed items are kept raw with an error; the rest of the packet survives', () => {
    // Tag 13 with 3 bytes (needs 4), tag 3 with invalid UTF-8, then a good tag 14.
    const [p] = decodeKlv(unit([0x0d, 0x03, 1, 2, 3, 0x03, 0x02, 0xff, 0xfe, 0x0e, 0x04, 0x5b, 0x53, 0x60, 0xc4]));
    expect(p!.tags['13']).toEqual({ name: 'sensorLatitude', value: '010203', error: 'mapped signed integer: expected 4 bytes, got 3' });
    expect(p!.tags['3']).toEqual({ name: 'missionId', value: 'fffe', error: 'string is not valid UTF-8' });
    expect(p!.tags['14']!.value).toBeCloseTo(128.42675904204452, 12);
    const err = errorOf(() => decodeKlv(unit([0x0d, 0x03, 1, 2, 3]), { strict: true }));
    expect(err.code).toBe('ERR_KLV_ITEM');
    expect(err.tag).toBe(13);
    expect(err.message).toMatch(/ST 0601 tag 13 \(sensorLatitude\) at offset 19: mapped signed integer: expected 4 bytes, got 3/);
  });

  it('errors inside nested sets name the offset in the input', () => {
    const bytes = unit([0x30, 0x05, 0x01, 0x01, 0x01, 0x05, 0x09]);
    expect(decodeKlv(bytes)[0]!.tags['48']!.error).toBe('ST 0102 tag 5 (caveats) at offset 22: length 9 overruns the set by 9 bytes');
    // Three bytes of garbage before the unit move everything by three.
    expect(decodeKlv(Uint8Array.from([9, 9, 9, ...bytes]))[0]!.tags['48']!.error).toContain('at offset 25');
    const err = errorOf(() => decodeKlv(bytes, { strict: true }));
    expect(err.code).toBe('ERR_KLV_TRUNCATED');
    expect(err.offset).toBe(22);
    expect(err.tag).toBe(5);
    expect(err.message).toBe('ST 0601 tag 48 (securityLocalSet) at offset 19: ST 0102 tag 5 (caveats) at offset 22: length 9 overruns the set by 9 bytes');
  });

  it('the input buffer may be reused after decoding', () => {
    const bytes = Uint8Array.from(vector('pkt.st0601.klvdata_dynamic_constant_bad_checksum'));
    const [p] = decodeKlv(bytes);
    const before = JSON.stringify(plain(decodeKlv(Uint8Array.from(bytes))[0]!.tags));
    bytes.fill(0x55);
    expect(JSON.stringify(plain(p!.tags))).toBe(before);
  });

  it('spread copies keep their tags readable through the writers and `tags` can be restored', () => {
    const [p] = decodeKlv(vector('pkt.st0601.klvdata_dynamic_only'));
    const copy: KlvPacket = { ...p!, tags: p!.tags };
    expect(JSON.stringify(copy)).toBe(JSON.stringify(p));
  });
});

describe('errors', () => {
  it('ERR_KLV_ARGUMENT for non-bytes input', () => {
    expect(codeOf(() => decodeKlv('abc' as unknown as Uint8Array))).toBe('ERR_KLV_ARGUMENT');
    expect(codeOf(() => decodeKlvUnit(new Uint8Array(4), { offset: 9 }))).toBe('ERR_KLV_ARGUMENT');
  });

  it('ERR_KLV_SYNC for bytes without a key (strict) and for decodeKlvUnit at a non-key offset', () => {
    expect(decodeKlv(Uint8Array.from([1, 2, 3]))).toEqual([]);
    const err = errorOf(() => decodeKlv(Uint8Array.from([1, 2, 3, ...vector('pkt.st0601.klvdata_dynamic_only')]), { strict: true }));
    expect(err.code).toBe('ERR_KLV_SYNC');
    expect(err.message).toBe('no KLV key (06 0E 2B 34) at offset 0; next key at offset 3');
    expect(codeOf(() => decodeKlvUnit(Uint8Array.from([0, 1, 2, 3])))).toBe('ERR_KLV_SYNC');
  });

  it('ERR_KLV_TRUNCATED for a unit longer than the buffer; lenient decodes what is there', () => {
    const full = vector('pkt.st0601.klvdata_dynamic_only');
    const cut = full.subarray(0, 60);
    const err = errorOf(() => decodeKlv(cut, { strict: true }));
    expect(err.code).toBe('ERR_KLV_TRUNCATED');
    expect(err.message).toMatch(/declares 97 value bytes, only 43 available/);
    const [p] = decodeKlv(cut);
    expect(p!.checksumValid).toBe(false);
    expect(p!.error).toMatch(/declares 97 value bytes/);
    expect(p!.tags['2']!.value).toBe(1231798102000000);
    expect(p!.tags['13']!.value).toBeCloseTo(60.176822966978335, 12);
  });

  it('ERR_KLV_BER for a bad unit length; lenient re-syncs on the next key', () => {
    const good = vector('pkt.st0601.klvdata_dynamic_only');
    const bad = Uint8Array.from([...hex(KEY), 0x80, 1, 2, 3, ...good]);
    expect(codeOf(() => decodeKlv(bad, { strict: true }))).toBe('ERR_KLV_BER');
    const packets = decodeKlv(bad);
    expect(packets).toHaveLength(2);
    expect(packets[0]!.error).toMatch(/indefinite BER length/);
    expect(packets[1]!.checksumValid).toBe(true);
  });

  it('ERR_KLV_CHECKSUM when the checksum item is missing', () => {
    const bytes = Uint8Array.from([...hex(KEY), 0x04, 0x41, 0x01, 0x06, 0x00]);
    expect(codeOf(() => decodeKlv(bytes, { strict: true }))).toBe('ERR_KLV_CHECKSUM');
    const [p] = decodeKlv(bytes);
    expect(p!.checksumValid).toBe(false);
    expect(p!.error).toMatch(/checksum item \(tag 1, length 2\) missing/);
    expect(p!.tags['65']!.value).toBe(6);
  });

  it('an item overrunning its set is kept raw and reported', () => {
    const bytes = Uint8Array.from([...hex(KEY), 0x06, 0x41, 0x01, 0x06, 0x03, 0x09, 0x41]);
    const [p] = decodeKlv(bytes);
    expect(p!.tags['3']).toEqual({ name: 'missionId', value: '41', error: 'ST 0601 tag 3 (missionId) at offset 20: length 9 overruns the set by 8 bytes' });
    expect(codeOf(() => decodeKlv(bytes, { strict: true }))).toBe('ERR_KLV_CHECKSUM');
  });

  it('ERR_KLV_ENCODE names the tag and the problem', () => {
    let err = errorOf(() => encodeKlv({ tags: { 13: 'north' } }));
    expect(err.code).toBe('ERR_KLV_ENCODE');
    expect(err.message).toBe('ST 0601 tag 13 (sensorLatitude): mapped signed integer: expected a number, got string "north"');
    err = errorOf(() => encodeKlv({ tags: { noSuchTag: 1 } }));
    expect(err.message).toBe('ST 0601: unknown tag name "noSuchTag"');
    err = errorOf(() => encodeKlv({ tags: { 65: 300 } }));
    expect(err.message).toBe('ST 0601 tag 65 (uasDatalinkLsVersionNumber): unsigned integer 300 does not fit in 1 bytes');
    expect(codeOf(() => encodeKlv({ standard: 'unknown' }))).toBe('ERR_KLV_ENCODE');
  });
});

describe('encoder', () => {
  it('accepts names, bare values and tag objects, puts tag 2 first and the checksum last', () => {
    const bytes = encodeKlv({ tags: { sensorLatitude: 10, 2: 1000, missionId: { name: 'missionId', value: 'M' } } });
    expect(toHex(bytes.subarray(17, 19))).toBe('0208');
    expect(toHex(bytes.subarray(bytes.length - 4, bytes.length - 2))).toBe('0102');
    const [p] = decodeKlv(bytes, { strict: true });
    expect(p!.tags['3']!.value).toBe('M');
    expect(p!.tags['13']!.value).toBeCloseTo(10, 6);
  });

  it('reproduces the KWIVER full packet byte for byte', () => {
    const bytes = vector('pkt.st0601.kwiver_full');
    expect(toHex(encodeKlv(decodeKlv(bytes)[0]!))).toBe(toHex(bytes));
  });

  it('encodes several packets into one buffer, and standalone ST 0102 / ST 0903', () => {
    const both = encodeKlv([{ tags: { 2: 1 } }, { standard: 'ST0102', tags: { 1: 1 } }, { standard: 'ST0903', tags: { 4: 5 } }]);
    const packets = decodeKlv(both, { strict: true });
    expect(packets.map((p) => [p.standard, p.checksumValid])).toEqual([
      ['ST0601', true],
      ['ST0102', null],
      ['ST0903', true],
    ]);
  });
});

describe('nested checksums', () => {
  it('ST 0806 RVT sets: CRC-32/MPEG-2 written when the input has tag 1, verified on decode', () => {
    const bytes = encodeKlv({ tags: { 2: 5, 73: { 1: 0, 2: 256, 3: 500, 10: 'MPEG2' } } });
    const [p] = decodeKlv(bytes, { strict: true });
    const rvt = p!.tags['73']!;
    expect(rvt.error).toBeUndefined();
    expect((rvt.value as Json)['3'].value).toBe(500);
    const crc = (rvt.value as Json)['1'].value;
    expect(crc).toBeGreaterThan(0);
    // Corrupt the RVT file format text, then fix the outer ST 0601 checksum.
    const bad = Uint8Array.from(bytes);
    const at = toHex(bad).indexOf(Buffer.from('MPEG2').toString('hex')) / 2;
    bad[at] = 0x4e;
    const cs = bcc16(bad, 0, bad.length - 2);
    bad[bad.length - 2] = cs >> 8;
    bad[bad.length - 1] = cs & 0xff;
    const [q] = decodeKlv(bad);
    expect(q!.checksumValid).toBe(true);
    expect(q!.tags['73']!.error).toMatch(/^checksum mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/);
    expect((q!.tags['73']!.value as Json)['10'].value).toBe('NPEG2');
    expect(codeOf(() => decodeKlv(bad, { strict: true }))).toBe('ERR_KLV_CHECKSUM');
  });
});

describe('other standards and entry points', () => {
  it('EG 0104 universal sets in aphill_short.ts (hybrid carriage with PTS)', () => {
    const pes = pesPackets(`${SHARED}/samples/kwiver/aphill_short.ts`, 0x101);
    expect(pes).toHaveLength(48);
    expect(pes.every((p) => p.streamId === 0xfc && p.pts !== null)).toBe(true);
    const packets = pes.flatMap((p) => decodeKlv(p.payload, { strict: true }));
    expect(packets).toHaveLength(48);
    for (const p of packets) {
      expect(p.standard).toBe('EG0104');
      expect(p.checksumValid).toBeNull();
      expect(Object.keys(p.tags).every((k) => /^[0-9a-f]{32}$/.test(k))).toBe(true);
    }
    const t = packets[0]!.tags;
    expect(t['060e2b34010101030701020102040200']).toEqual({ name: 'deviceLatitude', value: 38.252336, units: 'deg' });
    expect(t['060e2b34010101010101200100000000']!.value).toBe('ABCD');
  });

  it('decodeKlvUnit decodes one unit at an offset', () => {
    const a = vector('pkt.st0102.jmisb_local_set');
    const b = vector('pkt.st0903.jmisb_0903bin_pkt0');
    const both = Uint8Array.from([...a, ...b]);
    expect(decodeKlvUnit(both).standard).toBe('ST0102');
    expect(decodeKlvUnit(both, { offset: a.length }).standard).toBe('ST0903');
  });

  it('decodeKlvSet decodes bare items of a standard', () => {
    expect(decodeKlvSet('ST0102', hex('01010102010d'))['2']!.text).toBe('GENC Two Letter');
  });

  it('standalone ST 0903 packets: all five of jmisb 0903.bin layout decode with valid checksums', () => {
    const p = decodeKlv(vector('pkt.st0903.jmisb_0903bin_pkt0'), { strict: true })[0]!;
    const targets = p.tags['101']!.value as Json[];
    expect(targets.map((x) => x.targetId)).toEqual([0, 1]);
    expect(targets[0].tags['1'].value).toBe(387602);
  });

  it('sync-carriage AU cell headers left in a buffer are skipped as garbage', () => {
    const u = vector('pkt.st0601.klvdata_dynamic_only');
    const cells = Uint8Array.from([0x00, 0x00, 0xdf, 0x00, u.length, ...u, 0x00, 0x01, 0xdf, 0x00, u.length, ...u]);
    const packets = decodeKlv(cells);
    expect(packets).toHaveLength(2);
    expect(packets.every((p) => p.checksumValid)).toBe(true);
  });
});
