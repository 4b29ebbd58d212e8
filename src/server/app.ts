/**
 * The HTTP jobs API (fastify): tokens, addLayer, the job resources, and the published outputs
 * served read-only. Errors use ArcGIS's JSON form {"error": {"code", "message", "details"}} with
 * HTTP status 200 on the REST endpoints, as ArcGIS Server does (its clients read the code from
 * the body, e.g. to renew a token on 498); file requests get real HTTP statuses.
 */
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { join } from 'node:path';
import { MediaError } from '../errors.js';
import { JOB_ID_PATTERN, SERVICE_NAME_PATTERN } from '../jobs/ids.js';
import { RESOLUTIONS, type Resolution } from '../jobs/job.js';
import { JobManager } from '../jobs/manager.js';
import type { Storage } from '../jobs/storage.js';
import { LoginThrottle, TokenService, loadOrCreateSecret } from './auth.js';
import type { ServerConfig } from './config.js';
import { InputRejected, realRoots, resolveInput } from './inputs.js';

export interface RunningServer {
  app: FastifyInstance;
  manager: JobManager;
  config: ServerConfig;
  /** http://host:port the server listens on. */
  origin: string;
  /** Origin + REST root: what serviceUrl is built from. */
  restUrl: string;
  close(): Promise<void>;
}

type Params = Record<string, string | undefined>;
type Fields = Record<string, unknown>;

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  aac: 'audio/aac',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  vtt: 'text/vtt; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  geojson: 'application/geo+json; charset=utf-8',
};

export function arcgisError(code: number, message: string, details: string[] = []): { error: { code: number; message: string; details: string[] } } {
  return { error: { code, message, details } };
}

/** A request URL with the values of its credential parameters replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|password)=)[^&#]*/gi, '$1<redacted>');
}

/** Query string and form/JSON body fields together (the body wins). */
function fields(req: FastifyRequest): Fields {
  const q = (req.query ?? {}) as Fields;
  const b = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Fields) : {};
  return { ...q, ...b };
}

function one(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

function sendJson(reply: FastifyReply, f: Fields, body: unknown): FastifyReply {
  const pretty = one(f.f) === 'pjson';
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body, null, pretty ? 2 : undefined));
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

