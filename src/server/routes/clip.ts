/**
 * POST …/VideoServer/:layerId/clip: `timeRange` {start, end} (seconds from the video's first
 * frame), `quality` SD|HD|FHD|UHD (at most the layer's; default its best), `format` ts|mp4|mov,
 * `expiry` (seconds, default 3600; 0 keeps it for the longest Video Server allows), `name`,
 * `async`. TS clips are the rendition's own segments (no re-encode, KLV PID kept); MP4 and MOV
 * are encoded from them once, with the KLV as emsg boxes and a klv.ndjson sidecar. A range that
 * holds no video gives an empty result (url null), not an error.
 */
import type { FastifyInstance } from 'fastify';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sanitizeServiceName } from '../../jobs/ids.js';
import { mp4FromTs, tsClip } from '../../media/clips.js';
import { arcgisError, one, sendJson, type Fields, type ServerContext } from '../context.js';
import { answerExport, createExport, exportProgress, type ExportHandle } from './exports.js';
import type { LayerData } from './layer-data.js';
import { qualityOf } from './layer-json.js';
import { layerRequest } from './layers.js';

const QUALITIES = ['SD', 'HD', 'FHD', 'UHD'] as const;
type Quality = (typeof QUALITIES)[number];
const FORMATS = ['ts', 'mp4', 'mov'] as const;
const MAX_EXPIRY_SECONDS = 999_999_999;

class ClipRefused extends Error {}

interface Rendition {
  name: string;
  playlist: string;
  width: number;
  height: number;
}

function renditionsOf(layer: LayerData): Rendition[] {
  const list = (layer.videoInfo?.renditions ?? layer.abr?.renditions) as unknown;
  if (!Array.isArray(list)) return [];
  return list
    .filter((r): r is Rendition => typeof r?.playlist === 'string' && !r.playlist.includes('..') && typeof r.height === 'number' && typeof r.width === 'number')
    .sort((a, b) => a.height - b.height);
}

/** The rendition a quality asks for: the tallest at or below it. */
export function renditionFor(renditions: readonly Rendition[], quality: Quality | undefined): Rendition {
  const top = renditions[renditions.length - 1]!;
  if (quality === undefined) return top;
  const best = QUALITIES.indexOf(qualityOf(top.height)!);
  if (QUALITIES.indexOf(quality) > best) throw new ClipRefused(`quality ${quality} is above the layer's best (${QUALITIES[best]}).`);
  const fit = renditions.filter((r) => QUALITIES.indexOf(qualityOf(r.height)!) <= QUALITIES.indexOf(quality));
  return fit[fit.length - 1] ?? renditions[0]!;
}

function parseRange(f: Fields): { start: number; end: number } {
  let v: unknown = Array.isArray(f.timeRange) ? f.timeRange[0] : f.timeRange;
  if (v === undefined || v === '') throw new ClipRefused('timeRange {start, end} (seconds) is required.');
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new ClipRefused('timeRange is not valid JSON.');
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ClipRefused('timeRange must be an object {start, end}.');
  const r = v as Record<string, unknown>;
  const num = (x: unknown, field: string) => {
    const n = typeof x === 'string' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ClipRefused(`${field} must be seconds from 0, not ${JSON.stringify(x)?.slice(0, 40)}.`);
    return n;
  };
  const start = num(r.start, 'timeRange.start');
  const end = num(r.end, 'timeRange.end');
  if (end < start) throw new ClipRefused('timeRange.end must not be before timeRange.start.');
  return { start, end };
}

function options(f: Fields) {
  const range = parseRange(f);
  const q = one(f.quality);
  const quality = q === undefined || q === '' ? undefined : (q.toUpperCase() as Quality);
  if (quality !== undefined && !QUALITIES.includes(quality)) throw new ClipRefused(`quality must be one of ${QUALITIES.join(', ')}, not '${String(q).slice(0, 20)}'.`);
  const fmt = (one(f.format) ?? 'ts').toLowerCase();
  if (!(FORMATS as readonly string[]).includes(fmt)) throw new ClipRefused(`format must be one of ${FORMATS.join(', ')}, not '${fmt.slice(0, 20)}'.`);
  const e = one(f.expiry) ?? (typeof f.expiry === 'number' ? String(f.expiry) : undefined);
  let expiry = 3600;
  if (e !== undefined && e !== '') {
    expiry = Number(e);
    if (!Number.isInteger(expiry) || expiry < 0 || expiry > MAX_EXPIRY_SECONDS) throw new ClipRefused(`expiry must be whole seconds from 0 to ${MAX_EXPIRY_SECONDS}, not '${e.slice(0, 20)}'.`);
    if (expiry === 0) expiry = MAX_EXPIRY_SECONDS;
  }
  const name = one(f.name);
  return { range, quality, format: fmt as (typeof FORMATS)[number], expiry, name: name ? sanitizeServiceName(name).slice(0, 100) : undefined };
}

