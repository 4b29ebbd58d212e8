/**
 * GET …/VideoServer/:layerId (the layer resource) and …/content/preview/preview.json (the sprite
 * sheets the ingest made, described from thumbnails.vtt). Unknown services and layers answer
 * ArcGIS's 404 error JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { arcgisError, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { unknownService } from './catalog.js';
import { layerFrames, layerIdOf, loadLayer, type LayerData } from './layer-data.js';
import { layerJson } from './layer-json.js';
import { sendTaggedJson } from './tagged-json.js';

export function layerUrl(ctx: ServerContext, layer: Pick<LayerData, 'serviceName' | 'layerId'>): string {
  return `${ctx.restUrl}/services/${layer.serviceName}/VideoServer/${layer.layerId}`;
}

/**
 * The usual start of a layer route: format and token checked, the layer loaded; otherwise the
 * error is answered and null returned.
 */
export async function layerRequest(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<{ f: Fields; username: string; layer: LayerData } | null> {
  const r = restRequest(ctx, req, reply);
  if (!r) return null;
  const p = req.params as Params;
  const serviceName = p.serviceName ?? '';
  const layerId = layerIdOf(p.layerId);
  const layer = layerId === null ? null : await loadLayer(ctx, serviceName, layerId);
  if (!layer) {
    if (ctx.storage.existingLayerIds(serviceName).length === 0) sendJson(reply, r.f, unknownService(serviceName));
    else sendJson(reply, r.f, arcgisError(404, 'Layer not found.', [`The service '${serviceName}' has no layer '${String(p.layerId).slice(0, 40)}'.`]));
    return null;
  }
  return { ...r, layer };
}

const exists = (path: string) => stat(path).then((s) => s.isFile(), () => false);

/** A token given in the query goes on to the file URLs we hand out (players that cannot set headers). */
function fileQuery(ctx: ServerContext, f: Fields, req: FastifyRequest): string {
  const token = one((req.query as Fields | undefined)?.token);
  return token && !ctx.config.publicOutputs && f.token === token ? `?token=${encodeURIComponent(token)}` : '';
}

export interface PreviewJson {
  preview: string;
  frameCount: number;
  frameInterval: number;
  width: number;
  height: number;
  nCol: number;
  nRow: number;
  frames: Array<{ sheet: string; firstFrame: number; frameCount: number }>;
}

/** The sprite layout from a WebVTT thumbnails track (cues "sprite.jpg#xywh=x,y,w,h"). */
export function previewFromVtt(vtt: string): PreviewJson | null {
  const cues = [...vtt.matchAll(/(\d+):(\d{2}):(\d{2})\.(\d{3}) --> [^\n]*\n([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)/g)];
  if (cues.length === 0) return null;
  const seconds = (m: RegExpMatchArray) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
  const width = Number(cues[0]![8]);
  const height = Number(cues[0]![9]);
  let nCol = 1;
  let nRow = 1;
  const sheets: PreviewJson['frames'] = [];
  cues.forEach((c, i) => {
    nCol = Math.max(nCol, Number(c[6]) / width + 1);
    nRow = Math.max(nRow, Number(c[7]) / height + 1);
    const last = sheets[sheets.length - 1];
    if (last && last.sheet === c[5]) last.frameCount++;
    else sheets.push({ sheet: c[5]!, firstFrame: i, frameCount: 1 });
  });
  const interval = cues.length > 1 ? seconds(cues[1]!) - seconds(cues[0]!) : seconds(cues[0]!);
  return { preview: sheets[0]!.sheet, frameCount: cues.length, frameInterval: Math.round(interval * 1000) / 1000, width, height, nCol, nRow, frames: sheets };
}

async function previewOf(layer: LayerData): Promise<PreviewJson | null> {
  const vtt = await readFile(join(layer.dir, 'thumbnails.vtt'), 'utf8').catch(() => null);
  return vtt === null ? null : previewFromVtt(vtt);
}

export function layerRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/services/:serviceName/VideoServer/:layerId', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const { layer } = r;
    const [frames, hasPoster, preview] = await Promise.all([layerFrames(layer), exists(join(layer.dir, layer.edits.poster ?? 'poster.jpg')), previewOf(layer)]);
    const body = layerJson(layer, frames, { layer: layerUrl(ctx, layer), fileQuery: fileQuery(ctx, r.f, req) }, hasPoster, preview !== null);
    return sendTaggedJson(req, reply, r.f, body);
  });

  api.get('/services/:serviceName/VideoServer/:layerId/content/preview/preview.json', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const preview = await previewOf(r.layer);
    if (!preview) return sendJson(reply, r.f, arcgisError(404, 'No previews.', ['This layer has no preview images.']));
    const base = `${layerUrl(ctx, r.layer)}/`;
    const q = fileQuery(ctx, r.f, req);
    // URLs of the sheets relative to this resource's folder would be ambiguous: they are absolute.
    return sendTaggedJson(req, reply, r.f, { ...preview, preview: `${base}${preview.preview}${q}`, frames: preview.frames.map((s) => ({ ...s, sheet: `${base}${s.sheet}${q}` })) });
  });
}
