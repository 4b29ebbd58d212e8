/**
 * Exports made from a layer on request (framesets, clips): each lives in its own directory under
 * <dataDir>/exports/<id>/ with a manifest (export.json: layer, status, expiry, result) and its
 * files in <id>/0/ (laid out as a storage layer, so the storage's path checks serve them), is served
 * read-only at …/VideoServer/:layerId/exports/:id/<file> with the token rules of published files,
 * answers its status at …/exports/:id, and is removed when it expires (a sweep every minute and
 * at start). Work runs after the answer when the request asks for async.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MediaError } from '../../errors.js';
import type { JobResource } from '../../jobs/job.js';
import { LocalDirectoryStorage } from '../../jobs/storage.js';
import { arcgisError, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { fileRoutesFor } from './files.js';

export type ExportKind = 'frameset' | 'clip';

export interface ExportManifest {
  id: string;
  kind: ExportKind;
  serviceName: string;
  layerId: number;
  status: 'processing' | 'completed' | 'failed';
  /** ms since 1970 */
  created: number;
  expires: number;
  result: Record<string, unknown> | null;
  error: { code: number; message: string; details: string[] } | null;
  /** Who asked, and the layer's names, for the export's job resource (absent in older manifests). */
  username?: string;
  layerName?: string;
  serviceItemId?: string;
  /** Units of work done of those planned (frames of a frameset, steps of a clip). */
  progress?: { done: number; total: number };
}

const ID_PATTERN = /^[a-z][0-9a-f]{32}$/;
const MANIFEST = 'export.json';
const SWEEP_MS = 60_000;

