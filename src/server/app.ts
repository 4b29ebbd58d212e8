/**
 * The HTTP server (fastify): opens the job manager, sets up the cross-cutting hooks (CORS,
 * nosniff, errors, unknown routes) and registers the route modules under the REST root. Errors use
 * ArcGIS's JSON form {"error": {"code", "message", "details"}} with HTTP status 200 on the REST
 * endpoints, as ArcGIS Server does (its clients read the code from the body, e.g. to renew a token
 * on 498); file requests get real HTTP statuses.
 */
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { JobManager } from '../jobs/manager.js';
import type { Storage } from '../jobs/storage.js';
import { LoginThrottle, TokenService, loadOrCreateSecret } from './auth.js';
import type { ServerConfig } from './config.js';
import { arcgisError, fields, sendHttpError, sendJson, type ServerContext } from './context.js';
import { realRoots } from './inputs.js';
import { catalogRoutes } from './routes/catalog.js';
import { clipRoutes } from './routes/clip.js';
import { coverageRoutes } from './routes/coverage.js';
import { exportRoutes } from './routes/exports.js';
import { fileRoutes } from './routes/files.js';
import { framesetRoutes } from './routes/frameset.js';
import { jobRoutes } from './routes/jobs.js';
import { layerAdminRoutes } from './routes/layer-admin.js';
import { layerRoutes } from './routes/layers.js';
import { liveRoutes } from './routes/live.js';
import { selfRoutes } from './routes/self.js';
import { addLayerRoutes } from './routes/services.js';
import { tokenRoutes } from './routes/tokens.js';
import { uploadRoutes } from './routes/uploads.js';

export { arcgisError } from './context.js';
export { withTokenOnUris } from './routes/files.js';

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

/** A request URL with the values of its credential parameters replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|password)=)[^&#]*/gi, '$1<redacted>');
}

/** CORS for the configured origins: players and map clients on other origins call the API and
 * fetch playlists and segments (with the token header and byte ranges). */
function addCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const anyOrigin = origins.includes('*');
  app.addHook('onRequest', async (req, reply) => {
    // On every answer, matching or not: a shared cache must not hand one origin's copy to another.
    if (!anyOrigin) reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || (!anyOrigin && !origins.includes(origin))) return;
    reply.header('access-control-allow-origin', anyOrigin ? '*' : origin);
    reply.header('access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges, ETag');
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS');
      reply.header('access-control-allow-headers', 'X-Esri-Authorization, Authorization, Content-Type, Range');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });
}

/** Starts the server: opens the job manager on the data directory, then listens. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const roots = await realRoots(config.inputRoots);
  const secret = config.tokenSecret ?? loadOrCreateSecret(join(config.dataDir, 'token.key'));
  const manager = await JobManager.open({
    // With Redis the jobs live there, shared by every node; the SQLite file is for one process.
    store: config.redis ? 'memory' : join(config.dataDir, 'jobs.sqlite'),
    ...(config.redis ? { queue: { redis: config.redis, prefix: config.redisPrefix, worker: config.worker, inputRoots: roots } } : {}),
    outDir: join(config.dataDir, 'services'),
    tempDir: join(config.dataDir, 'tmp'),
    hwaccel: config.hwaccel,
    ...(config.concurrency !== null ? { concurrency: config.concurrency } : {}),
    maxQueued: config.maxQueuedJobs,
  });
  const ctx: ServerContext = {
    config,
    manager,
    storage: manager.defaultStorage as Storage,
    tokens: new TokenService(secret, config.users),
    throttle: new LoginThrottle(),
    // Per address across all usernames: failures under ever new usernames would otherwise push a
    // user's own count out of the bounded table.
    addressThrottle: new LoginThrottle(30, 60_000),
    roots,
    restUrl: '',
  };
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
    // Service names run to 120 characters and file paths deeper: raise find-my-way's 100-character parameter limit.
    routerOptions: { maxParamLength: 2048 },
    ...(config.trustProxy.length > 0 ? { trustProxy: config.trustProxy } : {}),
  });

  try {
    await app.register(formbody);
    // Every answer is JSON or a published file: browsers must not guess other types from them.
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      return payload;
    });
    addCors(app, config.corsOrigins);
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      // Bodies that cannot be parsed and other request errors, in ArcGIS's form.
      const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (code === 500) req.log.error(err);
      return sendJson(reply, fields(req), arcgisError(code, code === 500 ? 'Internal server error.' : err.message));
    });
    // Unknown routes and methods (a PUT on a published file included) get a real 404 as well.
    app.setNotFoundHandler((req, reply) => sendHttpError(reply, 404, arcgisError(404, 'Not found.', [`${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`])));

    await app.register(
      async (api) => {
        tokenRoutes(api, ctx);
        jobRoutes(api, ctx);
        addLayerRoutes(api, ctx);
        liveRoutes(api, ctx);
        catalogRoutes(api, ctx);
        layerRoutes(api, ctx);
        coverageRoutes(api, ctx);
        selfRoutes(api, ctx);
        exportRoutes(api, ctx);
        framesetRoutes(api, ctx);
        uploadRoutes(api, ctx);
        layerAdminRoutes(api, ctx);
        clipRoutes(api, ctx);
        fileRoutes(api, ctx);
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
  ctx.restUrl = `${config.baseUrl ?? origin}${config.root}`;
  return {
    app,
    manager,
    config,
    origin,
    restUrl: ctx.restUrl,
    async close() {
      await app.close();
      await manager.close();
    },
  };
}
