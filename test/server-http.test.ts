import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResource } from '../src/jobs/job.js';
import { TokenService, loadOrCreateSecret } from '../src/server/auth.js';
import { redactUrl, startServer, type RunningServer } from '../src/server/app.js';
import { resolveServerConfig } from '../src/server/config.js';
import { flightClip, freshDir } from './jobs-fixtures.js';

let server: RunningServer;
let data: string;
let inputRoot: string;
let token: string;

async function api(path: string, init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(`${server.restUrl}${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, ...(body ? { body } : {}) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON (a playlist or a segment).
  }
  return { status: res.status, text, body: parsed };
}

/** A raw request: fetch() would normalise the '..' segments away before they reach the server. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function addLayer(service: string, path: string, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await api(`/services/${service}/addLayer`, {
    form: { createParameters: JSON.stringify({ type: 'ondemand', source: { path } }), requestedResolutions: 'sd', f: 'json', token, ...extra },
  });
  return r.body;
}

async function pollJob(jobId: string): Promise<JobResource> {
  for (let i = 0; i < 600; i++) {
    const r = await api(`/jobs/job/${jobId}?f=json&token=${encodeURIComponent(token)}`);
    const job = r.body as unknown as JobResource;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${jobId} did not finish`);
}

beforeAll(async () => {
  const dir = freshDir('server-http');
  data = join(dir, 'data');
  inputRoot = join(dir, 'inputs');
  const outside = join(dir, 'outside');
  mkdirSync(join(inputRoot, 'missions'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  copyFileSync(await flightClip('Cheyenne.ts'), join(inputRoot, 'missions', 'Cheyenne.ts'));
  copyFileSync(await flightClip('Cheyenne.ts'), join(outside, 'Secret.ts'));
  symlinkSync(join(outside, 'Secret.ts'), join(inputRoot, 'missions', 'Escape.ts'));
  writeFileSync(join(inputRoot, 'missions', 'Escape.m3u8'), '#EXTM3U\n#EXTINF:4,\n../../outside/Secret.ts\n#EXT-X-ENDLIST\n');
  server = await startServer(
    resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: data, inputRoots: [inputRoot], users: ['admin:correct horse', 'viewer:battery'], hwaccel: 'cpu', corsOrigins: ['https://maps.example.com'] } }]),
  );
  expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

afterAll(async () => {
  await server?.close();
});