/** The job id an export answers to: "j" and its id's 32 hex digits as a UUID (one id, two forms). */
export function exportJobId(exportId: string): string {
  const h = exportId.slice(1);
  return `j${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function exportsRoot(ctx: ServerContext): string {
  return join(ctx.config.dataDir, 'exports');
}

async function writeManifest(dir: string, m: ExportManifest): Promise<void> {
  await writeFile(join(dir, `${MANIFEST}.tmp`), `${JSON.stringify(m, null, 2)}\n`);
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
}

export async function readManifest(ctx: ServerContext, id: string): Promise<ExportManifest | null> {
  if (!ID_PATTERN.test(id)) return null;
  try {
    return JSON.parse(await readFile(join(exportsRoot(ctx), id, MANIFEST), 'utf8')) as ExportManifest;
  } catch {
    return null;
  }
}

export interface ExportHandle {
  manifest: ExportManifest;
  dir: string;
  /** Where the export's files go (served under its URL). */
  filesDir: string;
  /** …/VideoServer/<layerId>/exports/<id> */
  url: string;
}

/** A new export directory and its manifest ('processing'). */
export async function createExport(ctx: ServerContext, kind: ExportKind, layer: { serviceName: string; layerId: number; job?: JobResource | null }, expiryMs: number, username?: string): Promise<ExportHandle> {
  const id = `${kind === 'frameset' ? 'f' : 'c'}${randomUUID().replace(/-/g, '')}`;
  const dir = join(exportsRoot(ctx), id);
  await mkdir(join(dir, '0'), { recursive: true });
  const created = Date.now();
  const manifest: ExportManifest = {
    id,
    kind,
    serviceName: layer.serviceName,
    layerId: layer.layerId,
    status: 'processing',
    created,
    expires: created + expiryMs,
    result: null,
    error: null,
    ...(username !== undefined ? { username } : {}),
    ...(layer.job ? { layerName: layer.job.results.layerName, serviceItemId: layer.job.inputs.serviceItemId } : {}),
  };
  await writeManifest(dir, manifest);
  // Removed on time while this process runs; the sweep catches what a restart left.
  if (expiryMs < 2 ** 31 - 1) setTimeout(() => void rm(dir, { recursive: true, force: true }).catch(() => undefined), expiryMs).unref();
  return { manifest, dir, filesDir: join(dir, '0'), url: `${ctx.restUrl}/services/${layer.serviceName}/VideoServer/${layer.layerId}/exports/${id}` };
}

/** Records how far the work is (read by the export's job resource). */
export async function exportProgress(h: ExportHandle, done: number, total: number): Promise<void> {
  h.manifest = { ...h.manifest, progress: { done, total } };
  await writeManifest(h.dir, h.manifest);
}

export async function finishExport(h: ExportHandle, outcome: { result: Record<string, unknown> } | { error: ExportManifest['error'] }): Promise<void> {
  h.manifest = 'result' in outcome ? { ...h.manifest, status: 'completed', result: outcome.result } : { ...h.manifest, status: 'failed', error: outcome.error };
  await writeManifest(h.dir, h.manifest);
}

export function isTrue(v: unknown): boolean {
  const s = one(v) ?? (typeof v === 'boolean' ? String(v) : undefined);
  return s === 'true' || s === '1';
}

/**
 * Runs an export's work, records its outcome in the manifest, and answers: at once with the
 * status URL when the request asks for async, else with the results (`head` goes first).
 */
export async function answerExport(reply: FastifyReply, f: Fields, h: ExportHandle, work: Promise<Record<string, unknown>>, head: Record<string, unknown>, message: string): Promise<FastifyReply> {
  const recorded = work.then(
    async (result) => {
      await finishExport(h, { result });
      return result;
    },
    async (err: unknown) => {
      await finishExport(h, { error: { code: 500, message, details: [err instanceof Error ? err.message : String(err)] } });
      throw err;
    },
  );
  if (isTrue(f.async)) {
    recorded.catch(() => undefined);
    // The status URL, and the same state as a job resource at GET <root>/jobs/job/<jobId>.
    return sendJson(reply, f, { ...head, status: 'processing', statusUrl: h.url, jobId: exportJobId(h.manifest.id) });
  }
  try {
    return sendJson(reply, f, { ...head, status: 'completed', results: await recorded });
  } catch (err) {
    if (err instanceof MediaError) return sendJson(reply, f, arcgisError(500, message, [`${err.message} (${err.code}, step ${err.step}).`]));
    throw err;
  }
}

/** Removes expired exports, and directories without a readable manifest that are over a day old. */
export async function sweepExports(ctx: ServerContext, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(exportsRoot(ctx)).catch(() => [] as string[])) {
    if (!ID_PATTERN.test(name)) continue;
    const m = await readManifest(ctx, name);
    if (m ? m.expires <= now : false) {
      await rm(join(exportsRoot(ctx), name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** Removes every export of a layer (it is being deleted). */
export async function removeLayerExports(ctx: ServerContext, serviceName: string, layerId?: number): Promise<void> {
  for (const name of await readdir(exportsRoot(ctx)).catch(() => [] as string[])) {
    const m = await readManifest(ctx, name);
    if (m && m.serviceName === serviceName && (layerId === undefined || m.layerId === layerId)) await rm(join(exportsRoot(ctx), name), { recursive: true, force: true });
  }
}

export function exportRoutes(api: FastifyInstance, ctx: ServerContext): void {
  void sweepExports(ctx);
  const timer = setInterval(() => void sweepExports(ctx).catch(() => undefined), SWEEP_MS).unref();
  api.addHook('onClose', async () => clearInterval(timer));

  const ofLayer = (m: ExportManifest | null, p: Params): m is ExportManifest => m !== null && m.serviceName === p.serviceName && String(m.layerId) === p.layerId && m.expires > Date.now();

  api.get('/services/:serviceName/VideoServer/:layerId/exports/:exportId', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const p = req.params as Params;
    const m = await readManifest(ctx, p.exportId ?? '');
    if (!ofLayer(m, p)) return sendJson(reply, r.f, arcgisError(404, 'Export not found.', [`No export '${String(p.exportId).slice(0, 40)}' on this layer (it may have expired).`]));
    return sendJson(reply, r.f, { id: m.id, kind: m.kind, status: m.status, created: m.created, expires: m.expires, ...(m.result ? { results: m.result } : {}), ...(m.error ? { error: m.error } : {}) });
  });

  // The export's files: the same token, range and caching rules as a layer's published files.
  const files = new LocalDirectoryStorage(exportsRoot(ctx));
  fileRoutesFor(api, ctx, '/services/:serviceName/VideoServer/:layerId/exports/:exportId/*', async (p) => {
    const m = await readManifest(ctx, p.exportId ?? '');
    if (!ofLayer(m, p) || m.status !== 'completed') return null;
    const file = await files.open(m.id, 0, p['*'] ?? '');
    return file ? { file, live: false } : null;
  });
}
