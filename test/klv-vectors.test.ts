import { describe, expect, it } from 'vitest';
import {
  bcc16,
  crc16Ccitt,
  crc32Mpeg,
  decodeBerLength,
  decodeBerOid,
  decodeKlv,
  decodeKlvSet,
  encodeBerLength,
  encodeBerOid,
  imapbDecode,
  imapbEncode,
  KlvError,
  toHex,
  type KlvStandard,
  type KlvTag,
  type KlvTags,
} from '../src/klv/index.js';
import { collectErrors, hex, isoMicros, loadVectors, plain, type Json } from './klv-helpers.js';

const V = loadVectors();

function close(actual: unknown, expected: number, tolerance = 0, what = ''): void {
  expect(typeof actual, `${what} type`).toBe('number');
  if (tolerance === 0) expect(actual, what).toBe(expected);
  else expect(Math.abs((actual as number) - expected), `${what}: ${String(actual)} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

describe('checksum vectors', () => {
  for (const v of V.checksum_vectors as Json[]) {
    it(v.id, () => {
      const data = hex(v.data_hex);
      const fn = v.id.startsWith('cs.running_sum_16') ? bcc16 : v.id.startsWith('cs.crc16') ? crc16Ccitt : crc32Mpeg;
      const width = v.expected_hex.length;
      expect(fn(data).toString(16).padStart(width, '0')).toBe(v.expected_hex);
    });
  }
});

describe('BER length vectors', () => {
  for (const v of V.ber_length_vectors as Json[]) {
    it(`${v.hex} -> ${v.value}`, () => {
      expect(decodeBerLength(hex(v.hex))).toEqual({ value: v.value, length: v.bytes });
      // The encoder writes the minimal form, which must decode to the same value.
      expect(decodeBerLength(encodeBerLength(v.value)).value).toBe(v.value);
    });
  }
  for (const v of V.ber_length_error_vectors as Json[]) {
    it(`${v.hex} rejected (${v.error})`, () => {
      expect(() => decodeBerLength(hex(v.hex))).toThrow(KlvError);
      try {
        decodeBerLength(hex(v.hex));
      } catch (e) {
        expect((e as KlvError).code).toBe('ERR_KLV_BER');
      }
    });
  }
});

describe('BER-OID vectors', () => {
  for (const v of V.ber_oid_vectors as Json[]) {
    it(`${v.hex}`, () => {
      if (v.error !== undefined) {
        expect(() => decodeBerOid(hex(v.hex))).toThrow(KlvError);
        return;
      }
      expect(decodeBerOid(hex(v.hex))).toEqual({ value: v.value, length: v.hex.length / 2 });
      expect(toHex(encodeBerOid(v.value))).toBe(v.hex);
    });
  }
});

describe('IMAPB vectors (ST 1201)', () => {
  const vectors = V.imapb_vectors.vectors as Json[];
  it('has the 52 vectors', () => expect(vectors).toHaveLength(52));
  vectors.forEach((v, i) => {
    it(`#${i} IMAPB(${v.a}, ${v.b}, ${v.L}) ${v.encoded_hex}`, () => {
      const decoded = imapbDecode(v.a, v.b, hex(v.encoded_hex));
      const expected = typeof v.decoded === 'string' ? Number(v.decoded) : v.decoded;
      if (Number.isNaN(expected)) expect(Number.isNaN(decoded)).toBe(true);
      else expect(decoded).toBe(expected);
      const input = typeof v.input_x === 'string' ? Number(v.input_x) : v.input_x;
      expect(toHex(imapbEncode(v.a, v.b, v.L, input))).toBe(v.encoded_hex);
    });
  });
});

// ---------------------------------------------------------------------------
// Tag vectors

function standardOf(v: Json): Exclude<KlvStandard, 'unknown'> {
  if (v.standard.includes('0601')) return 'ST0601';
  if (v.standard.includes('0102')) return 'ST0102';
  if (v.standard.includes('0903')) return 'ST0903';
  return 'EG0104';
}

/** Wraps VTarget-level bytes in a VMTI VTarget series holding one target (id 1). */
function inVTarget(tlv: Uint8Array): Uint8Array {
  const packBytes = [1, ...tlv];
  const seriesBytes = [...encodeBerLength(packBytes.length), ...packBytes];
  return Uint8Array.from([101, ...encodeBerLength(seriesBytes.length), ...seriesBytes]);
}

function tlvOf(v: Json): Uint8Array {
  if (v.tlv_hex) return hex(v.tlv_hex);
  return Uint8Array.from([v.tag, ...encodeBerLength(v.value_hex.length / 2), ...hex(v.value_hex)]);
}

