// Clip export from a real ingest of a 10 s flight (segments at 0, 4 and 8 s): TS clips are the
// rendition's own segments, cut on IDRs and keeping the KLV; MP4 clips are encoded once with the
// KLV as emsg boxes and a sidecar; quality, format and range checks; async; expiry.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRawUnit, extractKlvUnits, probe } from '../src/index.js';
import { flightClip } from './jobs-fixtures.js';
import { startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
const LAYER = '/services/Long/VideoServer/0';
const clip = (form: Record<string, string>) => t.api(`${LAYER}/clip`, { form: { f: 'json', ...form } });
const range = (start: number, end: number) => JSON.stringify({ start, end });

async function download(url: string, name: string): Promise<string> {
  const res = await fetch(`${url}?token=${encodeURIComponent(t.token)}`);
  expect(res.status).toBe(200);
  const path = join(t.dir, name);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

beforeAll(async () => {
  t = await startTestServer('server-clip');
  copyFileSync(await flightClip('Flight10.ts', { durationSeconds: 10 }), join(t.inputRoot, 'Flight10.ts'));
  expect((await t.addLayer('Long', 'Flight10.ts')).status).toBe('COMPLETED');
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

describe('clip export', () => {
  it('TS: the segments covering the range, byte for byte, with their KLV', async () => {
    const r = await clip({ timeRange: range(5, 6) });
    expect(r.body).toMatchObject({ success: true, status: 'completed', results: { format: 'ts', quality: 'SD', rendition: '240p', timeRange: { start: 4, end: 8 }, reencoded: false } });
    const results = r.body.results as { url: string; bytes: number; expiration: number; created: number };
    expect(results.expiration - results.created).toBe(3600_000);
    const path = await download(results.url, 'a.ts');
    const segment = readFileSync(join(t.data, 'services', 'Long', '0', '240p', '240p_00001.ts'));
    expect(readFileSync(path).equals(segment)).toBe(true);
    expect(results.bytes).toBe(segment.length);
    const info = await probe(path);
    expect(info.video).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    expect(info.klv).toHaveLength(1);
    // The KLV of seconds 4-8 of the flight (10 packets a second).
    const stamps: number[] = [];
    for await (const unit of extractKlvUnits(path)) stamps.push(Number((decodeRawUnit(unit).tags as Record<string, { value: number }>)['2']!.value));
    expect(stamps.length).toBeGreaterThanOrEqual(39);
    const t0 = Date.UTC(2024, 5, 1, 16) * 1000;
    expect(Math.min(...stamps) - t0).toBeGreaterThanOrEqual(3.9e6);
    expect(Math.max(...stamps) - t0).toBeLessThan(8.1e6);
  });

  it('TS: a range across segments joins them; a range past the video is empty, not an error', async () => {
    const r = await clip({ timeRange: range(3, 9), name: 'Across the turn' });
    const results = r.body.results as { url: string; timeRange: unknown; bytes: number };
    expect(results.timeRange).toEqual({ start: 0, end: 10 });
    expect(results.url).toMatch(/\/Across_the_turn\.ts$/);
    const dir = join(t.data, 'services', 'Long', '0', '240p');
    const whole = Buffer.concat(['240p_00000.ts', '240p_00001.ts', '240p_00002.ts'].map((n) => readFileSync(join(dir, n))));
    expect(readFileSync(await download(results.url, 'b.ts')).equals(whole)).toBe(true);
    const past = await clip({ timeRange: range(50, 60) });
    expect(past.body).toMatchObject({ success: true, results: { url: null, timeRange: null, bytes: 0 } });
  });

  it('MP4: encoded once, KLV as emsg boxes and as a sidecar of the same seconds', async () => {
    const r = await clip({ timeRange: range(5, 6), format: 'mp4' });
    expect(r.body).toMatchObject({ success: true, results: { format: 'mp4', timeRange: { start: 4, end: 8 }, reencoded: true } });
    const results = r.body.results as { url: string; klvUrl: string };
    expect(results.url).toMatch(/\.mp4$/);
    const res = await fetch(`${results.url}?token=${t.token}`);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const path = join(t.dir, 'c.mp4');
    writeFileSync(path, bytes);
    const info = await probe(path);
    expect(info.video).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    expect(info.duration!).toBeGreaterThan(3.5);
    expect(info.duration!).toBeLessThan(4.5);
    let emsg = 0;
    for (let i = bytes.indexOf('emsg'); i >= 0; i = bytes.indexOf('emsg', i + 4)) emsg++;
    expect(emsg).toBeGreaterThanOrEqual(39);
    const sidecar = (await (await fetch(`${results.klvUrl}?token=${t.token}`)).text()).trim().split('\n');
    expect(sidecar.length).toBe(40);
    const secs = sidecar.map((l) => (JSON.parse(l) as { tags: Record<string, { value: number }> }).tags['2']!.value / 1e6 - Date.UTC(2024, 5, 1, 16) / 1000);
    expect(Math.min(...secs)).toBeCloseTo(4, 5);
    expect(Math.max(...secs)).toBeCloseTo(7.9, 5);
    const mov = await clip({ timeRange: range(0, 1), format: 'mov' });
    expect(String((mov.body.results as { url: string }).url)).toMatch(/\.mov$/);
  }, 60_000);

  it('refuses qualities above the layer, unknown formats and bad ranges, naming the field', async () => {
    const details = async (form: Record<string, string>) => ((await clip(form)).body.error as { code: number; details: string[] });
    expect(await details({ timeRange: range(0, 1), quality: 'HD' })).toEqual({ code: 400, message: 'Unable to export the clip.', details: ["quality HD is above the layer's best (SD)."] });
    expect((await details({ timeRange: range(0, 1), quality: '8K' })).details[0]).toMatch(/^quality must be one of SD, HD, FHD, UHD/);
    expect((await details({ timeRange: range(0, 1), format: 'avi' })).details[0]).toMatch(/^format must be one of ts, mp4, mov/);
    expect((await details({})).details[0]).toBe('timeRange {start, end} (seconds) is required.');
    expect((await details({ timeRange: '{"start":1' })).details[0]).toBe('timeRange is not valid JSON.');
    expect((await details({ timeRange: range(3, 1) })).details[0]).toBe('timeRange.end must not be before timeRange.start.');
    expect((await details({ timeRange: JSON.stringify({ start: -1, end: 1 }) })).details[0]).toMatch(/^timeRange.start must be seconds from 0/);
    expect((await details({ timeRange: range(0, 1), expiry: '1.5' })).details[0]).toMatch(/^expiry must be whole seconds/);
    expect((await clip({ timeRange: range(0, 1), quality: 'sd' })).body).toMatchObject({ success: true });
  });

  it('async gives a status URL; the clip is removed when it expires', async () => {
    const r = await clip({ timeRange: range(0, 1), async: 'true', expiry: '1' });
    expect(r.body).toMatchObject({ success: true, status: 'processing' });
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      status = (await (await fetch(`${r.body.statusUrl}?f=json&token=${t.token}`)).json()) as Record<string, unknown>;
      if (status.status !== 'processing') break;
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(status).toMatchObject({ status: 'completed', results: { format: 'ts' } });
    // The same export as a job resource.
    const job = (await t.api(`/jobs/job/${String(r.body.jobId)}?f=json`)).body;
    expect(job).toMatchObject({ type: 'Export Clip', status: 'COMPLETED', results: { serviceName: 'Long', layerId: 0, export: status.results }, customAttributes: { progress: { percent: 100, done: 1, total: 1 } } });
    const dir = join(t.data, 'exports', String(r.body.clipId));
    expect(existsSync(dir)).toBe(true);
    await new Promise((res) => setTimeout(res, Math.max(0, (status.expires as number) - Date.now()) + 300));
    expect(existsSync(dir)).toBe(false);
  });
});
