// A real client: the ArcGIS Maps SDK for JavaScript (@arcgis/core, served locally by Vite, no
// network) in Debian's chromium, driven by playwright-core, loads a VideoLayer from our layer URL
// on another origin (CORS), reaches `loaded`, plays the HLS ladder and reports telemetry from the
// KLV in the stream that matches our coverage. Every request the SDK made that we did not answer
// is named in the failure.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flightClip } from './jobs-fixtures.js';
import { repoRoot } from './pipeline-fixtures.mjs';
import { metres, startTestServer, type TestServer } from './server-fixtures.js';

// Debian's chromium (scripts/lib.mjs installs it with the other system packages).
const CHROMIUM = '/usr/bin/chromium';
let t: TestServer;
let vite: ViteDevServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer('server-arcgis-client', { corsOrigins: ['*'] });
  copyFileSync(await flightClip('Flight10.ts', { durationSeconds: 10 }), join(t.inputRoot, 'Flight10.ts'));
  expect((await t.addLayer('Client', 'Flight10.ts')).status).toBe('COMPLETED');
  vite = await createServer({
    root: join(repoRoot, 'test', 'arcgis-client'),
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, fs: { allow: [repoRoot] }, hmr: false },
    optimizeDeps: { include: ['@arcgis/core/layers/VideoLayer.js', '@arcgis/core/views/MapView.js', '@arcgis/core/Map.js', '@arcgis/core/config.js', '@arcgis/core/core/reactiveUtils.js', '@arcgis/core/identity/IdentityManager.js', '@arcgis/core/identity/ServerInfo.js'] },
  });
  await vite.listen();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await vite?.close();
  await t?.server.close();
});

interface Report {
  stage: string;
  error?: string;
  events: string[];
  loaded?: boolean;
  layer?: { title: string; capabilities: Record<string, unknown> | null; fullExtent: Record<string, number> | null };
  playing?: { state: string; currentTime: number; duration: number };
  telemetry?: { sensorLocation: { x: number; y: number } | null; frameCenter: { x: number; y: number } | null; frameOutline: number[][][] | null } | null;
}

describe('ArcGIS Maps SDK for JavaScript VideoLayer', () => {
  it('loads, plays and reports telemetry that matches our coverage', async () => {
    const layerUrl = `${t.server.restUrl}/services/Client/VideoServer/0`;
    const page = await browser.newPage();
    const unanswered: string[] = [];
    const ours = (url: string) => url.startsWith(t.server.origin);
    const checks: Promise<void>[] = [];
    const challenged: string[] = [];
    const answered = new Set<string>();
    const fetched: string[] = [];
    page.on('request', (req) => {
      if (ours(req.url())) fetched.push(`${req.method()} ${new URL(req.url()).pathname.replace(/^.*\/VideoServer/, '…')}`);
    });
    page.on('response', (res) => checks.push((async () => {
      if (!ours(res.url())) return;
      const url = res.url().replace(/token=[^&]+/, 'token=…');
      if (res.status() >= 400) unanswered.push(`${res.request().method()} ${url} → HTTP ${res.status()}`);
      else if ((res.headers()['content-type'] ?? '').startsWith('application/json')) {
        const body = (await res.json().catch(() => null)) as { error?: { code: number } } | null;
        // 499 is ArcGIS's challenge: the IdentityManager answers it with the token and asks again.
        if (body?.error?.code === 499) challenged.push(url);
        else if (body?.error) unanswered.push(`${res.request().method()} ${url} → error ${body.error.code}`);
        else answered.add(url);
      }
    })()));
    page.on('requestfailed', (req) => {
      if (ours(req.url())) unanswered.push(`${req.method()} ${req.url().replace(/token=[^&]+/, 'token=…')} → ${req.failure()?.errorText}`);
    });
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
    const assets = `/@fs${join(repoRoot, 'node_modules', '@arcgis', 'core', 'assets')}`;
    const query = new URLSearchParams({ layer: layerUrl, rest: t.server.restUrl, token: t.token, assets });
    await page.goto(`http://127.0.0.1:${vite.config.server.port === 0 ? (vite.httpServer!.address() as { port: number }).port : vite.config.server.port}/index.html?${query}`);
    let report: Report = { stage: 'start', events: [] };
    for (let i = 0; i < 300; i++) {
      report = (await page.evaluate(() => (window as unknown as { report: Report }).report)) ?? report;
      if (report.stage === 'done' || report.stage === 'failed') break;
      await page.waitForTimeout(200);
    }
    await Promise.all(checks);
    const context = `\nstage ${report.stage}; error ${report.error ?? 'none'}; events ${report.events.join(' | ')}\nunanswered requests:\n${unanswered.join('\n') || '(none)'}\nrequests: ${fetched.join(', ')}\nconsole:\n${consoleLines.slice(-15).join('\n')}`;
    expect(report.loaded, context).toBe(true);
    expect(report.layer!.capabilities, context).toMatchObject({ operations: expect.objectContaining({ supportsCoverageQuery: true }) });
    expect(report.stage, context).toBe('done');
    expect(report.playing!.currentTime, context).toBeGreaterThan(0.3);
    // The SDK's telemetry (decoded by it from the KLV in the segments) against our coverage.
    const coverage = (await t.api('/services/Client/VideoServer/0/coverage?f=json')).body as { sensorPoints: { points: number[][] } };
    const s = report.telemetry!.sensorLocation!;
    const nearestSensor = Math.min(...coverage.sensorPoints.points.map((p) => metres([s.x, s.y], p)));
    expect(nearestSensor, context).toBeLessThan(1);
    const outline = report.telemetry!.frameOutline![0]!;
    const q = await t.api('/services/Client/VideoServer/0/query', { form: { f: 'json', maxFrames: '10000' } });
    const footprints = (q.body.frames as Array<{ footprint: { rings: number[][][] } }>).map((f) => f.footprint.rings[0]!);
    const fit = Math.min(...footprints.map((ring) => Math.max(...outline.slice(0, 4).map((c) => Math.min(...ring.map((p) => metres(c, p)))))));
    expect(fit, context).toBeLessThan(1);
    expect(unanswered, context).toEqual([]);
    const unstripped = (u: string) => u.replace(/[?&]token=…/, '').replace(/\?$/, '');
    for (const url of challenged) expect([...answered].map(unstripped), `${url} was challenged and never answered${context}`).toContain(unstripped(url));
    await page.close();
  }, 240_000);
});
