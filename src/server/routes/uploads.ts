/**
 * Input files sent to the server: POST <root>/uploads/upload (multipart/form-data, the file
 * streamed to disk, never held in memory; at most maxUploadBytes; Video Server's extensions),
 * POST <root>/uploads/register (a file placed on the server's disk by hand, or to be copied into
 * the directory it names), GET <root>/uploads/:fileId. Each item lives in
 * <dataDir>/uploads/<fileId>/ with its manifest; addLayer takes its fileId. An upload that fails
 * or is too large leaves nothing behind.
 */
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { newFileId } from '../../jobs/ids.js';
import { arcgisError, authorize, checkFormat, fields, one, restRequest, sendHttpError, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { InputRejected, resolveInput } from '../inputs.js';

/** Video Server's upload extensions (its upload page). */
export const UPLOAD_EXTENSIONS = ['.ts', '.mp4', '.mpg', '.mpeg', '.avi', '.mov', '.txt', '.csv', '.gpx'] as const;
/** Video Server's register extensions. */
export const REGISTER_EXTENSIONS = ['.ts', '.mp4', '.mpeg4', '.mpeg'] as const;
const FILE_ID = /^i[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
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

class UploadRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function readItem(ctx: ServerContext, fileId: string): Promise<UploadItem | null> {
  if (!FILE_ID.test(fileId)) return null;
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
export async function uploadedInput(ctx: ServerContext, fileId: unknown): Promise<{ path: string; root: string }> {
  const id = typeof fileId === 'string' ? fileId.trim() : '';
  const item = await readItem(ctx, id);
  if (!item) throw new InputRejected(`No uploaded item with fileId '${id.slice(0, 60)}'.`, 404);
  if (!item.committed) throw new InputRejected(`The item '${id}' is registered but its file ${item.fileName} is not in its directory yet.`, 400);
  const root = await realpath(uploadsRoot(ctx));
  return { path: await resolveInput(`${id}/${item.fileName}`, [root]), root };
}

const view = (i: UploadItem) => ({ fileId: i.fileId, fileName: i.fileName, committed: i.committed, date: i.date, size: i.size, description: i.description });

/** Streams the multipart body: fields before the file (the token among them), the file to disk. */
async function receive(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const max = ctx.config.maxUploadBytes;
  const query = fields(req);
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => sendHttpError(reply, 413, arcgisError(413, 'Upload too large.', [`The largest upload this server takes is ${max} bytes (maxUploadBytes).`]));
  if (Number.isFinite(declared) && declared > max + 1024 * 1024) {
    // Said up front: not read at all.
    reply.header('connection', 'close');
    return tooLarge();
  }
  const form: Fields = { ...query };
  const incoming = join(uploadsRoot(ctx), '.incoming');
  await mkdir(incoming, { recursive: true });
  const fileId = newFileId();
  const part = join(incoming, fileId);
  const outcome: { item?: UploadItem; refused?: UploadRefused; tooLarge?: boolean; username?: string } = {};
  let wrote: Promise<void> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let bb: BusboyInstance;
      try {
        bb = new Busboy({ headers: req.headers as BusboyHeaders, limits: { fileSize: max, files: 1, fields: 20, fieldSize: 64 * 1024 } });
      } catch (err) {
        reject(new UploadRefused(400, `The body is not multipart/form-data: ${(err as Error).message}`));
        return;
      }
      bb.on('field', (name, value) => {
        form[name] = value;
      });
      bb.on('file', (name, stream, filename) => {
        if (outcome.refused || outcome.item || name !== 'file') {
          stream.resume();
          return;
        }
        try {
          if (!checkFormat(reply, form)) throw new UploadRefused(0, '');
          const username = authorize(ctx, req, reply, form);
          if (username === null) throw new UploadRefused(0, '');
          outcome.username = username;
          const fileName = cleanFileName(filename, UPLOAD_EXTENSIONS);
          stream.on('limit', () => {
            outcome.tooLarge = true;
          });
          wrote = pipeline(stream, createWriteStream(part, { flags: 'wx', mode: 0o600 })).then(() => {
            if (!outcome.tooLarge) outcome.item = { fileId, fileName, description: '', committed: true, date: Date.now(), size: null, username };
          });
        } catch (err) {
          if (!(err instanceof UploadRefused)) throw err;
          outcome.refused = err;
          stream.resume();
        }
      });
      bb.on('error', (err: unknown) => reject(new UploadRefused(400, `The multipart body could not be read: ${err instanceof Error ? err.message : String(err)}`)));
      bb.on('finish', () => resolve());
      req.raw.on('aborted', () => reject(new UploadRefused(400, 'The upload was cut off.')));
      req.raw.pipe(bb);
    });
    await wrote;
  } catch (err) {
    await rm(part, { force: true });
    if (err instanceof UploadRefused) return sendJson(reply, form, arcgisError(err.code, 'Unable to upload the file.', [err.message]));
    throw err;
  }
  if (outcome.tooLarge || !outcome.item) await rm(part, { force: true });
  // A form without a file part was not checked on the way.
  if (!outcome.refused && outcome.username === undefined && (!checkFormat(reply, form) || authorize(ctx, req, reply, form) === null)) return reply;
  if (outcome.refused) return outcome.refused.code === 0 ? reply : sendJson(reply, form, arcgisError(outcome.refused.code, 'Unable to upload the file.', [outcome.refused.message]));
  if (outcome.tooLarge) return tooLarge();
  if (!outcome.item) return sendJson(reply, form, arcgisError(400, 'Unable to upload the file.', ["The form has no part named 'file'."]));
  const item = { ...outcome.item, description: String(one(form.description) ?? '').slice(0, 4096), size: (await stat(part)).size };
  const dir = join(uploadsRoot(ctx), fileId);
  try {
    await mkdir(dir);
    await rename(part, join(dir, item.fileName));
    await writeItem(dir, item);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    await rm(part, { force: true });
    throw err;
  }
  return sendJson(reply, form, view(item));
}

export function uploadRoutes(api: FastifyInstance, ctx: ServerContext): void {
  // Multipart bodies reach the upload route as the raw stream (only in this scope).
  void api.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));
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
