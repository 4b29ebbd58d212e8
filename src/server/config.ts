/**
 * Server configuration from a JSON file, the environment and command-line flags (flags win over
 * the environment, the environment over the file). Every value is validated with a message that
 * names the setting, where it came from and the value.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MediaError } from '../errors.js';
import { HWACCELS, type HwAccel } from '../jobs/job.js';
import { DEFAULT_PREFIX, checkRedisPrefix, redactRedisUrl } from '../jobs/queue/redis-options.js';
import { checkBoolean, checkEnum, checkInteger, checkKnownKeys, checkString, invalid, isPlainObject } from '../validate.js';

export interface ServerUser {
  username: string;
  password: string;
}

export interface ServerConfig {
  /** TCP port (0 picks a free one). Default 8080. */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  host: string;
  /** Data directory: job store, published services, temporary files, token key. */
  dataDir: string;
  /** Directories inputs given over HTTP must lie in. */
  inputRoots: string[];
  users: ServerUser[];
  /** REST root path. Default /arcgis/rest. */
  root: string;
  /** Public origin the server is reached at (for serviceUrl). Default http://<host>:<port>. */
  baseUrl: string | null;
  /** Ingests that run at once. Default: one per four cores, at least one. */
  concurrency: number | null;
  /** Jobs that may wait for a slot; past it addLayer is refused (default 1000). */
  maxQueuedJobs: number;
  /** Key that signs tokens. Default: a random key kept in <dataDir>/token.key. */
  tokenSecret: string | null;
  /** Token lifetime in minutes when the request names none. Default 60. */
  tokenMinutes: number;
  /** Longest token lifetime a request may ask for, in minutes. Default 1440. */
  maxTokenMinutes: number;
  /** Serve published outputs without a token. Default false. */
  publicOutputs: boolean;
  /** Largest file uploads/upload takes, in bytes. Default 8 GiB. */
  maxUploadBytes: number;
  /** Hardware path of HTTP-submitted ingests. Default 'auto'. */
  hwaccel: HwAccel;
  /** Log requests (fastify's logger) to stderr. Default false. */
  log: boolean;
  /** Browser origins allowed to call the API and fetch outputs (CORS); '*' for any. Default none. */
  corsOrigins: string[];
  /**
   * Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed, so login limits
   * and logs see the client's address rather than the proxy's. Default none.
   */
  trustProxy: string[];
  /** Protocols a livestream layer may use (server and client mode alike). Default udp, srt, rtmp, rtsp, rist; none disables live. */
  liveProtocols: LiveProtocol[];
  /** Ports a livestream layer may listen on or dial, inclusive. Default 1024-65535. */
  livePorts: { min: number; max: number };
  /** Redis URL: queue jobs on Redis and read them from there (scale-out). Default none: in-process. */
  redis: string | null;
  /** With redis: run ingests in this server too. Default false (accept and serve only). */
  worker: boolean;
  /** With redis: prefix of every Redis key, so several sites can share one Redis. Default 'fmv'. */
  redisPrefix: string;
}

export const LIVE_PROTOCOLS = ['udp', 'srt', 'rtmp', 'rtsp', 'rist'] as const;
export type LiveProtocol = (typeof LIVE_PROTOCOLS)[number];

/** Settings as they arrive from one source, before validation. */
export type ConfigInput = Partial<Record<ConfigKey, unknown>>;

const KEYS = [
  'port',
  'host',
  'dataDir',
  'inputRoots',
  'users',
  'root',
  'baseUrl',
  'concurrency',
  'maxQueuedJobs',
  'tokenSecret',
  'tokenMinutes',
  'maxTokenMinutes',
  'publicOutputs',
  'maxUploadBytes',
  'hwaccel',
  'log',
  'corsOrigins',
  'trustProxy',
  'liveProtocols',
  'livePorts',
  'redis',
  'worker',
  'redisPrefix',
] as const;
type ConfigKey = (typeof KEYS)[number];

