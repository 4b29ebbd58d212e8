// LL-HLS: fMP4 parts listed as they are written (EXT-X-PART, PART-INF, SERVER-CONTROL, a preload
// hint for the next part), parts that join into their segment byte for byte and carry the KLV as
// emsg boxes, and the server's blocking playlist reload and preload-hint requests on a live layer
// fed by a real UDP sender.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLive } from '../src/live/index.js';
import { playlistPosition } from '../src/live/blocking-reload.js';
import { startServer, type RunningServer } from '../src/server/app.js';
import { resolveServerConfig } from '../src/server/config.js';
import { freshDir } from './jobs-fixtures.js';
import { clipsDir, ffprobeJson, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';

const clip = () => makeClip(clipsDir, 'live360-32s', { width: 640, height: 360, fps: 25, seconds: 32, klvRate: 5 });
const base = { ladder: [{ height: 360, videoBitrate: 400_000 }, { height: 180, videoBitrate: 150_000 }], preset: 'ultrafast', previews: false, segmentSeconds: 2 } as const;

interface Listed {
  segments: { uri: string; duration: number; parts: { uri: string; duration: number; independent: boolean }[] }[];
  openParts: { uri: string; duration: number }[];
  hint: string | null;
}

function listed(text: string): Listed {
  const out: Listed = { segments: [], openParts: [], hint: null };
  let parts: Listed['segments'][number]['parts'] = [];
  let extinf = 0;
  for (const line of text.split('\n')) {
    const part = /^#EXT-X-PART:DURATION=([\d.]+),URI="([^"]+)"(,INDEPENDENT=YES)?$/.exec(line);
    if (part) parts.push({ duration: Number(part[1]), uri: part[2]!, independent: part[3] !== undefined });
    else if (line.startsWith('#EXTINF:')) extinf = Number(line.slice(8).replace(/,$/, ''));
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) out.hint = /URI="([^"]+)"/.exec(line)![1]!;
    else if (line !== '' && !line.startsWith('#')) {
      out.segments.push({ uri: line, duration: extinf, parts });
      parts = [];
    }
  }
  out.openParts = parts;
  return out;
}

function emsgTimes(b: Buffer): number[] {
  const times: number[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    const size = b.readUInt32BE(at);
    if (b.toString('latin1', at + 4, at + 8) === 'emsg') times.push(Number(b.readBigUInt64BE(at + 16)) / 90000);
    if (size < 8) break;
    at += size;
  }
  return times;
}

