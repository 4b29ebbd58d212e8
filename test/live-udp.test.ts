// Live ingest over UDP from a real sender (the ffmpeg CLI playing a KLV transport stream in real
// time): outputs readable while written, graceful stop, loss and resume, loss past the reconnect
// window, a feed that never comes, and bad input.
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { startLive, type LiveRun, type TelemetryPacket } from '../src/live/index.js';
import { clipsDir, ffprobeJson, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, liveCleanup, parseMediaPlaylist, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';

const clip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });
const ladder = [
  { height: 360, videoBitrate: 600_000 },
  { height: 180, videoBitrate: 200_000 },
];
const base = { ladder, preset: 'ultrafast', previews: false, segmentSeconds: 1 } as const;
const listen = (port: number) => `udp://127.0.0.1:${port}?fifo_size=100000&overrun_nonfatal=1`;
const send = (port: number) => `udp://127.0.0.1:${port}?pkt_size=1316`;

const { feeds, runs } = liveCleanup();

function feed(port: number): ChildProcess {
  const f = startFeed(clip().path, send(port));
  feeds.push(f);
  return f;
}

function live(port: number, outDir: string, options: Record<string, unknown> = {}, handlers = {}): LiveRun {
  const run = startLive(listen(port), { outDir, ...base, ...options }, handlers);
  runs.push(run);
  return run;
}

const playlistOf = (out: string, name: string) => parseMediaPlaylist(readIfExists(join(out, name, `${name}.m3u8`)));
const ndjsonLines = (out: string) => readIfExists(join(out, 'klv.ndjson')).split('\n').filter((l) => l.length > 0);

