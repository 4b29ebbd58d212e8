// Live inputs other than plain UDP, each from a real sender: SRT as listener and as caller, RIST (KLV
// carried, passphrase passed through), RTMP pulled and RTMP and RTSP in listen mode (a camera pushes to us; FFmpeg
// carries no KLV over FLV or RTP, so these are video and audio), and a pipe into the CLI.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLive, type LiveRun } from '../src/live/index.js';
import { repoRoot } from './helpers/paths.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { freeTcpPort, freeUdpPort, killFeed, liveCleanup, parseMediaPlaylist, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';

const clip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });
const base = { ladder: [{ height: 360, videoBitrate: 600_000 }], preset: 'ultrafast', previews: false, segmentSeconds: 1 } as const;
const playlist = (out: string) => parseMediaPlaylist(readIfExists(join(out, '360p', '360p.m3u8')));
const ndjsonCount = (out: string) => readIfExists(join(out, 'klv.ndjson')).split('\n').filter((l) => l.length > 0).length;

const { feeds, runs } = liveCleanup();

/** Runs until two segments are listed, stops, and returns the result. */
async function untilTwoSegments(run: LiveRun, out: string, withKlv: boolean) {
  runs.push(run);
  await waitFor('two segments', () => playlist(out).segments.length >= 2 && (!withKlv || ndjsonCount(out) > 5), 20_000);
  run.stop();
  const result = await run.done;
  expect(playlist(out).ended).toBe(true);
  return result;
}