/** The decoded KLV units whose presentation time lies in [start, end] of the video. */
async function klvSidecar(layer: LayerData, start: number, end: number, outPath: string): Promise<number> {
  const info = JSON.parse(await readFile(join(layer.dir, 'streamInfo.json'), 'utf8').catch(() => '{}')) as { video?: { startTime?: number } };
  const zero = typeof info.video?.startTime === 'number' ? info.video.startTime : 0;
  const source = join(layer.dir, 'klv.ndjson');
  if (!(await stat(source).catch(() => null))) return 0;
  const out = createWriteStream(outPath, { flags: 'wx' });
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(source), crlfDelay: Infinity })) {
    const pts = /^\{"pts":(-?[\d.e+-]+|null)/.exec(line)?.[1];
    const at = pts === undefined || pts === 'null' ? null : Number(pts) - zero;
    if (at === null || (at >= start - 1e-3 && at < end - 1e-3)) {
      if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      n++;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return n;
}

async function makeClip(ctx: ServerContext, layer: LayerData, o: ReturnType<typeof options>, rendition: Rendition, h: ExportHandle): Promise<Record<string, unknown>> {
  const base = o.name ?? `${layer.serviceName}_${layer.layerId}_clip`;
  const tsName = `${base}.ts`;
  const tsPath = join(h.filesDir, tsName);
  // Steps: the cut, then for MP4/MOV the re-encode and the KLV sidecar.
  const steps = o.format === 'ts' ? 1 : 3;
  const cut = await tsClip(join(layer.dir, rendition.playlist), o.range.start, o.range.end, tsPath);
  await exportProgress(h, 1, cut ? steps : 1);
  const head = { created: h.manifest.created, expiration: h.manifest.expires, format: o.format, quality: qualityOf(rendition.height), rendition: rendition.name };
  if (!cut) return { ...head, url: null, timeRange: null, bytes: 0 };
  const timeRange = { start: cut.start, end: cut.end };
  if (o.format === 'ts') {
    const bytes = (await stat(tsPath)).size;
    return { ...head, url: `${h.url}/${tsName}`, timeRange, bytes, reencoded: false, klv: 'in the transport stream (its KLV PID)' };
  }
  const name = `${base}.${o.format}`;
  const { klvUnits } = await mp4FromTs(tsPath, join(h.filesDir, name), join(h.dir, 'scratch'), { height: rendition.height, width: rendition.width }, ctx.config.hwaccel);
  await rm(tsPath, { force: true });
  await exportProgress(h, 2, steps);
  const units = await klvSidecar(layer, cut.start, cut.end, join(h.filesDir, `${base}.klv.ndjson`));
  await exportProgress(h, 3, steps);
  return {
    ...head,
    url: `${h.url}/${name}`,
    timeRange,
    bytes: (await stat(join(h.filesDir, name))).size,
    reencoded: true,
    klv: `emsg boxes in the file (${klvUnits} units) and the sidecar`,
    klvUrl: units > 0 ? `${h.url}/${base}.klv.ndjson` : null,
  };
}

export function clipRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/services/:serviceName/VideoServer/:layerId/clip', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const { f, layer } = r;
    const fail = (code: number, ...details: string[]) => sendJson(reply, f, arcgisError(code, 'Unable to export the clip.', details));
    let o: ReturnType<typeof options>;
    let rendition: Rendition;
    try {
      o = options(f);
      if (layer.edits.supportsExportClip === false) throw new ClipRefused('Clip export is turned off for this layer (supportsExportClip).');
      if (layer.liveJob) throw new ClipRefused('The layer is a livestream being recorded: export clips once it has stopped.');
      const renditions = renditionsOf(layer);
      if (renditions.length === 0) throw new ClipRefused('The layer lists no rendition to cut a clip from.');
      rendition = renditionFor(renditions, o.quality);
    } catch (err) {
      if (err instanceof ClipRefused) return fail(400, err.message);
      throw err;
    }
    const h = await createExport(ctx, 'clip', layer, o.expiry * 1000, r.username);
    return answerExport(reply, f, h, makeClip(ctx, layer, o, rendition, h), { success: true, clipId: h.manifest.id }, 'Unable to export the clip.');
  });
}
