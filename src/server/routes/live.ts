/**
 * Livestream layers: addLayer with createParameters.type 'livestream' (Video Server's fields:
 * streamAddress, mode client|server, bufferSize), the stop operation, and the live telemetry as
 * the latest packet and as Server-Sent Events. Only the configured protocols and ports are taken.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeRelativePath } from '../../jobs/storage.js';
import { PART_NAME, deliveryDirectives, waitForPart, waitForPlaylist } from '../../live/blocking-reload.js';
import { MediaError } from '../../errors.js';
import { RESOLUTIONS, type Resolution } from '../../jobs/job.js';
import { toNdjsonLine } from '../../klv/index.js';
import type { LiveOptions } from '../../pipeline-options.js';
import type { LiveProtocol } from '../config.js';
import { arcgisError, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';

/** What a livestream address becomes: the URL we open and the protocol options that go with it. */
export interface LiveInput {
  input: string;
  inputOptions: Record<string, string>;
  mode: 'client' | 'server';
}

class LiveRefused extends Error {}

/**
 * Checks a streamAddress against the allowed protocols and ports and turns the mode into what
 * FFmpeg needs: server mode listens (SRT mode=listener, RTMP listen=1, RTSP rtsp_flags=listen,
 * UDP binds), client mode dials or pulls (SRT mode=caller).
 */
export function liveInputOf(address: unknown, modeValue: unknown, allowed: readonly LiveProtocol[], ports: { min: number; max: number }): LiveInput {
  if (typeof address !== 'string' || address.length === 0 || address.length > 2048) throw new LiveRefused('createParameters.streamAddress must be a URL such as udp://0.0.0.0:5000.');
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new LiveRefused(`createParameters.streamAddress '${address.slice(0, 200)}' is not a URL.`);
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (!(allowed as readonly string[]).includes(protocol)) {
    throw new LiveRefused(`The protocol '${protocol}' is not allowed for livestreams on this server (allowed: ${allowed.join(', ') || 'none'}).`);
  }
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < ports.min || port > ports.max) {
    throw new LiveRefused(`createParameters.streamAddress must name a port between ${ports.min} and ${ports.max} (livePorts); got '${url.port || 'none'}'.`);
  }
  if (modeValue !== undefined && modeValue !== 'client' && modeValue !== 'server') throw new LiveRefused("createParameters.mode must be 'client' or 'server'.");
  const mode = (modeValue as 'client' | 'server' | undefined) ?? (protocol === 'udp' ? 'server' : 'client');
  const inputOptions: Record<string, string> = {};
  if (protocol === 'udp') {
    // A receive buffer that survives a slow moment, and losses that do not end the feed.
    if (!url.searchParams.has('fifo_size')) url.searchParams.set('fifo_size', '100000');
    if (!url.searchParams.has('overrun_nonfatal')) url.searchParams.set('overrun_nonfatal', '1');
  } else if (protocol === 'srt') {
    const wanted = mode === 'server' ? 'listener' : 'caller';
    const given = url.searchParams.get('mode');
    if (given !== null && given !== wanted) throw new LiveRefused(`The SRT address says mode=${given} but createParameters.mode is '${mode}' (${wanted}).`);
    url.searchParams.set('mode', wanted);
  } else if (protocol === 'rtmp' && mode === 'server') {
    inputOptions.listen = '1';
  } else if (protocol === 'rtsp' && mode === 'server') {
    inputOptions.rtsp_flags = 'listen';
  }
  return { input: url.toString(), inputOptions, mode };
}

function liveOptionsOf(cp: Record<string, unknown>): LiveOptions {
  const live: LiveOptions = {};
  if (cp.bufferSize !== undefined) {
    const seconds = Number(cp.bufferSize);
    if (!Number.isFinite(seconds) || seconds < 2 || seconds > 3600) throw new LiveRefused('createParameters.bufferSize must be seconds between 2 and 3600.');
    live.windowSegments = Math.max(1, Math.ceil(seconds / 2));
  }
  if (cp.dvr !== undefined) {
    if (typeof cp.dvr !== 'boolean') throw new LiveRefused('createParameters.dvr must be true or false.');
    if (cp.dvr && live.windowSegments !== undefined) throw new LiveRefused('createParameters.dvr keeps every segment: leave bufferSize out.');
    if (cp.dvr) live.dvr = true;
  }
  if (cp.lowLatency !== undefined) {
    if (typeof cp.lowLatency !== 'boolean') throw new LiveRefused('createParameters.lowLatency must be true or false.');
    if (cp.lowLatency) live.lowLatency = true;
  }
  return live;
}