describe('live ingest over UDP', () => {
  it('writes the ladder and telemetry while the feed plays, and stop() finishes every file', async () => {
    const port = await freeUdpPort();
    const out = join(scratchDir('live-udp-stop'), 'layer'); // created by the run
    feed(port);
    const states: string[] = [];
    const run = live(port, out, { live: { windowSegments: 4 } }, { onState: (s: string) => states.push(s) });
    const seen: TelemetryPacket[] = [];
    const reader = (async () => {
      for await (const item of run.telemetry()) seen.push(item);
    })();

    await waitFor('three segments and telemetry on disk', () => playlistOf(out, '180p').segments.length >= 3 && ndjsonLines(out).length >= 10);
    // Read while written: the master and both media playlists exist, not ended yet.
    expect(readFileSync(join(out, 'ABR.m3u8'), 'utf8')).toMatch(/360p\/360p\.m3u8/);
    expect(playlistOf(out, '360p').ended).toBe(false);
    expect(run.status().state).toBe('live');
    expect(run.latest()?.packet.standard).toBe('ST0601');
    const midway = ndjsonLines(out).length;
    await waitFor('more telemetry', () => ndjsonLines(out).length > midway + 5);

    run.stop();
    const result = await run.done;
    await reader;
    expect(states).toEqual(['live', 'stopping', 'ended']);
    for (const name of ['360p', '180p']) {
      const p = playlistOf(out, name);
      expect(p.ended).toBe(true);
      expect(p.segments.length).toBeLessThanOrEqual(4);
      // Every segment carries its arrival time; they rise and are close to now.
      expect(p.dates).toHaveLength(p.segments.length);
      for (let i = 1; i < p.dates.length; i++) expect(p.dates[i]!).toBeGreaterThan(p.dates[i - 1]!);
      expect(Math.abs(Date.now() - p.dates.at(-1)!)).toBeLessThan(30_000);
      for (const s of p.segments) expect(existsSync(join(out, name, s))).toBe(true);
    }
    // KLV went into the segments of every rendition.
    const last = join(out, '180p', playlistOf(out, '180p').segments.at(-1)!);
    const streams = ffprobeJson(['-show_entries', 'stream=codec_type', last]).streams.map((s: { codec_type: string }) => s.codec_type);
    expect(streams).toContain('data');
    // Telemetry complete: NDJSON lines = decoded packets = CSV rows; GeoJSON parses; abr.json there.
    const lines = ndjsonLines(out);
    expect(lines.length).toBe(result.telemetry.packets);
    expect(lines.length).toBeGreaterThan(20);
    expect(JSON.parse(lines.at(-1)!).standard).toBe('ST0601');
    const csv = readFileSync(join(out, 'klv.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(result.telemetry.packets + 1);
    expect(JSON.parse(readFileSync(join(out, 'klv.geojson'), 'utf8')).type).toBe('FeatureCollection');
    expect(existsSync(join(out, 'abr.json'))).toBe(true);
    expect(result.files).toEqual(expect.arrayContaining(['ABR.m3u8', 'abr.json', 'klv.ndjson', 'klv.csv', 'klv.geojson']));
    expect(seen.length).toBe(result.telemetry.packets);
    expect(readdirSync(out).filter((f) => f.endsWith('.part') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('marks a discontinuity in every rendition when the feed stops and comes back, and keeps the telemetry going', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-udp-resume');
    let sender = feed(port);
    const warnings: string[] = [];
    const run = live(port, out, { live: { windowSegments: 30, inputTimeoutMs: 800, reconnectWindowMs: 20_000 } }, { onWarning: (w: { code: string }) => warnings.push(w.code) });
    await waitFor('two segments', () => playlistOf(out, '180p').segments.length >= 2);
    await killFeed(sender);
    await waitFor('INPUT_STALLED', () => warnings.includes('INPUT_STALLED'), 5000);
    expect(run.status().state).toBe('stalled');
    const packetsBefore = run.status().klvPackets;
    sender = feed(port);
    await waitFor('INPUT_RESUMED', () => warnings.includes('INPUT_RESUMED'), 8000);
    const resumedAt = Date.now();
    await waitFor('two more segments', () => {
      const p = playlistOf(out, '180p');
      return p.discontinuities === 1 && p.dates.filter((d) => d > resumedAt - 1000).length >= 2;
    });
    run.stop();
    const result = await run.done;
    expect(result.telemetry.packets).toBeGreaterThan(packetsBefore + 5);
    for (const name of ['360p', '180p']) {
      const p = playlistOf(out, name);
      expect(p.discontinuities).toBe(1);
      expect(p.ended).toBe(true);
      for (let i = 1; i < p.dates.length; i++) expect(p.dates[i]!).toBeGreaterThan(p.dates[i - 1]!);
      // Media time keeps rising across the break: the first segment after it starts later.
      const starts = p.segments.map((s) => Number(ffprobeJson(['-show_entries', 'format=start_time', join(out, name, s)]).format.start_time));
      for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
    }
    expect(warnings).not.toContain('FALLING_BEHIND');
    // Telemetry after the resume reached the NDJSON.
    const times = ndjsonLines(out).map((l) => JSON.parse(l).pts as number);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]! - 1e-6);
  });

  it('ends gracefully, with every playlist finished, when the feed stays away past the reconnect window', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-udp-lost');
    const sender = feed(port);
    const warnings: string[] = [];
    const run = live(port, out, { live: { inputTimeoutMs: 500, reconnectWindowMs: 1000 } }, { onWarning: (w: { code: string }) => warnings.push(w.code) });
    await waitFor('a segment', () => playlistOf(out, '180p').segments.length >= 1);
    await killFeed(sender);
    const result = await run.done;
    expect(warnings).toEqual(expect.arrayContaining(['INPUT_STALLED', 'INPUT_LOST']));
    expect(result.warnings.map((w) => w.code)).toContain('INPUT_LOST');
    for (const name of ['360p', '180p']) expect(playlistOf(out, name).ended).toBe(true);
    expect(existsSync(join(out, 'klv.geojson'))).toBe(true);
  });

  it('joins a multicast group and ingests the feed sent to it, KLV included', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-udp-multicast');
    const group = `udp://239.255.77.1:${port}`;
    const run = startLive(`${group}?fifo_size=100000&overrun_nonfatal=1`, { outDir: out, ...base });
    runs.push(run);
    feeds.push(startFeed(clip().path, `${group}?pkt_size=1316&ttl=1`));
    await waitFor('two multicast segments', () => parseMediaPlaylist(readIfExists(join(out, '360p', '360p.m3u8'))).segments.length >= 2, 20_000);
    run.stop();
    const result = await run.done;
    expect(result.telemetry.packets).toBeGreaterThan(5);
    expect(result.renditions[0]!.klvUnits).toBeGreaterThan(5);
  });

  it('fails with ERR_INPUT_TIMEOUT, writing nothing, when no feed ever arrives', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-udp-never');
    const started = Date.now();
    const warnings: string[] = [];
    const run = live(port, out, { live: { inputTimeoutMs: 400, reconnectWindowMs: 300 } }, { onWarning: (w: { message: string }) => warnings.push(w.message) });
    const error = await run.done.catch((e: unknown) => e);
    expect(warnings[0]).toMatch(/nothing has arrived from the input yet/);
    expect(error).toBeInstanceOf(MediaError);
    expect(error).toMatchObject({ code: 'ERR_INPUT_TIMEOUT' });
    expect((error as Error).message).toMatch(/within 700 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses datagrams that are not a media stream with a clear error', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-udp-garbage');
    const socket = createSocket('udp4');
    const noise = setInterval(() => {
      const bytes = Buffer.alloc(1316);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
      socket.send(bytes, port, '127.0.0.1');
    }, 2);
    try {
      const error = await live(port, out, { live: { inputTimeoutMs: 1500 }, probeSize: 500_000, analyzeDurationUs: 1_000_000 }).done.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MediaError);
      expect(['ERR_INPUT_FORMAT', 'ERR_STREAM_INFO', 'ERR_NO_VIDEO']).toContain((error as MediaError).code);
      expect((error as MediaError).step).toMatch(/open|probe/);
    } finally {
      clearInterval(noise);
      socket.close();
    }
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses telemetry files left by an earlier run, and a run that is not live', () => {
    const out = scratchDir('live-udp-exists');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'klv.ndjson'), '{}\n');
    expect(() => startLive('udp://127.0.0.1:9', { outDir: out })).toThrow(expect.objectContaining({ code: 'ERR_OUTPUT_EXISTS' }));
    expect(readFileSync(join(out, 'klv.ndjson'), 'utf8')).toBe('{}\n');
    expect(() => startLive('udp://127.0.0.1:9', { outDir: out, live: false as never })).toThrow(/live/);
    const other = scratchDir('live-udp-options');
    expect(() => startLive('udp://127.0.0.1:9', { outDir: other, inputOptions: { protocol_whitelist: 'file' } })).toThrow(/inputOptions\.protocol_whitelist/);
    expect(() => startLive('udp://127.0.0.1:9', { outDir: other, inputOptions: { 'bad key': 1 } })).toThrow(/inputOptions key/);
  });
});
