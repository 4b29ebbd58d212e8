/**
 * The Redis queue through the library: managers on one real redis-server (private, on a free
 * port) act as server nodes and workers in this process; the cluster test runs them as processes.
 */
import { Redis } from 'ioredis';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaError } from '../src/errors.js';
import type { JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { startServer } from '../src/server/app.js';
import { resolveServerConfig } from '../src/server/config.js';
import { fixtures, flightClip, freshDir } from './jobs-fixtures.js';
import { files, startRedis, type RedisServer, until } from './scaleout-helpers.js';

const KEYS = ['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes'];

let redis: RedisServer;
let data: string;
let clip: string;
const managers: JobManager[] = [];

async function open(queue: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<JobManager> {
  const m = await JobManager.open({ outDir: join(data, 'services'), tempDir: join(data, 'tmp'), hwaccel: 'cpu', concurrency: 1, ...extra, queue: { redis: redis.url, ...queue } });
  managers.push(m);
  return m;
}

beforeAll(async () => {
  redis = await startRedis('queue');
  data = freshDir('scaleout-queue');
  clip = await flightClip('Scale_Short.ts', { durationSeconds: 2 });
});

afterAll(async () => {
  for (const m of managers.reverse()) await m.close().catch(() => undefined);
  await redis?.stop();
});

describe('the Redis queue', () => {
  it('runs a job submitted on one node on a worker; every node reads the same resource; the layout matches a local run', async () => {
    const nodeA = await open({});
    const nodeB = await open({});
    const worker = await open({ worker: true });
    expect(nodeA.queueKind).toBe('redis');
    const submitted = await nodeA.submit(clip, { requestedResolutions: 'sd', serviceName: 'Queue_One' });
    const done = await submitted.finished;
    expect(done.status).toBe('COMPLETED');
    expect(Object.keys(done)).toEqual(KEYS);
    expect(Object.keys(done.customAttributes).slice(0, 3)).toEqual(['messageCodes', 'savingToStorage', 'newLayerId']);
    expect(done.customAttributes.worker).toEqual(worker.queueWorker!.identity);
    expect(done.messages[0]).toBe('Starting Ingest');
    expect(done.messages.at(-1)).toBe('Ingest Complete');
    expect(done.customAttributes.messageCodes).toHaveLength(done.messages.length);
    expect(await nodeB.findJob(submitted.id)).toEqual(done);
    expect((await nodeB.findJobs()).jobs[0]).toEqual(done);
    expect((await nodeA.findJobs()).total).toBe((await nodeB.findJobs()).total);

    const local = await JobManager.open({ outDir: join(data, 'local'), tempDir: join(data, 'tmp-local'), hwaccel: 'cpu' });
    const l = local.ingest(clip, { requestedResolutions: 'sd', serviceName: 'Queue_One' });
    await l.done;
    await local.close();
    expect(files(join(data, 'services', 'Queue_One', '0'))).toEqual(files(join(data, 'local', 'Queue_One', '0')));
    expect(l.toJSON().messages).toEqual(done.messages);
    await worker.close();
  });

  it('gives a tagged job only to workers with that tag (cuda and vaapi jobs go to gpu workers)', async () => {
    const node = await open({});
    const plain = await open({ worker: true });
    const job = await node.submit(clip, { requestedResolutions: 'sd', serviceName: 'Queue_Tags', tag: 'special' });
    const direct = new Redis(redis.url);
    const gpu = await node.submit(clip, { requestedResolutions: 'sd', serviceName: 'Queue_Tags', hwaccel: 'cuda' });
    expect(await direct.hget(`fmv:job:${gpu.id}`, 'tag')).toBe('gpu');
    expect(await direct.hget(`fmv:job:${job.id}`, 'tag')).toBe('special');
    direct.disconnect();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await node.findJob(job.id))!.status).toBe('SUBMITTED');
    const special = await open({ worker: true, tags: ['special'] });
    expect((await job.finished).status).toBe('COMPLETED');
    expect(await gpu.cancel()).toBe(true);
    expect((await node.findJob(gpu.id))!.status).toBe('CANCELLED');
    await special.close();
    await plain.close();
  });

  it('fails a job whose input is missing on the worker with the same error as the in-process mode', async () => {
    const node = await open({});
    const worker = await open({ worker: true });
    const missing = join(data, 'nowhere', 'Missing.ts');
    const remote = await (await node.submit(missing, { requestedResolutions: 'sd' })).finished;
    const local = await JobManager.open({ outDir: join(data, 'local'), hwaccel: 'cpu' });
    const job = local.ingest(missing, { requestedResolutions: 'sd' });
    await job.done.catch(() => undefined);
    const here = job.toJSON();
    await local.close();
    expect(remote.status).toBe('FAILED');
    expect(remote.customAttributes.error).toEqual(here.customAttributes.error);
    expect(remote.messages).toEqual(here.messages);
    expect(remote.customAttributes.messageCodes).toEqual(here.customAttributes.messageCodes);
    await worker.close();
  });

  it('cancels from another node: a waiting job at once, a running one on its worker within a second, leaving nothing behind', async () => {
    const long = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    const nodeA = await open({});
    const nodeB = await open({});
    const waiting = await nodeA.submit(clip, { requestedResolutions: 'sd', tag: 'nobody' });
    expect(await nodeB.cancelJob(waiting.id)).toBe(true);
    const w = (await nodeA.findJob(waiting.id))!;
    expect(w.status).toBe('CANCELLED');
    expect(w.messages).toEqual(['Ingest Cancelled']);
    expect(await nodeB.cancelJob(waiting.id)).toBe(false);

    const worker = await open({ worker: true });
    const running = await nodeA.submit(long, { requestedResolutions: 'sd', serviceName: 'Queue_Cancel' });
    await until('the pass to start', async () => ((await nodeB.findJob(running.id))?.customAttributes.progress?.frames ?? 0) > 0 || undefined);
    const asked = Date.now();
    expect(await nodeB.cancelJob(running.id)).toBe(true);
    const ended = await until('the cancel to land', async () => {
      const r = await nodeA.findJob(running.id);
      return r && r.status !== 'IN PROGRESS' ? r : undefined;
    });
    const took = Date.now() - asked;
    console.log(`cancel on another node → CANCELLED in the shared resource: ${took} ms`);
    expect(ended.status).toBe('CANCELLED');
    expect(took).toBeLessThan(1500);
    expect(existsSync(join(data, 'services', 'Queue_Cancel'))).toBe(false);
    expect(existsSync(join(data, 'services', '.staging', running.id))).toBe(false);
    expect(readdirSync(join(data, 'tmp')).filter((n) => n.startsWith(running.id))).toEqual([]);
    await worker.close();
  });

  it('serve with redis and worker: one server that queues on Redis and runs the ingests itself; livestreams are refused', async () => {
    const server = await startServer(
      resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: join(data, 'node'), inputRoots: [fixtures], users: ['admin:correct horse'], hwaccel: 'cpu', redis: redis.url, worker: true } }]),
    );
    try {
      const post = async (path: string, form: Record<string, string>) =>
        (await (await fetch(`${server.restUrl}${path}`, { method: 'POST', body: new URLSearchParams({ f: 'json', ...form }) })).json()) as Record<string, unknown>;
      const { token } = (await post('/generateToken', { username: 'admin', password: 'correct horse' })) as { token: string };
      const added = await post('/services/Served/addLayer', { token, requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'ondemand', source: { path: 'Scale_Short.ts' } }) });
      expect(added.success).toBe(true);
      const done = await until('the job to end', async () => {
        const r = (await (await fetch(`${server.restUrl}/jobs/job/${added.jobId as string}?f=json&token=${token}`)).json()) as JobResource;
        return r.status === 'COMPLETED' || r.status === 'FAILED' ? r : undefined;
      });
      expect(done.status).toBe('COMPLETED');
      expect(done.customAttributes.worker).toEqual({ host: expect.any(String), pid: process.pid });
      expect(existsSync(join(data, 'node', 'services', 'Served', '0', 'ABR.m3u8'))).toBe(true);
      const live = await post('/services/Live/addLayer', { token, createParameters: JSON.stringify({ type: 'livestream', streamAddress: 'udp://127.0.0.1:5600' }) });
      expect(live.error).toMatchObject({ code: 400, details: [expect.stringMatching(/^Live jobs run only in the in-process mode/)] });
    } finally {
      await server.close();
    }
  });

  it('the same interface in the in-process mode: submit, findJob, findJobs, and the cancel route', async () => {
    const long = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    const server = await startServer(resolveServerConfig([{ name: 'test', values: { port: 0, dataDir: join(data, 'local-node'), inputRoots: [fixtures], users: ['admin:correct horse'], hwaccel: 'cpu' } }]));
    try {
      expect(server.manager.queueKind).toBe('local');
      const post = async (path: string, form: Record<string, string>) =>
        (await (await fetch(`${server.restUrl}${path}`, { method: 'POST', body: new URLSearchParams({ f: 'json', ...form }) })).json()) as Record<string, unknown>;
      const { token } = (await post('/generateToken', { username: 'admin', password: 'correct horse' })) as { token: string };
      const added = await post('/services/LocalCancel/addLayer', { token, requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'ondemand', source: { path: 'Long_Flight.ts' } }) });
      const id = added.jobId as string;
      await until('the pass to start', async () => ((await server.manager.findJob(id))?.customAttributes.progress?.frames ?? 0) > 0 || undefined);
      expect(await post(`/jobs/job/${id}/cancel`, { token })).toEqual({ jobId: id, success: true });
      const r = await server.manager.waitForJob(id);
      expect(r.status).toBe('CANCELLED');
      expect((await server.manager.findJobs()).jobs.map((j) => j.jobId)).toEqual([id]);
      expect(await post(`/jobs/job/${id}/cancel`, { token })).toMatchObject({ error: { code: 409 } });
      expect(await post('/jobs/job/jnope/cancel', { token })).toMatchObject({ error: { code: 404 } });
      const handle = await server.manager.submit(long, { requestedResolutions: 'sd', serviceName: 'LocalCancel' });
      expect(await handle.cancel()).toBe(true);
      expect((await handle.finished).status).toBe('CANCELLED');
    } finally {
      await server.close();
    }
  });

  it('refuses what cannot work in Redis mode with typed errors', async () => {
    const node = await open({});
    expect(() => node.ingest(clip)).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_MODE' }));
    expect(() => node.startLive('udp://127.0.0.1:5000', { serviceName: 'Live' })).toThrow(expect.objectContaining({ code: 'ERR_LIVE_LOCAL_ONLY' }));
    await expect(node.submit(clip, { outDir: data })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/outDir/) });
    await expect(JobManager.open({ queue: { redis: 'http://x' } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/queue\.redis/) });
    await expect(JobManager.open({ queue: { redis: redis.url, tags: ['GPU!'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/queue\.tags\[0\]/) });
    await expect(JobManager.open({ queue: { redis: redis.url, worker: true } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/outDir/) });
  });

  it('fails fast while Redis is down, naming it; reconnects by itself; loses no accepted job when Redis crashes', async () => {
    const node = await open({});
    const accepted = await node.submit(clip, { requestedResolutions: 'sd', serviceName: 'Queue_Outage', tag: 'later' });
    // A crash, not a clean shutdown: with appendfsync always the accepted job is on disk.
    await redis.stop(true);
    const t0 = Date.now();
    const err = (await node.submit(clip, { requestedResolutions: 'sd' }).catch((e: unknown) => e)) as MediaError;
    const took = Date.now() - t0;
    console.log(`submit while Redis is down: refused in ${took} ms`);
    expect(err.code).toBe('ERR_QUEUE_UNAVAILABLE');
    expect(err.message).toContain(redis.url.replace(/\/0$/, ''));
    expect(took).toBeLessThan(2000);
    await expect(node.findJob(accepted.id)).rejects.toMatchObject({ code: 'ERR_QUEUE_UNAVAILABLE' });

    await redis.start();
    const again = await until('the node to reconnect', () => node.submit(clip, { requestedResolutions: 'sd', serviceName: 'Queue_Outage', tag: 'later' }).catch(() => undefined), 20_000);
    const worker = await open({ worker: true, tags: ['later'] });
    const results: JobResource[] = await Promise.all([accepted.finished, again.finished]);
    expect(results.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(results.map((r) => r.results.layerId).sort()).toEqual([0, 1]);
    await worker.close();
  });
});
