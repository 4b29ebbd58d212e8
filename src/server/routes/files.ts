/**
 * GET /services/:serviceName/VideoServer/:layerId/<file>: the published outputs, read-only, with
 * byte ranges. File requests get real HTTP statuses (401, 403, 404, 416).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SERVICE_NAME_PATTERN } from '../../jobs/ids.js';
import type { StoredFile } from '../../jobs/storage.js';
import { holdLiveFile } from './live.js';
import { arcgisError, fields, one, readAll, sendHttpError, tokenOf, type Fields, type Params, type ServerContext } from '../context.js';

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  csv: 'text/csv; charset=utf-8',
  aac: 'audio/aac',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  vtt: 'text/vtt; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  geojson: 'application/geo+json; charset=utf-8',
};

/** Appends token=... to every URI of an HLS playlist: URI lines and URI="..." attributes. */
export function withTokenOnUris(playlist: string, token: string): string {
  const add = (uri: string) => (/^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : `${uri}${uri.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return add(trimmed);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}

/**
 * Segments and images of a layer are never rewritten (a new poster gets a new name): cached for a
 * day. Playlists are revalidated every time (ETag), a live layer's within a second.
 */
export function fileCacheControl(ext: string, live: boolean, publicOutputs: boolean): string {
  const scope = publicOutputs ? 'public' : 'private';
  if (ext === 'm3u8') return live ? `${scope}, max-age=1` : 'no-cache';
  if (ext === 'json' || ext === 'ndjson' || ext === 'geojson' || ext === 'vtt') return live ? `${scope}, max-age=1` : 'no-cache';
  return `${scope}, max-age=86400`;
}

export function fileRoutes(api: FastifyInstance, ctx: ServerContext): void {
  fileRoutesFor(api, ctx, '/services/:serviceName/VideoServer/:layerId/*', async (p, req, reply) => {
    if (!SERVICE_NAME_PATTERN.test(p.serviceName ?? '') || !/^\d{1,9}$/.test(p.layerId ?? '')) return null;
    // A live layer's blocking playlist reloads and hinted parts wait here first.
    const held = await holdLiveFile(ctx, req, reply, p.serviceName!, Number(p.layerId), p['*'] ?? '');
    if (held) return { held };
    const file = await ctx.storage.open(p.serviceName!, Number(p.layerId), p['*'] ?? '');
    return file ? { file, live: ctx.manager.liveJobFor(p.serviceName!, Number(p.layerId)) !== undefined } : null;
  });
}

/**
 * A read-only file route: the token check (unless outputs are public), the file `open` finds for
 * the path parameters, its type, caching, validators and byte ranges.
 */
export type FileLookup = { file: StoredFile; live: boolean } | { held: { status: number; message: string } } | null;

export function fileRoutesFor(api: FastifyInstance, ctx: ServerContext, route: string, open: (p: Params, req: FastifyRequest, reply: FastifyReply) => Promise<FileLookup>): void {
  const { config, tokens } = ctx;
  api.get(route, async (req, reply) => {
    const f = fields(req);
    if (!config.publicOutputs) {
      const check = tokens.verify(tokenOf(req, f));
      if (!check.ok) {
        return check.reason === 'missing' ? sendHttpError(reply, 401, arcgisError(499, 'Token Required')) : sendHttpError(reply, 403, arcgisError(498, 'Invalid Token'));
      }
    }
    const p = req.params as Params;
    const rest = p['*'] ?? '';
    const found = await open(p, req, reply);
    if (!found) return sendHttpError(reply, 404, arcgisError(404, 'Not found.'));
    if ('held' in found) return sendHttpError(reply, found.held.status, arcgisError(found.held.status, found.held.message));
    const { file, live } = found;
    const ext = rest.slice(rest.lastIndexOf('.') + 1).toLowerCase();
    reply.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
    reply.header('accept-ranges', 'bytes');
    reply.header('last-modified', file.mtime.toUTCString());
    reply.header('cache-control', fileCacheControl(ext, live, config.publicOutputs));
    // A validator from size and time: a client holding this version gets 304 and no body.
    const tag = `W/"${file.size.toString(36)}-${Math.floor(file.mtime.getTime()).toString(36)}"`;
    reply.header('etag', tag);
    const held = req.headers['if-none-match'];
    if (typeof held === 'string' && held.split(',').some((t) => t.trim() === tag || t.trim() === '*')) return reply.code(304).send();
    // A playlist fetched with ?token= hands the token on to the URIs it lists, so a player that
    // cannot set headers (a plain <video> or hls.js without xhrSetup) plays the whole ladder.
    const queryToken = one((req.query as Fields | undefined)?.token);
    if (ext === 'm3u8' && queryToken && !config.publicOutputs) {
      const text = await readAll(file.read());
      const body = withTokenOnUris(text, queryToken);
      reply.code(200).header('content-length', Buffer.byteLength(body));
      return reply.send(body);
    }
    const range = typeof req.headers.range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range.trim()) : null;
    if (range && (range[1] !== '' || range[2] !== '')) {
      let start: number;
      let end: number;
      if (range[1] === '') {
        start = Math.max(0, file.size - Number(range[2]));
        end = file.size - 1;
      } else {
        start = Number(range[1]);
        end = range[2] === '' ? file.size - 1 : Math.min(Number(range[2]), file.size - 1);
      }
      if (start > end || start >= file.size) {
        return reply.code(416).header('content-range', `bytes */${file.size}`).send();
      }
      reply.code(206).header('content-range', `bytes ${start}-${end}/${file.size}`).header('content-length', end - start + 1);
      return reply.send(file.read({ start, end }));
    }
    reply.code(200).header('content-length', file.size);
    // For HEAD, fastify's head route closes the stream unread and keeps content-length.
    return reply.send(file.read());
  });
}
