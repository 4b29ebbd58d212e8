// What players and browsers expect of the published files: MIME types, byte ranges, caching,
// validators (ETag, 304), CORS from another origin, and refusal of paths that lead elsewhere.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
let base: string;
const ORIGIN = 'https://maps.example.com';

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${base}/${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(t.token)}`, { method, headers });

/** A raw request: fetch() would normalise '..' away before it reaches the server. */
function rawGet(path: string): Promise<number> {
  const url = new URL(t.server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  t = await startTestServer('server-files', { corsOrigins: [ORIGIN] });
  expect((await t.addLayer('Kwiver', 'h264_klv.ts')).status).toBe('COMPLETED');
  base = `${t.server.restUrl}/services/Kwiver/VideoServer/0`;
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

describe('published files over HTTP', () => {
  it('MIME types of playlists, segments, images and telemetry', async () => {
    const types: Record<string, string> = {
      'ABR.m3u8': 'application/vnd.apple.mpegurl',
      '120p/120p.m3u8': 'application/vnd.apple.mpegurl',
      '120p/120p_00000.ts': 'video/mp2t',
      'poster.jpg': 'image/jpeg',
      'klv.geojson': 'application/geo+json; charset=utf-8',
      'thumbnails.vtt': 'text/vtt; charset=utf-8',
      'videoInfo.json': 'application/json; charset=utf-8',
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await res.arrayBuffer();
    }
  });

  it('byte ranges: a range, a suffix, one past the end (416), and HEAD', async () => {
    const whole = Buffer.from(await (await get('120p/120p_00000.ts')).arrayBuffer());
    const part = await get('120p/120p_00000.ts', { range: 'bytes=188-375' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 188-375/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(188, 376))).toBe(true);
    const tail = await get('120p/120p_00000.ts', { range: 'bytes=-188' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 188))).toBe(true);
    const past = await get('120p/120p_00000.ts', { range: `bytes=${whole.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    const head = await get('120p/120p_00000.ts', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(whole.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
  });

  it('Cache-Control: segments and images for a day, on-demand playlists revalidated; ETags give 304', async () => {
    const seg = await get('120p/120p_00000.ts');
    expect(seg.headers.get('cache-control')).toBe('private, max-age=86400');
    await seg.arrayBuffer();
    const pl = await get('ABR.m3u8');
    expect(pl.headers.get('cache-control')).toBe('no-cache');
    await pl.text();
    const tag = seg.headers.get('etag')!;
    expect(tag).toMatch(/^W\/"[0-9a-z]+-[0-9a-z]+"$/);
    const again = await get('120p/120p_00000.ts', { 'if-none-match': tag });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const stale = await get('120p/120p_00000.ts', { 'if-none-match': 'W/"0-0"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  it('CORS: a browser on the configured origin reads files and JSON with their headers; others get no grant', async () => {
    const seg = await get('120p/120p_00000.ts', { origin: ORIGIN, range: 'bytes=0-187' });
    expect(seg.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(seg.headers.get('access-control-expose-headers')).toMatch(/Content-Range/);
    expect(seg.headers.get('access-control-expose-headers')).toMatch(/ETag/);
    await seg.arrayBuffer();
    const layer = await fetch(`${base}?f=json&token=${encodeURIComponent(t.token)}`, { headers: { origin: ORIGIN } });
    expect(layer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await layer.json();
    const preflight = await fetch(`${base}/query`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-esri-authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const other = await get('ABR.m3u8', { origin: 'https://elsewhere.example.com' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await other.text();
  });

  it('paths that lead out of the layer, hidden files and unknown files are refused', async () => {
    const root = new URL(base).pathname;
    expect(await rawGet(`${root}/../../../../token.key?token=${t.token}`)).toBe(404);
    expect(await rawGet(`${root}/%2e%2e/%2e%2e/jobs.sqlite?token=${t.token}`)).toBe(404);
    expect(await rawGet(`${root}/.layer.json?token=${t.token}`)).toBe(404);
    expect((await get('nothing.ts')).status).toBe(404);
    const noToken = await fetch(`${base}/ABR.m3u8`);
    expect(noToken.status).toBe(401);
  });
});
