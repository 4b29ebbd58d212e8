/**
 * Storage of published layers, behind a small interface. The local directory storage lays layers
 * out as <root>/<serviceName>/<layerId>/ and publishes atomically: outputs are gathered under
 * <root>/.staging/<jobId>/ (same file system as the target) and renamed into place in one step,
 * so a reader sees a whole layer or none. Other backends keep the same contract (object stores:
 * write every object under a staging prefix, then commit with a marker written last).
 */
import { createReadStream, readdirSync, statSync, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { MediaError } from '../errors.js';
import { SERVICE_NAME_PATTERN } from './ids.js';

export interface PublishTarget {
  serviceName: string;
  layerId: number;
  jobId: string;
}

export interface PublishedLayer {
  /** Where the layer is now (a directory path for local storage, a URL or prefix for others). */
  location: string;
  /** Published files, relative to location, '/'-separated. */
  files: string[];
  bytes: number;
}

export interface StoredFile {
  size: number;
  mtime: Date;
  /** Reads the file, or the inclusive byte range [start, end] of it. */
  read(range?: { start: number; end: number }): Readable;
}

export interface Storage {
  /** A short description for messages, e.g. "directory /srv/video". */
  readonly description: string;
  /**
   * Layer ids a service already has in storage. Called when a job is submitted, so it must be
   * cheap (a directory listing, or a cached listing for remote stores).
   */
  existingLayerIds(serviceName: string): number[];
  /**
   * Publishes the staged directory as layer <target.layerId> of <target.serviceName>, all or
   * nothing: on failure or abort nothing of it is visible and its staging is removed. Fails with
   * ERR_STORAGE_EXISTS when the layer already exists. The staged directory may be moved away.
   */
  publish(stagedDir: string, target: PublishTarget, options?: { signal?: AbortSignal }): Promise<PublishedLayer>;
  /**
   * Removes whatever a job left behind mid-publish (after a crash). With `committed`, also takes
   * back that layer: a process that died between the commit and recording it leaves a layer its
   * FAILED job must not have published.
   */
  discard(jobId: string, committed?: PublishTarget): Promise<void>;
  /** A published file, or null when there is none at that path (or the path is not acceptable). */
  open(serviceName: string, layerId: number, path: string): Promise<StoredFile | null>;
  /** The location of a layer (whether or not it exists). */
  location(serviceName: string, layerId: number): string;
}

function storageError(message: string, code = 'ERR_STORAGE', cause?: unknown): MediaError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new MediaError(`${message}${why}`, { code, step: 'storage' });
}

/**
 * Splits a request path into safe segments: no empty, '.', '..' or hidden segments, no
 * backslashes or NUL. Returns null when the path is not acceptable.
 */
export function safeRelativePath(path: string): string[] | null {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) return null;
  if (path.includes('\0') || path.includes('\\') || isAbsolute(path)) return null;
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.startsWith('.')) return null;
  }
  return parts;
}

/** Whether `child` is `parent` or inside it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

async function listFiles(dir: string, prefix = ''): Promise<{ files: string[]; bytes: number }> {
  const out: string[] = [];
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const sub = await listFiles(join(dir, entry.name), rel);
      out.push(...sub.files);
      bytes += sub.bytes;
    } else if (entry.isFile()) {
      out.push(rel);
      bytes += (await stat(join(dir, entry.name))).size;
    }
  }
  return { files: out.sort(), bytes };
}

/** Copies a tree file by file (used when the staged outputs live on another file system). */
async function copyTree(from: string, to: string, signal?: AbortSignal): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    signal?.throwIfAborted();
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) await copyTree(src, dst, signal);
    else if (entry.isFile()) await copyFile(src, dst);
    // Links and special files are not outputs of ours; they are not published.
  }
}