/** Environment variables and the setting each one sets. Lists are separated by commas. */
export const ENVIRONMENT: Readonly<Record<string, ConfigKey>> = {
  FMV_INGEST_PORT: 'port',
  FMV_INGEST_HOST: 'host',
  FMV_INGEST_DATA: 'dataDir',
  FMV_INGEST_INPUT_ROOTS: 'inputRoots',
  FMV_INGEST_USERS: 'users',
  FMV_INGEST_ROOT: 'root',
  FMV_INGEST_BASE_URL: 'baseUrl',
  FMV_INGEST_CONCURRENCY: 'concurrency',
  FMV_INGEST_MAX_QUEUED_JOBS: 'maxQueuedJobs',
  FMV_INGEST_TOKEN_SECRET: 'tokenSecret',
  FMV_INGEST_TOKEN_MINUTES: 'tokenMinutes',
  FMV_INGEST_MAX_TOKEN_MINUTES: 'maxTokenMinutes',
  FMV_INGEST_PUBLIC_OUTPUTS: 'publicOutputs',
  FMV_INGEST_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  FMV_INGEST_HWACCEL: 'hwaccel',
  FMV_INGEST_LOG: 'log',
  FMV_INGEST_CORS_ORIGINS: 'corsOrigins',
  FMV_INGEST_TRUST_PROXY: 'trustProxy',
  FMV_INGEST_LIVE_PROTOCOLS: 'liveProtocols',
  FMV_INGEST_LIVE_PORTS: 'livePorts',
  FMV_INGEST_REDIS: 'redis',
  FMV_INGEST_WORKER: 'worker',
  FMV_INGEST_REDIS_PREFIX: 'redisPrefix',
};

const NUMERIC: readonly ConfigKey[] = ['port', 'concurrency', 'maxQueuedJobs', 'tokenMinutes', 'maxTokenMinutes', 'maxUploadBytes'];
const BOOLEAN: readonly ConfigKey[] = ['publicOutputs', 'log', 'worker'];
const LISTS: readonly ConfigKey[] = ['inputRoots', 'users', 'corsOrigins', 'trustProxy', 'liveProtocols'];

function configError(message: string): MediaError {
  return new MediaError(message, { code: 'ERR_INVALID_OPTION', step: 'config' });
}

/** Reads a JSON config file. Its keys are the ServerConfig names ("dataDir", "inputRoots", ...). */
export function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(`Cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw configError(`The config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw configError(`The config file ${path} must hold a JSON object`);
  checkKnownKeys(parsed, KEYS, `config file ${path}`);
  return parsed as ConfigInput;
}

/** Settings from FMV_INGEST_* environment variables (strings; validated with the rest). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const out: ConfigInput = {};
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out[key] = LISTS.includes(key) ? raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : raw;
  }
  return out;
}

function parseUser(v: unknown, path: string): ServerUser {
  if (typeof v === 'string') {
    const colon = v.indexOf(':');
    if (colon <= 0 || colon === v.length - 1) throw invalid("'NAME:PASSWORD'", path, v.length > 0 ? `${v.slice(0, Math.max(0, colon))}:***` : v);
    return { username: v.slice(0, colon), password: v.slice(colon + 1) };
  }
  if (isPlainObject(v)) {
    checkKnownKeys(v, ['username', 'password'], path);
    return { username: checkString(v.username, `${path}.username`, { nonEmpty: true }), password: checkString(v.password, `${path}.password`, { nonEmpty: true }) };
  }
  throw invalid("'NAME:PASSWORD' or {username, password}", path, v);
}

function toNumber(v: unknown): unknown {
  return typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

function toBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return v;
}

/**
 * Merges sources (later ones win) and validates the result. `sources` pairs each input with a
 * name for messages ("flag", "FMV_INGEST_*", the config file's path).
 */
