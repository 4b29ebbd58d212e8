/** Options of the Redis queue, their validation, and the connections made from them. */
import { Redis, type RedisOptions } from 'ioredis';
import { MediaError } from '../../errors.js';
import { checkBoolean, checkInputRoots, checkInteger, checkKnownKeys, checkString, invalid, optionsObject } from '../../validate.js';

export interface RedisQueueOptions {
  /** redis://[:password@]host:port/db (or rediss:// for TLS). */
  redis: string;
  /** Prefix of every key (default 'fmv'): several sites may share one Redis. */
  prefix?: string;
  /** Run ingests in this process too (default false: submit and read only). */
  worker?: boolean;
  /** Worker only: the tags of the jobs it takes (default ['default']). */
  tags?: string[];
  /** Worker only: a run's lock lasts this long without renewal; a worker silent for longer is taken as gone (default 30000). */
  lockMs?: number;
  /** How many times a job whose worker stopped runs again (default 1). */
  retries?: number;
  /** Worker only: read inputs only inside these directories (default: those the submitting node named). */
  inputRoots?: string[];
  /**
   * How long and how many ended jobs' records stay in Redis (defaults 7 days, 10000): older or
   * further ones are removed when a job ends. Give every node and worker of a site the same.
   */
  retainFinished?: { seconds?: number; count?: number };
}

export interface ValidRedisQueueOptions {
  url: string;
  /** The URL with its password hidden, for messages. */
  shown: string;
  prefix: string;
  worker: boolean;
  tags: string[];
  lockMs: number;
  retries: number;
  inputRoots?: string[];
  retainFinished: RetainFinished;
}

export interface RetainFinished {
  seconds: number;
  count: number;
}

export const DEFAULT_RETAIN_FINISHED: RetainFinished = { seconds: 7 * 86400, count: 10_000 };

function checkRetainFinished(value: unknown): RetainFinished {
  if (value === undefined) return { ...DEFAULT_RETAIN_FINISHED };
  const o = optionsObject(value, 'queue.retainFinished');
  checkKnownKeys(o, ['seconds', 'count'], 'queue.retainFinished');
  // At least one second and one job: whoever waits for a job must still find it ended.
  return {
    seconds: o.seconds !== undefined ? checkInteger(o.seconds, 'queue.retainFinished.seconds', 1, 10 * 365 * 86400) : DEFAULT_RETAIN_FINISHED.seconds,
    count: o.count !== undefined ? checkInteger(o.count, 'queue.retainFinished.count', 1, 10_000_000) : DEFAULT_RETAIN_FINISHED.count,
  };
}

export const TAG_PATTERN = /^[a-z0-9_-]{1,40}$/;
export const DEFAULT_TAG = 'default';
/** Jobs asking for a GPU path go to workers tagged 'gpu'. */
export const GPU_TAG = 'gpu';

/** The URL as it may appear in messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export const DEFAULT_PREFIX = 'fmv';

/** A Redis key prefix: letters, digits, _ . and - (at most 60). */
export function checkRedisPrefix(v: unknown, path: string): string {
  const prefix = checkString(v, path, { nonEmpty: true });
  if (!/^[A-Za-z0-9_.-]{1,60}$/.test(prefix)) throw invalid('letters, digits, _ . and - (at most 60)', path, prefix);
  return prefix;
}

export function checkTag(v: unknown, path: string): string {
  const tag = checkString(v, path, { nonEmpty: true });
  if (!TAG_PATTERN.test(tag)) throw invalid('a tag of lower-case letters, digits, _ and - (at most 40)', path, v);
  return tag;
}

export function validateRedisQueueOptions(value: unknown): ValidRedisQueueOptions {
  const o = optionsObject(value, 'queue');
  checkKnownKeys(o, ['redis', 'prefix', 'worker', 'tags', 'lockMs', 'retries', 'inputRoots', 'retainFinished'], 'queue');
  const url = checkString(o.redis, 'queue.redis', { nonEmpty: true });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('a redis:// or rediss:// URL', 'queue.redis', redactRedisUrl(url));
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalid('a redis:// or rediss:// URL', 'queue.redis', redactRedisUrl(url));
  const prefix = o.prefix !== undefined ? checkRedisPrefix(o.prefix, 'queue.prefix') : DEFAULT_PREFIX;
  let tags = [DEFAULT_TAG];
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags) || o.tags.length === 0) throw invalid('a non-empty array of tags', 'queue.tags', o.tags);
    tags = [...new Set(o.tags.map((t, i) => checkTag(t, `queue.tags[${i}]`)))];
  }
  return {
    url,
    shown: redactRedisUrl(url),
    prefix,
    worker: o.worker !== undefined ? checkBoolean(o.worker, 'queue.worker') : false,
    tags,
    lockMs: o.lockMs !== undefined ? checkInteger(o.lockMs, 'queue.lockMs', 1000, 600_000) : 30_000,
    retries: o.retries !== undefined ? checkInteger(o.retries, 'queue.retries', 0, 10) : 1,
    ...(o.inputRoots !== undefined ? { inputRoots: checkInputRoots(o.inputRoots, 'queue.inputRoots') } : {}),
    retainFinished: checkRetainFinished(o.retainFinished),
  };
}

/** ERR_QUEUE_UNAVAILABLE: Redis cannot be reached; names the URL (password hidden). */
export function queueUnavailable(shown: string, cause: unknown, what = 'the job was not accepted'): MediaError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new MediaError(`The job queue at ${shown} is unavailable (${why}); ${what}`, { code: 'ERR_QUEUE_UNAVAILABLE', step: 'queue' });
}

/**
 * A connection for commands that must fail fast: no offline queue (a command while disconnected
 * fails at once instead of waiting), short connect timeout. It reconnects by itself.
 */
export function fastConnection(o: ValidRedisQueueOptions, extra: RedisOptions = {}): Redis {
  const client = new Redis(o.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
  // Errors while disconnected show up as failed commands; the events themselves are not news.
  client.on('error', () => undefined);
  return client;
}

/** Connection options for BullMQ workers and subscribers: commands wait for the reconnect. */
export function waitingConnectionOptions(o: ValidRedisQueueOptions): RedisOptions {
  const u = new URL(o.url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}

/** Waits until the connection is ready, at most `ms`. */
export async function whenReady(client: Redis, shown: string, ms: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(queueUnavailable(shown, new Error(`no connection within ${ms} ms`), 'the job manager could not start'));
    }, ms);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
