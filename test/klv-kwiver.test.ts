import { describe, expect, it } from 'vitest';
import { decodeKlv, encodeKlv, type KlvPacket } from '../src/klv/index.js';
import { SHARED, type Stats, collectErrors, compare, compareSet, concat, loadKwiverStream, pesPackets, plain, type Json } from './klv-helpers.js';

const TS = `${SHARED}/samples/kwiver/h264_klv.ts`;
const KLV_PID = 0x101;

function decodeStream(): { packets: KlvPacket[]; raw: Uint8Array[] } {
  const pes = pesPackets(TS, KLV_PID);
  const packets: KlvPacket[] = [];
  for (const p of pes) packets.push(...decodeKlv(p.payload, { pid: KLV_PID, stream: 1, carriage: 'async', pts: p.pts === null ? null : p.pts / 90000 }));
  return { packets, raw: pes.map((p) => p.payload) };
}

describe('KWIVER h264_klv.ts (30 ST 0601 packets)', () => {
  const kwiver = loadKwiverStream();
  const { packets, raw } = decodeStream();

  it('has 30 async PES without PTS, one ST 0601 unit each, all checksums valid', () => {
    expect(raw).toHaveLength(30);
    expect(packets).toHaveLength(30);
    for (const p of packets) {
      expect(p.standard).toBe('ST0601');
      expect(p.checksumValid).toBe(true);
      expect(p.pts).toBeNull();
      expect(p.error).toBeUndefined();
      expect(collectErrors(p.tags)).toEqual([]);
    }
  });

  it('every top-level scalar tag matches KWIVER', () => {
    let compared = 0;
    const mismatches: string[] = [];
    packets.forEach((p, i) => {
      const tags = plain(p.tags);
      const frame = kwiver[i];
      expect(Object.keys(tags)).toHaveLength(frame.value.length + 1); // + checksum tag 1
      for (const item of frame.value as Json[]) {
        const n = item.key.integer;
        const v = item.value;
        const scalar = typeof v === 'number' || typeof v === 'string' || (v && typeof v === 'object' && !Array.isArray(v) && (('length' in v && 'value' in v) || ('integer' in v && 'string' in v)));
        if (!scalar) continue;
        const s: Stats = { compared: 0, mismatches };
        compare(v, tags[n]?.value, `frame ${i + 1} tag ${n}`, s);
        compared += s.compared;
      }
    });
    expect(mismatches).toEqual([]);
    // 30 frames × the scalar items of each (≈ 100).
    expect(compared).toBeGreaterThan(30 * 90);
  });

  it('nested sets, series and packs match KWIVER', () => {
    const s: Stats = { compared: 0, mismatches: [] };
    packets.forEach((p, i) => compareSet(kwiver[i].value, plain(p.tags), `frame ${i + 1}`, s));
    expect(s.mismatches).toEqual([]);
    expect(s.compared).toBeGreaterThan(30 * 300);
  });

  it('re-encodes every packet to identical decoded values', () => {
    for (const p of packets) {
      const again = decodeKlv(encodeKlv(p))[0]!;
      expect(again.checksumValid).toBe(true);
      // Tag order (and so the checksum value) may differ; every value must not.
      const { 1: _a, ...want } = plain(p.tags);
      const { 1: _b, ...got } = plain(again.tags);
      expect(got).toEqual(want);
    }
  });

  it('decodes the concatenated stream and re-syncs after garbage', () => {
    const garbage = Uint8Array.from([0x00, 0x06, 0x0e, 0x2b, 0xff, 0x47, 0x12]);
    const joined = concat(raw.flatMap((r) => [garbage, r]));
    const all = decodeKlv(joined);
    expect(all).toHaveLength(30);
    expect(all.every((p) => p.checksumValid === true)).toBe(true);
  });
});
