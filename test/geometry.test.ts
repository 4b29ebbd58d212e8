import { describe, expect, it } from 'vitest';
import { syntheticFlight } from '../src/jobs/synthetic-flight.js';
import { decodeKlv, toNdjsonLine } from '../src/klv/index.js';
import {
  GeometryError,
  GeometryFilter,
  coverageArea,
  frameFromLine,
  parseQueryGeometry,
  pointInRings,
  queryFrames,
  telemetryExtent,
  timeSpan,
  type FrameTelemetry,
  type Pair,
} from '../src/geometry/index.js';

/** The flight as the ingest writes it to klv.ndjson, read back as frames. */
function flightLines(options: Parameters<typeof syntheticFlight>[0], drop: number[] = []): string[] {
  return syntheticFlight(options).map((u, i) => {
    const line = JSON.parse(toNdjsonLine(decodeKlv(u.data, { pts: u.seconds })[0]!)) as { tags: Record<string, unknown> };
    for (const k of drop) delete line.tags[String(k)];
    void i;
    return JSON.stringify(line);
  });
}

function framesOf(lines: string[]): FrameTelemetry[] {
  return lines.map(frameFromLine).filter((f): f is FrameTelemetry => f !== null);
}

const METRES_PER_DEGREE = 111_320;
const metres = (a: readonly number[], b: readonly number[]) => Math.hypot((a[0]! - b[0]!) * Math.cos((a[1]! * Math.PI) / 180), a[1]! - b[1]!) * METRES_PER_DEGREE;

