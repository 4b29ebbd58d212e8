/**
 * One file from a multipart/form-data request, streamed to disk as it arrives (never held in
 * memory). Fields before the file count (the token may be one of them); the format and token are
 * checked before a byte of the file is written. Past the size limit the rest is read and dropped
 * and the answer is HTTP 413; a body that declares more than the limit is not read at all. On any
 * refusal nothing is left on disk.
 */
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { arcgisError, authorize, checkFormat, fields, sendHttpError, sendJson, type Fields, type ServerContext } from '../context.js';

/** A refusal with the ArcGIS error code to answer (0: already answered). */
export class UploadRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReceiveOptions {
  maxBytes: number;
  /** The setting that sets maxBytes, for the 413 message. */
  limitName: string;
  /** Where the file is written while it arrives. */
  incomingDir: string;
  /** "upload the file": the error messages say "Unable to <what>." */
  what: string;
  /** Checks and cleans the client's file name (throws UploadRefused). */
  fileName(raw: string): string;
}

export interface ReceivedFile {
  form: Fields;
  username: string;
  fileName: string;
  /** The file as received (the caller moves or removes it). */
  path: string;
  size: number;
}

/** Lets multipart bodies reach the routes of `scope` as the raw request stream. */
export function acceptMultipart(scope: FastifyInstance): void {
  scope.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));
}

/** Receives the part named 'file'; null when the request was answered (refused). */
export async function receiveFile(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, o: ReceiveOptions): Promise<ReceivedFile | null> {
  const form: Fields = { ...fields(req) };
  const fail = (code: number, detail: string) => sendJson(reply, form, arcgisError(code, `Unable to ${o.what}.`, [detail]));
  const tooLarge = () => sendHttpError(reply, 413, arcgisError(413, 'Upload too large.', [`The largest upload this server takes is ${o.maxBytes} bytes (${o.limitName}).`]));
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > o.maxBytes + 1024 * 1024) {
    reply.header('connection', 'close');
    tooLarge();
    return null;
  }
  await mkdir(o.incomingDir, { recursive: true });
  const part = join(o.incomingDir, randomUUID());
  const state: { received?: { fileName: string; username: string }; refused?: UploadRefused; tooLarge?: boolean; username?: string } = {};
  let wrote: Promise<void> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let bb: BusboyInstance;
      try {
        bb = new Busboy({ headers: req.headers as BusboyHeaders, limits: { fileSize: o.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 } });
      } catch (err) {
        reject(new UploadRefused(400, `The body is not multipart/form-data: ${(err as Error).message}`));
        return;
      }
      bb.on('field', (name, value) => {
        form[name] = value;
      });
      bb.on('file', (name, stream, filename) => {
        if (state.refused || state.received || wrote || name !== 'file') {
          stream.resume();
          return;
        }
        try {
          if (!checkFormat(reply, form)) throw new UploadRefused(0, '');
          const username = authorize(ctx, req, reply, form);
          if (username === null) throw new UploadRefused(0, '');
          state.username = username;
          const fileName = o.fileName(filename);
          stream.on('limit', () => {
            state.tooLarge = true;
          });
          wrote = pipeline(stream, createWriteStream(part, { flags: 'wx', mode: 0o600 })).then(() => {
            if (!state.tooLarge) state.received = { fileName, username };
          });
        } catch (err) {
          if (!(err instanceof UploadRefused)) throw err;
          state.refused = err;
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
    if (err instanceof UploadRefused) {
      fail(err.code, err.message);
      return null;
    }
    throw err;
  }
  if (state.tooLarge || !state.received) await rm(part, { force: true });
  // A form without a file part was not checked on the way.
  if (!state.refused && state.username === undefined && (!checkFormat(reply, form) || authorize(ctx, req, reply, form) === null)) return null;
  if (state.refused) {
    if (state.refused.code !== 0) fail(state.refused.code, state.refused.message);
    return null;
  }
  if (state.tooLarge) {
    tooLarge();
    return null;
  }
  if (!state.received) {
    fail(400, "The form has no part named 'file'.");
    return null;
  }
  return { form, ...state.received, path: part, size: (await stat(part)).size };
}