/** Decodes a tag vector and returns the tag object it describes. */
function decodeVector(v: Json): KlvTag {
  const std = standardOf(v);
  if (std === 'EG0104') {
    const tags = decodeKlvSet('EG0104', hex(v.tlv_hex));
    return tags[v.uds_key_hex]!;
  }
  if (std === 'ST0903' && ['st0903.kwiver.location_pack', 'st0903.kwiver.vmask', 'st0903.kwiver.vobject'].includes(v.id)) {
    const tags = decodeKlvSet('ST0903', inVTarget(tlvOf(v)));
    const targets = tags['101']!.value as Json[];
    return (targets[0].tags as KlvTags)[String(v.tag)]!;
  }
  if (v.id === 'st0903.jmisb.t011_legacy') {
    // Legacy encodings apply when the VMTI version tag says 3.
    return decodeKlvSet('ST0903', Uint8Array.from([4, 1, 3, ...tlvOf(v)]))['11']!;
  }
  return decodeKlvSet(std, tlvOf(v))[String(v.tag)]!;
}

const stripBit = (s: string): string => s.replace(/\s*\(bit \d+\)$/, '').toLowerCase();
const lower = (xs: string[]): string[] => xs.map((x) => x.toLowerCase());

/** Checks structured expectations whose field names differ from ours. */
function checkStructured(v: Json, t: KlvTag): void {
  const e = v.expected.value;
  const got = plain(t.value);
  const tol = v.expected.tolerance ?? 1e-9;
  const std = standardOf(v);
  if (e && typeof e === 'object' && !Array.isArray(e) && 'nested' in e) {
    // Zero-length nested sets/packs decode to an empty value.
    expect(got === null || (typeof got === 'object' && Object.keys(got).length === 0)).toBe(true);
    return;
  }
  if (std === 'ST0601' || v.id === 'st0601.kwiver.t047') {
    switch (v.tag) {
      case 47:
      case 124:
        expect(t.value).toBe(e.raw);
        expect(lower(t.flags!)).toEqual(e.bits.map(stripBit));
        return;
      case 81:
        expect(got).toEqual(e);
        return;
      case 94:
        expect(got.version).toBe(e.version);
        expect(`${got.sensorIdTypeText} (${got.sensorIdType})`).toBe(e.sensor_id_type);
        expect(`${got.platformIdTypeText} (${got.platformIdType})`).toBe(e.platform_id_type);
        expect(got.sensorId).toBe(e.sensor_uuid.toLowerCase());
        expect(got.platformId).toBe(e.platform_uuid.toLowerCase());
        return;
      case 115:
      case 127:
        for (const k of Object.keys(e)) {
          if (typeof e[k] === 'number') close(got[k], e[k], 1e-12, k);
          else expect(got[k]).toBe(e[k]);
        }
        return;
      case 116:
      case 121:
      case 139:
        expect(got).toEqual(e);
        return;
      case 122:
        expect(got).toEqual({
          codingMethod: e.coding_method,
          codingMethodText: e.coding_method_text,
          overflightCountry: e.overflight_country,
          operatorCountry: e.operator_country,
          countryOfManufacture: e.country_of_manufacture,
        });
        return;
      case 128:
        expect(got).toHaveLength(e.length);
        e.forEach((w: Json, i: number) => {
          expect(got[i].id).toBe(w.id);
          close(got[i].min, w.min_nm, tol);
          close(got[i].max, w.max_nm, tol);
          expect(got[i].name).toBe(w.name);
        });
        return;
      case 130:
        for (const k of ['takeoff', 'recovery']) {
          close(got[k].lat, e[k].lat, tol, `${k}.lat`);
          close(got[k].lon, e[k].lon, tol, `${k}.lon`);
          close(got[k].hae, e[k].hae_m, tol, `${k}.hae`);
        }
        return;
      case 138:
        expect(got.map((p: Json) => [p.id, p.type, p.name])).toEqual(e.map((p: Json) => [p.id, p.type, p.name]));
        expect(got[0].typeText).toBe(e[0].type_text);
        return;
      case 140:
        expect(got).toHaveLength(e.length);
        e.forEach((w: Json, i: number) => {
          const g = got[i];
          expect([g.stationId, g.hardpointId, g.carriageId, g.storeId, g.weaponType]).toEqual([w.station, w.hardpoint, w.carriage, w.store, w.type]);
          expect(w.general_status.startsWith(g.generalStatusText)).toBe(true);
          expect(lower(g.engagementFlags)).toEqual(lower(w.engagement_bits));
        });
        return;
      case 141:
        expect(got).toHaveLength(e.length);
        e.forEach((w: Json, i: number) => {
          const g = got[i];
          expect([g.id, g.order]).toEqual([w.id, w.order]);
          expect(g.infoFlags).toEqual(w.info_bits);
          close(g.location.lat, w.lat, tol);
          close(g.location.lon, w.lon, tol);
          close(g.location.hae, w.hae_m, tol);
        });
        return;
      case 142:
        for (const k of ['azimuth', 'elevation']) {
          close(got[k].start, e[k].start_deg, tol, `${k}.start`);
          close(got[k].range, e[k].range_deg, tol, `${k}.range`);
        }
        expect(got.roll).toBe(e.roll);
        return;
      case 143:
        expect(got.localId).toBe(e.msid);
        return;
    }
  }
  if (v.id === 'st0903.kwiver.t101_vtarget_series') {
    const tolV = v.expected.tolerance;
    expect(got).toHaveLength(2);
    e.forEach((target: Json, i: number) => {
      expect(got[i].targetId).toBe(target.target_id);
      for (const [label, want] of Object.entries(target.items as Record<string, Json>)) {
        if (label.startsWith('101..107')) {
          for (let n = 101; n <= 107; n++) {
            const gv = got[i].tags[n].value;
            expect(gv === null || Object.keys(gv).length === 0).toBe(true);
          }
          continue;
        }
        const n = parseInt(label, 10);
        const g = got[i].tags[n];
        expect(g, label).toBeDefined();
        if (want === 'empty') expect(g.value === null || Object.keys(g.value).length === 0 || g.value === '').toBe(true);
        else if (typeof want === 'number') close(g.value, want, tolV, label);
        else if (label === '8_color_rgb') expect(g.value).toBe(parseInt(want.slice(2), 16));
        else if (label === '21_fpa_index') expect(g.value).toEqual(want);
        else if (label === '23_detection_status') expect(`${g.value} (${g.text.toLowerCase().replace(' - ', ' ')})`).toBe(`4 (active coasting)`);
        else throw new Error(`unchecked ${label}`);
      }
    });
    return;
  }
  if (v.id === 'st0903.kwiver.location_pack') {
    const map: Record<string, string> = {
      lat_deg: 'lat',
      lon_deg: 'lon',
      hae_m: 'hae',
      sigma_east: 'sigmaEast',
      sigma_north: 'sigmaNorth',
      sigma_up: 'sigmaUp',
      rho_east_north: 'rhoEastNorth',
      rho_east_up: 'rhoEastUp',
      rho_north_up: 'rhoNorthUp',
    };
    for (const [k, want] of Object.entries(e as Record<string, number>)) close(got[map[k]!], want, tol, k);
    return;
  }
  if (v.id === 'st0903.kwiver.vmask') {
    expect(got['1'].value).toEqual(e['1_pixel_contour']);
    expect(got['2'].value).toEqual(e['2_bitmask_series'].map((r: Json) => ({ pixel: r.offset, run: r.run })));
    return;
  }
  if (v.id === 'st0903.kwiver.vobject') {
    expect(got['1'].value).toBe(e['1_ontology']);
    expect(got['2'].value).toBe(e['2_ontology_class']);
    expect(got['3'].value).toBe(e['3_ontology_id']);
    close(got['4'].value, e['4_confidence_pct'], 1e-9);
    return;
  }
  throw new Error(`no structured check for ${v.id}`);
}

