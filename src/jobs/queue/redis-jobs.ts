/**
 * Job resources and services in Redis, next to the BullMQ queue, so that every server node and
 * worker reads and writes the same records. One hash per job (resource, status, input, tag,
 * attempts, the current run's token, its temporary directory), a sorted set for newest-first
 * listing, one hash per service for layer ids. Every change that must not race is a Lua script:
 * layer ids are reserved atomically; a worker writes a resource only while its run token is the
 * job's current one, so a worker that lost its job can no longer overwrite the new run's record.
 * The write that ends a job also prunes: ended jobs older or further back than `retainFinished`
 * lose their records (a sorted set of ended jobs by end time, Redis's own clock).
 */
import type { Redis } from 'ioredis';
import { orderedResource, type JobResource, type JobStatus } from '../job.js';
import { newServiceItemId } from '../ids.js';
import type { ServiceRecord } from '../store.js';
import type { RetainFinished } from './redis-options.js';

const TERMINAL_LUA = "local function terminal(s) return s == 'COMPLETED' or s == 'FAILED' or s == 'CANCELLED' end\n";

/** KEYS: service hash, service set. ARGV: atLeast, new item id, now, service name. */
const RESERVE = `
local created = redis.call('HSETNX', KEYS[1], 'serviceItemId', ARGV[2])
if created == 1 then
  redis.call('HSET', KEYS[1], 'nextLayerId', 0, 'createdAt', ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
end
local n = tonumber(redis.call('HGET', KEYS[1], 'nextLayerId'))
local a = tonumber(ARGV[1])
if a > n then n = a end
redis.call('HSET', KEYS[1], 'nextLayerId', n + 1)
return {n, redis.call('HGET', KEYS[1], 'serviceItemId'), created, redis.call('HGET', KEYS[1], 'createdAt')}
`;

/** KEYS: job hash, job list, sequence. ARGV: job id, resource, status, input, tag, now. */
const INSERT = `
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'resource', ARGV[2], 'status', ARGV[3], 'input', ARGV[4], 'tag', ARGV[5], 'createdAt', ARGV[6], 'attempts', 0)
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return seq
`;

/** KEYS: job hash, cancel flag. ARGV: run token. Takes the job for a new run. */
const CLAIM =
  TERMINAL_LUA +
  `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if terminal(status) then return {'terminal'} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'run', ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'resource', 'tempDir', 'tempHost')
local state = 'ok'
if redis.call('EXISTS', KEYS[2]) == 1 then state = 'cancelled' end
return {state, f[1], f[2] or '', f[3] or '', attempts}
`;

/** Ended jobs removed per job end at most, so one script never runs long. */
const PRUNE_BATCH = 100;

/**
 * finished(): records that the job ended and removes the records of ended jobs past the retention.
 * KEYS[2]: job list, KEYS[3]: ended jobs. ARGV[n..n+4]: job id, keep seconds, keep count, job key
 * prefix, cancel flag prefix.
 */
const FINISHED_LUA = `
local function finished(n)
  local id, keepMs, keepCount = ARGV[n], tonumber(ARGV[n + 1]) * 1000, tonumber(ARGV[n + 2])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[3], now, id)
  local function drop(ids)
    for _, old in ipairs(ids) do
      redis.call('DEL', ARGV[n + 3] .. old, ARGV[n + 4] .. old)
      redis.call('ZREM', KEYS[2], old)
      redis.call('ZREM', KEYS[3], old)
    end
  end
  drop(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - keepMs), 'LIMIT', 0, ${PRUNE_BATCH}))
  local over = redis.call('ZCARD', KEYS[3]) - keepCount
  if over > 0 then drop(redis.call('ZRANGE', KEYS[3], 0, math.min(over, ${PRUNE_BATCH}) - 1)) end
end
`;

/** KEYS: job hash, job list, ended jobs. ARGV: run token, resource, status, then finished()'s. Written only by the job's current run. */
const WRITE_RUN =
  TERMINAL_LUA +
  FINISHED_LUA +
  `
if redis.call('HGET', KEYS[1], 'run') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'resource', ARGV[2], 'status', ARGV[3])
if terminal(ARGV[3]) then finished(4) end
return 1
`;

/**
 * KEYS: job hash, job list, ended jobs. ARGV: resource, status, then finished()'s. Ends a job taken
 * out of the queue before a worker took it (cancelled while waiting); an earlier run's token is
 * dropped so that run can write no more.
 */
const WRITE_UNCLAIMED =
  TERMINAL_LUA +
  FINISHED_LUA +
  `
local status = redis.call('HGET', KEYS[1], 'status')
if not status or terminal(status) then return 0 end
redis.call('HSET', KEYS[1], 'resource', ARGV[1], 'status', ARGV[2], 'run', '')
if terminal(ARGV[2]) then finished(3) end
return 1
`;

export interface RedisKeys {
  job(jobId: string): string;
  cancelFlag(jobId: string): string;
  service(name: string): string;
  readonly jobs: string;
  /** Sorted set of ended jobs by end time (ms), for pruning. */
  readonly finished: string;
  readonly seq: string;
  readonly services: string;
  /** Pub/sub channel: job ids to cancel. */
  readonly cancel: string;
  /** BullMQ's own key prefix. */
  readonly bull: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    job: (id) => `${prefix}:job:${id}`,
    cancelFlag: (id) => `${prefix}:cancelled:${id}`,
    service: (name) => `${prefix}:service:${name}`,
    jobs: `${prefix}:jobs`,
    finished: `${prefix}:finished`,
    seq: `${prefix}:seq`,
    services: `${prefix}:services`,
    cancel: `${prefix}:cancel`,
    bull: `${prefix}:bull`,
  };
}

