/**
 * Changing and removing layers: POST …/:layerId/updateLayer (name, description, copyright and the
 * supports* flags, kept in the layer's .layer.json), POST …/:layerId/update/poster (an uploaded
 * JPEG or PNG, or the frame at `time` seconds; a new poster gets a new file name, so cached
 * copies of the old one stay right), POST …/:layerId/deleteLayer and
 * POST /services/:serviceName/deleteService (the files go too, out of sight in one rename first).
 * A layer that a live job is writing is not deleted: stop it first.
 */
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SERVICE_NAME_PATTERN } from '../../jobs/ids.js';
import { LocalDirectoryStorage } from '../../jobs/storage.js';
import { frameImageAt } from '../../media/frames.js';
import { arcgisError, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { serviceLayers, unknownService } from './catalog.js';
import { removeLayerExports } from './exports.js';
import { topPlaylist } from './frameset.js';
import { activeJobIds, forgetFrames, forgetLayer, layerIdOf, loadLayer, saveEdits, type LayerData, type LayerEdits } from './layer-data.js';
import { layerRequest } from './layers.js';
import { UploadRefused, acceptMultipart, receiveFile } from './multipart.js';

const MAX_POSTER_BYTES = 10 * 1024 * 1024;
const FLAGS = ['supportsExportClip', 'supportsFrameset', 'supportsExportFrameset', 'supportsPreviews'] as const;
const TEXTS = { name: 256, description: 4096, copyright: 1024 } as const;

class UpdateRefused extends Error {}

function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UpdateRefused(`${field} must be true or false, not ${JSON.stringify(v)?.slice(0, 40)}.`);
}

/** The changes asked for: top-level fields, or a layerInfo/updateParameters JSON object. */
export function layerUpdates(f: Fields): LayerEdits {
  let src: Record<string, unknown> = f;
  const wrapped = f.layerInfo ?? f.updateParameters;
  if (wrapped !== undefined) {
    let v: unknown = wrapped;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        throw new UpdateRefused('layerInfo is not valid JSON.');
      }
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UpdateRefused('layerInfo must be a JSON object.');
    src = v as Record<string, unknown>;
  }
  const out: LayerEdits = {};
  for (const [key, max] of Object.entries(TEXTS) as Array<[keyof typeof TEXTS, number]>) {
    const v = src[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length > max || (key === 'name' && v.trim() === '')) throw new UpdateRefused(`${key} must be ${key === 'name' ? 'a non-empty string' : 'a string'} of at most ${max} characters.`);
    out[key] = key === 'name' ? v.trim() : v;
  }
  for (const key of FLAGS) if (src[key] !== undefined) out[key] = bool(src[key], key);
  if (Object.keys(out).length === 0) throw new UpdateRefused(`Nothing to update: give one of ${[...Object.keys(TEXTS), ...FLAGS].join(', ')}.`);
  return out;
}

function posterName(ext: string): string {
  return `poster_${Date.now().toString(36)}${randomUUID().slice(0, 4)}.${ext}`;
}

/** Puts a new poster in place and forgets the one it replaces (unless it is the ingest's). */
async function setPoster(layer: LayerData, name: string): Promise<void> {
  const old = layer.edits.poster;
  await saveEdits(layer, { ...layer.edits, poster: name });
  if (old && old !== name && /^poster_[0-9a-z]+\.(jpg|png)$/.test(old)) await rm(join(layer.dir, old), { force: true });
}

async function imageKind(path: string): Promise<'jpg' | 'png' | null> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpg';
    if (head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
    return null;
  } finally {
    await fh.close();
  }
}

/** Removes a layer's directory: one rename out of sight, then the files. */
async function removeLayer(ctx: ServerContext, layer: LayerData): Promise<void> {
  const storage = ctx.storage;
  if (!(storage instanceof LocalDirectoryStorage)) throw new UpdateRefused(`Layers in ${storage.description} cannot be deleted here.`);
  const trash = join(storage.root, '.staging', `deleted-${randomUUID()}`);
  await mkdir(join(storage.root, '.staging'), { recursive: true });
  await rename(layer.dir, trash);
  forgetLayer(ctx, layer.serviceName, layer.layerId);
  forgetFrames(layer.dir);
  await rm(trash, { recursive: true, force: true });
  await rmdir(join(storage.root, '.staging')).catch(() => undefined);
  await rmdir(join(storage.root, layer.serviceName)).catch(() => undefined);
  await removeLayerExports(ctx, layer.serviceName, layer.layerId);
}