/** Appends token=... to every URI of an HLS playlist: URI lines and URI="..." attributes. */
export function withTokenOnUris(playlist: string, token: string): string {
  const add = (uri: string) => (/^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : `${uri}${uri.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return add(trimmed);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}

function tokenOf(req: FastifyRequest, f: Fields): string | undefined {
  const esri = req.headers['x-esri-authorization'];
  const header = (Array.isArray(esri) ? esri[0] : esri) ?? req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) return m[1];
  }
  return one(f.token);
}

/** Starts the server: opens the job manager on the data directory, then listens. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const roots = await realRoots(config.inputRoots);
  const secret = config.tokenSecret ?? loadOrCreateSecret(join(config.dataDir, 'token.key'));
  const tokens = new TokenService(secret, config.users);
  const throttle = new LoginThrottle();
  // Per address across all usernames: failures under ever new usernames would otherwise push a
  // user's own count out of the bounded table.
  const addressThrottle = new LoginThrottle(30, 60_000);
  const manager = await JobManager.open({
    store: join(config.dataDir, 'jobs.sqlite'),
    outDir: join(config.dataDir, 'services'),
    tempDir: join(config.dataDir, 'tmp'),
    hwaccel: config.hwaccel,
    ...(config.concurrency !== null ? { concurrency: config.concurrency } : {}),
    maxQueued: config.maxQueuedJobs,
  });
  const storage = manager.defaultStorage as Storage;
  // Service names run to 120 characters and file paths deeper: raise find-my-way's 100-character parameter limit.
  // Logged URLs carry no tokens: playlists fetched with ?token= pass it on to every segment URL.
  const logger = config.log
    ? {
        stream: process.stderr,
        serializers: {
          req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
        },
      }
    : false;
  const app = Fastify({
    logger,
    bodyLimit: 1024 * 1024,
    exposeHeadRoutes: true,
    routerOptions: { maxParamLength: 2048 },
    ...(config.trustProxy.length > 0 ? { trustProxy: config.trustProxy } : {}),
  });
  let restUrl = '';

  try {
    await app.register(formbody);
    // Every answer is JSON or a published file: browsers must not guess other types from them.
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      return payload;
    });
    // CORS for the configured origins: players and map clients on other origins call the API and
    // fetch playlists and segments (with the token header and byte ranges).
    if (config.corsOrigins.length > 0) {
      const anyOrigin = config.corsOrigins.includes('*');
      app.addHook('onRequest', async (req, reply) => {
        // On every answer, matching or not: a shared cache must not hand one origin's copy to another.
        if (!anyOrigin) reply.header('vary', 'Origin');
        const origin = req.headers.origin;
        if (typeof origin !== 'string' || (!anyOrigin && !config.corsOrigins.includes(origin))) return;
        reply.header('access-control-allow-origin', anyOrigin ? '*' : origin);
        reply.header('access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges');
        if (req.method === 'OPTIONS') {
          reply.header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS');
          reply.header('access-control-allow-headers', 'X-Esri-Authorization, Authorization, Content-Type, Range');
          reply.header('access-control-max-age', '600');
          return reply.code(204).send();
        }
      });
    }
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      // Bodies that cannot be parsed and other request errors, in ArcGIS's form.
      const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (code === 500) req.log.error(err);
      return sendJson(reply, fields(req), arcgisError(code, code === 500 ? 'Internal server error.' : err.message));
    });
    // Unknown routes and methods (a PUT on a published file included) get a real 404 as well.
    app.setNotFoundHandler((req, reply) =>
      reply
        .code(404)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(arcgisError(404, 'Not found.', [`${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`]))),
    );

    const authorize = (req: FastifyRequest, reply: FastifyReply, f: Fields): string | null => {
      const check = tokens.verify(tokenOf(req, f));
      if (check.ok) return check.username;
      if (check.reason === 'missing') sendJson(reply, f, arcgisError(499, 'Token Required'));
      else sendJson(reply, f, arcgisError(498, 'Invalid Token', [check.reason === 'expired' ? 'The token has expired.' : 'The token is not valid.']));
      return null;
    };
    const checkFormat = (reply: FastifyReply, f: Fields): boolean => {
      const fmt = one(f.f);
      if (fmt === undefined || fmt === 'json' || fmt === 'pjson') return true;
      sendJson(reply, {}, arcgisError(400, 'Invalid format.', [`f must be json or pjson, not '${fmt}'`]));
      return false;
    };

    await app.register(
      async (api) => {
        api.post('/generateToken', async (req, reply) => {
          const f = fields(req);
          if (!checkFormat(reply, f)) return reply;
          // Credentials only from the body: URLs end up in logs, histories and proxies.
          const q = (req.query ?? {}) as Fields;
          if (q.password !== undefined || q.username !== undefined) {
            return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['Send username and password in the request body, not in the URL.']));
          }
          const username = one(f.username);
          const password = one(f.password);
          const throttleKey = `${req.ip}|${username ?? ''}`;
          const wait = Math.max(throttle.retryAfterMs(throttleKey), addressThrottle.retryAfterMs(req.ip));
          if (wait > 0) {
            return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', [`Too many failed attempts; try again in ${Math.ceil(wait / 1000)} seconds.`]));
          }
          if (!username || !password || !tokens.checkPassword(username, password)) {
            throttle.fail(throttleKey);
            addressThrottle.fail(req.ip);
            return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['Invalid username or password.']));
          }
          let minutes = config.tokenMinutes;
          const expiration = one(f.expiration) ?? (typeof f.expiration === 'number' ? String(f.expiration) : undefined);
          if (expiration !== undefined) {
            const n = Number(expiration);
            if (!Number.isInteger(n) || n < 1) return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['expiration must be a positive number of minutes.']));
            minutes = Math.min(n, config.maxTokenMinutes);
          }
          throttle.succeed(throttleKey);
          const { token, expires } = tokens.issue(username, minutes);
          return sendJson(reply, f, { token, expires });
        });

        api.get('/jobs', async (req, reply) => {
          const f = fields(req);
          if (!checkFormat(reply, f)) return reply;
          if (authorize(req, reply, f) === null) return reply;
          const start = Number(one(f.start) ?? 1);
          const num = Number(one(f.num) ?? 100);
          if (!Number.isInteger(start) || start < 1 || !Number.isInteger(num) || num < 1 || num > 1000) {
            return sendJson(reply, f, arcgisError(400, 'Invalid paging parameters.', ['start must be an integer from 1, num an integer from 1 to 1000.']));
          }
          const total = manager.store.countJobs();
          const jobs = manager.listJobs({ limit: num, offset: start - 1 });
          const nextStart = start - 1 + jobs.length < total ? start + jobs.length : -1;
          return sendJson(reply, f, { total, start, num: jobs.length, nextStart, jobs });
        });

        api.get('/jobs/job/:jobId', async (req, reply) => {
          const f = fields(req);
          if (!checkFormat(reply, f)) return reply;
          if (authorize(req, reply, f) === null) return reply;
          const jobId = (req.params as Params).jobId ?? '';
          const job = JOB_ID_PATTERN.test(jobId) ? manager.getJob(jobId) : undefined;
          if (!job) return sendJson(reply, f, arcgisError(404, 'Job not found.', [`No job with id '${jobId.slice(0, 80)}'.`]));
          return sendJson(reply, f, job);
        });

        api.post('/services/:serviceName/addLayer', async (req, reply) => {
          const f = fields(req);
          if (!checkFormat(reply, f)) return reply;
          const username = authorize(req, reply, f);
          if (username === null) return reply;
          const fail = (code: number, ...details: string[]) => sendJson(reply, f, arcgisError(code, 'Unable to add layer.', details));
          const serviceName = (req.params as Params).serviceName ?? '';
          if (!SERVICE_NAME_PATTERN.test(serviceName)) return fail(400, 'The service name must be letters, digits and underscores (at most 120).');
          let params: unknown = f.createParameters;
          if (typeof params === 'string') {
            try {
              params = JSON.parse(params);
            } catch {
              return fail(400, 'createParameters is not valid JSON.');
            }
          }
          if (!params || typeof params !== 'object' || Array.isArray(params)) return fail(400, 'createParameters is required: {"type": "ondemand", "source": {"path": "..."}}.');
          const cp = params as Record<string, unknown>;
          if (cp.type !== 'ondemand') return fail(400, `createParameters.type must be 'ondemand'${cp.type === 'livestream' ? ' (livestream layers are not supported)' : ''}.`);
          const source = cp.source;
          if (!source || typeof source !== 'object' || Array.isArray(source)) return fail(400, 'createParameters.source must be an object with a path.');
          if (cp.name !== undefined && (typeof cp.name !== 'string' || cp.name.trim().length === 0 || cp.name.length > 256)) return fail(400, 'createParameters.name must be a non-empty string.');
          const res = one(f.requestedResolutions) ?? 'fhd';
          if (!(RESOLUTIONS as readonly string[]).includes(res)) return fail(400, `requestedResolutions must be one of ${RESOLUTIONS.join(', ')}.`);
          let input: string;
          try {
            input = await resolveInput((source as Record<string, unknown>).path, roots);
          } catch (err) {
            if (err instanceof InputRejected) return fail(err.httpCode, err.message);
            throw err;
          }
          try {
            const job = manager.ingest(input, {
              // Enforced again where FFmpeg opens each file: a playlist cannot lead outside.
              inputRoots: roots,
              // The path as the client gave it: the server's own directory layout stays private.
              sourceName: String((source as Record<string, unknown>).path),
              serviceName,
              requestedResolutions: res as Resolution,
              username,
              restUrl,
              ...(typeof cp.name === 'string' ? { layerName: cp.name.trim() } : {}),
            });
            return sendJson(reply, f, { jobId: job.id, success: true });
          } catch (err) {
            if (err instanceof MediaError) return fail(400, err.message);
            throw err;
          }
        });

        api.get('/services/:serviceName/VideoServer/:layerId/*', async (req, reply) => {
          const f = fields(req);
          if (!config.publicOutputs) {
            const check = tokens.verify(tokenOf(req, f));
            if (!check.ok) {
              const body = check.reason === 'missing' ? arcgisError(499, 'Token Required') : arcgisError(498, 'Invalid Token');
              return reply.code(check.reason === 'missing' ? 401 : 403).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
            }
          }
          const p = req.params as Params;
          const layerText = p.layerId ?? '';
          const rest = p['*'] ?? '';
          const notFound = () => reply.code(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(arcgisError(404, 'Not found.')));
          if (!SERVICE_NAME_PATTERN.test(p.serviceName ?? '') || !/^\d{1,9}$/.test(layerText)) return notFound();
          const file = await storage.open(p.serviceName!, Number(layerText), rest);
          if (!file) return notFound();
          const ext = rest.slice(rest.lastIndexOf('.') + 1).toLowerCase();
          reply.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
          reply.header('accept-ranges', 'bytes');
          reply.header('last-modified', file.mtime.toUTCString());
          // Published layers never change; playlists are still revalidated so a republished layer is seen.
          reply.header('cache-control', ext === 'm3u8' ? 'no-cache' : config.publicOutputs ? 'public, max-age=3600' : 'private, max-age=3600');
          // A playlist fetched with ?token= hands the token on to the URIs it lists, so a player that
          // cannot set headers (a plain <video> or hls.js without xhrSetup) plays the whole ladder.
          const queryToken = one((req.query as Fields | undefined)?.token);
          if (ext === 'm3u8' && queryToken && !config.publicOutputs) {
            const text = await readAll(file.read());
            const body = withTokenOnUris(text, queryToken);
            reply.code(200).header('content-length', Buffer.byteLength(body));
            return reply.send(body);
          }
          const range = typeof req.headers.range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range.trim()) : null;
          if (range && (range[1] !== '' || range[2] !== '')) {
            let start: number;
            let end: number;
            if (range[1] === '') {
              start = Math.max(0, file.size - Number(range[2]));
              end = file.size - 1;
            } else {
              start = Number(range[1]);
              end = range[2] === '' ? file.size - 1 : Math.min(Number(range[2]), file.size - 1);
            }
            if (start > end || start >= file.size) {
              return reply.code(416).header('content-range', `bytes */${file.size}`).send();
            }
            reply.code(206).header('content-range', `bytes ${start}-${end}/${file.size}`).header('content-length', end - start + 1);
            return reply.send(file.read({ start, end }));
          }
          reply.code(200).header('content-length', file.size);
          // For HEAD, fastify's head route closes the stream unread and keeps content-length.
          return reply.send(file.read());
        });
      },
      { prefix: config.root },
    );

    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    await manager.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const origin = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${port}`;
  restUrl = `${config.baseUrl ?? origin}${config.root}`;
  return {
    app,
    manager,
    config,
    origin,
    restUrl,
    async close() {
      await app.close();
      await manager.close();
    },
  };
}