/** Layers in a local directory: <root>/<serviceName>/<layerId>/. */
export class LocalDirectoryStorage implements Storage {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    if (typeof root !== 'string' || root.length === 0) throw storageError('The storage root must be a non-empty path', 'ERR_INVALID_OPTION');
    this.root = resolve(root);
    this.description = `directory ${this.root}`;
    // Refused now rather than after a whole transcode; a root that does not exist yet is made on publish.
    let isDirectory = true;
    try {
      isDirectory = statSync(this.root).isDirectory();
    } catch {
      // Missing: created when the first layer is published.
    }
    if (!isDirectory) throw storageError(`The storage root ${this.root} exists and is not a directory`, 'ERR_INVALID_OPTION');
  }

  location(serviceName: string, layerId: number): string {
    return join(this.root, serviceName, String(layerId));
  }

  private stagingDir(jobId: string): string {
    return join(this.root, '.staging', jobId);
  }

  existingLayerIds(serviceName: string): number[] {
    if (!SERVICE_NAME_PATTERN.test(serviceName)) return [];
    try {
      return readdirSync(join(this.root, serviceName), { withFileTypes: true })
        .filter((e) => e.isDirectory() && /^\d{1,9}$/.test(e.name))
        .map((e) => Number(e.name))
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  async publish(stagedDir: string, target: PublishTarget, options: { signal?: AbortSignal } = {}): Promise<PublishedLayer> {
    const { serviceName, layerId, jobId } = target;
    if (!SERVICE_NAME_PATTERN.test(serviceName)) throw storageError(`Invalid service name '${serviceName}'`, 'ERR_INVALID_OPTION');
    if (!Number.isInteger(layerId) || layerId < 0) throw storageError(`Invalid layer id ${layerId}`, 'ERR_INVALID_OPTION');
    const staging = this.stagingDir(jobId);
    const serviceDir = join(this.root, serviceName);
    const finalDir = this.location(serviceName, layerId);
    let createdServiceDir = false;
    try {
      options.signal?.throwIfAborted();
      await rm(staging, { recursive: true, force: true });
      // Another job (another process, too) removes .staging when it empties it: made again if it
      // went between our mkdir and our rename.
      for (let attempt = 1; ; attempt++) {
        await mkdir(join(this.root, '.staging'), { recursive: true });
        try {
          await rename(stagedDir, staging);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' && attempt < 5 && (await exists(stagedDir))) continue;
          if (code !== 'EXDEV') throw err;
          await copyTree(stagedDir, staging, options.signal);
          break;
        }
      }
      const listing = await listFiles(staging);
      options.signal?.throwIfAborted();
      try {
        await mkdir(serviceDir);
        createdServiceDir = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await exists(finalDir)) throw storageError(`Layer ${layerId} of service ${serviceName} already exists in ${this.description}`, 'ERR_STORAGE_EXISTS');
      // The commit: one rename makes the whole layer visible.
      await rename(staging, finalDir);
      // The staging area goes when no other job is using it.
      await rmdir(join(this.root, '.staging')).catch(() => undefined);
      return { location: finalDir, files: listing.files, bytes: listing.bytes };
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      await rmdir(join(this.root, '.staging')).catch(() => undefined);
      if (createdServiceDir) await rmdir(serviceDir).catch(() => undefined);
      if (err instanceof MediaError) throw err;
      if (options.signal?.aborted) throw options.signal.reason instanceof MediaError ? options.signal.reason : storageError('Saving to storage was cancelled', 'ERR_CANCELLED');
      throw storageError(`Could not save layer ${layerId} of service ${serviceName} to ${this.description}`, 'ERR_STORAGE', err);
    }
  }

  async discard(jobId: string, committed?: PublishTarget): Promise<void> {
    if (!/^[A-Za-z0-9_-]+$/.test(jobId)) return;
    await rm(this.stagingDir(jobId), { recursive: true, force: true });
    if (!committed || committed.jobId !== jobId || !SERVICE_NAME_PATTERN.test(committed.serviceName) || !Number.isInteger(committed.layerId) || committed.layerId < 0) return;
    const layer = this.location(committed.serviceName, committed.layerId);
    if (!(await exists(layer))) return;
    // Out of sight in one rename first, so readers never see it half removed.
    const withdrawn = `${this.stagingDir(jobId)}.withdrawn`;
    await mkdir(join(this.root, '.staging'), { recursive: true });
    await rename(layer, withdrawn);
    await rm(withdrawn, { recursive: true, force: true });
    await rmdir(join(this.root, committed.serviceName)).catch(() => undefined);
  }

  async open(serviceName: string, layerId: number, path: string): Promise<StoredFile | null> {
    if (!SERVICE_NAME_PATTERN.test(serviceName) || !Number.isInteger(layerId) || layerId < 0) return null;
    const parts = safeRelativePath(path);
    if (!parts) return null;
    const layerDir = this.location(serviceName, layerId);
    let realLayer: string;
    let realFile: string;
    let info: Stats;
    try {
      realLayer = await realpath(layerDir);
      realFile = await realpath(join(layerDir, ...parts));
      // Symbolic links inside a layer must not lead out of it.
      if (!isInside(realLayer, realFile)) return null;
      info = await stat(realFile);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const file = realFile;
    return {
      size: info.size,
      mtime: info.mtime,
      read: (range) => (range ? createReadStream(file, { start: range.start, end: range.end }) : createReadStream(file)),
    };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
