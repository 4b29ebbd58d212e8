/**
 * Input files sent to the server: POST <root>/uploads/upload (multipart/form-data, the file
 * streamed to disk, never held in memory; at most maxUploadBytes; Video Server's extensions),
 * POST <root>/uploads/register (a file placed on the server's disk by hand, or to be copied into
 * the directory it names), GET <root>/uploads/:fileId. Each item lives in
 * <dataDir>/uploads/<fileId>/ with its manifest; addLayer takes its fileId. An upload that fails
 * or is too large leaves nothing behind.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FILE_ID_PATTERN, newFileId } from '../../jobs/ids.js';
import { arcgisError, one, restRequest, sendJson, type Params, type ServerContext } from '../context.js';
import { InputRejected, resolveInput } from '../inputs.js';
import { UploadRefused, acceptMultipart, receiveFile } from './multipart.js';

/** Video Server's upload extensions (its upload page). */
export const UPLOAD_EXTENSIONS = ['.ts', '.mp4', '.mpg', '.mpeg', '.avi', '.mov', '.txt', '.csv', '.gpx'] as const;
/** Video Server's register extensions. */
export const REGISTER_EXTENSIONS = ['.ts', '.mp4', '.mpeg4', '.mpeg'] as const;
const MANIFEST = 'upload.json';

export interface UploadItem {
  fileId: string;
  fileName: string;
  description: string;
  /** Whether the file is there (a registered item waits for its file). */
  committed: boolean;
  /** ms since 1970 */
  date: number;
  size: number | null;
  username: string;
}

export function uploadsRoot(ctx: ServerContext): string {
  return join(ctx.config.dataDir, 'uploads');
}

/** A file name as given by a client, reduced to its last part and checked. */
function cleanFileName(raw: string | undefined, allowed: readonly string[]): string {
  const name = basename(String(raw ?? '').replace(/\\/g, '/')).trim();
  if (name === '' || name.startsWith('.') || name.length > 255 || /[\0-\x1f]/.test(name)) throw new UploadRefused(400, `The file name '${String(raw ?? '').slice(0, 80)}' is not usable.`);
  if (!allowed.includes(extname(name).toLowerCase())) throw new UploadRefused(400, `Files ending in '${extname(name) || '(none)'}' are not accepted; allowed: ${allowed.join(' ')}.`);
  return name;
}

async function readItem(ctx: ServerContext, fileId: string): Promise<UploadItem | null> {
  if (!FILE_ID_PATTERN.test(fileId)) return null;
  try {
    const item = JSON.parse(await readFile(join(uploadsRoot(ctx), fileId, MANIFEST), 'utf8')) as UploadItem;
    if (!item.committed) {
      // A registered item is committed once its file has been copied in.
      const info = await stat(join(uploadsRoot(ctx), fileId, item.fileName)).catch(() => null);
      if (info?.isFile()) return { ...item, committed: true, size: info.size };
    }
    return item;
  } catch {
    return null;
  }
}

async function writeItem(dir: string, item: UploadItem): Promise<void> {
  await writeFile(join(dir, `${MANIFEST}.tmp`), `${JSON.stringify(item, null, 2)}\n`);
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
}

/** The real path of an uploaded item's file, checked as any input is; throws InputRejected. */
export async function uploadedInput(ctx: ServerContext, fileId: unknown): Promise<{ path: string; root: string; fileId: string }> {
  const id = typeof fileId === 'string' ? fileId.trim() : '';
  const item = await readItem(ctx, id);
  if (!item) throw new InputRejected(`No uploaded item with fileId '${id.slice(0, 60)}'.`, 404);
  if (!item.committed) throw new InputRejected(`The item '${id}' is registered but its file ${item.fileName} is not in its directory yet.`, 400);
  const root = await realpath(uploadsRoot(ctx));
  return { path: await resolveInput(`${id}/${item.fileName}`, [root]), root, fileId: id };
}

const view = (i: UploadItem) => ({ fileId: i.fileId, fileName: i.fileName, committed: i.committed, date: i.date, size: i.size, description: i.description });

async function receive(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const got = await receiveFile(ctx, req, reply, {
    maxBytes: ctx.config.maxUploadBytes,
    limitName: 'maxUploadBytes',
    incomingDir: join(uploadsRoot(ctx), '.incoming'),
    what: 'upload the file',
    fileName: (raw) => cleanFileName(raw, UPLOAD_EXTENSIONS),
  });
  if (!got) return reply;
  const fileId = newFileId();
  const item: UploadItem = { fileId, fileName: got.fileName, description: String(one(got.form.description) ?? '').slice(0, 4096), committed: true, date: Date.now(), size: got.size, username: got.username };
  const dir = join(uploadsRoot(ctx), fileId);
  try {
    await mkdir(dir);
    await rename(got.path, join(dir, item.fileName));
    await writeItem(dir, item);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    await rm(got.path, { force: true });
    throw err;
  }
  return sendJson(reply, got.form, view(item));
}

export function uploadRoutes(api: FastifyInstance, ctx: ServerContext): void {
  // Multipart bodies reach the upload route as the raw stream (only in this scope).
  void api.register(async (scope) => {
    acceptMultipart(scope);
    scope.post('/uploads/upload', async (req, reply) => receive(ctx, req, reply));
  });

  api.post('/uploads/register', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    let fileName: string;
    try {
      fileName = cleanFileName(one(r.f.fileName), REGISTER_EXTENSIONS);
    } catch (err) {
      if (err instanceof UploadRefused) return sendJson(reply, r.f, arcgisError(err.code, 'Unable to register the file.', [err.message]));
      throw err;
    }
    const fileId = newFileId();
    const dir = join(uploadsRoot(ctx), fileId);
    await mkdir(dir, { recursive: true });
    const item: UploadItem = { fileId, fileName, description: String(one(r.f.description) ?? '').slice(0, 4096), committed: false, date: Date.now(), size: null, username: r.username };
    await writeItem(dir, item);
    return sendJson(reply, r.f, { ...view(item), directory: dir });
  });

  api.get('/uploads/:fileId', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const id = (req.params as Params).fileId ?? '';
    const item = await readItem(ctx, id);
    if (!item) return sendJson(reply, r.f, arcgisError(404, 'Item not found.', [`No uploaded item with fileId '${id.slice(0, 60)}'.`]));
    return sendJson(reply, r.f, view(item));
  });
}
