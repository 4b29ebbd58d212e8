/** POST /generateToken: HMAC-signed tokens for configured users, with login throttling. */
import type { FastifyInstance } from 'fastify';
import { arcgisError, checkFormat, fields, one, sendJson, type Fields, type ServerContext } from '../context.js';

export function tokenRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const { config, tokens, throttle, addressThrottle } = ctx;
  api.post('/generateToken', async (req, reply) => {
    const f = fields(req);
    if (!checkFormat(reply, f)) return reply;
    // Credentials only from the body: URLs end up in logs, histories and proxies.
    const q = (req.query ?? {}) as Fields;
    if (q.password !== undefined || q.username !== undefined) {
      return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['Send username and password in the request body, not in the URL.']));
    }
    const username = one(f.username);
    const password = one(f.password);
    const throttleKey = `${req.ip}|${username ?? ''}`;
    const wait = Math.max(throttle.retryAfterMs(throttleKey), addressThrottle.retryAfterMs(req.ip));
    if (wait > 0) {
      return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', [`Too many failed attempts; try again in ${Math.ceil(wait / 1000)} seconds.`]));
    }
    if (!username || !password || !tokens.checkPassword(username, password)) {
      throttle.fail(throttleKey);
      addressThrottle.fail(req.ip);
      return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['Invalid username or password.']));
    }
    let minutes = config.tokenMinutes;
    const expiration = one(f.expiration) ?? (typeof f.expiration === 'number' ? String(f.expiration) : undefined);
    if (expiration !== undefined) {
      const n = Number(expiration);
      if (!Number.isInteger(n) || n < 1) return sendJson(reply, f, arcgisError(400, 'Unable to generate token.', ['expiration must be a positive number of minutes.']));
      minutes = Math.min(n, config.maxTokenMinutes);
    }
    throttle.succeed(throttleKey);
    const { token, expires } = tokens.issue(username, minutes);
    return sendJson(reply, f, { token, expires });
  });
}