export function resolveServerConfig(sources: Array<{ name: string; values: ConfigInput }>): ServerConfig {
  const merged: ConfigInput = {};
  const origin: Partial<Record<ConfigKey, string>> = {};
  for (const { name, values } of sources) {
    checkKnownKeys(values as Record<string, unknown>, KEYS, name);
    for (const key of KEYS) {
      const v = values[key];
      if (v === undefined || (Array.isArray(v) && v.length === 0 && LISTS.includes(key))) continue;
      merged[key] = v;
      origin[key] = name;
    }
  }
  const where = (key: ConfigKey): string => (origin[key] ? `${key} (from ${origin[key]})` : key);
  for (const key of NUMERIC) if (merged[key] !== undefined) merged[key] = toNumber(merged[key]);
  for (const key of BOOLEAN) if (merged[key] !== undefined) merged[key] = toBoolean(merged[key]);

  if (merged.dataDir === undefined) throw configError('A data directory is required (--data DIR, FMV_INGEST_DATA or "dataDir" in the config file)');
  const dataDir = resolve(checkString(merged.dataDir, where('dataDir'), { nonEmpty: true }));
  const rootsRaw = merged.inputRoots === undefined ? [] : Array.isArray(merged.inputRoots) ? merged.inputRoots : [merged.inputRoots];
  if (rootsRaw.length === 0) throw configError('At least one input root is required (--input-root DIR, FMV_INGEST_INPUT_ROOTS or "inputRoots")');
  const inputRoots = rootsRaw.map((r, i) => resolve(checkString(r, `${where('inputRoots')}[${i}]`, { nonEmpty: true })));
  const usersRaw = merged.users === undefined ? [] : Array.isArray(merged.users) ? merged.users : [merged.users];
  if (usersRaw.length === 0) throw configError('At least one user is required (--user NAME:PASSWORD, FMV_INGEST_USERS or "users")');
  const users = usersRaw.map((u, i) => parseUser(u, `${where('users')}[${i}]`));
  const names = new Set<string>();
  for (const u of users) {
    if (names.has(u.username)) throw configError(`The user '${u.username}' is configured twice`);
    names.add(u.username);
  }
  let root = merged.root === undefined ? '/arcgis/rest' : checkString(merged.root, where('root'), { nonEmpty: true });
  root = `/${root.replace(/^\/+|\/+$/g, '')}`;
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(root) || root.split('/').some((s) => s === '.' || s === '..')) {
    throw invalid("a path such as '/arcgis/rest'", where('root'), merged.root);
  }
  let baseUrl: string | null = null;
  if (merged.baseUrl !== undefined) {
    const s = checkString(merged.baseUrl, where('baseUrl'), { nonEmpty: true });
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw invalid('an http(s) origin such as https://video.example.com', where('baseUrl'), s);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('an http(s) origin such as https://video.example.com', where('baseUrl'), s);
    baseUrl = s.replace(/\/+$/, '');
  }
  const tokenMinutes = merged.tokenMinutes === undefined ? 60 : checkInteger(merged.tokenMinutes, where('tokenMinutes'), 1, 525_600);
  const maxTokenMinutes = merged.maxTokenMinutes === undefined ? Math.max(1440, tokenMinutes) : checkInteger(merged.maxTokenMinutes, where('maxTokenMinutes'), 1, 525_600);
  if (tokenMinutes > maxTokenMinutes) throw invalid(`at most maxTokenMinutes (${maxTokenMinutes})`, where('tokenMinutes'), tokenMinutes);
  let tokenSecret: string | null = null;
  if (merged.tokenSecret !== undefined) {
    tokenSecret = checkString(merged.tokenSecret, where('tokenSecret'), { nonEmpty: true });
    if (tokenSecret.length < 32) throw invalid('a secret of at least 32 characters', where('tokenSecret'), '***');
  }
  return {
    port: merged.port === undefined ? 8080 : checkInteger(merged.port, where('port'), 0, 65535),
    host: merged.host === undefined ? '127.0.0.1' : checkString(merged.host, where('host'), { nonEmpty: true }),
    dataDir,
    inputRoots,
    users,
    root,
    baseUrl,
    concurrency: merged.concurrency === undefined ? null : checkInteger(merged.concurrency, where('concurrency'), 1, 1024),
    maxQueuedJobs: merged.maxQueuedJobs === undefined ? 1000 : checkInteger(merged.maxQueuedJobs, where('maxQueuedJobs'), 0, 1_000_000),
    tokenSecret,
    tokenMinutes,
    maxTokenMinutes,
    publicOutputs: merged.publicOutputs === undefined ? false : checkBoolean(merged.publicOutputs, where('publicOutputs')),
    maxUploadBytes: merged.maxUploadBytes === undefined ? 8 * 1024 ** 3 : checkInteger(merged.maxUploadBytes, where('maxUploadBytes'), 1, Number.MAX_SAFE_INTEGER),
    hwaccel: merged.hwaccel === undefined ? 'auto' : checkEnum(merged.hwaccel, where('hwaccel'), HWACCELS),
    log: merged.log === undefined ? false : checkBoolean(merged.log, where('log')),
    corsOrigins: corsOriginsOf(merged.corsOrigins, where('corsOrigins')),
    trustProxy: trustProxyOf(merged.trustProxy, where('trustProxy')),
    liveProtocols: merged.liveProtocols === undefined ? [...LIVE_PROTOCOLS] : listOf(merged.liveProtocols).map((p, i) => checkEnum(p, `${where('liveProtocols')}[${i}]`, LIVE_PROTOCOLS)),
    livePorts: livePortsOf(merged.livePorts, where('livePorts')),
    ...redisOf(merged, where),
  };
}

