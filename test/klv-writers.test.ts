import { describe, expect, it } from 'vitest';
import {
  CsvWriter,
  GeoJsonBuilder,
  ST0601_TABLE,
  decodeKlv,
  encodeKlv,
  packetsToCsv,
  toNdjsonLine,
  type KlvPacket,
} from '../src/klv/index.js';
import { SHARED, hex, isoMicros, loadVectors, pesPackets, plain, type Json } from './klv-helpers.js';

const V = loadVectors();
const vector = (id: string): Uint8Array => hex((V.packet_vectors as Json[]).find((v) => v.id === id).hex);

function streamPackets(file: string): KlvPacket[] {
  return pesPackets(`${SHARED}/samples/kwiver/${file}`, 0x101).flatMap((pes) =>
    decodeKlv(pes.payload, { pid: 0x101, stream: 1, carriage: 'async', pts: pes.pts === null ? null : pes.pts / 90000 }),
  );
}

const h264 = streamPackets('h264_klv.ts');
const aphill = streamPackets('aphill_short.ts');

describe('NDJSON', () => {
  const all = [
    ...(V.packet_vectors as Json[]).flatMap((v) => decodeKlv(hex(v.hex))),
    ...h264,
    ...aphill,
    ...decodeKlv(vector('pkt.st0601.kwiver_full'), { strict: true }),
  ];

  it('each line equals JSON.stringify of the packet, in the contract field order', () => {
    for (const p of all) {
      const line = toNdjsonLine(p);
      expect(line).toBe(JSON.stringify(p));
      expect(line).not.toContain('\n');
      expect(Object.keys(JSON.parse(line)).slice(0, 8)).toEqual(['pts', 'stream', 'pid', 'carriage', 'key', 'standard', 'checksumValid', 'tags']);
    }
  });

  it('stream fields set by the caller (assignment or spread) are written', () => {
    const p = h264[3]!;
    p.pts = 1.5;
    const line = JSON.parse(toNdjsonLine(p));
    expect(line.pts).toBe(1.5);
    expect(line.pid).toBe(0x101);
    expect(line.carriage).toBe('async');
    // A spread copy has no own `tags` but still serialises them.
    const copy = { ...p, pts: 2.25, stream: 4 } as KlvPacket;
    const fromCopy = JSON.parse(toNdjsonLine(copy));
    expect(fromCopy.pts).toBe(2.25);
    expect(fromCopy.stream).toBe(4);
    expect(fromCopy.tags).toEqual(plain(p.tags));
  });

  it('tags replaced by the caller are the ones written', () => {
    const [p] = decodeKlv(vector('pkt.st0601.klvdata_dynamic_only'));
    p!.tags = { 13: { name: 'sensorLatitude', value: 1.25, units: 'deg' } };
    expect(JSON.parse(toNdjsonLine(p!)).tags).toEqual({ 13: { name: 'sensorLatitude', value: 1.25, units: 'deg' } });
  });

  it('repeated tags and error indicators serialise like JSON.stringify', () => {
    const bytes = encodeKlv({
      tags: {
        2: 1_600_000_000_000_000,
        13: { value: null, error: 'error indicator' },
        115: { value: { id: 1, command: 'a "quoted", line\nbreak', timestamp: null }, repeats: [{ value: { id: 2, command: 'b', timestamp: 5 } }] },
      },
    });
    const [p] = decodeKlv(bytes);
    expect(toNdjsonLine(p!)).toBe(JSON.stringify(p));
    const line = JSON.parse(toNdjsonLine(p!));
    expect(line.tags['13']).toEqual({ name: 'sensorLatitude', value: null, units: 'deg', error: 'error indicator' });
    expect(line.tags['115'].repeats[0].value.command).toBe('b');
    expect(line.tags['2'].iso).toBe('2020-09-13T12:26:40.000Z');
  });
});

