/**
 * POST …/VideoServer/:layerId/frameset: for `timestamps` (seconds, comma-separated or a JSON
 * array) or `timeRange` {start, end, interval} (seconds from the video's first frame), each
 * frame's JPEG from the layer's top rendition and its four ground corners from the KLV in force
 * at that time (ST 0601 corner 1 = topLeft, 2 = topRight, 3 = bottomRight, 4 = bottomLeft).
 * Times past the video are left out. The images expire after `expiry` minutes (default 60);
 * `async` answers at once with the export's status URL.
 */
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameTelemetry } from '../../geometry/index.js';
import { frameImageAt, telemetryAt, telemetryClock } from '../../media/frames.js';
import { MediaError } from '../../errors.js';
import { arcgisError, one, sendJson, type Fields, type ServerContext } from '../context.js';
import { answerExport, createExport, exportProgress, type ExportHandle } from './exports.js';
import { layerFrames, type LayerData } from './layer-data.js';
import { layerRequest } from './layers.js';

export const MAX_FRAMESET_FRAMES = 200;
const DEFAULT_EXPIRY_MINUTES = 60;
const MAX_EXPIRY_MINUTES = 7 * 24 * 60;

class FramesetRefused extends Error {}

function parseJsonField(f: Fields, name: string): unknown {
  const v = Array.isArray(f[name]) ? (f[name] as unknown[])[0] : f[name];
  if (typeof v !== 'string') return v;
  const text = v.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      throw new FramesetRefused(`${name} is not valid JSON.`);
    }
  }
  return text;
}

function seconds(v: unknown, field: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new FramesetRefused(`${field} must be a number of seconds from 0, not ${JSON.stringify(v)?.slice(0, 40)}.`);
  return n;
}

/** The times asked for, in order, without repeats. */
export function framesetTimes(f: Fields): number[] {
  const ts = parseJsonField(f, 'timestamps');
  const range = parseJsonField(f, 'timeRange');
  if ((ts === undefined || ts === '') === (range === undefined || range === '')) throw new FramesetRefused('Give either timestamps or timeRange {start, end, interval}.');
  let times: number[];
  if (ts !== undefined && ts !== '') {
    const list = Array.isArray(ts) ? ts : typeof ts === 'number' ? [ts] : String(ts).split(',');
    times = list.map((v, i) => seconds(v, `timestamps[${i}]`));
  } else {
    if (!range || typeof range !== 'object' || Array.isArray(range)) throw new FramesetRefused('timeRange must be an object {start, end, interval}.');
    const r = range as Record<string, unknown>;
    const start = seconds(r.start, 'timeRange.start');
    const end = seconds(r.end, 'timeRange.end');
    const interval = r.interval === undefined ? 1 : seconds(r.interval, 'timeRange.interval');
    if (end < start) throw new FramesetRefused('timeRange.end must not be before timeRange.start.');
    if (!(interval > 0)) throw new FramesetRefused('timeRange.interval must be more than 0 seconds.');
    const count = Math.floor((end - start) / interval + 1e-9) + 1;
    if (count > MAX_FRAMESET_FRAMES) throw new FramesetRefused(`timeRange asks for ${count} frames; at most ${MAX_FRAMESET_FRAMES} are made at once.`);
    times = Array.from({ length: count }, (_, i) => Math.round((start + i * interval) * 1e6) / 1e6);
  }
  if (times.length > MAX_FRAMESET_FRAMES) throw new FramesetRefused(`timestamps has ${times.length} times; at most ${MAX_FRAMESET_FRAMES} are made at once.`);
  return [...new Set(times)].sort((a, b) => a - b);
}

function expiryMinutes(f: Fields): number {
  const v = one(f.expiry) ?? (typeof f.expiry === 'number' ? String(f.expiry) : undefined);
  if (v === undefined || v === '') return DEFAULT_EXPIRY_MINUTES;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_EXPIRY_MINUTES) throw new FramesetRefused(`expiry must be minutes from more than 0 to ${MAX_EXPIRY_MINUTES}, not '${v.slice(0, 40)}'.`);
  return n;
}

