// Disk faults on real file systems: a full storage disk during publish, a full scratch disk while
// segments are written, and the SQLite job store on a full, read-only or foreign file. Each small
// tmpfs is mounted by the test (root only; skipped elsewhere, and said so).
import Database from 'better-sqlite3';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { IngestJob, type JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { SqliteJobStore } from '../src/jobs/store.js';
import { flightClip, freshDir } from './jobs-fixtures.js';
import { canMount, fillDisk, mountTmpfs, type Mount } from './helpers/tmpfs.js';

const base = freshDir('fault-disk');
const mountable = canMount(base);
if (!mountable) console.warn('fault-disk: not root or no mount capability here; the disk-full tests are skipped');

const mounts: Mount[] = [];
function tmpfs(name: string, sizeKb: number): Mount {
  const m = mountTmpfs(join(base, name), sizeKb);
  mounts.push(m);
  return m;
}
afterAll(() => {
  for (const m of mounts) m.unmount();
});

/** Every file under dir, relative. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function failedIngest(options: { outDir: string; tempDir: string }): Promise<JobResource> {
  const clip = await flightClip('fault-disk.ts', { durationSeconds: 3 });
  const manager = new JobManager({ ...options, hwaccel: 'cpu', requestedResolutions: 'sd' });
  try {
    const job = manager.ingest(clip, { serviceName: 'Full' });
    await expect(job.done).rejects.toBeInstanceOf(MediaError);
    return job.toJSON();
  } finally {
    await manager.close();
  }
}

describe.skipIf(!mountable)('a full disk', () => {
  it('during publish: FAILED at Saving To Storage naming ENOSPC, nothing published, staging and scratch removed', async () => {
    const storage = tmpfs('storage-full', 96);
    const temp = join(base, 'publish-temp');
    const r = await failedIngest({ outDir: storage.dir, tempDir: temp });
    expect(r.status).toBe('FAILED');
    expect(r.customAttributes.error).toMatchObject({ code: 'ERR_STORAGE', step: 'storage', failedStep: { code: 206 } });
    expect(r.customAttributes.error!.message).toMatch(/ENOSPC|no space left/i);
    expect(tree(storage.dir)).toEqual([]);
    expect(readdirSync(storage.dir)).toEqual([]);
    expect(tree(temp)).toEqual([]);
  });

  it('in the scratch directory while segments are written: FAILED naming ENOSPC, nothing published, scratch emptied', async () => {
    const temp = tmpfs('scratch-full', 128);
    const out = join(base, 'scratch-out');
    const r = await failedIngest({ outDir: out, tempDir: temp.dir });
    expect(r.status).toBe('FAILED');
    expect(JSON.stringify(r.customAttributes.error)).toMatch(/ENOSPC|no space left/i);
    expect(tree(out)).toEqual([]);
    expect(tree(temp.dir)).toEqual([]);
  });
});

describe.skipIf(!mountable)('the SQLite job store', () => {
  // A real job resource, made large by its layer name so the disk fills in a few dozen rows.
  const resource = (i: number): JobResource =>
    new IngestJob(
      { jobId: `j${i}`, fileId: `i${i}`, serviceItemId: '0'.repeat(32), serviceName: 'Full', serviceUrl: 'http://localhost/x', layerId: i, layerName: 'x'.repeat(2000), requestedResolutions: 'sd', username: 'u', source: '/in.ts' },
      () => undefined,
    ).toJSON();
  const row = (i: number) => ({ jobId: `j${i}`, status: 'COMPLETED' as const, resource: resource(i), input: '/in.ts', tempDir: null, owner: null, storageRoot: null, createdAt: i, updatedAt: i });

  it('on a full disk: writes fail with ERR_JOB_STORE naming SQLITE_FULL, ingest() refuses typed, and the records written before stay whole', async () => {
    const disk = tmpfs('store-full', 4096);
    const path = join(disk.dir, 'jobs.db');
    const store = new SqliteJobStore(path);
    for (let i = 0; i < 20; i++) store.insertJob(row(i));
    const filler = fillDisk(disk.dir);
    let err: unknown;
    try {
      for (let i = 20; i < 2000; i++) store.insertJob(row(i));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ code: 'ERR_JOB_STORE', step: 'store' });
    expect((err as Error).message).toMatch(/SQLITE_FULL/);
    // Through the manager: the submit is refused with the store's typed error, nothing half-made.
    const manager = new JobManager({ store, outDir: join(base, 'store-full-out') });
    const clip = await flightClip('fault-disk.ts', { durationSeconds: 3 });
    let submitted = 0;
    let refused: unknown;
    try {
      for (let i = 0; i < 200; i++) {
        manager.ingest(clip, { serviceName: `S${i}` }).done.catch(() => undefined);
        submitted++;
      }
    } catch (e) {
      refused = e;
    }
    expect(refused, `${submitted} ingests were accepted on a full store`).toMatchObject({ code: 'ERR_JOB_STORE' });
    await manager.close();
    store.close();
    rmSync(filler);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const reopened = new SqliteJobStore(path);
    for (let i = 0; i < 20; i++) expect(reopened.getJob(`j${i}`)?.resource).toMatchObject({ jobId: `j${i}` });
    reopened.close();
  });

  it('on a read-only file system: a clear ERR_JOB_STORE when the manager starts, and the file is untouched', () => {
    const disk = tmpfs('store-ro', 512);
    const path = join(disk.dir, 'jobs.db');
    const store = new SqliteJobStore(path);
    store.insertJob(row(1));
    store.close();
    const before = readFileSync(path);
    disk.readOnly(true);
    try {
      expect(() => new JobManager({ store: path })).toThrow(expect.objectContaining({ code: 'ERR_JOB_STORE', message: expect.stringMatching(/jobs\.db.*(read-only|readonly|SQLITE_)/i) }));
      expect(() => new JobManager({ store: join(disk.dir, 'missing', 'jobs.db') })).toThrow(expect.objectContaining({ code: 'ERR_JOB_STORE' }));
      expect(readFileSync(path).equals(before)).toBe(true);
    } finally {
      disk.readOnly(false);
    }
  });
});

describe('the SQLite job store at a bad path', () => {
  it('a file that is not a database: ERR_JOB_STORE at start naming SQLITE_NOTADB, and the file is left as it was', () => {
    const dir = freshDir('store-notadb');
    const path = join(dir, 'jobs.db');
    const text = 'not a database\n'.repeat(500);
    writeFileSync(path, text);
    expect(() => new JobManager({ store: path })).toThrow(expect.objectContaining({ code: 'ERR_JOB_STORE', message: expect.stringMatching(/SQLITE_NOTADB/) }));
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('a directory missing: made on start; a path whose parent is a file: ERR_JOB_STORE at start', async () => {
    const dir = freshDir('store-missing');
    const manager = new JobManager({ store: join(dir, 'a', 'b', 'jobs.db') });
    await manager.close();
    expect(existsSync(join(dir, 'a', 'b', 'jobs.db'))).toBe(true);
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => new JobManager({ store: join(dir, 'file', 'jobs.db') })).toThrow(expect.objectContaining({ code: 'ERR_JOB_STORE', message: expect.stringMatching(/file\/jobs\.db/) }));
  });
});
