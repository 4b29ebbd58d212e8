// Coverage and query on real ingests, checked against the simulated flight's encoded corners and
// the KWIVER sample, with bad geometry and times outside the layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointInRings, type Pair } from '../src/geometry/index.js';
import { syntheticFlight } from '../src/jobs/synthetic-flight.js';
import { decodeKlvUnit } from '../src/klv/index.js';
import { metres, startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
const FLIGHT = '/services/Flights/VideoServer/0';

/** The flight's packets as encoded: time (ms) and corners 1-4 [lon, lat]. */
function encodedFlight(): Array<{ time: number; corners: Pair[]; sensor: Pair }> {
  return syntheticFlight({ durationSeconds: 4 }).map((u) => {
    const tags = decodeKlvUnit(u.data).tags as Record<string, { value: number }>;
    const v = (k: number) => tags[String(k)]!.value;
    return { time: Math.round(v(2) / 1000), corners: [82, 84, 86, 88].map((k) => [v(k + 1), v(k)] as Pair), sensor: [v(14), v(13)] };
  });
}

beforeAll(async () => {
  t = await startTestServer('server-geometry');
  expect((await t.addLayer('Kwiver', 'h264_klv.ts')).status).toBe('COMPLETED');
  expect((await t.addLayer('Flights', 'Flight.ts')).status).toBe('COMPLETED');
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

describe('coverage', () => {
  it('the coverage area contains every footprint; the start telemetry is the first packet', async () => {
    const r = await t.api(`${FLIGHT}/coverage?f=json`);
    const body = r.body as { area: { rings: number[][][]; spatialReference: unknown }; sensorPoints: { points: number[][]; hasZ: boolean; hasM: boolean }; telemetry: { start: Record<string, any> }; computedFrom: string[] };
    expect(body.computedFrom).toEqual(['corners']);
    expect(body.area.spatialReference).toEqual({ wkid: 4326 });
    const flight = encodedFlight();
    const rings = body.area.rings as Pair[][];
    for (const p of flight) for (const c of p.corners) expect(pointInRings(c[0], c[1], rings)).toBe(true);
    // The sensor track, time as m.
    expect(body.sensorPoints).toMatchObject({ hasZ: true, hasM: true, spatialReference: { wkid: 4326 } });
    expect(body.sensorPoints.points).toHaveLength(flight.length);
    expect(body.sensorPoints.points[0]![3]).toBe(flight[0]!.time);
    expect(metres(body.sensorPoints.points[0]!, flight[0]!.sensor)).toBeLessThan(1);
    // telemetry.start: what the JS SDK reads.
    const start = body.telemetry.start;
    const outline = start.frameOutline.rings[0] as number[][];
    expect(outline).toHaveLength(5);
    for (const c of flight[0]!.corners) expect(Math.min(...outline.map((p) => metres(p, c)))).toBeLessThan(1);
    expect(start.sensor).toMatchObject({ spatialReference: { wkid: 4326 } });
    expect(metres([start.sensor.x, start.sensor.y], flight[0]!.sensor)).toBeLessThan(1);
    expect(start.frameCenter.z).toBeCloseTo(1850, 0);
  });

  it('?type=telemetry and ?type=sensorPoints give one part; other types are refused', async () => {
    const tel = await t.api(`${FLIGHT}/coverage?f=json&type=telemetry`);
    expect(Object.keys(tel.body).sort()).toEqual(['computedFrom', 'footprints', 'frames', 'telemetry']);
    const sp = await t.api(`${FLIGHT}/coverage?f=json&type=sensorPoints`);
    expect(Object.keys(sp.body).sort()).toEqual(['computedFrom', 'footprints', 'frames', 'sensorPoints']);
    const bad = await t.api(`${FLIGHT}/coverage?f=json&type=area51`);
    expect(bad.body.error).toMatchObject({ code: 400, details: ["type must be telemetry or sensorPoints, not 'area51'."] });
    expect((await t.api('/services/Flights/VideoServer/3/coverage?f=json')).body.error).toMatchObject({ code: 404 });
  });

  it('the KWIVER sample has a coverage area around its frames', async () => {
    const r = await t.api('/services/Kwiver/VideoServer/0/coverage?f=json');
    const area = r.body.area as { rings: number[][][] };
    expect(area.rings.length).toBeGreaterThan(0);
    for (const ring of area.rings) for (const [x, y] of ring) {
      expect(x).toBeGreaterThan(29);
      expect(x).toBeLessThan(29.3);
      expect(y).toBeGreaterThan(-10.7);
      expect(y).toBeLessThan(-10.4);
    }
  });
});

describe('query', () => {
  it('a polygon over one footprint finds the frames that meet it; one that misses the flight finds nothing', async () => {
    const flight = encodedFlight();
    const mid = flight[20]!;
    const cx = mid.corners.reduce((s, c) => s + c[0], 0) / 4;
    const cy = mid.corners.reduce((s, c) => s + c[1], 0) / 4;
    const d = 0.0002;
    const hit = await t.api(`${FLIGHT}/query`, {
      form: { f: 'json', geometryType: 'esriGeometryPolygon', spatialRel: 'esriSpatialRelIntersects', geometry: JSON.stringify({ rings: [[[cx - d, cy - d], [cx - d, cy + d], [cx + d, cy + d], [cx + d, cy - d], [cx - d, cy - d]]], spatialReference: { wkid: 4326 } }) },
    });
    const count = hit.body.count as number;
    expect(count).toBeGreaterThan(0);
    const times = (hit.body.frames as Array<{ time: number }>).map((f) => f.time);
    expect(times).toContain(mid.time);
    // Every frame whose encoded footprint holds the point is in the answer.
    for (const p of flight) if (pointInRings(cx, cy, [[...p.corners, p.corners[0]!]])) expect(times).toContain(p.time);
    expect(hit.body.timeRanges).toEqual(expect.arrayContaining([expect.any(Array)]));
    expect(hit.body.computedFrom).toEqual(['corners']);
    // Far away (Denver), as a polygon and as an envelope: nothing, and not an error.
    const miss = await t.api(`${FLIGHT}/query`, { form: { f: 'json', geometry: JSON.stringify({ rings: [[[-105, 39.7], [-105, 39.8], [-104.9, 39.8], [-104.9, 39.7], [-105, 39.7]]] }) } });
    expect(miss.body).toMatchObject({ count: 0, frames: [], timeRanges: [] });
    const env = await t.api(`${FLIGHT}/query`, { form: { f: 'json', geometryType: 'esriGeometryEnvelope', geometry: '-105,39.7,-104.9,39.8' } });
    expect(env.body).toMatchObject({ count: 0 });
  });

  it('a time span selects frames by precision time stamp; outside the layer it is empty, not an error', async () => {
    const flight = encodedFlight();
    const r = await t.api(`${FLIGHT}/query`, { form: { f: 'json', time: `${flight[10]!.time},${flight[19]!.time}` } });
    expect(r.body.count).toBe(10);
    expect(r.body.timeRanges).toEqual([[flight[10]!.time, flight[19]!.time]]);
    const before = await t.api(`${FLIGHT}/query`, { form: { f: 'json', time: '0,1000' } });
    expect(before.body).toMatchObject({ count: 0, frames: [] });
    const open = await t.api(`${FLIGHT}/query?f=json&time=${flight[35]!.time},null`);
    expect(open.body.count).toBe(5);
    const limited = await t.api(`${FLIGHT}/query`, { form: { f: 'json', maxFrames: '3' } });
    expect(limited.body).toMatchObject({ count: 40, exceededTransferLimit: true });
    expect(limited.body.frames).toHaveLength(3);
  });

  it('bad geometry, relations and times are 400 errors naming the field', async () => {
    const q = (form: Record<string, string>) => t.api(`${FLIGHT}/query`, { form: { f: 'json', ...form } });
    const details = async (form: Record<string, string>) => ((await q(form)).body.error as { code: number; details: string[] });
    expect(await details({ geometry: '{"rings": [[[1,2],[3' })).toEqual({ code: 400, message: 'Unable to perform query.', details: ['geometry: is not valid JSON'] });
    expect((await details({ geometry: JSON.stringify({ rings: [[[0, 0], [1, 'a'], [1, 1]]] }) })).details[0]).toMatch(/^geometry\.rings\[0\]\[1\]\[1\]: must be a finite number/);
    expect((await details({ geometry: JSON.stringify({ x: 0, y: 95 }) })).details[0]).toMatch(/^geometry\[1\]: latitude 95/);
    expect((await details({ geometry: '{"x":1,"y":2}', geometryType: 'esriGeometryCircle' })).details[0]).toMatch(/^geometryType: must be one of/);
    expect((await details({ geometry: '{"x":1,"y":2}', spatialRel: 'esriSpatialRelWithin' })).details[0]).toMatch(/^spatialRel: only esriSpatialRelIntersects/);
    expect((await details({ geometry: JSON.stringify({ x: 1, y: 2, spatialReference: { wkid: 3857 } }) })).details[0]).toMatch(/^geometry\.spatialReference: only WGS 84/);
    expect((await details({ time: 'yesterday' })).details[0]).toMatch(/^time: start 'yesterday'/);
    expect((await details({ time: '5,1' })).details[0]).toBe('time: start is after end');
    expect((await details({ maxFrames: '-1' })).details[0]).toMatch(/^maxFrames:/);
    // A JSON body with the geometry as an object works as well as form text.
    const json = await t.api(`${FLIGHT}/query`, { json: { f: 'json', geometry: { xmin: -180, ymin: -90, xmax: 180, ymax: 90 } } });
    expect(json.body.count).toBe(40);
  });
});