export function layerAdminRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/services/:serviceName/VideoServer/:layerId/updateLayer', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    try {
      const updates = layerUpdates(r.f);
      await saveEdits(r.layer, { ...r.layer.edits, ...updates });
      return sendJson(reply, r.f, { success: true });
    } catch (err) {
      if (err instanceof UpdateRefused) return sendJson(reply, r.f, arcgisError(400, 'Unable to update the layer.', [err.message]));
      throw err;
    }
  });

  void api.register(async (scope) => {
    acceptMultipart(scope);
    scope.post('/services/:serviceName/VideoServer/:layerId/update/poster', async (req, reply) => {
      const fail = (f: Fields, ...details: string[]) => sendJson(reply, f, arcgisError(400, 'Unable to update the poster.', details));
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
        // The layer first (from the path), then the file.
        const p = req.params as Params;
        const got = await receiveFile(ctx, req, reply, {
          maxBytes: MAX_POSTER_BYTES,
          limitName: 'the poster limit of 10 MiB',
          incomingDir: join(ctx.config.dataDir, 'uploads', '.incoming'),
          what: 'update the poster',
          fileName: (raw) => {
            if (!/\.(jpe?g|png)$/i.test(raw)) throw new UploadRefused(400, `A poster is a .jpg or .png file, not '${raw.slice(0, 80)}'.`);
            return raw;
          },
        });
        if (!got) return reply;
        try {
          const layerId = layerIdOf(p.layerId);
          const layer = layerId === null ? null : await loadLayer(ctx, p.serviceName ?? '', layerId);
          if (!layer) return sendJson(reply, got.form, arcgisError(404, 'Layer not found.', [`The service '${String(p.serviceName).slice(0, 120)}' has no layer '${String(p.layerId).slice(0, 40)}'.`]));
          const kind = await imageKind(got.path);
          if (!kind) return fail(got.form, 'The file is not a JPEG or PNG image.');
          const name = posterName(kind);
          await rename(got.path, join(layer.dir, name));
          await setPoster(layer, name);
          return sendJson(reply, got.form, { success: true, posterUrl: `${ctx.restUrl}/services/${layer.serviceName}/VideoServer/${layer.layerId}/${name}` });
        } finally {
          await rm(got.path, { force: true });
        }
      }
      const r = await layerRequest(ctx, req, reply);
      if (!r) return reply;
      if (one(r.f.url) !== undefined) return fail(r.f, 'Posters are not fetched from URLs by this server: upload the image as file, or give a time in the video.');
      const t = Number(one(r.f.time) ?? (typeof r.f.time === 'number' ? r.f.time : NaN));
      if (!Number.isFinite(t) || t < 0) return fail(r.f, 'Give the image as a multipart file, or time: seconds from the start of the video.');
      const playlist = topPlaylist(r.layer);
      if (!playlist) return fail(r.f, 'The layer lists no rendition to take a frame from.');
      const name = posterName('jpg');
      const image = await frameImageAt(join(r.layer.dir, playlist), t, join(r.layer.dir, name));
      if (!image) return fail(r.f, `time ${t} is past the end of the video.`);
      await setPoster(r.layer, name);
      return sendJson(reply, r.f, { success: true, posterUrl: `${ctx.restUrl}/services/${r.layer.serviceName}/VideoServer/${r.layer.layerId}/${name}` });
    });
  });

  api.post('/services/:serviceName/VideoServer/:layerId/deleteLayer', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    if (r.layer.liveJob) return sendJson(reply, r.f, arcgisError(400, 'Unable to delete the layer.', ['A livestream is being recorded into this layer: stop it first.']));
    try {
      await removeLayer(ctx, r.layer);
    } catch (err) {
      if (err instanceof UpdateRefused) return sendJson(reply, r.f, arcgisError(400, 'Unable to delete the layer.', [err.message]));
      throw err;
    }
    return sendJson(reply, r.f, { success: true });
  });

  api.post('/services/:serviceName/deleteService', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const serviceName = (req.params as Params).serviceName ?? '';
    if (!SERVICE_NAME_PATTERN.test(serviceName)) return sendJson(reply, r.f, unknownService(serviceName));
    const busy = await activeJobIds(ctx, serviceName);
    if (busy.length > 0) return sendJson(reply, r.f, arcgisError(400, 'Unable to delete the service.', [`Jobs are still running in it: ${busy.join(', ')}. Cancel or stop them first.`]));
    const layers = await serviceLayers(ctx, serviceName);
    if (layers.length === 0) return sendJson(reply, r.f, unknownService(serviceName));
    try {
      for (const layer of layers) await removeLayer(ctx, layer);
    } catch (err) {
      if (err instanceof UpdateRefused) return sendJson(reply, r.f, arcgisError(400, 'Unable to delete the service.', [err.message]));
      throw err;
    }
    await removeLayerExports(ctx, serviceName);
    return sendJson(reply, r.f, { success: true, layers: layers.map((l) => l.layerId) });
  });
}
