// Livestream layers over the REST API, fed by a real UDP sender: addLayer type 'livestream', the job
// resource's live counters while IN PROGRESS, telemetry as latest and as Server-Sent Events, the stop
// operation (COMPLETED, every playlist ended), refusals of protocols and ports, and a restart that
// finds a live job its dead process owned (FAILED ERR_INTERRUPTED, playlists ended).
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { SqliteJobStore } from '../src/jobs/store.js';
import { startServer, type RunningServer } from '../src/server/app.js';
import { resolveServerConfig } from '../src/server/config.js';
import { freshDir } from './jobs-fixtures.js';
import { clipsDir, makeClip } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, parseMediaPlaylist, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';

let server: RunningServer;
let data: string;
let token: string;
const feeds: ChildProcess[] = [];
const clip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });

async function post(path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.restUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ f: 'json', token, ...form }).toString() });
  return (await res.json()) as Record<string, unknown>;
}

async function get(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.restUrl}${path}${path.includes('?') ? '&' : '?'}f=json&token=${encodeURIComponent(token)}`);
  return (await res.json()) as Record<string, unknown>;
}

const addLive = (service: string, cp: Record<string, unknown>) => post(`/services/${service}/addLayer`, { createParameters: JSON.stringify({ type: 'livestream', ...cp }), requestedResolutions: 'sd' });

beforeAll(async () => {
  const dir = freshDir('server-live');
  data = join(dir, 'data');
  server = await startServer(
    resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: data, inputRoots: [dir], users: ['admin:correct horse'], hwaccel: 'cpu', liveProtocols: ['udp', 'srt'], livePorts: '1024-65535' } }]),
  );
  const t = await post('/generateToken', { username: 'admin', password: 'correct horse', client: 'requestip' });
  token = String(t.token);
});

afterAll(async () => {
  await Promise.all(feeds.map(killFeed));
  await server?.close();
});

describe('livestream layers', () => {
  it('ingests a UDP feed as a live layer, streams its telemetry, and stops into COMPLETED', async () => {
    const port = await freeUdpPort();
    feeds.push(startFeed(clip().path, `udp://127.0.0.1:${port}?pkt_size=1316`));
    const added = await addLive('Drone1', { name: 'Drone 1', streamAddress: `udp://127.0.0.1:${port}`, mode: 'server', bufferSize: 8 });
    expect(added).toMatchObject({ success: true, layerId: 0 });
    const jobId = String(added.jobId);
    const layerDir = join(data, 'services', 'Drone1', '0');
    const top = () => parseMediaPlaylist(readIfExists(join(layerDir, '360p', '360p.m3u8')));
    await waitFor('two live segments', () => top().segments.length >= 2, 30_000);

    let job = (await get(`/jobs/job/${jobId}`)) as unknown as JobResource;
    expect(job.status).toBe('IN PROGRESS');
    expect(Object.keys(job)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
    expect(job.messages.slice(0, 6)).toEqual(['Starting Ingest', 'Probing Video Codec', 'Probing Audio', 'Probing Video Klv', 'Generating Video Stream Info', 'Generating Video Info']);
    const live = job.customAttributes.live!;
    expect(live).toMatchObject({ mode: 'server', streamAddress: expect.stringContaining(`udp://127.0.0.1:${port}`) });
    expect(['live', 'starting']).toContain(live.state);

    // The latest packet, then a few packets as Server-Sent Events.
    const latest = await get('/services/Drone1/VideoServer/0/telemetry/latest');
    expect((latest.packet as { standard: string }).standard).toBe('ST0601');
    const sse = await fetch(`${server.restUrl}/services/Drone1/VideoServer/0/telemetry/stream?token=${encodeURIComponent(token)}`);
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = sse.body!.getReader();
    let text = '';
    while ((text.match(/event: klv/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const event = JSON.parse(/event: klv\ndata: (.*)\n/.exec(text)![1]!) as { receivedAt: number; dropped: number; packet: { standard: string; pts: number } };
    expect(event.packet.standard).toBe('ST0601');
    expect(Math.abs(Date.now() - event.receivedAt)).toBeLessThan(10_000);

    job = (await get(`/jobs/job/${jobId}`)) as unknown as JobResource;
    expect(job.customAttributes.live!.segments).toBeGreaterThanOrEqual(1);
    expect(job.customAttributes.live!.bytesRead).toBeGreaterThan(0);

    // Processing waits for the end of the feed.
    expect(await post('/services/Drone1/VideoServer/0/process', {})).toMatchObject({ error: { code: 409, details: [expect.stringMatching(/stop it first/)] } });
    expect(await post('/services/Drone1/VideoServer/0/stop', {})).toMatchObject({ success: true, jobId });
    for (let i = 0; i < 200 && job.status === 'IN PROGRESS'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await get(`/jobs/job/${jobId}`)) as unknown as JobResource;
    }
    expect(job.status).toBe('COMPLETED');
    expect(job.messages.at(-1)).toBe('Ingest Complete');
    expect(job.customAttributes.klv!.packets).toBeGreaterThan(5);
    expect(top().ended).toBe(true);
    expect(top().segments.length).toBeLessThanOrEqual(4); // bufferSize 8 s of 2 s segments
    for (const f of ['ABR.m3u8', 'abr.json', 'klv.ndjson', 'klv.csv', 'klv.geojson', 'streamInfo.json', 'videoInfo.json']) expect(existsSync(join(layerDir, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(layerDir, 'videoInfo.json'), 'utf8')).final).toBe(true);
    // Stopped: nothing runs on the layer any more.
    expect(await post('/services/Drone1/VideoServer/0/stop', {})).toMatchObject({ error: { code: 404 } });

    // The recording becomes an on-demand layer of the same service, KLV and all.
    const processed = await post('/services/Drone1/VideoServer/0/process', { requestedResolutions: 'sd' });
    expect(processed).toMatchObject({ success: true });
    let vod = (await get(`/jobs/job/${String(processed.jobId)}`)) as unknown as JobResource;
    for (let i = 0; i < 300 && (vod.status === 'IN PROGRESS' || vod.status === 'SUBMITTED' || vod.status === 'QUEUED'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      vod = (await get(`/jobs/job/${String(processed.jobId)}`)) as unknown as JobResource;
    }
    expect(vod.status).toBe('COMPLETED');
    expect(vod.customAttributes.klv!.packets).toBeGreaterThan(5);
    expect(JSON.stringify(vod.results)).toMatch(/Drone1/);
    const vodDir = join(data, 'services', 'Drone1', '1');
    expect(readFileSync(join(vodDir, '360p', '360p.m3u8'), 'utf8')).toMatch(/#EXT-X-PLAYLIST-TYPE:VOD/);
    expect(await post('/services/Drone1/VideoServer/7/process', {})).toMatchObject({ error: { code: 404 } });
  });

  it('refuses protocols and ports the configuration does not allow, and bad parameters, with the reason', async () => {
    expect(await addLive('Drone2', { streamAddress: 'rtmp://127.0.0.1:1935/live/x' })).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/protocol 'rtmp' is not allowed.*udp, srt/)] } });
    expect(await addLive('Drone2', { streamAddress: 'udp://127.0.0.1:80' })).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/port between 1024 and 65535/)] } });
    expect(await addLive('Drone2', { streamAddress: 'not a url' })).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/is not a URL/)] } });
    expect(await addLive('Drone2', { streamAddress: 'srt://127.0.0.1:9000?mode=caller', mode: 'server' })).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/mode=caller/)] } });
    expect(await addLive('Drone2', { streamAddress: 'udp://127.0.0.1:9000', bufferSize: 1 })).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/bufferSize/)] } });
    expect(await get('/services/Drone2/VideoServer/0/telemetry/latest')).toMatchObject({ error: { code: 404 } });
  });

  it('a live job whose process died is FAILED with ERR_INTERRUPTED at the next start, its playlists ended', async () => {
    const dir = freshDir('server-live-crash');
    const store = join(dir, 'jobs.sqlite');
    const port = await freeUdpPort();
    const feed = startFeed(clip().path, `udp://127.0.0.1:${port}?pkt_size=1316`);
    feeds.push(feed);
    const first = new JobManager({ store, outDir: join(dir, 'services'), hwaccel: 'cpu' });
    const job = first.startLive(`udp://127.0.0.1:${port}?fifo_size=100000&overrun_nonfatal=1`, { serviceName: 'Crash', requestedResolutions: 'sd' });
    const playlist = join(dir, 'services', 'Crash', '0', '360p', '360p.m3u8');
    await waitFor('a live segment', () => parseMediaPlaylist(readIfExists(playlist)).segments.length >= 1, 30_000);
    // The process "dies": its record stays IN PROGRESS with an owner that no longer beats.
    const raw = new SqliteJobStore(store);
    raw.updateJob(job.id, { owner: `${hostname()}:999999:dead` });
    raw.close();
    expect(parseMediaPlaylist(readIfExists(playlist)).ended).toBe(false);
    job.setStopper(undefined); // the dead process cannot finish the playlists
    const second = await JobManager.open({ store, outDir: join(dir, 'services'), hwaccel: 'cpu' });
    try {
      const resource = second.getJob(job.id)!;
      expect(resource.status).toBe('FAILED');
      expect(resource.customAttributes.error).toMatchObject({ code: 'ERR_INTERRUPTED' });
      expect(parseMediaPlaylist(readFileSync(playlist, 'utf8')).ended).toBe(true);
    } finally {
      await second.close();
      job.cancel();
      await job.done.catch(() => undefined);
      await first.close();
      await killFeed(feed);
    }
  });
});
