/**
 * A site of processes on one private Redis and one shared data directory: three `fmv-ingest
 * worker`s and two `fmv-ingest serve --redis` nodes. Twelve jobs go in through both nodes (half
 * into one service); the worker running one of them is killed with SIGKILL mid-pass.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { fixtures, flightClip, freshDir } from './jobs-fixtures.js';
import { files, startRedis, startServerNode, startWorker, type Child, type RedisServer, until } from './scaleout-helpers.js';

let redis: RedisServer;
let data: string;
const workers: Child[] = [];
const nodes: Array<Child & { restUrl: string }> = [];
let token = '';

type Body = Record<string, unknown> & { error?: { code: number; message: string; details: string[] } };

async function call(node: { restUrl: string }, path: string, form?: Record<string, string>): Promise<Body> {
  const init: RequestInit = form
    ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ f: 'json', ...form }).toString() }
    : {};
  const sep = path.includes('?') ? '&' : '?';
  const res = await fetch(`${node.restUrl}${path}${form ? '' : `${sep}f=json&token=${token}`}`, init);
  return (await res.json()) as Body;
}

function addLayer(node: { restUrl: string }, service: string, path: string): Promise<Body> {
  return call(node, `/services/${service}/addLayer`, { token, createParameters: JSON.stringify({ type: 'ondemand', source: { path } }), requestedResolutions: 'sd' });
}

beforeAll(async () => {
  redis = await startRedis('cluster');
  data = freshDir('scaleout-cluster');
  const serve = ['--input-root', fixtures, '--user', 'admin:correct horse'];
  // Started one after another: each start compiles the CLI in its own process.
  for (let i = 0; i < 2; i++) nodes.push(await startServerNode(redis.url, data, serve));
  for (let i = 0; i < 3; i++) workers.push(await startWorker(redis.url, data, ['--concurrency', '1', '--lock-seconds', '5']));
});

afterAll(async () => {
  await Promise.all([...workers, ...nodes].map((c) => c.stop('SIGKILL')));
  await redis?.stop();
});

describe('three workers and two server nodes on one Redis', () => {
  it('a token from one node is accepted by the other (the key is in the shared data directory)', async () => {
    const res = await fetch(`${nodes[0]!.restUrl}/generateToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: 'correct horse', f: 'json' }).toString(),
    });
    token = ((await res.json()) as { token: string }).token;
    expect(typeof token).toBe('string');
    expect((await call(nodes[1]!, '/jobs')).error).toBeUndefined();
  });

  it('12 jobs through both nodes, one worker SIGKILLed mid-job: all COMPLETED once, distinct layers, same answers everywhere', async () => {
    const short = await flightClip('Scale_Short.ts', { durationSeconds: 2 });
    const long = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    // The long one first, into the shared service: it is the one whose worker is killed.
    const plan: Array<[string, string]> = [['Shared', long]];
    for (let i = 1; i < 6; i++) plan.push(['Shared', short]);
    for (let i = 0; i < 6; i++) plan.push([`Own_${i}`, short]);
    const answers = await Promise.all(plan.map(([service, path], i) => addLayer(nodes[i % 2]!, service, path)));
    const ids = answers.map((a) => a.jobId as string);
    expect(answers.every((a) => a.success === true)).toBe(true);
    const target = ids[0]!;

    // Kill the worker running the long job once its pass is under way.
    const running = await until(
      'the long job to run',
      async () => {
        const r = (await call(nodes[1]!, `/jobs/job/${target}`)) as unknown as JobResource;
        return r.status === 'IN PROGRESS' && (r.customAttributes.progress?.frames ?? 0) > 0 && r.customAttributes.worker ? r : undefined;
      },
      120_000,
    );
    const victim = workers.find((w) => w.pid === running.customAttributes.worker!.pid)!;
    expect(victim).toBeDefined();
    await victim.stop('SIGKILL');

    const finished = await until(
      'all 12 jobs to end',
      async () => {
        const page = await call(nodes[0]!, '/jobs?num=100');
        const jobs = (page.jobs as JobResource[]).filter((j) => ids.includes(j.jobId));
        return jobs.length === 12 && jobs.every((j) => j.status !== 'SUBMITTED' && j.status !== 'IN PROGRESS') ? jobs : undefined;
      },
      300_000,
    );
    expect(finished.filter((j) => j.status !== 'COMPLETED').map((j) => j.messages)).toEqual([]);
    for (const j of finished) expect(j.messages.filter((m) => m === 'Ingest Complete')).toHaveLength(1);

    // Distinct layer ids; each service holds exactly its layers (nothing published twice).
    const shared = finished.filter((j) => j.results.serviceName === 'Shared').map((j) => j.results.layerId);
    expect([...shared].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(readdirSync(join(data, 'services', 'Shared')).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    for (let i = 0; i < 6; i++) expect(readdirSync(join(data, 'services', `Own_${i}`))).toEqual(['0']);
    expect(existsSync(join(data, 'services', '.staging')) ? readdirSync(join(data, 'services', '.staging')) : []).toEqual([]);
    // No run left a temporary directory behind (the killed one's was removed by the retry).
    expect(readdirSync(join(data, 'tmp')).filter((n) => ids.some((id) => n.startsWith(id)))).toEqual([]);

    // The retried job says so first, then ran the whole success path on another worker.
    const retried = finished.find((j) => j.jobId === target)!;
    expect(retried.messages[0]).toMatch(new RegExp(`^Retrying Ingest: the worker \\S+:${victim.pid} running the job stopped before it finished`));
    expect(retried.customAttributes.messageCodes[0]).toBe(1121);
    expect(retried.messages.slice(1, 2)).toEqual(['Starting Ingest']);
    expect(retried.customAttributes.worker!.pid).not.toBe(victim.pid);
    expect(finished.filter((j) => j.jobId !== target).every((j) => j.messages[0] === 'Starting Ingest')).toBe(true);

    // Outputs complete and laid out as a local run lays them out.
    const local = await JobManager.open({ outDir: join(data, 'local'), tempDir: join(data, 'tmp-local'), hwaccel: 'cpu' });
    await local.ingest(short, { requestedResolutions: 'sd', serviceName: 'Local' }).done;
    await local.close();
    const layout = files(join(data, 'local', 'Local', '0'));
    for (const j of finished.filter((x) => x.jobId !== target)) expect(files(join(data, 'services', j.results.serviceName, String(j.results.layerId)))).toEqual(layout);
    expect(files(join(data, 'services', 'Shared', String(retried.results.layerId)))).toContain('ABR.m3u8');

    // Both nodes answer the same.
    const a = await call(nodes[0]!, '/jobs?num=100');
    const b = await call(nodes[1]!, '/jobs?num=100');
    expect(b).toEqual(a);
    for (const id of ids) expect(await call(nodes[1]!, `/jobs/job/${id}`)).toEqual(await call(nodes[0]!, `/jobs/job/${id}`));
  });

  it('while Redis is down addLayer answers 503 naming Redis within 2 s; afterwards the nodes and workers carry on by themselves', async () => {
    const short = await flightClip('Scale_Short.ts', { durationSeconds: 2 });
    await redis.stop();
    const t0 = Date.now();
    const down = await addLayer(nodes[0]!, 'Outage', short);
    const took = Date.now() - t0;
    console.log(`addLayer while Redis is down: answered in ${took} ms`);
    expect(took).toBeLessThan(2000);
    expect(down.error!.code).toBe(503);
    expect(down.error!.details).toEqual(['ERR_QUEUE_UNAVAILABLE', expect.stringContaining(`127.0.0.1:${redis.port}`)]);
    expect((await call(nodes[1]!, '/jobs')).error!.code).toBe(503);

    await redis.start();
    const up = await until('the node to reconnect', async () => ((await addLayer(nodes[1]!, 'Outage', short)).jobId as string | undefined), 20_000);
    const done = await until(
      'the job to finish on a reconnected worker',
      async () => {
        const r = (await call(nodes[0]!, `/jobs/job/${up}`)) as unknown as JobResource;
        return r.status === 'COMPLETED' || r.status === 'FAILED' ? r : undefined;
      },
      60_000,
    );
    expect(done.status).toBe('COMPLETED');
    // Cancel through the REST route of either node: an ended job can no longer be cancelled.
    expect((await call(nodes[0]!, `/jobs/job/${up}/cancel`, { token })).error!.code).toBe(409);
  });
});