export interface ClaimedJob {
  state: 'ok' | 'cancelled';
  resource: JobResource;
  tempDir: string | null;
  tempHost: string | null;
  /** Runs so far, this one included. */
  attempts: number;
}

export type ClaimResult = { state: 'missing' } | { state: 'terminal' } | ClaimedJob;

/** The records of one Redis, for one prefix. Commands go over the connection given. */
export class RedisJobs {
  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
    readonly retain: RetainFinished,
  ) {}

  /** The keys and arguments of finished(), after a script's own. */
  private ending(jobId: string, ...args: string[]): Array<string | number> {
    const k = this.keys;
    return [k.job(jobId), k.jobs, k.finished, ...args, jobId, this.retain.seconds, this.retain.count, k.job(''), k.cancelFlag('')];
  }

  async reserveLayer(serviceName: string, atLeast: number): Promise<{ service: ServiceRecord; layerId: number }> {
    const [layerId, serviceItemId, , createdAt] = (await this.redis.eval(
      RESERVE,
      2,
      this.keys.service(serviceName),
      this.keys.services,
      atLeast,
      newServiceItemId(),
      Date.now(),
      serviceName,
    )) as [number, string, number, string];
    return { layerId, service: { serviceName, serviceItemId, nextLayerId: layerId + 1, createdAt: Number(createdAt) } };
  }

  async insert(resource: JobResource, input: string, tag: string): Promise<void> {
    const id = resource.jobId;
    await this.redis.eval(INSERT, 3, this.keys.job(id), this.keys.jobs, this.keys.seq, id, JSON.stringify(resource), resource.status, input, tag, Date.now());
  }

  /** Takes back a job whose queue entry could not be made. */
  async remove(jobId: string): Promise<void> {
    await this.redis.multi().del(this.keys.job(jobId)).zrem(this.keys.jobs, jobId).zrem(this.keys.finished, jobId).exec();
  }

  async get(jobId: string): Promise<JobResource | undefined> {
    const text = await this.redis.hget(this.keys.job(jobId), 'resource');
    return text ? orderedResource(JSON.parse(text) as JobResource) : undefined;
  }

  async tagOf(jobId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.job(jobId), 'tag')) ?? undefined;
  }

  async list(limit: number | undefined, offset: number): Promise<{ total: number; jobs: JobResource[] }> {
    const stop = limit === undefined || limit < 0 ? -1 : offset + limit - 1;
    const [total, ids] = await Promise.all([this.redis.zcard(this.keys.jobs), this.redis.zrevrange(this.keys.jobs, offset, stop)]);
    if (ids.length === 0) return { total, jobs: [] };
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.keys.job(id), 'resource');
    const rows = (await pipe.exec()) ?? [];
    const jobs: JobResource[] = [];
    for (const [err, text] of rows) if (!err && typeof text === 'string') jobs.push(orderedResource(JSON.parse(text) as JobResource));
    return { total, jobs };
  }

  async claim(jobId: string, token: string): Promise<ClaimResult> {
    const r = (await this.redis.eval(CLAIM, 2, this.keys.job(jobId), this.keys.cancelFlag(jobId), token)) as [string, string?, string?, string?, number?];
    if (r[0] === 'missing') return { state: 'missing' };
    if (r[0] === 'terminal') return { state: 'terminal' };
    return {
      state: r[0] as 'ok' | 'cancelled',
      resource: orderedResource(JSON.parse(r[1]!) as JobResource),
      tempDir: r[2] || null,
      tempHost: r[3] || null,
      attempts: Number(r[4]),
    };
  }

  /** Writes the resource of the job's current run; false when another run holds the job now. */
  async writeRun(token: string, resource: JobResource): Promise<boolean> {
    return (await this.redis.eval(WRITE_RUN, 3, ...this.ending(resource.jobId, token, JSON.stringify(resource), resource.status))) === 1;
  }

  async writeUnclaimed(resource: JobResource): Promise<boolean> {
    return (await this.redis.eval(WRITE_UNCLAIMED, 3, ...this.ending(resource.jobId, JSON.stringify(resource), resource.status))) === 1;
  }

  /** Whether this run's token is still the job's current one. */
  async holdsRun(jobId: string, token: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.job(jobId), 'run')) === token;
  }

  async recordTempDir(jobId: string, dir: string | null, host: string): Promise<void> {
    if (dir === null) await this.redis.hdel(this.keys.job(jobId), 'tempDir', 'tempHost');
    else await this.redis.hset(this.keys.job(jobId), 'tempDir', dir, 'tempHost', host);
  }

  async status(jobId: string): Promise<JobStatus | undefined> {
    return ((await this.redis.hget(this.keys.job(jobId), 'status')) as JobStatus | null) ?? undefined;
  }

  /** Marks the job to be cancelled and tells every worker (the one running it stops within a second). */
  async requestCancel(jobId: string): Promise<void> {
    await this.redis.multi().set(this.keys.cancelFlag(jobId), '1', 'EX', 7 * 86400).publish(this.keys.cancel, jobId).exec();
  }
}
