/**
 * JSON resources with ETags: a client that sends If-None-Match with the tag it holds gets 304 and
 * no body. Tags are strong (a hash of the exact text, f=pjson included); errors carry none.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jsonText, type Fields } from '../context.js';

export function etagOf(text: string): string {
  return `"${createHash('sha1').update(text).digest('base64url').slice(0, 27)}"`;
}

function matches(header: string | string[] | undefined, tag: string): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return false;
  if (value.trim() === '*') return true;
  // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
  return value.split(',').some((t) => t.trim().replace(/^W\//, '') === tag);
}

/** A REST answer with an ETag and a short private cache life (clients revalidate). */
export function sendTaggedJson(req: FastifyRequest, reply: FastifyReply, f: Fields, body: unknown, cacheControl = 'private, no-cache'): FastifyReply {
  const text = jsonText(f, body);
  const tag = etagOf(text);
  reply.header('etag', tag).header('cache-control', cacheControl);
  if (matches(req.headers['if-none-match'], tag)) return reply.code(304).send();
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(text);
}