describe('geometry from decoded ST 0601', () => {
  const frames = framesOf(flightLines({ durationSeconds: 20 }));

  it('reads full corners (tags 82-89) in ST 0601 order, time stamps in ms', () => {
    expect(frames).toHaveLength(200);
    expect(frames.every((f) => f.footprintSource === 'corners')).toBe(true);
    const truth = syntheticFlight({ durationSeconds: 20 });
    expect(frames[0]!.time).toBe(Date.UTC(2024, 5, 1, 16));
    expect(frames[199]!.time).toBe(Date.UTC(2024, 5, 1, 16) + 19_900);
    expect(timeSpan(frames)).toEqual([Date.UTC(2024, 5, 1, 16), Date.UTC(2024, 5, 1, 16) + 19_900]);
    expect(truth).toHaveLength(200);
    const ext = telemetryExtent(frames)!;
    for (const f of frames) for (const [x, y] of f.corners!) expect(x >= ext.xmin && x <= ext.xmax && y >= ext.ymin && y <= ext.ymax).toBe(true);
  });

  it('offset corners (tags 26-33) are added to the frame centre', () => {
    const line = JSON.parse(flightLines({ durationSeconds: 0.1 })[0]!) as { tags: Record<string, { name: string; value: number }> };
    const full = [82, 83, 84, 85, 86, 87, 88, 89].map((k) => line.tags[k]!.value);
    const clat = line.tags[23]!.value;
    const clon = line.tags[24]!.value;
    for (let i = 0; i < 8; i++) {
      line.tags[26 + i] = { name: 'offset', value: full[i]! - (i % 2 === 0 ? clat : clon) };
      delete line.tags[82 + i];
    }
    const f = frameFromLine(JSON.stringify(line))!;
    expect(f.footprintSource).toBe('offsetCorners');
    for (let c = 0; c < 4; c++) expect(metres(f.corners![c]!, [full[2 * c + 1]!, full[2 * c]!])).toBeLessThan(0.01);
  });

  it('without corners, the sensor model projects the view onto the ground near the encoded one', () => {
    // A straight flight: the simulated corners ignore bank, so compare where the aircraft is level.
    const withCorners = framesOf(flightLines({ durationSeconds: 2, turnRate: 0 }));
    const modelled = framesOf(flightLines({ durationSeconds: 2, turnRate: 0 }, [23, 24, 25, 82, 83, 84, 85, 86, 87, 88, 89]));
    expect(modelled.every((f) => f.footprintSource === 'sensorModel')).toBe(true);
    for (let i = 0; i < modelled.length; i++) {
      // Ground at sea level without tag 25; the clip flies 2600 m up over ground at 1850 m, so compare shapes, not places.
      expect(modelled[i]!.corners).toHaveLength(4);
    }
    const withGround = framesOf(flightLines({ durationSeconds: 2, turnRate: 0 }, [82, 83, 84, 85, 86, 87, 88, 89]));
    for (let i = 0; i < withGround.length; i++) {
      const f = withGround[i]!;
      expect(f.footprintSource).toBe('sensorModel');
      // Pitch 1.5° is the only attitude the simulated corners leave out: a few tens of metres at 1.3 km.
      for (let c = 0; c < 4; c++) expect(metres(f.corners![c]!, withCorners[i]!.corners![c]!)).toBeLessThan(60);
    }
  });

  it('coverage area contains every footprint; ArcGIS rings are clockwise', async () => {
    const area = (await coverageArea(frames))!;
    expect(area.spatialReference).toEqual({ wkid: 4326 });
    const rings = area.rings as Pair[][];
    for (const f of frames) for (const [x, y] of f.corners!) expect(pointInRings(x, y, rings)).toBe(true);
    // Simplified: fewer vertices than the footprints have corners.
    expect(rings.flat().length).toBeLessThan(frames.length * 4);
    const outer = rings[0]!;
    let a = 0;
    for (let i = 0, j = outer.length - 1; i < outer.length; j = i++) a += outer[j]![0] * outer[i]![1] - outer[i]![0] * outer[j]![1];
    expect(a).toBeLessThan(0);
  });

  it('queries by geometry and time', () => {
    const c = frames[50]!.center!;
    const hit = queryFrames(frames, { filter: new GeometryFilter(parseQueryGeometry({ x: c[0], y: c[1] })), time: null, maxFrames: 1000 });
    expect(hit.count).toBeGreaterThan(0);
    expect(hit.frames.some((f) => f.time === frames[50]!.time)).toBe(true);
    expect(hit.timeRanges.length).toBeGreaterThan(0);
    const far = { xmin: 10, ymin: 10, xmax: 11, ymax: 11 };
    expect(queryFrames(frames, { filter: new GeometryFilter(parseQueryGeometry(far)), time: null, maxFrames: 10 })).toEqual({ count: 0, exceededTransferLimit: false, timeRanges: [], frames: [] });
    const t0 = frames[0]!.time!;
    const span = queryFrames(frames, { filter: null, time: [t0 + 1000, t0 + 1900], maxFrames: 5 });
    expect(span.count).toBe(10);
    expect(span.frames).toHaveLength(5);
    expect(span.exceededTransferLimit).toBe(true);
    expect(span.timeRanges).toEqual([[t0 + 1000, t0 + 1900]]);
    expect(queryFrames(frames, { filter: null, time: [0, 1000], maxFrames: 5 }).count).toBe(0);
    const line = parseQueryGeometry({ paths: [[[c[0] - 0.1, c[1]], [c[0] + 0.1, c[1]]]] });
    expect(queryFrames(frames, { filter: new GeometryFilter(line), time: null, maxFrames: 0 }).count).toBeGreaterThan(0);
  });

  it('bad geometry names the field', () => {
    expect(() => parseQueryGeometry('{nope')).toThrow(GeometryError);
    expect(() => parseQueryGeometry('{nope')).toThrow(/^geometry: is not valid JSON/);
    expect(() => parseQueryGeometry({ rings: [[[0, 0], [1, 'a'], [1, 1]]] })).toThrow(/^geometry\.rings\[0\]\[1\]\[1\]: must be a finite number/);
    expect(() => parseQueryGeometry({ x: 1, y: 2 }, 'esriGeometryCircle')).toThrow(/^geometryType: must be one of/);
    expect(() => parseQueryGeometry({ x: 1, y: 2, spatialReference: { wkid: 3857 } })).toThrow(/^geometry\.spatialReference/);
    expect(() => parseQueryGeometry({ xmin: 2, ymin: 0, xmax: 1, ymax: 1 })).toThrow(/^geometry\.xmin/);
    expect(parseQueryGeometry('-104.8,41.1').type).toBe('esriGeometryPoint');
    expect(parseQueryGeometry('1,2,3,4', 'envelope').type).toBe('esriGeometryEnvelope');
  });
});