describe('HTTP jobs API on loopback', () => {
  it('generateToken: wrong credentials are refused; right ones get {token, expires}', async () => {
    const bad = await api('/generateToken', { form: { username: 'admin', password: 'wrong', f: 'json' } });
    expect(bad.body).toEqual({ error: { code: 400, message: 'Unable to generate token.', details: ['Invalid username or password.'] } });
    const unknown = await api('/generateToken', { form: { username: 'nobody', password: 'x', f: 'json' } });
    expect(unknown.body.error).toMatchObject({ code: 400 });
    const before = Date.now();
    const good = await api('/generateToken', { form: { username: 'admin', password: 'correct horse', expiration: '30', f: 'json' } });
    expect(Object.keys(good.body)).toEqual(['token', 'expires']);
    expect(typeof good.body.token).toBe('string');
    expect(good.body.expires as number).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(good.body.expires as number).toBeLessThan(before + 31 * 60_000);
    token = good.body.token as string;
    // JSON bodies are accepted too.
    const json = await api('/generateToken', { json: { username: 'viewer', password: 'battery', f: 'json' } });
    expect(json.body.token).toEqual(expect.any(String));
    // Credentials in the URL are refused even when right: URLs end up in logs.
    const inUrl = await api('/generateToken?username=viewer&password=battery', { form: { f: 'json' } });
    expect(inUrl.body).toEqual({ error: { code: 400, message: 'Unable to generate token.', details: ['Send username and password in the request body, not in the URL.'] } });
  });

  it('request logs carry no tokens or passwords', () => {
    expect(redactUrl('/arcgis/rest/jobs?f=json&token=abc.def&x=1')).toBe('/arcgis/rest/jobs?f=json&token=<redacted>&x=1');
    expect(redactUrl('/s/0/480p/480p.m3u8?token=abc')).toBe('/s/0/480p/480p.m3u8?token=<redacted>');
    expect(redactUrl('/generateToken?username=a&PASSWORD=b')).toBe('/generateToken?username=a&PASSWORD=<redacted>');
  });

  it('generateToken: after 5 failed attempts a user is refused for a while, other users are not', async () => {
    for (let i = 0; i < 5; i++) {
      const bad = await api('/generateToken', { form: { username: 'viewer', password: `guess${i}`, f: 'json' } });
      expect((bad.body.error as { details: string[] }).details).toEqual(['Invalid username or password.']);
    }
    const locked = await api('/generateToken', { form: { username: 'viewer', password: 'battery', f: 'json' } });
    expect(locked.body.token).toBeUndefined();
    expect((locked.body.error as { details: string[] }).details[0]).toMatch(/^Too many failed attempts; try again in \d+ seconds\.$/);
    const other = await api('/generateToken', { form: { username: 'admin', password: 'correct horse', f: 'json' } });
    expect(typeof other.body.token).toBe('string');
  });

  it('generateToken: an address that fails under many usernames is refused for all of them', async () => {
    // The failures above already count against this address; 25 more under fresh names pass its limit of 30.
    for (let i = 0; i < 25; i++) await api('/generateToken', { form: { username: `nobody${i}`, password: 'x', f: 'json' } });
    const locked = await api('/generateToken', { form: { username: 'admin', password: 'correct horse', f: 'json' } });
    expect(locked.body.token).toBeUndefined();
    expect((locked.body.error as { details: string[] }).details[0]).toMatch(/^Too many failed attempts/);
  });

  it('answers CORS preflights and requests from a configured origin only', async () => {
    const preflight = await fetch(`${server.restUrl}/jobs?f=json`, {
      method: 'OPTIONS',
      headers: { origin: 'https://maps.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-esri-authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://maps.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Esri-Authorization, Authorization/);
    const get = await fetch(`${server.restUrl}/jobs?f=json`, { headers: { origin: 'https://maps.example.com' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://maps.example.com');
    const other = await fetch(`${server.restUrl}/jobs?f=json`, { headers: { origin: 'https://evil.example.net' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Every answer varies by origin, so a shared cache keeps the copies apart.
    expect(other.headers.get('vary')).toMatch(/Origin/);
    expect((await fetch(`${server.restUrl}/jobs?f=json`)).headers.get('vary')).toMatch(/Origin/);
    const otherPreflight = await fetch(`${server.restUrl}/jobs?f=json`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' } });
    expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses requests without a token (499) and with a bad or expired one (498)', async () => {
    expect((await api('/jobs?f=json')).body).toEqual({ error: { code: 499, message: 'Token Required', details: [] } });
    expect((await api('/jobs?f=json&token=abc.def')).body.error).toMatchObject({ code: 498, message: 'Invalid Token' });
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await api('/jobs?f=json', { headers: { 'X-Esri-Authorization': `Bearer ${forged}` } })).body.error).toMatchObject({ code: 498 });
    const expired = new TokenService(loadOrCreateSecret(join(data, 'token.key')), [{ username: 'admin', password: 'x' }]).issue('admin', 1, Date.now() - 120_000).token;
    expect((await api(`/jobs?f=json&token=${expired}`)).body.error).toMatchObject({ code: 498, details: ['The token has expired.'] });
    expect((await api('/services/Svc/addLayer', { form: { createParameters: '{}', f: 'json' } })).body.error).toMatchObject({ code: 499 });
    expect((await api('/services/Svc/VideoServer/0/ABR.m3u8')).status).toBe(401);
    expect((await api('/jobs?f=json', { headers: { 'X-Esri-Authorization': `Bearer ${token}` } })).body).toMatchObject({ total: 0, jobs: [] });
  });

  it('addLayer → poll to COMPLETED → read with f=pjson → play ABR.m3u8 down to its first segment', async () => {
    const added = await addLayer('Cheyenne_TS', 'missions/Cheyenne.ts');
    expect(Object.keys(added)).toEqual(['jobId', 'success']);
    expect(added.success).toBe(true);
    const jobId = added.jobId as string;
    const job = await pollJob(jobId);
    expect(job.status).toBe('COMPLETED');
    expect(job.messages.at(-1)).toBe('Ingest Complete');
    expect(job.username).toBe('admin');
    expect(job.inputs.serviceUrl).toBe(`${server.restUrl}/services/Cheyenne_TS/VideoServer`);
    expect(job.results).toEqual({ layerId: 0, layerName: 'Cheyenne', serviceName: 'Cheyenne_TS' });
    // The path as the client gave it, not the server's directory layout.
    expect(job.customAttributes.source).toBe('missions/Cheyenne.ts');

    const pjson = await api(`/jobs/job/${jobId}?f=pjson`, { headers: { 'X-Esri-Authorization': `Bearer ${token}` } });
    expect(pjson.text).toContain(`{\n  "jobId": "${jobId}",\n  "inputs": {\n    "serviceItemId"`);
    expect(pjson.body).toEqual(job);
    const plain = await api(`/jobs/job/${jobId}?f=json&token=${token}`);
    expect(plain.text.startsWith(`{"jobId":"${jobId}","inputs":`)).toBe(true);

    const auth = { 'X-Esri-Authorization': `Bearer ${token}` };
    const base = `/services/Cheyenne_TS/VideoServer/0`;
    const master = await fetch(`${server.restUrl}${base}/ABR.m3u8`, { headers: auth });
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const masterText = await master.text();
    expect(masterText).toMatch(/^#EXTM3U/);
    const mediaUri = masterText.split('\n').find((l) => l.trim() && !l.startsWith('#'))!;
    const media = await (await fetch(new URL(mediaUri, `${server.restUrl}${base}/ABR.m3u8`), { headers: auth })).text();
    const segUri = media.split('\n').find((l) => l.trim() && !l.startsWith('#'))!;
    const segUrl = new URL(segUri, new URL(mediaUri, `${server.restUrl}${base}/ABR.m3u8`));
    const seg = await fetch(segUrl, { headers: auth });
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('video/mp2t');
    const bytes = new Uint8Array(await seg.arrayBuffer());
    expect(bytes.length % 188).toBe(0);
    expect(bytes.length).toBeGreaterThan(188 * 10);
    for (let i = 0; i < bytes.length; i += 188) expect(bytes[i]).toBe(0x47);
    // The segment carries the KLV PID beside video and audio (a PMT entry with the KLVA registration).
    expect(Buffer.from(bytes).includes(Buffer.from('KLVA'))).toBe(true);
    // Ranges, the token as a query parameter, and the decoded telemetry.
    const part = await fetch(`${segUrl.href}?token=${token}`, { headers: { range: 'bytes=188-375' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 188-375/${bytes.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(188, 376));
    const head = await fetch(`${server.restUrl}${base}/ABR.m3u8`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(masterText));
    expect(await head.text()).toBe('');
    const ndjson = await fetch(`${server.restUrl}${base}/klv.ndjson?token=${token}`);
    expect(ndjson.headers.get('content-type')).toMatch(/ndjson/);
    expect((await ndjson.text()).trim().split('\n')).toHaveLength(job.customAttributes.klv!.packets);
    // A player without headers: ?token= on the master playlist carries on to every URI it meets.
    const masterUrl = `${server.restUrl}${base}/ABR.m3u8?token=${encodeURIComponent(token)}`;
    const tokenMaster = await (await fetch(masterUrl)).text();
    const variant = tokenMaster.split('\n').find((l) => l && !l.startsWith('#'))!;
    expect(variant).toContain(`?token=${encodeURIComponent(token)}`);
    const variantUrl = new URL(variant, masterUrl);
    const tokenMedia = await fetch(variantUrl);
    expect(tokenMedia.status).toBe(200);
    const firstSegment = (await tokenMedia.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
    const segResponse = await fetch(new URL(firstSegment, variantUrl));
    expect(segResponse.status).toBe(200);
    expect(new Uint8Array(await segResponse.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${server.restUrl}${base}/ABR.m3u8`, { headers: { 'X-Esri-Authorization': 'Bearer nope.nope' } })).status).toBe(403);
    expect((await fetch(`${server.restUrl}${base}/missing.ts`, { headers: auth })).status).toBe(404);
    // Read-only.
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const w = await fetch(`${server.restUrl}${base}/ABR.m3u8`, { method, headers: auth, body: method === 'DELETE' ? null : 'x' });
      expect(w.status, method).toBe(404);
    }
    expect(readFileSync(join(data, 'services', 'Cheyenne_TS', '0', 'ABR.m3u8'), 'utf8')).toBe(masterText);
  });

  it('JSON bodies, absolute paths and a service that does not exist yet', async () => {
    const r = await api('/services/New_Service/addLayer', {
      json: { createParameters: { type: 'ondemand', name: 'Morning run', source: { path: join(inputRoot, 'missions', 'Cheyenne.ts') } }, requestedResolutions: 'sd', f: 'json' },
      headers: { 'X-Esri-Authorization': `Bearer ${token}` },
    });
    expect(r.body.success).toBe(true);
    const job = await pollJob(r.body.jobId as string);
    expect(job.status).toBe('COMPLETED');
    expect(job.results).toEqual({ layerId: 0, layerName: 'Morning run', serviceName: 'New_Service' });
    const list = await api(`/jobs?f=json&token=${token}`);
    expect(list.body).toMatchObject({ total: 2, start: 1, num: 2, nextStart: -1 });
    expect((list.body.jobs as JobResource[]).map((j) => j.jobId)).toEqual([job.jobId, expect.any(String)]);
    const page = await api(`/jobs?f=json&start=2&num=1&token=${token}`);
    expect(page.body).toMatchObject({ total: 2, start: 2, num: 1, nextStart: -1 });
  });

  it('refuses path traversal, links and playlists out of the input root, URLs and protocol prefixes, bad parameters', async () => {
    const total = async () => (await api(`/jobs?f=json&token=${token}`)).body.total;
    const before = await total();
    const refused: Array<[string, number, RegExp]> = [
      ['../outside/Secret.ts', 403, /outside the configured input roots/],
      ['missions/../../outside/Secret.ts', 403, /outside/],
      [join(inputRoot, '..', 'outside', 'Secret.ts'), 403, /outside/],
      ['/etc/passwd', 403, /outside/],
      ['missions/Escape.ts', 403, /leads outside/],
      ['missions/Escape.m3u8', 403, /playlist refers to/],
      ['concat:missions/Cheyenne.ts|missions/Cheyenne.ts', 400, /local file path/],
      ['http://127.0.0.1:1/x.ts', 400, /local file path/],
      ['file:///etc/passwd', 400, /local file path/],
      ['missions/Nope.ts', 404, /does not exist/],
    ];
    for (const [path, code, message] of refused) {
      const r = await addLayer('Svc', path);
      expect(r.error, path).toMatchObject({ code, message: 'Unable to add layer.' });
      expect((r.error as { details: string[] }).details[0], path).toMatch(message);
    }
    const cp = (v: unknown) => JSON.stringify(v);
    const bad: Array<[string, Record<string, string>, RegExp]> = [
      ['Svc', { createParameters: 'not json' }, /not valid JSON/],
      ['Svc', { createParameters: cp({ type: 'livestream', source: { path: 'missions/Cheyenne.ts' } }) }, /streamAddress must be a URL/],
      ['Svc', { createParameters: cp({ type: 'ondemand' }) }, /source must be an object/],
      ['Svc', { createParameters: cp({ type: 'ondemand', source: { path: 'missions/Cheyenne.ts' } }), requestedResolutions: '8k' }, /requestedResolutions must be one of/],
      ['Bad-Name', { createParameters: cp({ type: 'ondemand', source: { path: 'missions/Cheyenne.ts' } }) }, /service name/],
    ];
    for (const [service, form, message] of bad) {
      const r = await api(`/services/${service}/addLayer`, { form: { f: 'json', token, ...form } });
      expect(r.body.error, JSON.stringify(form)).toMatchObject({ code: 400 });
      expect(((r.body.error as { details: string[] }).details[0] ?? '') as string).toMatch(message);
    }
    // A 120-character service name still reaches the route (and is judged by its rules).
    const long = await addLayer('S'.repeat(120), 'missions/Nope.ts');
    expect(long.error).toMatchObject({ code: 404, details: [expect.stringMatching(/does not exist/)] });
    expect((await addLayer('S'.repeat(121), 'missions/Cheyenne.ts')).error).toMatchObject({ code: 400, details: [expect.stringMatching(/service name/)] });
    expect(await total()).toBe(before);
  });

  it('never serves files from outside a published layer', async () => {
    const auth = { 'X-Esri-Authorization': `Bearer ${token}` };
    const root = new URL(server.restUrl).pathname;
    // The same raw request for a published file succeeds, so the refusals below are the paths'.
    expect((await rawGet(`${root}/services/Cheyenne_TS/VideoServer/0/ABR.m3u8`, auth)).status).toBe(200);
    for (const path of [
      `${root}/services/Cheyenne_TS/VideoServer/0/../../../token.key`,
      `${root}/services/Cheyenne_TS/VideoServer/0/..%2F..%2F..%2Ftoken.key`,
      `${root}/services/Cheyenne_TS/VideoServer/0/%2e%2e/%2e%2e/%2e%2e/token.key`,
      `${root}/services/..%2F..%2F/VideoServer/0/token.key`,
      `${root}/services/.staging/VideoServer/0/ABR.m3u8`,
      `${root}/services/Cheyenne_TS/VideoServer/0/%00ABR.m3u8`,
      `${root}/services/Cheyenne_TS/VideoServer/0/..\\..\\..\\token.key`,
    ]) {
      const r = await rawGet(path, auth);
      expect([400, 404], path).toContain(r.status);
      expect(r.body, path).not.toMatch(/^[0-9a-f]{64}$/);
      expect(r.body, path).not.toContain(readFileSync(join(data, 'token.key'), 'utf8'));
    }
  });

  it('answers unknown jobs, unknown routes and formats in ArcGIS form', async () => {
    expect((await api(`/jobs/job/j00000000-0000-0000-0000-000000000000?f=json&token=${token}`)).body.error).toMatchObject({ code: 404, message: 'Job not found.' });
    expect((await api(`/jobs/job/../../etc?f=json&token=${token}`)).body.error).toMatchObject({ code: 404 });
    expect((await api(`/jobs?f=html&token=${token}`)).body.error).toMatchObject({ code: 400, message: 'Invalid format.' });
    const unknown = await api('/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 404 });
  });
});

describe('behind a reverse proxy', () => {
  it('with trustProxy, login limits key on the forwarded client address, not the proxy', async () => {
    const dir = freshDir('server-proxy');
    mkdirSync(join(dir, 'inputs'), { recursive: true });
    const proxied = await startServer(
      resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: join(dir, 'data'), inputRoots: [join(dir, 'inputs')], users: ['admin:pw'], trustProxy: ['127.0.0.1'] } }]),
    );
    try {
      const login = (client: string, password: string) =>
        fetch(`${proxied.restUrl}/generateToken`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': client },
          body: new URLSearchParams({ username: 'admin', password, f: 'json' }),
        }).then((r) => r.json() as Promise<{ token?: string; error?: { details: string[] } }>);
      for (let i = 0; i < 5; i++) await login('203.0.113.7', `guess${i}`);
      expect((await login('203.0.113.7', 'pw')).error?.details[0]).toMatch(/^Too many failed attempts/);
      // Another client behind the same proxy is not locked out.
      expect((await login('198.51.100.9', 'pw')).token).toEqual(expect.any(String));
    } finally {
      await proxied.close();
    }
    expect(() => resolveServerConfig([{ name: 'test', values: { dataDir: dir, inputRoots: [dir], users: ['a:b'], trustProxy: ['10.0.0.0/33'] } }])).toThrow(
      /an IP address or CIDR range such as 10\.0\.0\.0\/8 for trustProxy \(from test\)\[0\]/,
    );
  });
});