/**
 * LL-HLS delivery for the files of a running live layer: a playlist request with _HLS_msn/_HLS_part
 * waits for that segment or part, and a request for a part not written yet (the preload hint) waits
 * for it. Returns an HTTP error to send, or undefined to serve the file as usual.
 */
export async function holdLiveFile(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, serviceName: string, layerId: number, rest: string): Promise<{ status: number; message: string } | undefined> {
  if (!ctx.manager.liveJobFor(serviceName, layerId)) return undefined;
  const parts = safeRelativePath(rest);
  if (!parts) return undefined;
  const path = join(ctx.storage.location(serviceName, layerId), ...parts);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  try {
    if (rest.endsWith('.m3u8')) {
      const directives = deliveryDirectives((req.query ?? {}) as Record<string, unknown>);
      if (!directives) return undefined;
      if ('status' in directives) return directives;
      const waited = await waitForPlaylist(path, directives.msn, directives.part, gone.signal);
      return waited.status === 200 ? undefined : waited;
    }
    if (PART_NAME.test(rest)) await waitForPart(path, join(dirname(path), `${basename(dirname(path))}.m3u8`), gone.signal);
    return undefined;
  } finally {
    reply.raw.off('close', onClose);
  }
}

/** addLayer for createParameters.type 'livestream' (called by the addLayer route). */
export function addLiveLayer(ctx: ServerContext, reply: FastifyReply, f: Fields, username: string, serviceName: string, cp: Record<string, unknown>): FastifyReply {
  const fail = (code: number, ...details: string[]) => sendJson(reply, f, arcgisError(code, 'Unable to add layer.', details));
  const res = one(f.requestedResolutions) ?? 'fhd';
  if (!(RESOLUTIONS as readonly string[]).includes(res)) return fail(400, `requestedResolutions must be one of ${RESOLUTIONS.join(', ')}.`);
  if (cp.name !== undefined && (typeof cp.name !== 'string' || cp.name.trim().length === 0 || cp.name.length > 256)) return fail(400, 'createParameters.name must be a non-empty string.');
  try {
    const { input, inputOptions, mode } = liveInputOf(cp.streamAddress, cp.mode, ctx.config.liveProtocols, ctx.config.livePorts);
    const job = ctx.manager.startLive(input, {
      serviceName,
      username,
      mode,
      requestedResolutions: res as Resolution,
      hwaccel: ctx.config.hwaccel,
      live: liveOptionsOf(cp),
      inputOptions,
      restUrl: ctx.restUrl,
      ...(typeof cp.name === 'string' ? { layerName: cp.name.trim() } : {}),
    });
    return sendJson(reply, f, { jobId: job.id, layerId: job.layerId, success: true });
  } catch (err) {
    if (err instanceof LiveRefused) return fail(400, err.message);
    if (err instanceof MediaError) return fail(400, err.message);
    throw err;
  }
}

