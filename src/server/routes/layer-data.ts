/**
 * What the layer routes read about a published layer: its files (videoInfo.json, abr.json), the
 * job that made it (name, times, live counters), the edits updateLayer made (kept in the layer's
 * hidden .layer.json, which the file route never serves) and its per-frame geometry from
 * klv.ndjson, parsed once per version of the file.
 */
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { frameFromLine, type FrameTelemetry } from '../../geometry/index.js';
import { SERVICE_NAME_PATTERN } from '../../jobs/ids.js';
import type { IngestJob, JobResource } from '../../jobs/job.js';
import type { ServerContext } from '../context.js';

/** What updateLayer may change (Video Server's updateLayer fields we keep). */
export interface LayerEdits {
  name?: string;
  description?: string;
  copyright?: string;
  supportsExportClip?: boolean;
  supportsFrameset?: boolean;
  supportsExportFrameset?: boolean;
  supportsPreviews?: boolean;
  /** The poster was replaced: its file name in the layer. */
  poster?: string;
}

export interface LayerData {
  serviceName: string;
  layerId: number;
  /** The layer's directory. */
  dir: string;
  job: JobResource | null;
  /** The live job writing this layer now, if any. */
  liveJob: IngestJob | undefined;
  videoInfo: Record<string, unknown> | null;
  abr: Record<string, unknown> | null;
  edits: LayerEdits;
  /** Last change of the layer's files (ms): what the ETags of its resources depend on. */
  modified: number;
}

export const EDITS_FILE = '.layer.json';

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether a path parameter is a layer id: digits only, as the storage names layer directories. */
export function layerIdOf(text: string | undefined): number | null {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : null;
}

/** Finished jobs never change: their resources are kept once found. */
const finishedJobs = new Map<string, JobResource>();

/** The job that published (or is writing) a layer, newest first (from Redis too, in that mode). */
export async function jobOfLayer(ctx: ServerContext, serviceName: string, layerId: number): Promise<JobResource | null> {
  const key = `${ctx.storage.location(serviceName, layerId)}`;
  const known = finishedJobs.get(key);
  if (known) return known;
  const live = ctx.manager.liveJobFor(serviceName, layerId);
  if (live) return live.toJSON();
  const page = 500;
  for (let offset = 0; ; offset += page) {
    const { jobs } = await ctx.manager.findJobs({ limit: page, offset });
    for (const job of jobs) {
      if (job.results.serviceName !== serviceName || job.results.layerId !== layerId) continue;
      if (job.status === 'COMPLETED' || job.customAttributes.live !== undefined) {
        if (job.status === 'COMPLETED' || job.status === 'FAILED') finishedJobs.set(key, job);
        return job;
      }
    }
    if (jobs.length < page) return null;
  }
}

/** Ids of a service's jobs that are queued or running (in Redis mode, on any node). */
export async function activeJobIds(ctx: ServerContext, serviceName: string): Promise<string[]> {
  if (!ctx.config.redis) return ctx.manager.store.activeJobs().filter((j) => j.resource.results.serviceName === serviceName).map((j) => j.jobId);
  const out: string[] = [];
  const page = 500;
  for (let offset = 0; ; offset += page) {
    const { jobs } = await ctx.manager.findJobs({ limit: page, offset });
    for (const j of jobs) if (j.results.serviceName === serviceName && (j.status === 'SUBMITTED' || j.status === 'IN PROGRESS')) out.push(j.jobId);
    if (jobs.length < page) return out;
  }
}

/** Forgets what is known of a layer (it was deleted or republished). */
export function forgetLayer(ctx: ServerContext, serviceName: string, layerId: number): void {
  finishedJobs.delete(ctx.storage.location(serviceName, layerId));
}

/** A layer in storage (or being written by a live job); null when there is none. */
export async function loadLayer(ctx: ServerContext, serviceName: string, layerId: number): Promise<LayerData | null> {
  if (!SERVICE_NAME_PATTERN.test(serviceName)) return null;
  const dir = ctx.storage.location(serviceName, layerId);
  const liveJob = ctx.manager.liveJobFor(serviceName, layerId);
  const info = await stat(join(dir, 'videoInfo.json')).catch(() => null);
  if (!info && !liveJob) return null;
  const [videoInfo, abr, edits, editsInfo, abrInfo] = await Promise.all([
    readJson(join(dir, 'videoInfo.json')),
    readJson(join(dir, 'abr.json')),
    readJson(join(dir, EDITS_FILE)),
    stat(join(dir, EDITS_FILE)).catch(() => null),
    stat(join(dir, 'abr.json')).catch(() => null),
  ]);
  const modified = Math.max(info?.mtimeMs ?? 0, editsInfo?.mtimeMs ?? 0, abrInfo?.mtimeMs ?? 0);
  return { serviceName, layerId, dir, job: await jobOfLayer(ctx, serviceName, layerId), liveJob, videoInfo, abr, edits: (edits ?? {}) as LayerEdits, modified };
}

/** Writes a layer's edits atomically. */
export async function saveEdits(layer: LayerData, edits: LayerEdits): Promise<void> {
  const path = join(layer.dir, EDITS_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(edits, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

interface CachedFrames {
  mtimeMs: number;
  size: number;
  frames: FrameTelemetry[];
}

const FRAME_CACHE_LAYERS = 16;
const frameCache = new Map<string, CachedFrames>();
const pendingFrames = new Map<string, Promise<FrameTelemetry[]>>();

/** The per-frame geometry of a layer (from klv.ndjson), in file order; [] without telemetry. */
export async function layerFrames(layer: Pick<LayerData, 'dir'>): Promise<FrameTelemetry[]> {
  const path = join(layer.dir, 'klv.ndjson');
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return [];
  const cached = frameCache.get(path);
  if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
    // Most recently used last, so the oldest goes first.
    frameCache.delete(path);
    frameCache.set(path, cached);
    return cached.frames;
  }
  const key = `${path}|${info.mtimeMs}|${info.size}`;
  let pending = pendingFrames.get(key);
  if (!pending) {
    pending = (async () => {
      const frames: FrameTelemetry[] = [];
      // Read line by line: a long flight's telemetry is not held as one string.
      const lines = createInterface({ input: createReadStream(path, { end: info.size - 1 }), crlfDelay: Infinity });
      for await (const line of lines) {
        const f = frameFromLine(line);
        if (f) frames.push(f);
      }
      frameCache.set(path, { mtimeMs: info.mtimeMs, size: info.size, frames });
      while (frameCache.size > FRAME_CACHE_LAYERS) frameCache.delete(frameCache.keys().next().value as string);
      return frames;
    })().finally(() => pendingFrames.delete(key));
    pendingFrames.set(key, pending);
  }
  return pending;
}

/** Forgets the cached geometry of a layer directory. */
export function forgetFrames(dir: string): void {
  frameCache.delete(join(dir, 'klv.ndjson'));
}
