// The catalog, the service listing, the service and layer resources and isServiceNameAvailable,
// against real ingests of the KWIVER sample and the simulated flight, with their error answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilities, versions } from '../src/index.js';
import { startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer('server-services');
  const a = await t.addLayer('Kwiver', 'h264_klv.ts');
  expect(a.status).toBe('COMPLETED');
  const b = await t.addLayer('Flights', 'Flight.ts', { createParameters: JSON.stringify({ type: 'ondemand', name: 'Cheyenne loop', source: { path: 'Flight.ts' } }) });
  expect(b.status).toBe('COMPLETED');
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

describe('catalog and services', () => {
  it('the catalog answers without a token: versions and where tokens come from', async () => {
    const r = await t.api('?f=pjson', { anonymous: true });
    expect(r.body).toEqual({
      currentVersion: 12,
      fullVersion: '12.0.0',
      owningSystemUrl: null,
      authInfo: { isTokenBasedSecurity: true, tokenServicesUrl: `${t.server.restUrl}/generateToken`, shortLivedTokenValidity: 60 },
    });
    // ArcGIS Server's server-info resource, which the JS SDK's IdentityManager reads.
    expect((await t.api('/info?f=json', { anonymous: true })).body).toEqual(r.body);
    expect(r.text).toContain('\n  "currentVersion"');
    const slash = await t.api('/?f=json', { anonymous: true });
    expect(slash.body.fullVersion).toBe('12.0.0');
    const bad = await t.api('?f=html', { anonymous: true });
    expect(bad.body.error).toMatchObject({ code: 400 });
  });

  it('lists services in pages, each with its layers', async () => {
    const all = await t.api('/services?f=json');
    expect(all.body).toMatchObject({ total: 2, num: 2, start: 1, nextStart: -1 });
    const services = all.body.services as Array<Record<string, unknown>>;
    expect(services.map((s) => s.serviceName)).toEqual(['Flights', 'Kwiver']);
    expect(services[0]).toMatchObject({ type: 'VideoServer', serviceType: 'Video Service', url: `${t.server.restUrl}/services/Flights/VideoServer` });
    expect((services[0]!.frameworkProperties as Record<string, unknown>).layers).toEqual([{ id: 0, name: 'Cheyenne loop', serviceType: 'ondemand', created: expect.any(Number) }]);
    const first = await t.api('/services?f=json&start=1&num=1');
    expect(first.body).toMatchObject({ total: 2, num: 1, start: 1, nextStart: 2 });
    const second = await t.api('/services?f=json&start=2&num=1');
    expect(second.body).toMatchObject({ total: 2, num: 1, nextStart: -1 });
    expect((second.body.services as Array<{ serviceName: string }>)[0]!.serviceName).toBe('Kwiver');
    const badPage = await t.api('/services?f=json&num=0');
    expect(badPage.body.error).toMatchObject({ code: 400 });
    const noToken = await t.api('/services?f=json', { anonymous: true });
    expect(noToken.body.error).toMatchObject({ code: 499 });
  });

  it('the service resource lists its layers; an unknown service is a 404 error', async () => {
    const r = await t.api('/services/Kwiver/VideoServer?f=json');
    expect(r.body).toMatchObject({ serviceName: 'Kwiver', type: 'VideoServer', layers: [{ id: 0, name: 'h264_klv', serviceType: 'ondemand' }] });
    expect(r.body.serviceItemId).toMatch(/^[0-9a-f]{32}$/);
    const missing = await t.api('/services/Nothing/VideoServer?f=json');
    expect(missing.body).toEqual({ error: { code: 404, message: 'Service not found.', details: ["No video service named 'Nothing'."] } });
    const traversal = await t.api('/services/..%2F..%2Fetc/VideoServer?f=json');
    expect(traversal.body.error).toMatchObject({ code: 404 });
  });

  it('isServiceNameAvailable: taken, free, and names that cannot be services', async () => {
    expect((await t.api('/services/isServiceNameAvailable?f=json&serviceName=Kwiver')).body).toEqual({ available: false, reason: "The service 'Kwiver' exists." });
    expect((await t.api('/services/isServiceNameAvailable?f=json&serviceName=Fresh_1')).body).toEqual({ available: true });
    const bad = await t.api('/services/isServiceNameAvailable?f=json&serviceName=a%2Fb');
    expect(bad.body.available).toBe(false);
    const none = await t.api('/services/isServiceNameAvailable?f=json');
    expect(none.body.error).toMatchObject({ code: 400, details: ['serviceName is required.'] });
  });
});

describe('layer resource', () => {
  it('describes the KWIVER layer as the JS SDK reads it', async () => {
    const r = await t.api('/services/Kwiver/VideoServer/0?f=json');
    const layer = r.body;
    const base = `${t.server.restUrl}/services/Kwiver/VideoServer/0`;
    expect(layer).toMatchObject({
      id: 0,
      name: 'h264_klv',
      serviceType: 'ondemand',
      isLive: false,
      livestreamInfo: null,
      connectionUrl: { hls: `${base}/ABR.m3u8?token=${encodeURIComponent(t.token)}` },
      playbackInfo: { framerate: 30, containerFormat: 'ts', gop: 120, aspectRatio: '4:3', klv: { '0601': true } },
      sourceQuality: 'SD',
      duration: 1,
      frameRate: 30,
      frameCount: 30,
      width: 160,
      height: 120,
      supportsCoverageQuery: true,
      supportsFrameset: true,
      supportsPreviews: true,
      supportedQueryFormats: 'json',
      spatialReference: { wkid: 4326 },
      klv: { packets: 30, standards: { ST0601: 30 } },
    });
    expect(Object.values(layer.connectionUrl as object)[0]).toMatch(/ABR\.m3u8/);
    expect(layer.posterUrl).toBe(`${base}/poster.jpg?token=${encodeURIComponent(t.token)}`);
    // The sample's telemetry (a test pattern): the sensor over eastern Siberia, its frames over
    // the Indian Ocean; the extent holds both.
    const extent = layer.fullExtent as Record<string, number>;
    expect(extent.xmin).toBeCloseTo(29.1457, 3);
    expect(extent.xmax).toBeCloseTo(128.4268, 3);
    expect(extent.ymin).toBeCloseTo(-10.5535, 3);
    expect(extent.ymax).toBeCloseTo(60.1773, 3);
    expect(layer.initialExtent).toEqual(layer.fullExtent);
    const span = (layer.timeInfo as { timeExtent: number[] }).timeExtent;
    expect(new Date(span[0]!).toISOString()).toBe('2008-10-24T00:13:29.913Z');
    expect(span[1]!).toBeGreaterThan(span[0]!);
    // Seconds, not milliseconds.
    expect(layer.created as number).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(layer.created as number).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    // Without a query token the URLs are plain (a header-token client adds its own).
    const header = await t.api('/services/Kwiver/VideoServer/0?f=json', { anonymous: true, headers: { 'x-esri-authorization': `Bearer ${t.token}` } });
    expect(header.body.connectionUrl).toEqual({ hls: `${base}/ABR.m3u8` });
  });

  it('the flight layer says its footprints come from the full corner points', async () => {
    const r = await t.api('/services/Flights/VideoServer/0?f=json');
    expect(r.body).toMatchObject({ name: 'Cheyenne loop', width: 320, height: 240, playbackInfo: { klv: { '0601': true } } });
    expect(r.body.geometry).toMatchObject({ computedFrom: ['corners'] });
    const extent = r.body.fullExtent as Record<string, number>;
    expect(extent.xmin).toBeGreaterThan(-105);
    expect(extent.xmax).toBeLessThan(-104.7);
  });

  it('preview.json describes the sprite sheet the ingest made', async () => {
    const r = await t.api('/services/Flights/VideoServer/0/content/preview/preview.json?f=json');
    expect(r.body).toMatchObject({ frameCount: 1, width: 160, height: 120, nCol: 1, nRow: 1 });
    expect(String(r.body.preview)).toMatch(/\/services\/Flights\/VideoServer\/0\/sprite\.jpg\?token=/);
    const sprite = await fetch(String(r.body.preview));
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get('content-type')).toBe('image/jpeg');
  });

  it('unknown layers, bad layer ids and unknown services are 404 error JSON', async () => {
    expect((await t.api('/services/Kwiver/VideoServer/7?f=json')).body).toEqual({ error: { code: 404, message: 'Layer not found.', details: ["The service 'Kwiver' has no layer '7'."] } });
    expect((await t.api('/services/Kwiver/VideoServer/abc?f=json')).body.error).toMatchObject({ code: 404 });
    expect((await t.api('/services/Nope/VideoServer/0?f=json')).body.error).toMatchObject({ code: 404, message: 'Service not found.' });
    expect((await t.api('/services/Nope/VideoServer/0/content/preview/preview.json?f=json')).body.error).toMatchObject({ code: 404 });
  });

  it('JSON resources carry ETags; a matching If-None-Match gets 304', async () => {
    const first = await t.api('/services/Kwiver/VideoServer/0?f=json');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^"[\w-]+"$/);
    const again = await t.api('/services/Kwiver/VideoServer/0?f=json', { headers: { 'if-none-match': tag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const other = await t.api('/services/Kwiver/VideoServer/0?f=json', { headers: { 'if-none-match': '"stale"' } });
    expect(other.status).toBe(200);
    const pretty = await t.api('/services/Kwiver/VideoServer/0?f=pjson');
    expect(pretty.headers.get('etag')).not.toBe(tag);
  });
});

describe('self', () => {
  it('says what this machine can do, as capabilities() found it', async () => {
    const r = await t.api('/self?f=json');
    const caps = await capabilities();
    expect(r.body).toMatchObject({
      hasNvidiaGpu: caps.paths.cuda.available,
      supportsH264Encoding: caps.paths.cpu.encoders.includes('libx264') || caps.paths.cuda.encoders.includes('h264_nvenc'),
      supportsH265Encoding: [...caps.paths.cpu.encoders, ...caps.paths.cuda.encoders].some((e) => /x265|hevc/.test(e)),
      hardware: { nvdec: caps.paths.cuda.available && caps.paths.cuda.decoders.length > 0, vaapi: caps.paths.vaapi.available, configured: 'cpu' },
      ffmpeg: versions(),
      storage: { directory: `${t.data}/services` },
      maxUploadSize: 8 * 1024 ** 3,
      livestream: { protocols: ['udp', 'srt', 'rtmp', 'rtsp', 'rist'], ports: { rangeMin: 1024, rangeMax: 65535 } },
    });
    expect((r.body.hardware as { cuda: { reason: unknown } }).cuda.reason).toBe(caps.paths.cuda.reason);
    expect((await t.api('/self?f=json', { anonymous: true })).body.error).toMatchObject({ code: 499 });
  });
});