const WGS84 = { wkid: 4326 } as const;

/** The four corners as Video Server's frameset gives them, z at the frame centre's elevation. */
export function cornersJson(f: FrameTelemetry | null): Record<string, { x: number; y: number; z: number; spatialReference: typeof WGS84 }> | null {
  if (!f?.corners) return null;
  const z = f.center?.[2] ?? 0;
  const [tl, tr, br, bl] = f.corners.map(([x, y]) => ({ x: x > 180 ? x - 360 : x < -180 ? x + 360 : x, y, z, spatialReference: WGS84 }));
  return { topLeft: tl!, topRight: tr!, bottomRight: br!, bottomLeft: bl! };
}

/** The rendition with the most pixels, as listed in videoInfo.json or abr.json. */
export function topPlaylist(layer: LayerData): string | null {
  const list = (layer.videoInfo?.renditions ?? layer.abr?.renditions) as Array<{ playlist?: unknown; width?: unknown; height?: unknown }> | undefined;
  if (!Array.isArray(list) || list.length === 0) return null;
  const best = [...list].sort((a, b) => Number(b.width) * Number(b.height) - Number(a.width) * Number(a.height))[0]!;
  return typeof best.playlist === 'string' && !best.playlist.includes('..') ? best.playlist : null;
}

async function videoStart(layer: LayerData): Promise<number> {
  try {
    const info = JSON.parse(await readFile(join(layer.dir, 'streamInfo.json'), 'utf8')) as { video?: { startTime?: unknown } };
    return typeof info.video?.startTime === 'number' ? info.video.startTime : 0;
  } catch {
    return 0;
  }
}

async function makeFrames(layer: LayerData, times: number[], h: ExportHandle): Promise<Record<string, unknown>> {
  const playlist = topPlaylist(layer);
  if (!playlist) throw new MediaError('The layer lists no rendition to take frames from', { code: 'ERR_OUTPUT_MISSING', step: 'frameset' });
  const frames = await layerFrames(layer);
  const clock = telemetryClock(frames, await videoStart(layer));
  const duration = typeof layer.videoInfo?.duration === 'number' ? layer.videoInfo.duration : Infinity;
  const out: Array<Record<string, unknown>> = [];
  for (const [i, t] of times.entries()) {
    if (t > duration) continue;
    const name = `frame_${String(out.length).padStart(4, '0')}.jpg`;
    const image = await frameImageAt(join(layer.dir, playlist), t, join(h.filesDir, name));
    await exportProgress(h, i + 1, times.length);
    if (!image) continue;
    const klv = telemetryAt(frames, clock, t);
    out.push({
      timestamp: t,
      time: klv?.time ?? null,
      url: `${h.url}/${name}`,
      width: image.width,
      height: image.height,
      corners: cornersJson(klv),
      footprintSource: klv?.footprintSource ?? null,
      frameCenter: klv?.center ? { x: klv.center[0], y: klv.center[1], z: klv.center[2] ?? 0, spatialReference: WGS84 } : null,
    });
  }
  return { total: out.length, frames: out };
}

export function framesetRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/services/:serviceName/VideoServer/:layerId/frameset', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const { f, layer } = r;
    const fail = (code: number, ...details: string[]) => sendJson(reply, f, arcgisError(code, 'Unable to create the frameset.', details));
    let times: number[];
    let expiry: number;
    try {
      times = framesetTimes(f);
      expiry = expiryMinutes(f);
    } catch (err) {
      if (err instanceof FramesetRefused) return fail(400, err.message);
      throw err;
    }
    if (layer.edits.supportsFrameset === false) return fail(400, 'Framesets are turned off for this layer (supportsFrameset).');
    const h = await createExport(ctx, 'frameset', layer, expiry * 60_000, r.username);
    const head = { framesetId: h.manifest.id, created: h.manifest.created, expires: h.manifest.expires, serviceName: layer.serviceName, layerId: layer.layerId, url: h.url };
    return answerExport(reply, f, h, makeFrames(layer, times, h), head, 'Unable to create the frameset.');
  });
}