describe('LL-HLS output', () => {
  it('lists fMP4 parts that join into their segments, with the KLV in them, and ends cleanly', async () => {
    const out = scratchDir('live-ll-dvr');
    const result = await startLive(clip().path, { outDir: out, ...base, live: { dvr: true, lowLatency: true } }).done;
    expect(result.telemetry.packets).toBe(160);
    for (const name of ['360p', '180p']) {
      const text = readFileSync(join(out, name, `${name}.m3u8`), 'utf8');
      expect(text).toMatch(/#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.500\n#EXT-X-PART-INF:PART-TARGET=0\.500\n/);
      expect(text).toMatch(new RegExp(`#EXT-X-MAP:URI="${name}_init\\.mp4"`));
      expect(text).toMatch(/#EXT-X-ENDLIST\n$/);
      expect(text).not.toMatch(/PRELOAD-HINT/); // nothing more is coming
      const l = listed(text);
      expect(l.segments).toHaveLength(16);
      // Parts are listed for the segments in the last three target durations only.
      const withParts = l.segments.filter((s) => s.parts.length > 0);
      expect(withParts.length).toBeGreaterThanOrEqual(3);
      expect(withParts.length).toBeLessThanOrEqual(4);
      expect(l.segments.at(-1)!.parts.length).toBeGreaterThan(0);
      for (const s of withParts) {
        expect(s.parts[0]!.independent).toBe(true);
        for (const p of s.parts.slice(1)) expect(p.independent).toBe(false);
        for (const p of s.parts) expect(p.duration).toBeLessThanOrEqual(0.5 + 1e-6);
        expect(s.parts.reduce((a, p) => a + p.duration, 0)).toBeCloseTo(s.duration, 3);
        // The segment is its parts, joined.
        const joined = Buffer.concat(s.parts.map((p) => readFileSync(join(out, name, p.uri))));
        expect(joined.equals(readFileSync(join(out, name, s.uri)))).toBe(true);
      }
      // Every KLV unit travels once, as an emsg box, in the segments (and so in their parts).
      const times = l.segments.flatMap((s) => emsgTimes(readFileSync(join(out, name, s.uri))));
      expect(times).toHaveLength(160);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      // A part plays on its own after the init segment: it starts where the playlist says.
      const first = withParts[0]!;
      const probe = join(out, `${name}-part.mp4`);
      writeFileSync(probe, Buffer.concat([readFileSync(join(out, name, `${name}_init.mp4`)), readFileSync(join(out, name, first.parts[1]!.uri))]));
      const packets = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time', probe]).packets as unknown[];
      expect(packets.length).toBe(Math.round(first.parts[1]!.duration * 25));
    }
    // The whole ladder decodes.
    expect(execFileSync('ffmpeg', ['-v', 'error', '-i', join(out, '360p', '360p.m3u8'), '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('');
  });

  it('removes part files some time after they stop being listed', async () => {
    const out = scratchDir('live-ll-window');
    await startLive(clip().path, { outDir: out, ...base, live: { windowSegments: 3, lowLatency: { partSeconds: 0.4 } } }).done;
    const text = readFileSync(join(out, '360p', '360p.m3u8'), 'utf8');
    expect(text).toMatch(/PART-TARGET=0\.400/);
    const partFiles = readdirSync(join(out, '360p')).filter((f) => /\.\d+\.m4s$/.test(f));
    // 16 segments of 5 parts were written; only the recent ones are kept.
    expect(partFiles.length).toBeGreaterThan(0);
    expect(partFiles.length).toBeLessThanOrEqual(5 * 8);
    expect(existsSync(join(out, '360p', '360p_00000.0.m4s'))).toBe(false);
  });

  it('marks a break in the feed in the parts too, without counting the gap in any duration', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-ll-break');
    const feedClip = makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });
    let sender = startFeed(feedClip.path, `udp://127.0.0.1:${port}?pkt_size=1316`);
    const warnings: string[] = [];
    const run = startLive(`udp://127.0.0.1:${port}?fifo_size=100000&overrun_nonfatal=1`, { outDir: out, ...base, live: { windowSegments: 30, lowLatency: true, inputTimeoutMs: 600, reconnectWindowMs: 20_000 } }, {
      onWarning: (w) => warnings.push(w.code),
    });
    try {
      const top = () => readIfExists(join(out, '360p', '360p.m3u8'));
      await waitFor('two segments', () => listed(top()).segments.length >= 2, 20_000);
      await killFeed(sender);
      await waitFor('INPUT_STALLED', () => warnings.includes('INPUT_STALLED'), 8000);
      sender = startFeed(feedClip.path, `udp://127.0.0.1:${port}?pkt_size=1316`);
      await waitFor('INPUT_RESUMED', () => warnings.includes('INPUT_RESUMED'), 8000);
      await waitFor('segments after the break', () => top().includes('#EXT-X-DISCONTINUITY') && top().split('#EXT-X-DISCONTINUITY')[1]!.split('#EXTINF').length > 2, 20_000);
      run.stop();
      await run.done;
    } finally {
      await killFeed(sender);
    }
    const text = readFileSync(join(out, '360p', '360p.m3u8'), 'utf8');
    const l = listed(text);
    for (const seg of l.segments) expect(seg.duration).toBeLessThanOrEqual(2.05);
    for (const seg of l.segments.filter((x) => x.parts.length > 0)) {
      for (const p of seg.parts) expect(p.duration).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(seg.parts.reduce((a, p) => a + p.duration, 0)).toBeCloseTo(seg.duration, 3);
    }
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
  });

  it('refuses TS segments and parts longer than half a segment, naming the option', async () => {
    const out = scratchDir('live-ll-bad');
    expect(() => startLive(clip().path, { outDir: out, ...base, segmentFormat: 'ts', live: { lowLatency: true } })).toThrow(/segmentFormat/);
    expect(() => startLive(clip().path, { outDir: out, ...base, live: { lowLatency: { partSeconds: 1.5 } } })).toThrow(/live\.lowLatency\.partSeconds/);
    expect(() => startLive(clip().path, { outDir: out, ...base, live: { lowLatency: { partSeconds: 'x' as unknown as number } } })).toThrow(/live\.lowLatency\.partSeconds/);
  });
});

describe('LL-HLS delivery from the server', () => {
  let server: RunningServer;
  let data: string;
  let token: string;
  const feeds: ChildProcess[] = [];
  const feedClip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });

  beforeAll(async () => {
    const dir = freshDir('server-live-ll');
    data = join(dir, 'data');
    server = await startServer(
      resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: data, inputRoots: [dir], users: ['admin:correct horse'], hwaccel: 'cpu', liveProtocols: ['udp'], livePorts: '1024-65535' } }]),
    );
    const res = await fetch(`${server.restUrl}/generateToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ f: 'json', username: 'admin', password: 'correct horse', client: 'requestip' }).toString(),
    });
    token = String(((await res.json()) as { token: string }).token);
  });

  afterAll(async () => {
    await Promise.all(feeds.map(killFeed));
    await server?.close();
  });

  it('holds a playlist reload until the asked-for part exists, and a hinted part until it is written', async () => {
    const port = await freeUdpPort();
    feeds.push(startFeed(feedClip().path, `udp://127.0.0.1:${port}?pkt_size=1316`));
    const body = new URLSearchParams({ f: 'json', token, requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'livestream', streamAddress: `udp://127.0.0.1:${port}`, mode: 'server', lowLatency: true }) });
    const added = (await (await fetch(`${server.restUrl}/services/LL1/addLayer`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })).json()) as { success: boolean; jobId: string };
    expect(added.success).toBe(true);
    const playlistPath = join(data, 'services', 'LL1', '0', '360p', '360p.m3u8');
    await waitFor('a listed part', () => listed(readIfExists(playlistPath)).segments.length >= 1, 30_000);
    const url = (query: string) => `${server.restUrl}/services/LL1/VideoServer/0/360p/360p.m3u8?token=${encodeURIComponent(token)}${query}`;

    // The next part after the live edge: the request is answered once it is listed.
    const now = playlistPosition(readFileSync(playlistPath, 'utf8'));
    const asked = now.openParts + 1;
    const started = Date.now();
    const held = await fetch(url(`&_HLS_msn=${now.nextMsn}&_HLS_part=${asked}`));
    expect(held.status).toBe(200);
    const after = playlistPosition(await held.text());
    expect(after.nextMsn > now.nextMsn || after.openParts > asked).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(100); // it waited for the muxer

    // The preload hint: requested before it exists, answered with the part once written.
    const hint = listed(readFileSync(playlistPath, 'utf8')).hint!;
    expect(hint).toMatch(/^360p_\d{5}\.\d+\.m4s$/);
    const part = await fetch(`${server.restUrl}/services/LL1/VideoServer/0/360p/${hint}?token=${encodeURIComponent(token)}`);
    expect(part.status).toBe(200);
    const bytes = Buffer.from(await part.arrayBuffer());
    expect(bytes.toString('latin1')).toMatch(/moof/);

    // Directives out of range or malformed: 400 with the reason.
    const ahead = await fetch(url(`&_HLS_msn=${now.nextMsn + 50}`));
    expect(ahead.status).toBe(400);
    expect(await ahead.text()).toMatch(/more than two segments ahead/);
    const bad = await fetch(url('&_HLS_msn=abc'));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/_HLS_msn/);
    // A part far from the live edge is not waited for.
    const far = await fetch(`${server.restUrl}/services/LL1/VideoServer/0/360p/360p_99999.0.m4s?token=${encodeURIComponent(token)}`);
    expect(far.status).toBe(404);

    const stop = await fetch(`${server.restUrl}/services/LL1/VideoServer/0/stop`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ f: 'json', token }).toString() });
    expect(((await stop.json()) as { success: boolean }).success).toBe(true);
    await waitFor('the ended playlist', () => readIfExists(playlistPath).includes('#EXT-X-ENDLIST'), 30_000);
    // Ended: a directive is answered at once with the final playlist.
    const ended = await fetch(url(`&_HLS_msn=${now.nextMsn + 2}`));
    expect(ended.status).toBe(200);
  });
});