/** The top rendition's playlist of an ended live layer, or why it cannot be processed. */
async function recordingOf(dir: string): Promise<string | { code: number; message: string }> {
  let master: string;
  try {
    master = await readFile(join(dir, 'ABR.m3u8'), 'utf8');
  } catch {
    return { code: 404, message: 'No such layer, or it has no playlists.' };
  }
  const top = master.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#'));
  if (!top || !/^[\w-]+\/[\w-]+\.m3u8$/.test(top.trim())) return { code: 400, message: 'The layer has no media playlist to process.' };
  const playlist = join(dir, top.trim());
  const text = await readFile(playlist, 'utf8').catch(() => '');
  if (!text.includes('#EXT-X-PROGRAM-DATE-TIME')) return { code: 400, message: 'The layer is not a live recording.' };
  if (!text.includes('#EXT-X-ENDLIST')) return { code: 409, message: 'The livestream has not ended.' };
  if (!/#EXTINF:/.test(text)) return { code: 400, message: 'The recording has no segments.' };
  return playlist;
}

function layerOf(params: Params): { serviceName: string; layerId: number } | null {
  const layerId = Number(params.layerId);
  if (!params.serviceName || !/^\d{1,9}$/.test(params.layerId ?? '')) return null;
  return { serviceName: params.serviceName, layerId };
}

export function liveRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const running = (params: Params) => {
    const layer = layerOf(params);
    return layer ? ctx.manager.liveJobFor(layer.serviceName, layer.layerId) : undefined;
  };

  api.post('/services/:serviceName/VideoServer/:layerId/stop', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const job = running(req.params as Params);
    if (!job) return sendJson(reply, r.f, arcgisError(404, 'Unable to stop the livestream.', ['No livestream is running on this layer.']));
    job.stop();
    return sendJson(reply, r.f, { jobId: job.id, success: true });
  });

  // A finished live recording becomes an on-demand layer: a normal ingest of its top rendition.
  api.post('/services/:serviceName/VideoServer/:layerId/process', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const fail = (code: number, ...details: string[]) => sendJson(reply, r.f, arcgisError(code, 'Unable to process the livestream.', details));
    const layer = layerOf(req.params as Params);
    if (!layer) return fail(404, 'No such layer.');
    if (running(req.params as Params)) return fail(409, 'The livestream is still running: stop it first.');
    const res = one(r.f.requestedResolutions) ?? 'fhd';
    if (!(RESOLUTIONS as readonly string[]).includes(res)) return fail(400, `requestedResolutions must be one of ${RESOLUTIONS.join(', ')}.`);
    const dir = ctx.storage.location(layer.serviceName, layer.layerId);
    const recording = await recordingOf(dir);
    if (typeof recording !== 'string') return fail(recording.code, recording.message);
    try {
      const job = await ctx.manager.submit(recording, {
        inputRoots: [dir],
        sourceName: `${layer.serviceName}/${layer.layerId} (live recording)`,
        serviceName: layer.serviceName,
        requestedResolutions: res as Resolution,
        username: r.username,
        restUrl: ctx.restUrl,
        ...(typeof r.f.name === 'string' && r.f.name.trim() ? { layerName: r.f.name.trim().slice(0, 256) } : {}),
      });
      return sendJson(reply, r.f, { jobId: job.id, success: true });
    } catch (err) {
      if (err instanceof MediaError) return fail(400, err.message);
      throw err;
    }
  });

  api.get('/services/:serviceName/VideoServer/:layerId/telemetry/latest', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const job = running(req.params as Params);
    const latest = job ? ctx.manager.liveRun(job.id)?.latest() : undefined;
    if (!job) return sendJson(reply, r.f, arcgisError(404, 'No live telemetry.', ['No livestream is running on this layer.']));
    if (!latest) return sendJson(reply, r.f, { receivedAt: null, packet: null });
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(`{"receivedAt":${latest.receivedAt},"packet":${toNdjsonLine(latest.packet)}}`);
  });

  // Server-Sent Events: one 'klv' event per decoded packet, 'end' when the feed ends. A client
  // that reads slowly loses its oldest packets (each event says how many so far), never memory.
  api.get('/services/:serviceName/VideoServer/:layerId/telemetry/stream', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const job = running(req.params as Params);
    const run = job ? ctx.manager.liveRun(job.id) : undefined;
    if (!job || !run) return sendJson(reply, r.f, arcgisError(404, 'No live telemetry.', ['No livestream is running on this layer.']));
    const subscription = run.telemetry({ queueLimit: 256 });
    reply.hijack();
    const raw = reply.raw;
    const origin = reply.getHeader('access-control-allow-origin');
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      ...(origin !== undefined ? { 'access-control-allow-origin': String(origin), vary: 'Origin' } : {}),
    });
    raw.write(': telemetry of a live layer\nretry: 2000\n\n');
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    void closed.then(() => subscription.return?.());
    try {
      for await (const item of subscription) {
        const line = `event: klv\ndata: {"receivedAt":${item.receivedAt},"dropped":${subscription.dropped},"packet":${toNdjsonLine(item.packet)}}\n\n`;
        if (!raw.write(line)) await Promise.race([new Promise((resolve) => raw.once('drain', resolve)), closed]);
        if (raw.destroyed) break;
      }
      if (!raw.destroyed) raw.end('event: end\ndata: {}\n\n');
    } finally {
      clearInterval(heartbeat);
    }
  });
}
