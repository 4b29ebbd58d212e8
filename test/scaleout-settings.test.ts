/**
 * Redis-mode settings on a real redis-server: the key prefix of `serve` (flag, environment, config
 * file), the retention of ended jobs' records, and the synchronous reads refused in Redis mode.
 */
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaError } from '../src/errors.js';
import { JobManager } from '../src/jobs/manager.js';
import { validateRedisQueueOptions } from '../src/jobs/queue/redis-options.js';
import { configFromEnv, resolveServerConfig } from '../src/server/config.js';
import { fixtures, freshDir, textFile } from './jobs-fixtures.js';
import { startRedis, startServerNode, type RedisServer, until } from './scaleout-helpers.js';

let redis: RedisServer;
let direct: Redis;
let data: string;
const managers: JobManager[] = [];

async function open(queue: Record<string, unknown>): Promise<JobManager> {
  const m = await JobManager.open({ outDir: join(data, 'services'), tempDir: join(data, 'tmp'), hwaccel: 'cpu', concurrency: 1, queue: { redis: redis.url, ...queue } });
  managers.push(m);
  return m;
}

/** A job no worker takes (its tag has none), cancelled: it ends without an ingest. */
async function endedWhileWaiting(node: JobManager): Promise<string> {
  const job = await node.submit(join(data, 'nowhere.ts'), { requestedResolutions: 'sd', tag: 'nobody' });
  expect(await node.cancelJob(job.id)).toBe(true);
  return job.id;
}

beforeAll(async () => {
  redis = await startRedis('settings');
  direct = new Redis(redis.url);
  data = freshDir('scaleout-settings');
});

afterAll(async () => {
  for (const m of managers.reverse()) await m.close().catch(() => undefined);
  direct?.disconnect();
  await redis?.stop();
});

describe('the Redis key prefix of serve', () => {
  const base = { port: 0, dataDir: '/tmp', inputRoots: ['/tmp'], users: ['admin:correct horse'] };

  it('is read from the config file, the environment and the flag (flag wins), default fmv, and validated', () => {
    const config = (...sources: Array<Record<string, unknown>>) => resolveServerConfig(sources.map((values, i) => ({ name: `source${i}`, values })));
    expect(config({ ...base, redis: 'redis://127.0.0.1:1/0' }).redisPrefix).toBe('fmv');
    expect(config({ ...base, redis: 'redis://127.0.0.1:1/0', redisPrefix: 'file' }, { redisPrefix: 'flag' }).redisPrefix).toBe('flag');
    const env = configFromEnv({ FMV_INGEST_REDIS: 'redis://127.0.0.1:1/0', FMV_INGEST_REDIS_PREFIX: 'env' });
    expect(config({ ...base, redisPrefix: 'file' }, env).redisPrefix).toBe('env');
    expect(() => config({ ...base, redis: 'redis://127.0.0.1:1/0', redisPrefix: 'a b' })).toThrow(/letters, digits.*for redisPrefix \(from source0\)/);
    expect(() => config({ ...base, redisPrefix: 'siteb' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/unless redis is set.*for redisPrefix/) }));
  });

  it('--redis-prefix puts every job key of a serve node under that prefix', async () => {
    const node = await startServerNode(redis.url, join(data, 'node'), ['--input-root', fixtures, '--user', 'admin:correct horse', '--redis-prefix', 'siteb']);
    try {
      expect(node.output()).toContain('(prefix siteb)');
      const post = async (path: string, form: Record<string, string>) =>
        (await (await fetch(`${node.restUrl}${path}`, { method: 'POST', body: new URLSearchParams({ f: 'json', ...form }) })).json()) as Record<string, unknown>;
      const { token } = (await post('/generateToken', { username: 'admin', password: 'correct horse' })) as { token: string };
      const added = await post('/services/Prefixed/addLayer', { token, requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'ondemand', source: { path: textFile() } }) });
      const id = added.jobId as string;
      expect(typeof id).toBe('string');
      expect(await direct.exists(`siteb:job:${id}`)).toBe(1);
      expect(await direct.exists(`fmv:job:${id}`)).toBe(0);
      expect(await direct.zscore('siteb:jobs', id)).not.toBeNull();
      // A manager on the default prefix does not see it; one on the same prefix does.
      expect(await (await open({})).findJob(id)).toBeUndefined();
      expect((await (await open({ prefix: 'siteb' })).findJob(id))?.jobId).toBe(id);
      expect(await post(`/jobs/job/${id}/cancel`, { token })).toEqual({ jobId: id, success: true });
    } finally {
      await node.stop();
    }
  });
});