describe('tag vectors', () => {
  const vectors = V.tag_vectors as Json[];
  it('has the 216 vectors', () => expect(vectors).toHaveLength(216));
  for (const v of vectors) {
    it(`${v.id} ${v.name}`, () => {
      const t = decodeVector(v);
      expect(t, 'tag decoded').toBeDefined();
      const e = v.expected;
      const value = e.value;
      if (value !== null && typeof value === 'object') {
        expect(t.error, 'no error').toBeUndefined();
        checkStructured(v, t);
        return;
      }
      if (value === null) {
        expect(t.value).toBeNull();
        expect(t.error).toMatch(/indicator/);
        return;
      }
      expect(t.error, 'no error').toBeUndefined();
      if (typeof value === 'number') close(t.value, value, e.tolerance ?? 0, v.id);
      else expect(t.value).toBe(value);
      if (e.units && e.units !== 'enum' && !e.units.includes('(')) expect(t.units).toBe(e.units);
      if (e.text !== undefined && !/^0x/i.test(e.text)) expect(t.text?.toLowerCase()).toBe(e.text.toLowerCase());
      if (e.iso8601 !== undefined) expect(isoMicros(t.iso!)).toBe(isoMicros(e.iso8601));
      if (v.tag === 2 && standardOf(v) === 'ST0601') expect(t.iso).toBeDefined();
    });
  }
});

