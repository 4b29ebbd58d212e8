// Framesets on real ingests: each frame's JPEG from the layer's video and its corners from the KLV
// at that time, checked against the simulated flight's encoded corners (within 1 m); the KWIVER
// sample (KLV without PTS, timed by its stamps); times past the video; bad input; async; expiry.
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticFlight } from '../src/jobs/synthetic-flight.js';
import { decodeKlvUnit } from '../src/klv/index.js';
import { metres, startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
const FLIGHT = '/services/Flights/VideoServer/0';
type Corner = { x: number; y: number; z: number; spatialReference: { wkid: number } };
type Frame = { timestamp: number; time: number | null; url: string; width: number; height: number; corners: Record<'topLeft' | 'topRight' | 'bottomRight' | 'bottomLeft', Corner> | null };

beforeAll(async () => {
  t = await startTestServer('server-frameset');
  expect((await t.addLayer('Kwiver', 'h264_klv.ts')).status).toBe('COMPLETED');
  expect((await t.addLayer('Flights', 'Flight.ts')).status).toBe('COMPLETED');
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

const frameset = (path: string, form: Record<string, string>) => t.api(`${path}/frameset`, { form: { f: 'json', ...form } });

describe('frameset', () => {
  it('every corner is within 1 m of the flight packet encoded for that time; the images are the video frames', async () => {
    const times = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5];
    const r = await frameset(FLIGHT, { timestamps: times.join(',') });
    expect(r.body).toMatchObject({ status: 'completed', serviceName: 'Flights', layerId: 0, results: { total: times.length } });
    expect(r.body.framesetId).toMatch(/^f[0-9a-f]{32}$/);
    expect(r.body.expires as number).toBeGreaterThan(Date.now() + 59 * 60_000);
    const packets = syntheticFlight({ durationSeconds: 4 }).map((u) => ({ seconds: u.seconds, tags: decodeKlvUnit(u.data).tags as Record<string, { value: number }> }));
    const frames = (r.body.results as { frames: Frame[] }).frames;
    for (const frame of frames) {
      const p = packets.find((q) => Math.abs(q.seconds - frame.timestamp) < 1e-6)!;
      const v = (k: number) => p.tags[String(k)]!.value;
      const expected = { topLeft: [v(83), v(82)], topRight: [v(85), v(84)], bottomRight: [v(87), v(86)], bottomLeft: [v(89), v(88)] };
      for (const [name, at] of Object.entries(expected)) {
        const c = frame.corners![name as keyof typeof expected];
        expect(metres([c.x, c.y], at), `${name} at ${frame.timestamp} s`).toBeLessThan(1);
        expect(c.spatialReference).toEqual({ wkid: 4326 });
        expect(c.z).toBeCloseTo(1850, 0);
      }
      expect(frame.time).toBe(Math.round(v(2) / 1000));
      expect(frame).toMatchObject({ width: 320, height: 240 });
      const img = await fetch(`${frame.url}?token=${encodeURIComponent(t.token)}`);
      expect(img.status).toBe(200);
      expect(img.headers.get('content-type')).toBe('image/jpeg');
      const bytes = Buffer.from(await img.arrayBuffer());
      expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
    }
    // Different times give different pictures (the test pattern moves).
    const a = Buffer.from(await (await fetch(`${frames[0]!.url}?token=${t.token}`)).arrayBuffer());
    const b = Buffer.from(await (await fetch(`${frames[7]!.url}?token=${t.token}`)).arrayBuffer());
    expect(a.equals(b)).toBe(false);
  });

  it('timeRange {start, end, interval}; times past the video are left out, not an error', async () => {
    const r = await frameset(FLIGHT, { timeRange: JSON.stringify({ start: 3, end: 6, interval: 0.5 }) });
    const frames = (r.body.results as { frames: Frame[] }).frames;
    expect(frames.map((f) => f.timestamp)).toEqual([3, 3.5, 4]);
    const past = await frameset(FLIGHT, { timestamps: '100,200' });
    expect(past.body.results).toEqual({ total: 0, frames: [] });
  });

  it('the KWIVER sample: the packet in force is the last one at or before the time', async () => {
    const r = await frameset('/services/Kwiver/VideoServer/0', { timestamps: '0,0.5' });
    const frames = (r.body.results as { frames: Frame[] }).frames;
    expect(frames).toHaveLength(2);
    // The sample's packets as the ingest decoded them: presentation time and stamp.
    const packets = readFileSync(join(t.data, 'services', 'Kwiver', '0', 'klv.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pts: number; tags: Record<string, { value: number }> })
      .map((p) => ({ at: p.pts - 0.000011111111111111112, time: Math.round(p.tags['2']!.value / 1000) }));
    for (const frame of frames) {
      const inForce = packets.filter((p) => p.at <= frame.timestamp + 1e-3).at(-1)!;
      expect(frame.time).toBe(inForce.time);
    }
    expect(frames[1]!.time! - frames[0]!.time!).toBeGreaterThan(300);
    expect(frames[0]!.corners!.topLeft.x).toBeCloseTo(29.158, 2);
    expect(frames[0]).toMatchObject({ width: 160, height: 120 });
  });

  it('bad input is refused with the field named', async () => {
    const details = async (form: Record<string, string>) => ((await frameset(FLIGHT, form)).body.error as { code: number; details: string[] });
    expect(await details({})).toEqual({ code: 400, message: 'Unable to create the frameset.', details: ['Give either timestamps or timeRange {start, end, interval}.'] });
    expect((await details({ timestamps: '1', timeRange: '{"start":0,"end":1}' })).details[0]).toMatch(/either timestamps or timeRange/);
    expect((await details({ timestamps: '1,-2' })).details[0]).toMatch(/^timestamps\[1\] must be a number of seconds from 0/);
    expect((await details({ timeRange: '{"start":0,"end' })).details[0]).toBe('timeRange is not valid JSON.');
    expect((await details({ timeRange: '{"start":5,"end":1}' })).details[0]).toMatch(/timeRange.end must not be before/);
    expect((await details({ timeRange: '{"start":0,"end":1000,"interval":0.1}' })).details[0]).toMatch(/at most 200/);
    expect((await details({ timestamps: '1', expiry: 'soon' })).details[0]).toMatch(/^expiry must be minutes/);
    expect((await t.api('/services/Flights/VideoServer/9/frameset', { form: { f: 'json', timestamps: '1' } })).body.error).toMatchObject({ code: 404 });
  });

  it('async answers at once and the status URL gives the frames; an expired frameset is removed', async () => {
    const r = await frameset(FLIGHT, { timestamps: '1', async: 'true', expiry: '0.02' });
    expect(r.body).toMatchObject({ status: 'processing' });
    expect(r.body.jobId).toBe(`j${String(r.body.framesetId).slice(1).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`);
    const statusUrl = String(r.body.statusUrl);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      status = (await (await fetch(`${statusUrl}?f=json&token=${t.token}`)).json()) as Record<string, unknown>;
      if (status.status !== 'processing') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(status).toMatchObject({ status: 'completed', results: { total: 1 } });
    const dir = join(t.data, 'exports', String(r.body.framesetId));
    expect(existsSync(dir)).toBe(true);
    // 0.02 minutes: gone 1.2 s after it was made.
    await new Promise((res) => setTimeout(res, Math.max(0, (r.body.expires as number) - Date.now()) + 300));
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(t.data, 'exports')).includes(String(r.body.framesetId))).toBe(false);
    const gone = (await (await fetch(`${statusUrl}?f=json&token=${t.token}`)).json()) as Record<string, unknown>;
    expect(gone.error).toMatchObject({ code: 404 });
    expect((await t.api(`/jobs/job/${String(r.body.jobId)}?f=json`)).body.error).toMatchObject({ code: 404 });
  });

  it('async also gives a job: GET /jobs/job/:jobId has the job resource keys, its progress, then the frames', async () => {
    const times = [0, 0.5, 1, 1.5, 2, 2.5];
    const r = await frameset(FLIGHT, { timestamps: times.join(','), async: 'true' });
    const jobId = String(r.body.jobId);
    expect(jobId).toMatch(/^j[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const percents: number[] = [];
    let job: Record<string, any> = {};
    for (let i = 0; i < 500; i++) {
      job = (await t.api(`/jobs/job/${jobId}?f=json`)).body;
      percents.push(job.customAttributes.progress.percent);
      if (job.status !== 'IN PROGRESS') break;
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(Object.keys(job)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
    expect(job).toMatchObject({
      jobId,
      type: 'Export Frameset',
      status: 'COMPLETED',
      username: 'admin',
      messages: ['Starting Frameset Export', 'Frameset Export Complete'],
      inputs: { exportId: r.body.framesetId, serviceUrl: `${t.server.restUrl}/services/Flights/VideoServer` },
      results: { layerId: 0, layerName: 'Flight', serviceName: 'Flights', statusUrl: r.body.statusUrl },
      customAttributes: { progress: { percent: 100, done: times.length, total: times.length }, error: null },
    });
    expect(job.inputs.serviceItemId).toMatch(/^[0-9a-f]{32}$/);
    // Progress goes up frame by frame (six frames take far longer than one poll).
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    // The job's result is the status URL's.
    const status = (await (await fetch(`${r.body.statusUrl}?f=json&token=${t.token}`)).json()) as Record<string, unknown>;
    expect(job.results.export).toEqual(status.results);
    expect(job.results.export.total).toBe(times.length);
    // An export cannot be cancelled; an unknown id is still 404.
    const cancel = await t.api(`/jobs/job/${jobId}/cancel`, { form: { f: 'json' } });
    expect(cancel.body.error).toMatchObject({ code: 409, details: [expect.stringMatching(/exports cannot be cancelled/)] });
    expect((await t.api('/jobs/job/j00000000-0000-0000-0000-000000000000?f=json')).body.error).toMatchObject({ code: 404 });
  }, 60_000);

  it('an async frameset that fails is a FAILED job with the reason', async () => {
    // The layer's rendition playlist goes missing between the request and the work.
    const playlist = join(t.data, 'services', 'Kwiver', '0', '120p', '120p.m3u8');
    renameSync(playlist, `${playlist}.away`);
    try {
      const r = await frameset('/services/Kwiver/VideoServer/0', { timestamps: '0.5', async: 'true' });
      let job: Record<string, any> = {};
      for (let i = 0; i < 200 && job.status !== 'FAILED' && job.status !== 'COMPLETED'; i++) {
        if (i > 0) await new Promise((res) => setTimeout(res, 10));
        job = (await t.api(`/jobs/job/${String(r.body.jobId)}?f=json`)).body;
      }
      expect(job).toMatchObject({ status: 'FAILED', messages: ['Starting Frameset Export', 'Frameset Export Failed'], customAttributes: { error: { code: 500, message: 'Unable to create the frameset.' } } });
      expect(job.customAttributes.error.details[0]).toMatch(/120p\.m3u8/);
      expect(job.results.export).toBeUndefined();
    } finally {
      renameSync(`${playlist}.away`, playlist);
    }
  });
});