function redisOf(merged: ConfigInput, where: (key: ConfigKey) => string): { redis: string | null; worker: boolean; redisPrefix: string } {
  const redis = merged.redis === undefined ? null : checkString(merged.redis, where('redis'), { nonEmpty: true });
  if (redis !== null && !/^rediss?:\/\//.test(redis)) throw invalid('a redis:// or rediss:// URL', where('redis'), redactRedisUrl(redis));
  const worker = merged.worker === undefined ? false : checkBoolean(merged.worker, where('worker'));
  if (worker && redis === null) throw invalid('false unless redis is set (without it every server runs its own ingests)', where('worker'), worker);
  const redisPrefix = merged.redisPrefix === undefined ? DEFAULT_PREFIX : checkRedisPrefix(merged.redisPrefix, where('redisPrefix'));
  if (merged.redisPrefix !== undefined && redis === null) throw invalid('unset unless redis is set (it names the Redis keys)', where('redisPrefix'), redisPrefix);
  return { redis, worker, redisPrefix };
}

/** 'MIN-MAX' or [min, max]. */
function livePortsOf(value: unknown, path: string): { min: number; max: number } {
  if (value === undefined) return { min: 1024, max: 65535 };
  const pair = typeof value === 'string' ? value.split('-').map((x) => toNumber(x.trim())) : Array.isArray(value) ? value : null;
  if (!pair || pair.length !== 2) throw invalid("a port range such as '5000-5999' or [5000, 5999]", path, value);
  const min = checkInteger(pair[0], `${path} minimum`, 1, 65535);
  const max = checkInteger(pair[1], `${path} maximum`, min, 65535);
  return { min, max };
}

function trustProxyOf(value: unknown, path: string): string[] {
  const list = listOf(value);
  return list.map((a, i) => {
    const s = checkString(a, `${path}[${i}]`, { nonEmpty: true });
    const [address, bits, ...rest] = s.split('/');
    const family = isIP(address!);
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || rest.length > 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw invalid('an IP address or CIDR range such as 10.0.0.0/8', `${path}[${i}]`, s);
    }
    return s;
  });
}

/** A list setting given as one value, an array, or not at all. */
function listOf(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function corsOriginsOf(value: unknown, path: string): string[] {
  const list = listOf(value);
  return list.map((o, i) => {
    const s = checkString(o, `${path}[${i}]`, { nonEmpty: true });
    if (s === '*') return s;
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw invalid("an origin such as https://maps.example.com, or '*'", `${path}[${i}]`, s);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== s.replace(/\/+$/, '')) {
      throw invalid("an origin such as https://maps.example.com (scheme, host and port only), or '*'", `${path}[${i}]`, s);
    }
    return url.origin;
  });
}

/** The usual order: config file (named by `configFile` or FMV_INGEST_CONFIG), environment, flags. */
export function loadServerConfig(flags: ConfigInput, options: { configFile?: string; env?: NodeJS.ProcessEnv } = {}): ServerConfig {
  const env = options.env ?? process.env;
  const sources: Array<{ name: string; values: ConfigInput }> = [];
  const file = options.configFile ?? env.FMV_INGEST_CONFIG;
  if (file) sources.push({ name: `config file ${file}`, values: readConfigFile(file) });
  sources.push({ name: 'environment', values: configFromEnv(env) });
  sources.push({ name: 'flags', values: flags });
  return resolveServerConfig(sources);
}