describe('live inputs', () => {
  it('SRT listener: a caller with a passphrase pushes a KLV feed to us', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-srt-listener');
    const secret = 'correct-horse-battery';
    const run = startLive(`srt://127.0.0.1:${port}?mode=listener&passphrase=${secret}&latency=120000`, { outDir: out, ...base });
    // The listener must be up before the caller dials.
    await new Promise((r) => setTimeout(r, 500));
    feeds.push(startFeed(clip().path, `srt://127.0.0.1:${port}?mode=caller&passphrase=${secret}&latency=120000`));
    const result = await untilTwoSegments(run, out, true);
    expect(result.telemetry.packets).toBeGreaterThan(5);
    expect(result.renditions[0]!.klvUnits).toBeGreaterThan(5);
  });

  it('SRT caller: we dial a sender that listens', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-srt-caller');
    feeds.push(startFeed(clip().path, `srt://127.0.0.1:${port}?mode=listener`));
    await new Promise((r) => setTimeout(r, 500));
    const result = await untilTwoSegments(startLive(`srt://127.0.0.1:${port}?mode=caller`, { outDir: out, ...base }), out, true);
    expect(result.telemetry.packets).toBeGreaterThan(5);
  });

  it('RTMP listen: an encoder publishes to us (video and audio; FLV carries no KLV)', async () => {
    const port = await freeTcpPort();
    const out = scratchDir('live-rtmp-listen');
    const run = startLive(`rtmp://127.0.0.1:${port}/live/cam1`, { outDir: out, ...base, inputOptions: { listen: 1 } });
    await new Promise((r) => setTimeout(r, 500));
    feeds.push(spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip().path, '-map', '0:v', '-map', '0:a', '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/cam1`], { stdio: 'ignore' }));
    const result = await untilTwoSegments(run, out, false);
    expect(result.audio).not.toBe('none');
    expect(result.telemetry.packets).toBe(0);
    expect(existsSync(join(out, 'klv.ndjson'))).toBe(true);
  });

  it('SRT caller: when the sender goes away and comes back, we dial again and mark the break', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-srt-redial');
    let sender = startFeed(clip().path, `srt://127.0.0.1:${port}?mode=listener`);
    feeds.push(sender);
    await new Promise((r) => setTimeout(r, 500));
    const warnings: string[] = [];
    const run = startLive(`srt://127.0.0.1:${port}?mode=caller`, { outDir: out, ...base, live: { windowSegments: 30, inputTimeoutMs: 600, reconnectWindowMs: 20_000 } }, {
      onWarning: (w) => warnings.push(w.code),
    });
    runs.push(run);
    await waitFor('two segments', () => playlist(out).segments.length >= 2, 20_000);
    await killFeed(sender);
    await waitFor('INPUT_STALLED', () => warnings.includes('INPUT_STALLED'), 8000);
    const klvBefore = run.status().klvPackets;
    sender = startFeed(clip().path, `srt://127.0.0.1:${port}?mode=listener`);
    feeds.push(sender);
    await waitFor('INPUT_RESUMED', () => warnings.includes('INPUT_RESUMED'), 15_000);
    await waitFor('a discontinuity and segments after it', () => {
      const p = parseMediaPlaylist(readIfExists(join(out, '360p', '360p.m3u8')));
      return p.discontinuities === 1 && p.segments.length >= 5;
    }, 20_000);
    run.stop();
    const result = await run.done;
    expect(warnings).not.toContain('INPUT_ENDED');
    expect(result.telemetry.packets).toBeGreaterThan(klvBefore + 5);
    expect(playlist(out).ended).toBe(true);
  });

  it('RTMP pull: we play a stream an RTMP server offers', async () => {
    const port = await freeTcpPort();
    const out = scratchDir('live-rtmp-pull');
    // The ffmpeg CLI as a one-stream RTMP server: it waits for the player to connect.
    feeds.push(
      spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip().path, '-map', '0:v', '-map', '0:a', '-c', 'copy', '-f', 'flv', '-listen', '1', `rtmp://127.0.0.1:${port}/live/cam1`], {
        stdio: 'ignore',
      }),
    );
    await new Promise((r) => setTimeout(r, 700));
    const result = await untilTwoSegments(startLive(`rtmp://127.0.0.1:${port}/live/cam1`, { outDir: out, ...base }), out, false);
    expect(result.audio).not.toBe('none');
  });

  it('RIST: a sender pushes a KLV feed to our receiver', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-rist');
    const run = startLive(`rist://@127.0.0.1:${port}`, { outDir: out, ...base });
    await new Promise((r) => setTimeout(r, 500));
    feeds.push(startFeed(clip().path, `rist://127.0.0.1:${port}?pkt_size=1316`));
    const result = await untilTwoSegments(run, out, true);
    expect(result.telemetry.packets).toBeGreaterThan(5);
  });

  it('RTSP listen: a camera announces and records to us', async () => {
    const port = await freeTcpPort();
    const out = scratchDir('live-rtsp-listen');
    const run = startLive(`rtsp://127.0.0.1:${port}/cam1`, { outDir: out, ...base, inputOptions: { rtsp_flags: 'listen' } });
    await new Promise((r) => setTimeout(r, 500));
    feeds.push(
      spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip().path, '-map', '0:v', '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${port}/cam1`], {
        stdio: 'ignore',
      }),
    );
    const result = await untilTwoSegments(run, out, false);
    expect(result.renditions[0]!.height).toBe(360);
  });

  it('an input option that neither the protocol nor the format takes fails the open, naming it', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-bad-option');
    // The demuxer takes its options once the stream is there: the feed plays.
    feeds.push(startFeed(clip().path, `udp://127.0.0.1:${port}?pkt_size=1316`));
    const error = await startLive(`udp://127.0.0.1:${port}`, { outDir: out, ...base, inputOptions: { no_such_option: 1 }, live: { inputTimeoutMs: 3000, reconnectWindowMs: 0 } }).done.catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', step: 'open' });
    expect((error as Error).message).toMatch(/inputOptions\.no_such_option/);
  });

  it('the CLI reads a pipe (`live -`) and Ctrl-C ends it gracefully with exit code 0', async () => {
    const out = scratchDir('live-cli-stdin');
    const sender = startFeed(clip().path, '-');
    feeds.push(sender);
    const cli = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'live', '-', '--out', out, '--resolutions', 'sd', '--segment-seconds', '1', '--window', '5'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    sender.stdout!.pipe(cli.stdin);
    cli.stdin.on('error', () => undefined);
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    try {
      await waitFor('two segments from the CLI', () => playlist(out).segments.length >= 2 && ndjsonCount(out) > 5, 20_000);
      cli.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      cli.kill('SIGKILL');
    }
    expect(stderr).toMatch(/state live/);
    expect(stderr).toMatch(/stopping/);
    expect(stdout).toMatch(/ended: 1 renditions/);
    expect(playlist(out).ended).toBe(true);
    expect(readFileSync(join(out, 'klv.csv'), 'utf8').split('\n').length).toBeGreaterThan(5);
  });

  it('the CLI records a feed as a live layer of a service with --service-name, and prints its job', async () => {
    const root = scratchDir('live-cli-service');
    const sender = startFeed(clip().path, '-');
    feeds.push(sender);
    const cli = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'live', '-', '--out', root, '--service-name', 'Cam1', '--layer-name', 'Front', '--resolutions', 'sd', '--json'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    sender.stdout!.pipe(cli.stdin);
    cli.stdin.on('error', () => undefined);
    let stdout = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const layer = join(root, 'Cam1', '0');
    try {
      await waitFor('two segments in the service layer', () => parseMediaPlaylist(readIfExists(join(layer, '360p', '360p.m3u8'))).segments.length >= 2, 30_000);
      cli.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      cli.kill('SIGKILL');
    }
    const done = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; job?: { status: string; results: { serviceName: string; layerId: number }; customAttributes: { live?: { mode: string } } } }).find((e) => e.type === 'done');
    expect(done?.job).toMatchObject({ status: 'COMPLETED', results: { serviceName: 'Cam1', layerId: 0 }, customAttributes: { live: { mode: 'server' } } });
    expect(parseMediaPlaylist(readIfExists(join(layer, '360p', '360p.m3u8'))).ended).toBe(true);
    expect(existsSync(join(layer, 'klv.ndjson'))).toBe(true);
  });

  it('the CLI refuses flags that a service layer does not take, naming them', async () => {
    const cli = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'live', 'udp://127.0.0.1:9', '--out', scratchDir('live-cli-service-bad'), '--service-name', 'Cam2', '--segment-seconds', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--segment-seconds cannot be used with --service-name/);
  });

  it('the CLI refuses bad flags with exit code 2, naming the flag', async () => {
    const cli = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'live', 'udp://127.0.0.1:9', '--out', scratchDir('live-cli-bad'), '--window', 'six'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--window/);
  });
});