describe('retention of ended jobs in Redis', () => {
  it('keeps at most retainFinished.count ended jobs: the oldest records go when a job ends; waiting jobs stay', async () => {
    const node = await open({ prefix: 'count', retainFinished: { count: 2 } });
    const waiting = await node.submit(join(data, 'nowhere.ts'), { requestedResolutions: 'sd', tag: 'nobody' });
    const ended = [];
    for (let i = 0; i < 4; i++) ended.push(await endedWhileWaiting(node));
    expect(await node.findJob(ended[0]!)).toBeUndefined();
    expect(await node.findJob(ended[1]!)).toBeUndefined();
    expect(await direct.exists(`count:job:${ended[0]!}`, `count:cancelled:${ended[0]!}`)).toBe(0);
    expect((await node.findJob(ended[3]!))?.status).toBe('CANCELLED');
    const page = await node.findJobs();
    expect(page.total).toBe(3);
    expect(page.jobs.map((j) => j.jobId)).toEqual([ended[3], ended[2], waiting.id]);
    expect(await direct.zcard('count:finished')).toBe(2);
    await expect(node.waitForJob(ended[0]!)).rejects.toMatchObject({ code: 'ERR_JOB_NOT_FOUND', message: expect.stringMatching(/retainFinished/) });
  });

  it('drops ended jobs older than retainFinished.seconds, also those a worker ended', async () => {
    const node = await open({ prefix: 'age', retainFinished: { seconds: 1 } });
    const worker = await open({ prefix: 'age', worker: true, retainFinished: { seconds: 1 } });
    // Ended by the worker: the input is missing on its machine.
    const failed = await (await node.submit(join(data, 'missing.ts'), { requestedResolutions: 'sd' })).finished;
    expect(failed.status).toBe('FAILED');
    expect(await direct.zscore('age:finished', failed.jobId)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await endedWhileWaiting(node);
    expect(await node.findJob(failed.jobId)).toBeUndefined();
    expect((await node.findJobs()).jobs.map((j) => j.jobId)).toEqual([fresh]);
    // The next one a worker ends takes the cancelled one with it.
    await new Promise((r) => setTimeout(r, 1100));
    const next = await (await node.submit(join(data, 'missing.ts'), { requestedResolutions: 'sd' })).finished;
    expect((await node.findJobs()).jobs.map((j) => j.jobId)).toEqual([next.jobId]);
    await worker.close();
  });

  it('keeps 7 days and 10000 jobs by default; refuses bad values naming the option', async () => {
    expect(validateRedisQueueOptions({ redis: redis.url }).retainFinished).toEqual({ seconds: 7 * 86400, count: 10_000 });
    const node = await open({ prefix: 'default' });
    const ids = [await endedWhileWaiting(node), await endedWhileWaiting(node)];
    expect((await node.findJobs()).jobs.map((j) => j.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect((await direct.zrange('default:finished', 0, -1)).sort()).toEqual([...ids].sort());
    await expect(JobManager.open({ queue: { redis: redis.url, retainFinished: { count: 0 } } })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/queue\.retainFinished\.count/),
    });
    await expect(JobManager.open({ queue: { redis: redis.url, retainFinished: { days: 3 } } })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/days/),
    });
  });
});

describe('the synchronous forms in Redis mode', () => {
  it('ingest(), getJob() and listJobs() throw ERR_QUEUE_MODE naming the asynchronous method', async () => {
    const node = await open({});
    const id = await endedWhileWaiting(node);
    const thrown = (fn: () => unknown): MediaError => {
      try {
        fn();
      } catch (err) {
        return err as MediaError;
      }
      throw new Error('nothing was thrown');
    };
    expect(thrown(() => node.getJob(id))).toMatchObject({ code: 'ERR_QUEUE_MODE', message: expect.stringMatching(/getJob\(\).*findJob\(jobId\)/) });
    expect(thrown(() => node.listJobs())).toMatchObject({ code: 'ERR_QUEUE_MODE', message: expect.stringMatching(/listJobs\(\).*findJobs\(\)/) });
    expect(thrown(() => node.ingest(textFile()))).toMatchObject({ code: 'ERR_QUEUE_MODE', message: expect.stringMatching(/ingest\(\).*submit\(\)/) });
    expect(thrown(() => node.getJob(id)).message).toContain(redis.url.replace(/\/0$/, ''));
    // The asynchronous forms see the job.
    expect((await node.findJob(id))?.status).toBe('CANCELLED');
    await until('the listing', async () => ((await node.findJobs()).jobs.some((j) => j.jobId === id) ? true : undefined));
  });
});
