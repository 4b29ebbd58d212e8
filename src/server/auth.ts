/**
 * Tokens: HMAC-SHA256-signed, expiring, bound to a configured user. The format is
 * "<base64url payload>.<base64url signature>"; nothing is stored server-side, so a token stays
 * valid across restarts as long as the signing key does (kept in the data directory).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServerUser } from './config.js';

export interface TokenClaims {
  /** Username. */
  u: string;
  /** Expiry, milliseconds since 1970. */
  exp: number;
  /** Issued at, milliseconds since 1970. */
  iat: number;
  /** Random id, so two tokens issued in the same millisecond differ. */
  jti: string;
}

export type TokenCheck = { ok: true; username: string; expires: number } | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' | 'user' };

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Shortest signing key accepted: 256 bits. */
export const MIN_KEY_BYTES = 32;

function parseKey(text: string, path: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length % 2 !== 0 || hex.length < 2 * MIN_KEY_BYTES) {
    throw new Error(
      `The token signing key ${path} is not a key of ${MIN_KEY_BYTES} or more bytes in hex; remove it to have a new one made (tokens issued so far stop working)`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/**
 * Reads the signing key from `path`, creating a random one (mode 0600) when there is none. A new
 * key is written to a temporary file, flushed, then linked into place, so no reader ever sees a
 * partial key and two processes starting at once agree on one. A file that is not a whole key is
 * an error, never a weak key.
 */
export function loadOrCreateSecret(path: string): Buffer {
  try {
    return parseKey(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(MIN_KEY_BYTES);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('hex'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process linked its key first: use that one.
    return parseKey(readFileSync(path, 'utf8'), path);
  } finally {
    rmSync(temp, { force: true });
  }
}

export class TokenService {
  private readonly key: Buffer;
  private readonly users: Map<string, Buffer>;

  constructor(secret: Buffer | string, users: readonly ServerUser[]) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (this.key.length < MIN_KEY_BYTES) throw new Error(`The token signing key must be at least ${MIN_KEY_BYTES} bytes, got ${this.key.length}`);
    this.users = new Map(users.map((u) => [u.username, sha256(u.password)]));
  }

  /** Constant-time password check (an unknown user costs the same as a wrong password). */
  checkPassword(username: string, password: string): boolean {
    const expected = this.users.get(username);
    const given = sha256(password);
    const ok = timingSafeEqual(expected ?? sha256(`\0${randomBytes(8).toString('hex')}`), given);
    return ok && expected !== undefined;
  }

  issue(username: string, minutes: number, now = Date.now()): { token: string; expires: number } {
    const claims: TokenClaims = { u: username, exp: now + minutes * 60_000, iat: now, jti: randomBytes(9).toString('base64url') };
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, expires: claims.exp };
  }

  verify(token: string | undefined | null, now = Date.now()): TokenCheck {
    if (token === undefined || token === null || token === '') return { ok: false, reason: 'missing' };
    if (token.length > 2048) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof claims.u !== 'string' || typeof claims.exp !== 'number') return { ok: false, reason: 'malformed' };
    if (claims.exp <= now) return { ok: false, reason: 'expired' };
    // A user removed from the configuration loses access at once.
    if (!this.users.has(claims.u)) return { ok: false, reason: 'user' };
    return { ok: true, username: claims.u, expires: claims.exp };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`fmv-ingest-token.${payload}`).digest('base64url');
  }
}

/**
 * Refuses generateToken for a user from an address after too many failed attempts in a window,
 * so passwords cannot be guessed at wire speed. Bounded: old entries are dropped.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds until key may try again; 0 when it may try now. */
  retryAfterMs(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    return recent.length >= this.maxFailures ? recent[0]! + this.windowMs - now : 0;
  }

  fail(key: string, now = Date.now()): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key);
    this.failures.set(key, recent);
    // Insertion order is age order: drop the stalest keys past the bound.
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }
}
