// A real player on a live layer: hls.js 1.7.4 in Debian's chromium (driven by playwright-core)
// plays the LL-HLS ladder of a UDP feed from our server with lowLatencyMode, loading parts and
// blocking on playlist reloads, and keeps up with the live edge.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server/app.js';
import { resolveServerConfig } from '../src/server/config.js';
import { freshDir } from './jobs-fixtures.js';
import { clipsDir, makeClip } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, startFeed, waitFor } from './helpers/live-feed.js';

const require = createRequire(import.meta.url);
const hlsScript = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
const clip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });

let server: RunningServer;
let data: string;
let browser: Browser;
let token: string;
const feeds: ChildProcess[] = [];

beforeAll(async () => {
  const dir = freshDir('live-player');
  data = `${dir}/data`;
  server = await startServer(
    resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: `${dir}/data`, inputRoots: [dir], users: ['admin:correct horse'], hwaccel: 'cpu', liveProtocols: ['udp'], livePorts: '1024-65535' } }]),
  );
  const res = await fetch(`${server.restUrl}/generateToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ f: 'json', username: 'admin', password: 'correct horse', client: 'requestip' }).toString(),
  });
  token = String(((await res.json()) as { token: string }).token);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(feeds.map(killFeed));
  await server?.close();
});

interface PlayerState {
  currentTime: number;
  partLoads: number;
  latency: number | null;
  partTarget: number | null;
  errors: string[];
  mse: boolean;
}

describe('hls.js plays a live layer', () => {
  it('plays the LL-HLS ladder with lowLatencyMode: parts, blocking reloads, near the live edge', async () => {
    const port = await freeUdpPort();
    feeds.push(startFeed(clip().path, `udp://127.0.0.1:${port}?pkt_size=1316`));
    const body = new URLSearchParams({ f: 'json', token, requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'livestream', streamAddress: `udp://127.0.0.1:${port}`, mode: 'server', lowLatency: true }) });
    const added = (await (await fetch(`${server.restUrl}/services/Player1/addLayer`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })).json()) as { success: boolean };
    expect(added.success).toBe(true);
    // The master playlist is written once every rung has its first frame.
    await waitFor('the master playlist', () => existsSync(`${data}/services/Player1/0/ABR.m3u8`), 30_000);

    // The page is served from the server's own origin (intercepted), so no CORS is involved.
    const origin = new URL(server.restUrl).origin;
    const page = await browser.newPage();
    let blockingReloads = 0;
    page.on('request', (r) => {
      if (r.url().includes('_HLS_msn=')) blockingReloads++;
    });
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`[chromium] ${m.text()}`);
    });
    await page.route(`${origin}/player.html`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><html><body><video id="v" muted playsinline></video></body></html>' }),
    );
    await page.goto(`${origin}/player.html`);
    await page.addScriptTag({ content: hlsScript });
    const src = `${server.restUrl}/services/Player1/VideoServer/0/ABR.m3u8?token=${encodeURIComponent(token)}`;
    await page.evaluate((url) => {
      const w = window as unknown as { Hls: any; state: PlayerState; hls: any };
      const video = document.getElementById('v') as HTMLVideoElement;
      w.state = { currentTime: 0, partLoads: 0, latency: null, partTarget: null, errors: [], mse: MediaSource.isTypeSupported('video/mp4; codecs="avc1.42C01E,mp4a.40.2"') };
      const hls = new w.Hls({ lowLatencyMode: true });
      w.hls = hls;
      hls.on(w.Hls.Events.FRAG_LOADED, (_e: unknown, d: { part?: unknown }) => {
        if (d.part) w.state.partLoads++;
      });
      hls.on(w.Hls.Events.LEVEL_LOADED, (_e: unknown, d: { details: { partTarget?: number } }) => {
        w.state.partTarget = d.details.partTarget ?? null;
      });
      hls.on(w.Hls.Events.ERROR, (_e: unknown, d: { details: string; fatal: boolean }) => w.state.errors.push(`${d.details}${d.fatal ? ' (fatal)' : ''}`));
      hls.loadSource(url);
      hls.attachMedia(video);
      void video.play().catch(() => undefined);
    }, src);

    const state = async (): Promise<PlayerState> =>
      page.evaluate(() => {
        const w = window as unknown as { state: PlayerState; hls: { latency: number } };
        w.state.currentTime = (document.getElementById('v') as HTMLVideoElement).currentTime;
        w.state.latency = Number.isFinite(w.hls.latency) ? w.hls.latency : null;
        return w.state;
      });
    let s = await state();
    expect(s.mse).toBe(true);
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      s = await state();
      if (s.currentTime > 3 && s.partLoads > 3) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(s.errors.filter((e) => e.endsWith('(fatal)'))).toEqual([]);
    expect(s.partTarget).toBeCloseTo(0.5, 3);
    expect(s.partLoads).toBeGreaterThan(3);
    expect(blockingReloads).toBeGreaterThan(0);
    expect(s.currentTime).toBeGreaterThan(3);
    // Near the live edge: the part hold-back (1.5 s) plus a little, not a few segments.
    expect(s.latency).not.toBeNull();
    expect(s.latency!).toBeLessThan(4);
    await page.close();
  });
});