describe('CSV', () => {
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (c === '"') quoted = false;
        else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') {
        row.push(cell);
        cell = '';
      } else if (c === '\n') {
        row.push(cell);
        rows.push(row);
        row = [];
        cell = '';
      } else cell += c;
    }
    return rows;
  }

  it('packetsToCsv: one row per packet, a column per scalar tag seen', () => {
    const rows = parseCsv(packetsToCsv(h264));
    const header = rows[0]!;
    expect(rows).toHaveLength(31);
    expect(header.slice(0, 7)).toEqual(['time', 'pts', 'stream', 'pid', 'carriage', 'standard', 'checksumValid']);
    for (const name of ['precisionTimeStamp', 'sensorLatitude', 'sensorLongitude', 'platformDesignation', 'icingDetected', 'targetWidthExtended']) {
      expect(header).toContain(name);
    }
    // Nested sets, lists and packs have no column.
    for (const name of ['securityLocalSet', 'vmtiLocalSet', 'waypointList', 'imageHorizonPixelPack']) expect(header).not.toContain(name);
    const lat = header.indexOf('sensorLatitude');
    rows.slice(1).forEach((r, i) => {
      expect(r).toHaveLength(header.length);
      expect(Number(r[lat])).toBe(h264[i]!.tags['13']!.value);
      expect(isoMicros(r[0]!)).toBe(h264[i]!.tags['2']!.value);
    });
  });

  it('quotes separators, quotes and newlines; names shared by two standards get prefixed headers', () => {
    const [a] = decodeKlv(encodeKlv({ tags: { 2: 1, 3: 'a,"b"\nc' } }));
    const [b] = decodeKlv(encodeKlv({ standard: 'ST0903', tags: { 2: 2, 3: 'vmti' } }));
    const rows = parseCsv(packetsToCsv([a!, b!]));
    // Names unique across the columns stay bare; shared ones get the standard.
    expect(rows[0]).toContain('missionId');
    expect(rows[0]).toContain('vmtiSystemName');
    expect(rows[0]).toContain('ST0601.precisionTimeStamp');
    expect(rows[0]).toContain('ST0903.precisionTimeStamp');
    expect(rows[1]![rows[0]!.indexOf('missionId')]).toBe('a,"b"\nc');
    expect(rows[2]![rows[0]!.indexOf('vmtiSystemName')]).toBe('vmti');
    expect(rows[1]![rows[0]!.indexOf('vmtiSystemName')]).toBe('');
  });

  it('CsvWriter streams with the ST 0601 scalar columns fixed up front', () => {
    const w = new CsvWriter();
    const header = parseCsv(w.header())[0]!;
    const scalars = ST0601_TABLE.list.filter((r) => r.kind.scalar && r.tag !== 1).map((r) => r.name);
    expect(header).toEqual(['time', 'pts', 'stream', 'pid', 'carriage', 'standard', 'checksumValid', ...scalars]);
    const text = w.header() + h264.map((p) => w.row(p)).join('');
    const rows = parseCsv(text);
    expect(rows).toHaveLength(31);
    expect(Number(rows[5]![header.indexOf('frameCenterLatitude')])).toBe(h264[4]!.tags['23']!.value);
    const narrow = new CsvWriter([13, 'sensorLongitude']);
    expect(parseCsv(narrow.header())[0]!.slice(7)).toEqual(['sensorLatitude', 'sensorLongitude']);
    expect(() => new CsvWriter(['noSuchTag'])).toThrow(/noSuchTag/);
  });
});

