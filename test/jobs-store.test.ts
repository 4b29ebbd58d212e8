import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { newFileId, newJobId, newServiceItemId } from '../src/jobs/ids.js';
import { IngestJob, type JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { JobQueue, defaultConcurrency } from '../src/jobs/queue.js';
import { stepByKey } from '../src/jobs/steps.js';
import { LocalDirectoryStorage, safeRelativePath } from '../src/jobs/storage.js';
import { MemoryJobStore, SqliteJobStore, type JobStore, type StoredJob } from '../src/jobs/store.js';
import { scratch } from './helpers/paths.js';

function resourceAt(steps: number): JobResource {
  const job = new IngestJob(
    {
      jobId: newJobId(),
      fileId: newFileId(),
      serviceItemId: newServiceItemId(),
      serviceName: 'Flight_TS',
      serviceUrl: 'http://localhost/arcgis/rest/services/Flight_TS/VideoServer',
      layerId: 0,
      layerName: 'Flight',
      requestedResolutions: 'sd',
      username: 'u',
      source: 'Flight.ts',
    },
    () => undefined,
  );
  if (steps > 0) job.markStarted();
  for (const key of (['start', 'probeVideo', 'probeAudio', 'probeKlv', 'streamInfo', 'videoInfo'] as const).slice(0, steps)) job.appendStep(stepByKey(key));
  return job.toJSON();
}

function record(resource: JobResource, extra: Partial<StoredJob> = {}): StoredJob {
  return {
    jobId: resource.jobId,
    status: resource.status,
    resource,
    input: '/in/Flight.ts',
    tempDir: null,
    owner: null,
    storageRoot: null,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    ...extra,
  };
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe.each([
  ['sqlite', (dir: string): JobStore => new SqliteJobStore(join(dir, 'db', 'jobs.sqlite'))],
  ['memory', (): JobStore => new MemoryJobStore()],
])('%s job store', (kind, open) => {
  let dir: string;
  beforeEach(() => {
    dir = scratch(`jobs-store-${kind}-${Date.now()}`);
  });

  it('keeps jobs newest first, updates them, and lists active ones', () => {
    const store = open(dir);
    const a = resourceAt(0);
    const b = resourceAt(3);
    store.insertJob(record(a));
    store.insertJob(record(b));
    expect(store.listJobs().map((j) => j.jobId)).toEqual([b.jobId, a.jobId]);
    expect(store.listJobs({ limit: 1, offset: 1 }).map((j) => j.jobId)).toEqual([a.jobId]);
    expect(store.countJobs()).toBe(2);
    const done = { ...b, status: 'COMPLETED' as const };
    store.updateJob(b.jobId, { status: 'COMPLETED', resource: done, tempDir: '/tmp/x' });
    expect(store.getJob(b.jobId)).toMatchObject({ status: 'COMPLETED', tempDir: '/tmp/x' });
    expect(Object.keys(store.getJob(b.jobId)!.resource)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
    expect(store.activeJobs().map((j) => j.jobId)).toEqual([a.jobId]);
    expect(store.getJob('jnope')).toBeUndefined();
    store.close();
  });

  it('reserves distinct layer ids per service and creates services on first use', () => {
    const store = open(dir);
    const first = store.reserveLayer('Svc', 0);
    expect(first).toMatchObject({ layerId: 0, created: true });
    expect(first.service.serviceItemId).toMatch(/^[0-9a-f]{32}$/);
    const second = store.reserveLayer('Svc', 0);
    expect(second).toMatchObject({ layerId: 1, created: false });
    expect(second.service.serviceItemId).toBe(first.service.serviceItemId);
    // Storage already holding layers 0-4 pushes the next id past them.
    expect(store.reserveLayer('Svc', 5).layerId).toBe(5);
    expect(store.reserveLayer('Other', 0).layerId).toBe(0);
    expect(store.listServices().map((s) => [s.serviceName, s.nextLayerId])).toEqual([
      ['Other', 1],
      ['Svc', 6],
    ]);
    store.close();
  });
});

describe('memory job store', () => {
  it('can forget the oldest finished jobs, never running ones', () => {
    const store = new MemoryJobStore({ maxFinishedJobs: 2 });
    const running = resourceAt(1);
    store.insertJob(record(running));
    const done = [resourceAt(0), resourceAt(0), resourceAt(0)].map((r) => ({ ...r, status: 'COMPLETED' as const }));
    for (const r of done) store.insertJob(record(r));
    expect(store.listJobs().map((j) => j.jobId)).toEqual([done[2]!.jobId, done[1]!.jobId, running.jobId]);
  });
});

describe('SQLite job store on disk', () => {
  it('survives closing and reopening', () => {
    const path = join(scratch('jobs-store-reopen'), `${Date.now()}.sqlite`);
    const s1 = new SqliteJobStore(path);
    const r = resourceAt(2);
    s1.insertJob(record(r));
    s1.reserveLayer('Keep', 0);
    s1.close();
    const s2 = new SqliteJobStore(path);
    expect(s2.getJob(r.jobId)?.resource).toEqual(r);
    expect(s2.reserveLayer('Keep', 0).layerId).toBe(1);
    s2.close();
  });

  it('refuses a file that is not a database with a typed error', () => {
    const path = join(scratch('jobs-store-bad'), 'not-a-db.sqlite');
    writeFileSync(path, 'this is a text file, not SQLite '.repeat(40));
    expect(() => new SqliteJobStore(path)).toThrow(expect.objectContaining({ code: 'ERR_JOB_STORE', message: expect.stringContaining(path) }));
  });
});

describe('recovery at open', () => {
  it('marks jobs of a dead process FAILED, removes their temporary and staging files, leaves live ones alone', async () => {
    const dir = scratch(`jobs-recover-${Date.now()}`);
    const dbPath = join(dir, 'jobs.sqlite');
    const storageRoot = join(dir, 'services');
    const store = new SqliteJobStore(dbPath);
    const running = resourceAt(6);
    const queued = resourceAt(0);
    const alive = resourceAt(2);
    const temp = join(dir, 'tmp', running.jobId);
    mkdirSync(join(temp, 'out'), { recursive: true });
    writeFileSync(join(temp, 'out', 'seg_00001.ts'), 'partial');
    const staging = join(storageRoot, '.staging', running.jobId);
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'ABR.m3u8'), '#EXTM3U');
    const dead = `${hostname()}:${deadPid()}:instance`;
    store.insertJob(record(running, { tempDir: temp, owner: dead, storageRoot }));
    store.insertJob(record(queued, { owner: dead, storageRoot }));
    // This process (the test runner) is alive: a job it owns through another instance of another
    // host must not be touched.
    store.insertJob(record(alive, { owner: `other-host:${process.pid}:x` }));
    store.close();

    const manager = await JobManager.open({ store: dbPath, outDir: storageRoot });
    const r = manager.getJob(running.jobId)!;
    expect(r.status).toBe('FAILED');
    expect(r.messages.slice(0, 6)).toEqual(running.messages);
    expect(r.messages.at(-1)).toBe('Transcoding with GPU failed: the process running the ingest stopped before the job finished (the job was not resumed)');
    expect(r.customAttributes.messageCodes.at(-1)).toBe(2159);
    expect(r.customAttributes.error).toMatchObject({ code: 'ERR_INTERRUPTED', failedStep: { code: 159 } });
    const q = manager.getJob(queued.jobId)!;
    expect(q.status).toBe('FAILED');
    expect(q.messages).toEqual(['Starting Ingest failed: the process that queued the job stopped before the job started']);
    expect(manager.getJob(alive.jobId)!.status).toBe('IN PROGRESS');
    expect(existsSync(temp)).toBe(false);
    expect(existsSync(staging)).toBe(false);
    expect(manager.store.getJob(running.jobId)).toMatchObject({ tempDir: null, owner: null });
    await manager.close();
  });
});

describe('recovery by heartbeat', () => {
  it("an owner whose heartbeat is old is gone on any host (a restarted container, a reused PID); a fresh one is alive", async () => {
    const dir = scratch(`jobs-recover-beat-${Date.now()}`);
    const dbPath = join(dir, 'jobs.sqlite');
    const store = new SqliteJobStore(dbPath);
    const now = Date.now();
    const owners = {
      // The pod before a restart: another host name, silent for ten minutes.
      oldPod: 'pod-7f9c:1:a',
      // This host, PID 1 (always running, never ours), silent for ten minutes: the PID was reused.
      reusedPid: `${hostname()}:1:b`,
      // Another host that beat a moment ago.
      busyPeer: 'peer-host:4242:c',
    };
    const jobs = { oldPod: resourceAt(6), reusedPid: resourceAt(2), busyPeer: resourceAt(6) };
    for (const k of Object.keys(owners) as (keyof typeof owners)[]) store.insertJob(record(jobs[k], { owner: owners[k] }));
    store.beat(owners.oldPod, now - 600_000);
    store.beat(owners.reusedPid, now - 600_000);
    store.beat(owners.busyPeer, now - 5_000);
    store.close();

    const manager = await JobManager.open({ store: dbPath });
    expect(manager.getJob(jobs.oldPod.jobId)!.status).toBe('FAILED');
    expect(manager.getJob(jobs.reusedPid.jobId)!.status).toBe('FAILED');
    expect(manager.getJob(jobs.busyPeer.jobId)!.status).toBe('IN PROGRESS');
    // The manager beats for itself while open and takes its record away when closed.
    const own = new SqliteJobStore(dbPath);
    const mine = (own as unknown as { db: { prepare(q: string): { all(): { owner: string }[] } } }).db.prepare('SELECT owner FROM owners').all().map((r) => r.owner);
    expect(mine.filter((o) => o.startsWith(`${hostname()}:${process.pid}:`))).toHaveLength(1);
    await manager.close();
    expect((own as unknown as { db: { prepare(q: string): { all(): { owner: string }[] } } }).db.prepare('SELECT owner FROM owners').all().map((r) => r.owner).filter((o) => o.startsWith(`${hostname()}:${process.pid}:`))).toEqual([]);
    own.close();
  });
});

describe('recovery of a job stopped at Saving To Storage', () => {
  for (const recorded of [false, true]) {
  it(recorded ? 'takes back a layer committed and recorded, when the process died before the job completed' : 'takes back a layer the dead process committed but never recorded', async () => {
    const dir = scratch(`jobs-recover-saving-${Date.now()}`);
    const dbPath = join(dir, 'jobs.sqlite');
    const storageRoot = join(dir, 'services');
    const job = new IngestJob(
      {
        jobId: newJobId(),
        fileId: newFileId(),
        serviceItemId: newServiceItemId(),
        serviceName: 'Saving_TS',
        serviceUrl: 'http://localhost/arcgis/rest/services/Saving_TS/VideoServer',
        layerId: 0,
        layerName: 'Saving',
        requestedResolutions: 'sd',
        username: 'u',
        source: 'Saving.ts',
      },
      () => undefined,
    );
    job.markStarted();
    for (const s of ['start', 'probeVideo', 'probeAudio', 'probeKlv', 'streamInfo', 'videoInfo', 'transcode', 'klv', 'hls', 'poster', 'previews', 'abr', 'cleanup', 'videoFiles'] as const) {
      job.appendStep(stepByKey(s));
    }
    if (recorded) job.appendStep(stepByKey('storage'));
    const committed = join(storageRoot, 'Saving_TS', '0');
    mkdirSync(committed, { recursive: true });
    writeFileSync(join(committed, 'ABR.m3u8'), '#EXTM3U\n');
    // Another job's layer of the same service stays.
    mkdirSync(join(storageRoot, 'Saving_TS', '1'), { recursive: true });
    const store = new SqliteJobStore(dbPath);
    store.insertJob(record(job.toJSON(), { owner: `${hostname()}:${deadPid()}:x`, storageRoot }));
    store.close();
    const manager = await JobManager.open({ store: dbPath });
    const r = manager.getJob(job.id)!;
    expect(r.status).toBe('FAILED');
    if (!recorded) {
      expect(r.messages.at(-1)).toMatch(/^Saving To Storage failed: /);
      expect(r.customAttributes.messageCodes.at(-1)).toBe(2206);
    }
    expect(existsSync(committed)).toBe(false);
    expect(readdirSync(join(storageRoot, 'Saving_TS'))).toEqual(['1']);
    expect(readdirSync(join(storageRoot, '.staging'))).toEqual([]);
    await manager.close();
  });
  }
});

describe('local directory storage', () => {
  function staged(dir: string, files: Record<string, string>): string {
    const out = join(dir, `staged-${Math.random().toString(36).slice(2)}`);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(out, name, '..'), { recursive: true });
      writeFileSync(join(out, name), text);
    }
    return out;
  }

  it('publishes a whole layer at <root>/<service>/<layer>/ and lists layer ids', async () => {
    const dir = scratch(`storage-${Date.now()}`);
    const storage = new LocalDirectoryStorage(join(dir, 'root'));
    expect(storage.existingLayerIds('Svc')).toEqual([]);
    const src = staged(dir, { 'ABR.m3u8': '#EXTM3U\n', '720p/index.m3u8': '#EXTM3U\n', '720p/seg_00000.ts': 'x'.repeat(188) });
    const pub = await storage.publish(src, { serviceName: 'Svc', layerId: 0, jobId: newJobId() });
    expect(pub.location).toBe(join(dir, 'root', 'Svc', '0'));
    expect(pub.files).toEqual(['720p/index.m3u8', '720p/seg_00000.ts', 'ABR.m3u8']);
    expect(pub.bytes).toBe(8 + 8 + 188);
    expect(readFileSync(join(pub.location, '720p', 'seg_00000.ts'), 'utf8')).toHaveLength(188);
    expect(storage.existingLayerIds('Svc')).toEqual([0]);
    expect(existsSync(join(dir, 'root', '.staging'))).toBe(false);
    writeFileSync(join(dir, 'file-root'), 'x');
    expect(() => new LocalDirectoryStorage(join(dir, 'file-root'))).toThrow(/exists and is not a directory/);
  });

  it('never overwrites a layer, and a refused publish leaves nothing behind', async () => {
    const dir = scratch(`storage-exists-${Date.now()}`);
    const storage = new LocalDirectoryStorage(join(dir, 'root'));
    await storage.publish(staged(dir, { 'a.txt': 'first' }), { serviceName: 'Svc', layerId: 3, jobId: newJobId() });
    const jobId = newJobId();
    await expect(storage.publish(staged(dir, { 'a.txt': 'second' }), { serviceName: 'Svc', layerId: 3, jobId })).rejects.toMatchObject({ code: 'ERR_STORAGE_EXISTS', step: 'storage' });
    expect(readFileSync(join(dir, 'root', 'Svc', '3', 'a.txt'), 'utf8')).toBe('first');
    expect(existsSync(join(dir, 'root', '.staging', jobId))).toBe(false);
  });

  it('an aborted publish makes nothing visible and removes its staging and the service it created', async () => {
    const dir = scratch(`storage-abort-${Date.now()}`);
    const storage = new LocalDirectoryStorage(join(dir, 'root'));
    const ac = new AbortController();
    ac.abort();
    const jobId = newJobId();
    await expect(storage.publish(staged(dir, { 'a.txt': 'x' }), { serviceName: 'Gone', layerId: 0, jobId }, { signal: ac.signal })).rejects.toBeDefined();
    expect(existsSync(join(dir, 'root', 'Gone'))).toBe(false);
    expect(existsSync(join(dir, 'root', '.staging', jobId))).toBe(false);
  });

  it('opens published files only, never through .., hidden names or symbolic links out of the layer', async () => {
    const dir = scratch(`storage-open-${Date.now()}`);
    const storage = new LocalDirectoryStorage(join(dir, 'root'));
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    const src = staged(dir, { 'ABR.m3u8': '#EXTM3U\n' });
    symlinkSync(join(dir, 'secret.txt'), join(src, 'link.txt'));
    await storage.publish(src, { serviceName: 'Svc', layerId: 0, jobId: newJobId() });
    const file = await storage.open('Svc', 0, 'ABR.m3u8');
    expect(file?.size).toBe(8);
    for (const bad of ['../../secret.txt', '..', './ABR.m3u8', '/etc/passwd', 'a//b', '.staging', 'link.txt', 'ABR.m3u8\0', 'x\\..\\y', '']) {
      expect(await storage.open('Svc', 0, bad), bad).toBeNull();
    }
    expect(await storage.open('../root', 0, 'ABR.m3u8')).toBeNull();
    expect(await storage.open('Svc', -1, 'ABR.m3u8')).toBeNull();
    expect(safeRelativePath('720p/seg_1.ts')).toEqual(['720p', 'seg_1.ts']);
  });
});

describe('job queue', () => {
  it('runs at most `concurrency` tasks at once, in order, and can take queued ones out', async () => {
    const q = new JobQueue(2);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const task = (name: string) => async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(name);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    };
    for (const n of ['a', 'b', 'c', 'd', 'e']) q.add(n, task(n));
    expect(q.running).toBe(2);
    expect(q.queued).toBe(3);
    expect(q.remove('d')).toBe(true);
    expect(q.remove('a')).toBe(false);
    await q.onIdle();
    expect(peak).toBe(2);
    expect(order).toEqual(['a', 'b', 'c', 'e']);
    expect(defaultConcurrency()).toBeGreaterThanOrEqual(1);
    expect(() => new JobQueue(0)).toThrow('Expected an integer between 1 and 1024 for concurrency but received 0 of type number');
  });

  it('a failing task does not stop the queue', async () => {
    const q = new JobQueue(1);
    const ran: string[] = [];
    q.add('bad', async () => {
      throw new Error('boom');
    });
    q.add('good', async () => {
      ran.push('good');
    });
    await q.onIdle();
    expect(ran).toEqual(['good']);
  });
});

