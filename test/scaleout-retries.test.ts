/**
 * A job whose worker dies more often than it may be retried ends FAILED (ERR_INTERRUPTED), its
 * leftovers cleaned by the worker that finds it, and nothing published.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { JobManager } from '../src/jobs/manager.js';
import { flightClip, freshDir } from './jobs-fixtures.js';
import { startRedis, startWorker, type Child, type RedisServer, until } from './scaleout-helpers.js';

let redis: RedisServer | undefined;
let node: JobManager | undefined;
const workers: Child[] = [];

afterAll(async () => {
  await node?.close();
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await redis?.stop();
});

it('with --retries 0 a job whose worker is SIGKILLed ends FAILED with ERR_INTERRUPTED on the next worker, leaving nothing', async () => {
  redis = await startRedis('retries');
  const data = freshDir('scaleout-retries');
  const long = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
  const flags = ['--concurrency', '1', '--lock-seconds', '2', '--retries', '0'];
  const first = await startWorker(redis.url, data, flags);
  workers.push(first);
  node = await JobManager.open({ outDir: join(data, 'services'), queue: { redis: redis.url } });
  const job = await node.submit(long, { requestedResolutions: 'sd', serviceName: 'Retries' });
  await until('the pass to start', async () => ((await node!.findJob(job.id))?.customAttributes.progress?.frames ?? 0) > 0 || undefined);
  await first.stop('SIGKILL');
  workers.push(await startWorker(redis.url, data, flags));
  const r = await job.finished;
  expect(r.status).toBe('FAILED');
  expect(r.customAttributes.error).toMatchObject({ code: 'ERR_INTERRUPTED', step: 'job' });
  expect(r.messages.at(-1)).toMatch(new RegExp(`failed: the worker \\S+:${first.pid} running the job stopped before it finished \\(no word from it for 2 s\\); no retry is left \\(it ran 1 time\\)$`));
  expect(r.messages.at(-1)).toMatch(/^Transcoding with CPU failed: /);
  expect(r.customAttributes.messageCodes.at(-1)).toBe(2159);
  expect(r.messages.filter((m) => m.startsWith('Retrying'))).toEqual([]);
  expect(existsSync(join(data, 'services', 'Retries'))).toBe(false);
  expect(existsSync(join(data, 'services', '.staging', job.id))).toBe(false);
  expect(readdirSync(join(data, 'tmp')).filter((n) => n.startsWith(job.id))).toEqual([]);
});
