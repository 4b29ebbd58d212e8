// The input's fileId in a job resource: an uploaded item's id passes through to inputs.fileIds in
// both the in-process and the Redis mode (the worker keeps it); without one a new id is made; a
// malformed one is refused naming the option.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaError } from '../src/errors.js';
import { newFileId } from '../src/jobs/ids.js';
import { JobManager } from '../src/jobs/manager.js';
import { flightClip, freshDir } from './jobs-fixtures.js';
import { startRedis, type RedisServer } from './scaleout-helpers.js';

let redis: RedisServer;
let data: string;
let clip: string;
const managers: JobManager[] = [];

beforeAll(async () => {
  redis = await startRedis('file-id');
  data = freshDir('jobs-file-id');
  clip = await flightClip('FileId_Short.ts', { durationSeconds: 1 });
});

afterAll(async () => {
  for (const m of managers.reverse()) await m.close().catch(() => undefined);
  await redis?.stop();
});

describe('fileId', () => {
  it('in-process: the given fileId is the resource’s inputs.fileIds, before and after the run; none given → a new one', async () => {
    const m = new JobManager({ outDir: join(data, 'local'), tempDir: join(data, 'tmp'), hwaccel: 'cpu' });
    managers.push(m);
    const fileId = newFileId();
    const job = m.ingest(clip, { requestedResolutions: 'sd', serviceName: 'FileId_Local', fileId });
    expect(job.toJSON().inputs.fileIds).toBe(fileId);
    await job.done;
    expect(job.toJSON().status).toBe('COMPLETED');
    expect((await m.findJob(job.id))!.inputs.fileIds).toBe(fileId);
    const other = m.ingest(clip, { requestedResolutions: 'sd', serviceName: 'FileId_Local' });
    expect(other.toJSON().inputs.fileIds).toMatch(/^i[0-9a-f]{8}-/);
    expect(other.toJSON().inputs.fileIds).not.toBe(fileId);
    await other.cancel();
    await other.done.catch(() => undefined);
    for (const bad of ['', 'i123', 'j1b81346f-1460-482a-94f0-72b78ee843e5', 42]) {
      let err: MediaError | undefined;
      try {
        m.ingest(clip, { serviceName: 'FileId_Local', fileId: bad as string });
      } catch (e) {
        err = e as MediaError;
      }
      expect(err?.code).toBe('ERR_INVALID_OPTION');
      expect(err?.message).toMatch(/for fileId but received/);
    }
  }, 60_000);

  it('Redis: the queued resource and the worker’s finished one keep the given fileId', async () => {
    const node = await JobManager.open({ outDir: join(data, 'services'), tempDir: join(data, 'tmp-q'), hwaccel: 'cpu', queue: { redis: redis.url } });
    managers.push(node);
    const fileId = newFileId();
    const submitted = await node.submit(clip, { requestedResolutions: 'sd', serviceName: 'FileId_Queue', fileId });
    expect((await node.findJob(submitted.id))!.inputs.fileIds).toBe(fileId);
    const worker = await JobManager.open({ outDir: join(data, 'services'), tempDir: join(data, 'tmp-q'), hwaccel: 'cpu', concurrency: 1, queue: { redis: redis.url, worker: true } });
    managers.push(worker);
    const done = await submitted.finished;
    expect(done.status).toBe('COMPLETED');
    expect(done.inputs.fileIds).toBe(fileId);
  }, 60_000);
});