// ---------------------------------------------------------------------------
// Packet vectors

/** Checks an expectation keyed "N Label" against nested tags. */
function checkLabelled(tags: Json, expected: Record<string, Json>, where: string): void {
  for (const [label, want] of Object.entries(expected)) {
    const n = parseInt(label, 10);
    const t = tags[n];
    expect(t, `${where} ${label}`).toBeDefined();
    if (want === '(zero length)') {
      expect(t.value === '' || t.value === null || (typeof t.value === 'object' && Object.keys(t.value).length === 0)).toBe(true);
    } else if (typeof want === 'string' || typeof want === 'number') {
      expect(t.value, `${where} ${label}`).toBe(want);
    } else if ('raw' in want) {
      expect(t.value).toBe(want.raw);
      expect(t.text?.toLowerCase()).toBe(want.text.toLowerCase());
    } else if ('value' in want) {
      expect(t.value, `${where} ${label}`).toBe(want.value);
    } else if (Array.isArray(want)) {
      // ST 0903 VTarget series
      expect(t.value).toHaveLength(want.length);
      want.forEach((w: Json, i: number) => {
        expect(t.value[i].targetId).toBe(w.target_id);
        const { target_id: _id, ...items } = w;
        checkLabelled(t.value[i].tags, items, `${where} target ${i}`);
      });
    } else throw new Error(`unchecked ${label}`);
  }
}

describe('packet vectors', () => {
  for (const pv of V.packet_vectors as Json[]) {
    it(pv.id, () => {
      const packets = decodeKlv(hex(pv.hex));
      expect(packets).toHaveLength(1);
      const p = packets[0]!;
      expect(p.key).toBe(pv.key_hex);
      expect(p.checksumValid).toBe(pv.checksum.valid ?? null);
      expect(p.error).toBeUndefined();
      expect(collectErrors(p.tags)).toEqual([]);
      const tags = plain(p.tags);
      if (pv.standard === 'MISB ST 0601') {
        expect(p.standard).toBe('ST0601');
        for (const [k, e] of Object.entries(pv.expected as Record<string, Json>)) {
          const t = tags[k];
          expect(t, `tag ${k}`).toBeDefined();
          expect(toHex(hex(e.value_hex))).toBe(e.value_hex);
          if (e.value === '(structured/nested; see notes)' || (typeof e.value === 'object' && e.value?.note)) {
            expect(typeof t.value).toBe('object');
          } else if (typeof e.value === 'object' && e.value !== null) {
            checkLabelled(t.value, e.value, `tag ${k}`);
          } else if (k === '143') expect(t.value.localId).toBe(e.value);
          else if (typeof e.value === 'number') close(t.value, e.value, e.tolerance ?? 0, `tag ${k}`);
          else expect(t.value, `tag ${k}`).toBe(e.value);
          if (e.value === null) expect(t.error).toMatch(/indicator/);
          if (e.units && e.units !== 'flags' && e.units !== 'enum' && !e.units.includes('(')) expect(t.units, `units of ${k}`).toBe(e.units);
          if (e.iso8601) expect(isoMicros(t.iso)).toBe(isoMicros(e.iso8601));
        }
        // Order of tags on the wire is not kept, but every tag is there.
        if (pv.tag_order) expect(Object.keys(tags).map(Number).sort((a, b) => a - b)).toEqual([...pv.tag_order].sort((a, b) => a - b));
      } else {
        expect(p.standard).toBe(pv.standard === 'MISB ST 0903' ? 'ST0903' : 'ST0102');
        checkLabelled(tags, pv.expected, pv.id);
      }
    });
  }

  it('bad checksum: lenient reports it and still decodes, strict throws ERR_KLV_CHECKSUM', () => {
    const pv = (V.packet_vectors as Json[]).find((x) => x.id === 'pkt.st0601.klvdata_dynamic_constant_bad_checksum');
    const p = decodeKlv(hex(pv.hex))[0]!;
    expect(p.checksumValid).toBe(false);
    close(p.tags['13']!.value, 60.176822966978335, 1e-9);
    expect(p.tags['3']!.value).toBe('Mission 12');
    let err: unknown;
    try {
      decodeKlv(hex(pv.hex), { strict: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KlvError);
    expect((err as KlvError).code).toBe('ERR_KLV_CHECKSUM');
    expect((err as KlvError).message).toMatch(/stored 0xAA43, computed 0x3E1E/);
  });
});