describe('GeoJSON', () => {
  it('sensor track, footprints from full corners, and frame centres at full precision', () => {
    const g = new GeoJsonBuilder();
    for (const p of h264) g.add(p);
    const fc = plain(g.toFeatureCollection());
    expect(fc.type).toBe('FeatureCollection');
    const track = fc.features.filter((f: Json) => f.properties.kind === 'sensorTrack');
    const footprints = fc.features.filter((f: Json) => f.properties.kind === 'footprint');
    const centers = fc.features.filter((f: Json) => f.properties.kind === 'frameCenter');
    expect(track).toHaveLength(1);
    expect(footprints).toHaveLength(30);
    expect(centers).toHaveLength(30);
    expect(track[0].geometry.type).toBe('LineString');
    expect(track[0].geometry.coordinates).toHaveLength(30);
    expect(track[0].properties.altitude).toBe('ellipsoid');
    h264.forEach((p, i) => {
      const t = p.tags;
      // Heights above the ellipsoid (RFC 7946's datum) come first: tag 104, then 75; 78 for the centre.
      expect(track[0].geometry.coordinates[i]).toEqual([t['14']!.value, t['13']!.value, (t['104'] ?? t['75'] ?? t['15'])!.value]);
      expect(centers[i].geometry.coordinates).toEqual([t['24']!.value, t['23']!.value, (t['78'] ?? t['25'])!.value]);
      expect(centers[i].properties.altitude).toBe(t['78'] ? 'ellipsoid' : 'mean sea level');
      const ring = footprints[i].geometry.coordinates[0];
      expect(footprints[i].properties.source).toBe('corners');
      expect(footprints[i].properties.checksumValid).toBe(true);
      expect(ring).toHaveLength(5);
      expect(ring[4]).toEqual(ring[0]);
      const corners = new Set(ring.slice(0, 4).map((c: number[]) => c.join(',')));
      for (let k = 0; k < 4; k++) expect(corners.has(`${t[String(83 + 2 * k)]!.value},${t[String(82 + 2 * k)]!.value}`)).toBe(true);
      // RFC 7946: exterior rings are counter-clockwise.
      let area = 0;
      for (let k = 0; k < 4; k++) area += ring[k][0] * ring[k + 1][1] - ring[k + 1][0] * ring[k][1];
      expect(area).toBeGreaterThan(0);
    });
    expect(track[0].properties.times[0]).toBe('2008-10-24T00:13:29.913Z');
  });

  it('offset corners are added to the frame centre; bad checksums are kept and flagged', () => {
    const g = new GeoJsonBuilder();
    const [offsets] = decodeKlv(vector('pkt.st0601.qgisfmv_klv_metadata_test_sync_ls0'));
    const [bad] = decodeKlv(vector('pkt.st0601.klvdata_dynamic_constant_bad_checksum'));
    g.add(offsets!).add(bad!);
    const fc = plain(g.toFeatureCollection());
    const fp = fc.features.filter((f: Json) => f.properties.kind === 'footprint');
    expect(fp).toHaveLength(1);
    expect(fp[0].properties.source).toBe('offsets');
    const t = offsets!.tags;
    const lat1 = (t['23']!.value as number) + (t['26']!.value as number);
    const lon1 = (t['24']!.value as number) + (t['27']!.value as number);
    expect(fp[0].geometry.coordinates[0].map((c: number[]) => c.join(','))).toContain(`${lon1},${lat1}`);
    const centers = fc.features.filter((f: Json) => f.properties.kind === 'frameCenter');
    expect(centers.map((c: Json) => c.properties.checksumValid)).toEqual([true, false]);
    expect(g.count).toBe(2);
  });

  it('EG 0104 packets give a track and corner footprints too', () => {
    const g = new GeoJsonBuilder();
    for (const p of aphill) g.add(p);
    const fc = plain(g.toFeatureCollection());
    expect(fc.features.filter((f: Json) => f.properties.kind === 'footprint')).toHaveLength(48);
    const track = fc.features.find((f: Json) => f.properties.kind === 'sensorTrack');
    expect(track.geometry.coordinates).toHaveLength(48);
    expect(track.geometry.coordinates[0]).toEqual([-77.366859, 38.252336, 1054.4000244140625]);
    expect(track.properties.pts[0]).toBeGreaterThan(0);
  });

  it('error indicators and missing coordinates produce no geometry', () => {
    const g = new GeoJsonBuilder();
    g.add(decodeKlv(vector('pkt.st0601.klvdata_realflight_pkt0'))[0]!);
    const fc = g.toFeatureCollection();
    // Frame centre and full corners are error indicators in this packet.
    expect(fc.features.filter((f) => f.properties.kind !== 'sensorTrack')).toHaveLength(0);
    expect(fc.features.filter((f) => f.properties.kind === 'sensorTrack')).toHaveLength(1);
    expect(fc.features[0]!.geometry.type).toBe('Point');
  });
});
