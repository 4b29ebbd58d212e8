/**
 * What every route module shares: the server's parts (configuration, job manager, storage, token
 * service, login throttles) and the helpers that give every answer ArcGIS's form — request
 * fields, f=json|pjson, the error JSON, the token check.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobManager } from '../jobs/manager.js';
import type { Storage } from '../jobs/storage.js';
import type { LoginThrottle, TokenService } from './auth.js';
import type { ServerConfig } from './config.js';

export type Params = Record<string, string | undefined>;
export type Fields = Record<string, unknown>;

export interface ServerContext {
  config: ServerConfig;
  manager: JobManager;
  storage: Storage;
  tokens: TokenService;
  /** Failed logins per address and username. */
  throttle: LoginThrottle;
  /** Failed logins per address across all usernames. */
  addressThrottle: LoginThrottle;
  /** Real paths of the input roots. */
  roots: string[];
  /** Origin + REST root; known once the server listens. */
  restUrl: string;
}

export interface ArcgisError {
  error: { code: number; message: string; details: string[] };
}

export function arcgisError(code: number, message: string, details: string[] = []): ArcgisError {
  return { error: { code, message, details } };
}

/** Query string and form/JSON body fields together (the body wins). */
export function fields(req: FastifyRequest): Fields {
  const q = (req.query ?? {}) as Fields;
  const b = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Fields) : {};
  return { ...q, ...b };
}

/** A field's value as one string (the first when repeated). */
export function one(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** The JSON text of a body, indented for f=pjson. */
export function jsonText(f: Fields, body: unknown): string {
  return JSON.stringify(body, null, one(f.f) === 'pjson' ? 2 : undefined);
}

/** A REST answer: HTTP 200 with the body as JSON (errors included, as ArcGIS Server sends them). */
export function sendJson(reply: FastifyReply, f: Fields, body: unknown): FastifyReply {
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(jsonText(f, body));
}

/** A JSON error with a real HTTP status (file requests and unknown routes). */
export function sendHttpError(reply: FastifyReply, status: number, body: ArcgisError): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

/** The token of a request: X-Esri-Authorization or Authorization (Bearer), else a token field. */
export function tokenOf(req: FastifyRequest, f: Fields): string | undefined {
  const esri = req.headers['x-esri-authorization'];
  const header = (Array.isArray(esri) ? esri[0] : esri) ?? req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) return m[1];
  }
  return one(f.token);
}

/** Refuses f values other than json and pjson; true when the request may go on. */
export function checkFormat(reply: FastifyReply, f: Fields): boolean {
  const fmt = one(f.f);
  if (fmt === undefined || fmt === 'json' || fmt === 'pjson') return true;
  sendJson(reply, {}, arcgisError(400, 'Invalid format.', [`f must be json or pjson, not '${fmt}'`]));
  return false;
}

/** The username of a request with a valid token; otherwise answers 499/498 and returns null. */
export function authorize(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, f: Fields): string | null {
  const check = ctx.tokens.verify(tokenOf(req, f));
  if (check.ok) return check.username;
  if (check.reason === 'missing') sendJson(reply, f, arcgisError(499, 'Token Required'));
  else sendJson(reply, f, arcgisError(498, 'Invalid Token', [check.reason === 'expired' ? 'The token has expired.' : 'The token is not valid.']));
  return null;
}

/** The usual start of a REST route: the format is acceptable and the token valid (else answered). */
export function restRequest(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): { f: Fields; username: string } | null {
  const f = fields(req);
  if (!checkFormat(reply, f)) return null;
  const username = authorize(ctx, req, reply, f);
  return username === null ? null : { f, username };
}
