/**
 * A real server on loopback with two real ingests: the KWIVER sample (h264_klv.ts, ST 0601 from
 * a real encoder) and the simulated flight (known corners). Shared by the server-resource tests.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResource } from '../src/jobs/job.js';
import { startServer, type RunningServer } from '../src/server/app.js';
import { resolveServerConfig, type ConfigInput } from '../src/server/config.js';
import { flightClip, freshDir } from './jobs-fixtures.js';

export const KWIVER_SAMPLE = '/work/shared/samples/kwiver/h264_klv.ts';

export interface TestServer {
  server: RunningServer;
  token: string;
  dir: string;
  data: string;
  inputRoot: string;
  api(path: string, init?: ApiInit): Promise<ApiAnswer>;
  addLayer(service: string, path: string, extra?: Record<string, string>): Promise<JobResource>;
}

export interface ApiInit {
  method?: string;
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Leave the token out. */
  anonymous?: boolean;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

export async function startTestServer(name: string, values: ConfigInput = {}): Promise<TestServer> {
  const dir = freshDir(name);
  const data = join(dir, 'data');
  const inputRoot = join(dir, 'inputs');
  mkdirSync(inputRoot, { recursive: true });
  copyFileSync(KWIVER_SAMPLE, join(inputRoot, 'h264_klv.ts'));
  copyFileSync(await flightClip('Flight.ts', { durationSeconds: 4 }), join(inputRoot, 'Flight.ts'));
  const server = await startServer(resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: data, inputRoots: [inputRoot], users: ['admin:correct horse'], hwaccel: 'cpu', ...values } }]));
  const t: TestServer = {
    server,
    token: '',
    dir,
    data,
    inputRoot,
    async api(path, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      let body: string | undefined;
      const withToken = (o: Record<string, string>) => (init.anonymous ? o : { token: t.token, ...o });
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(withToken(init.form)).toString();
      } else if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.anonymous ? init.json : { token: t.token, ...(init.json as object) });
      }
      let url = `${server.restUrl}${path}`;
      if (!body && !init.anonymous && !/[?&]token=/.test(path)) url += `${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(t.token)}`;
      const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, ...(body ? { body } : {}) });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Not JSON (a playlist, a segment, an image).
      }
      return { status: res.status, headers: res.headers, text, body: parsed };
    },
    async addLayer(service, path, extra = {}) {
      const r = await t.api(`/services/${service}/addLayer`, { form: { createParameters: JSON.stringify({ type: 'ondemand', source: { path } }), requestedResolutions: 'sd', f: 'json', ...extra } });
      if (typeof r.body.jobId !== 'string') throw new Error(`addLayer failed: ${r.text}`);
      return pollJob(t, r.body.jobId);
    },
  };
  const tok = await t.api('/generateToken', { form: { username: 'admin', password: 'correct horse', f: 'json' }, anonymous: true });
  t.token = String(tok.body.token);
  return t;
}

export async function pollJob(t: TestServer, jobId: string): Promise<JobResource> {
  for (let i = 0; i < 1200; i++) {
    const r = await t.api(`/jobs/job/${jobId}?f=json`);
    const job = r.body as unknown as JobResource;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${jobId} did not finish`);
}

/** Metres between two [lon, lat] points (equirectangular; exact enough over metres). */
export function metres(a: readonly number[], b: readonly number[]): number {
  const k = 111_320;
  return Math.hypot((a[0]! - b[0]!) * k * Math.cos((a[1]! * Math.PI) / 180), (a[1]! - b[1]!) * k);
}
