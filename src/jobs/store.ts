/**
 * Job store: the job resources and the services they publish into. SQLite (better-sqlite3) is the
 * embedded default and survives restarts; the in-memory store serves tests and one-off runs.
 * SQLite calls are synchronous but short (one row per change, WAL journal).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MediaError } from '../errors.js';
import { newServiceItemId } from './ids.js';
import { orderedResource, type JobResource, type JobStatus } from './job.js';

export interface StoredJob {
  jobId: string;
  status: JobStatus;
  resource: JobResource;
  /** The input as given. */
  input: string;
  /** The job's temporary work directory, while it may exist. */
  tempDir: string | null;
  /** "<pid>:<instance>" of the process running the job, while it is queued or running. */
  owner: string | null;
  /** Root of the local directory storage the job publishes into (for clean-up after a crash). */
  storageRoot: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceRecord {
  serviceName: string;
  serviceItemId: string;
  /** The layer id the next job in this service gets. */
  nextLayerId: number;
  createdAt: number;
}

export interface JobStore {
  readonly kind: 'sqlite' | 'memory';
  /** The database file, for SQLite stores. */
  readonly path: string | null;
  insertJob(job: StoredJob): void;
  updateJob(jobId: string, patch: Partial<Pick<StoredJob, 'status' | 'resource' | 'tempDir' | 'owner'>>): void;
  getJob(jobId: string): StoredJob | undefined;
  /** Newest first. */
  listJobs(options?: { limit?: number; offset?: number }): StoredJob[];
  countJobs(): number;
  /** Jobs that are SUBMITTED or IN PROGRESS. */
  activeJobs(): StoredJob[];
  getService(serviceName: string): ServiceRecord | undefined;
  listServices(): ServiceRecord[];
  /**
   * Creates the service when missing and reserves its next layer id (at least `atLeast`), in one
   * transaction so concurrent jobs of a service get distinct ids.
   */
  reserveLayer(serviceName: string, atLeast: number): { service: ServiceRecord; layerId: number; created: boolean };
  /**
   * Optional liveness of job owners (a manager instance: host:pid:instance). A manager beats every
   * 30 s; recovery takes an owner whose last beat is old as gone, on any host (a restarted
   * container has a new host name and may reuse the PID). Stores without it fall back to a
   * process check on this host.
   */
  beat?(owner: string, at: number): void;
  lastBeat?(owner: string): number | undefined;
  forgetOwner?(owner: string): void;
  close(): void;
}

function storeError(message: string, cause: unknown): MediaError {
  if (cause instanceof MediaError) return cause;
  // SQLite's own code (SQLITE_FULL, SQLITE_READONLY, SQLITE_NOTADB, ...) says what to fix.
  const sqlite = typeof (cause as { code?: unknown })?.code === 'string' ? ` (${(cause as { code: string }).code})` : '';
  const e = new MediaError(`${message}: ${cause instanceof Error ? cause.message : String(cause)}${sqlite}`, { code: 'ERR_JOB_STORE', step: 'store' });
  return e;
}

/** Runs one store operation; a SQLite failure (disk full, read-only, damaged file) becomes ERR_JOB_STORE. */
function guarded<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storeError(`Cannot ${what} in the job store ${path}`, err);
  }
}

// 1: jobs, services. 2: owners (heartbeats).
const SCHEMA_VERSION = 2;

interface JobRow {
  job_id: string;
  status: string;
  resource: string;
  input: string;
  temp_dir: string | null;
  owner: string | null;
  storage_root: string | null;
  created_at: number;
  updated_at: number;
}

interface ServiceRow {
  service_name: string;
  service_item_id: string;
  next_layer_id: number;
  created_at: number;
}

function fromJobRow(row: JobRow): StoredJob {
  return {
    jobId: row.job_id,
    status: row.status as JobStatus,
    resource: orderedResource(JSON.parse(row.resource) as JobResource),
    input: row.input,
    tempDir: row.temp_dir,
    owner: row.owner,
    storageRoot: row.storage_root,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fromServiceRow(row: ServiceRow): ServiceRecord {
  return { serviceName: row.service_name, serviceItemId: row.service_item_id, nextLayerId: row.next_layer_id, createdAt: row.created_at };
}

/** SQLite job store in one file (created with its directory when missing). */
export class SqliteJobStore implements JobStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts: {
    insert: Database.Statement;
    get: Database.Statement;
    list: Database.Statement;
    count: Database.Statement;
    active: Database.Statement;
    getService: Database.Statement;
    listServices: Database.Statement;
    insertService: Database.Statement;
    setNextLayer: Database.Statement;
    beat: Database.Statement;
    lastBeat: Database.Statement;
    forgetOwner: Database.Statement;
  };
  private readonly reserveTx: Database.Transaction<(serviceName: string, atLeast: number) => { service: ServiceRecord; layerId: number; created: boolean }>;

  constructor(path: string) {
    this.path = path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { timeout: 5000 });
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a committed change survives a process crash; only a power loss can drop the last ones.
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
    } catch (err) {
      throw storeError(`Cannot open the job store ${path}`, err);
    }
    this.stmts = {
      insert: this.db.prepare(
        'INSERT INTO jobs (job_id, status, resource, input, temp_dir, owner, storage_root, created_at, updated_at) VALUES (@job_id, @status, @resource, @input, @temp_dir, @owner, @storage_root, @created_at, @updated_at)',
      ),
      get: this.db.prepare('SELECT * FROM jobs WHERE job_id = ?'),
      list: this.db.prepare('SELECT * FROM jobs ORDER BY seq DESC LIMIT ? OFFSET ?'),
      count: this.db.prepare('SELECT COUNT(*) AS n FROM jobs'),
      active: this.db.prepare("SELECT * FROM jobs WHERE status IN ('SUBMITTED', 'IN PROGRESS') ORDER BY seq"),
      getService: this.db.prepare('SELECT * FROM services WHERE service_name = ?'),
      listServices: this.db.prepare('SELECT * FROM services ORDER BY service_name'),
      insertService: this.db.prepare('INSERT INTO services (service_name, service_item_id, next_layer_id, created_at) VALUES (?, ?, ?, ?)'),
      setNextLayer: this.db.prepare('UPDATE services SET next_layer_id = ? WHERE service_name = ?'),
      beat: this.db.prepare('INSERT INTO owners (owner, beat_at) VALUES (?, ?) ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at'),
      lastBeat: this.db.prepare('SELECT beat_at FROM owners WHERE owner = ?'),
      forgetOwner: this.db.prepare('DELETE FROM owners WHERE owner = ?'),
    };
    this.reserveTx = this.db.transaction((serviceName: string, atLeast: number) => {
      const row = this.stmts.getService.get(serviceName) as ServiceRow | undefined;
      let service: ServiceRecord;
      let created = false;
      if (row) {
        service = fromServiceRow(row);
      } else {
        service = { serviceName, serviceItemId: newServiceItemId(), nextLayerId: 0, createdAt: Date.now() };
        this.stmts.insertService.run(serviceName, service.serviceItemId, 0, service.createdAt);
        created = true;
      }
      const layerId = Math.max(service.nextLayerId, atLeast);
      this.stmts.setNextLayer.run(layerId + 1, serviceName);
      return { service: { ...service, nextLayerId: layerId + 1 }, layerId, created };
    });
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`the database has schema version ${version}; this fmv-ingest knows ${SCHEMA_VERSION} (upgrade fmv-ingest)`);
    }
    if (version === SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        resource TEXT NOT NULL,
        input TEXT NOT NULL,
        temp_dir TEXT,
        owner TEXT,
        storage_root TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
      CREATE TABLE IF NOT EXISTS services (
        service_name TEXT PRIMARY KEY,
        service_item_id TEXT NOT NULL,
        next_layer_id INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS owners (
        owner TEXT PRIMARY KEY,
        beat_at INTEGER NOT NULL
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  insertJob(job: StoredJob): void {
    guarded(this.path, 'record a new job', () => {
      this.stmts.insert.run({
        job_id: job.jobId,
        status: job.status,
        resource: JSON.stringify(job.resource),
        input: job.input,
        temp_dir: job.tempDir,
        owner: job.owner,
        storage_root: job.storageRoot,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
      });
    });
  }

  updateJob(jobId: string, patch: Partial<Pick<StoredJob, 'status' | 'resource' | 'tempDir' | 'owner'>>): void {
    guarded(this.path, 'update a job', () => {
      const sets: string[] = ['updated_at = @updated_at'];
      const params: Record<string, unknown> = { job_id: jobId, updated_at: Date.now() };
      if (patch.status !== undefined) {
        sets.push('status = @status');
        params.status = patch.status;
      }
      if (patch.resource !== undefined) {
        sets.push('resource = @resource');
        params.resource = JSON.stringify(patch.resource);
      }
      if (patch.tempDir !== undefined) {
        sets.push('temp_dir = @temp_dir');
        params.temp_dir = patch.tempDir;
      }
      if (patch.owner !== undefined) {
        sets.push('owner = @owner');
        params.owner = patch.owner;
      }
      this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE job_id = @job_id`).run(params);
    });
  }

  getJob(jobId: string): StoredJob | undefined {
    return guarded(this.path, 'read a job', () => {
      const row = this.stmts.get.get(jobId) as JobRow | undefined;
      return row ? fromJobRow(row) : undefined;
    });
  }

  listJobs(options: { limit?: number; offset?: number } = {}): StoredJob[] {
    return guarded(this.path, 'list jobs', () => {
      return (this.stmts.list.all(options.limit ?? -1, options.offset ?? 0) as JobRow[]).map(fromJobRow);
    });
  }

  countJobs(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  activeJobs(): StoredJob[] {
    return guarded(this.path, 'list active jobs', () => {
      return (this.stmts.active.all() as JobRow[]).map(fromJobRow);
    });
  }

  getService(serviceName: string): ServiceRecord | undefined {
    const row = this.stmts.getService.get(serviceName) as ServiceRow | undefined;
    return row ? fromServiceRow(row) : undefined;
  }

  listServices(): ServiceRecord[] {
    return (this.stmts.listServices.all() as ServiceRow[]).map(fromServiceRow);
  }

  reserveLayer(serviceName: string, atLeast: number): { service: ServiceRecord; layerId: number; created: boolean } {
    return guarded(this.path, 'reserve a layer id', () => {
      return this.reserveTx.immediate(serviceName, atLeast);
    });
  }

  beat(owner: string, at: number): void {
    guarded(this.path, 'record a heartbeat', () => {
      this.stmts.beat.run(owner, at);
    });
  }

  lastBeat(owner: string): number | undefined {
    return (this.stmts.lastBeat.get(owner) as { beat_at: number } | undefined)?.beat_at;
  }

  forgetOwner(owner: string): void {
    guarded(this.path, 'remove an owner', () => {
      this.stmts.forgetOwner.run(owner);
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Jobs and services in memory: for tests and single runs (nothing survives the process). */
export class MemoryJobStore implements JobStore {
  readonly kind = 'memory' as const;
  readonly path = null;
  private readonly jobs = new Map<string, StoredJob>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly maxFinishedJobs: number;

  /** `maxFinishedJobs`: beyond this many finished jobs the oldest are forgotten (default: none are). */
  constructor(options: { maxFinishedJobs?: number } = {}) {
    this.maxFinishedJobs = options.maxFinishedJobs ?? Infinity;
  }

  insertJob(job: StoredJob): void {
    if (this.jobs.has(job.jobId)) throw new MediaError(`Job ${job.jobId} already exists`, { code: 'ERR_JOB_STORE', step: 'store' });
    this.jobs.set(job.jobId, structuredClone(job));
    this.prune();
  }

  private prune(): void {
    if (!Number.isFinite(this.maxFinishedJobs)) return;
    const finished = [...this.jobs.values()].filter((j) => j.status !== 'SUBMITTED' && j.status !== 'IN PROGRESS');
    // Map order is insertion order: the first finished ones are the oldest.
    for (const j of finished.slice(0, Math.max(0, finished.length - this.maxFinishedJobs))) this.jobs.delete(j.jobId);
  }

  updateJob(jobId: string, patch: Partial<Pick<StoredJob, 'status' | 'resource' | 'tempDir' | 'owner'>>): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    Object.assign(job, structuredClone(patch), { updatedAt: Date.now() });
  }

  getJob(jobId: string): StoredJob | undefined {
    const job = this.jobs.get(jobId);
    return job ? structuredClone(job) : undefined;
  }

  listJobs(options: { limit?: number; offset?: number } = {}): StoredJob[] {
    const all = [...this.jobs.values()].reverse();
    const offset = options.offset ?? 0;
    const end = options.limit === undefined || options.limit < 0 ? undefined : offset + options.limit;
    return all.slice(offset, end).map((j) => structuredClone(j));
  }

  countJobs(): number {
    return this.jobs.size;
  }

  activeJobs(): StoredJob[] {
    return [...this.jobs.values()].filter((j) => j.status === 'SUBMITTED' || j.status === 'IN PROGRESS').map((j) => structuredClone(j));
  }

  getService(serviceName: string): ServiceRecord | undefined {
    const s = this.services.get(serviceName);
    return s ? { ...s } : undefined;
  }

  listServices(): ServiceRecord[] {
    return [...this.services.values()].sort((a, b) => a.serviceName.localeCompare(b.serviceName)).map((s) => ({ ...s }));
  }

  reserveLayer(serviceName: string, atLeast: number): { service: ServiceRecord; layerId: number; created: boolean } {
    let service = this.services.get(serviceName);
    const created = !service;
    if (!service) {
      service = { serviceName, serviceItemId: newServiceItemId(), nextLayerId: 0, createdAt: Date.now() };
      this.services.set(serviceName, service);
    }
    const layerId = Math.max(service.nextLayerId, atLeast);
    service.nextLayerId = layerId + 1;
    return { service: { ...service }, layerId, created };
  }

  close(): void {
    // Nothing to release.
  }
}

/** 'memory', a SQLite file path, or a store of your own. */
export function openJobStore(store: JobStore | string | undefined): JobStore {
  if (store === undefined || store === 'memory' || store === ':memory:') return new MemoryJobStore();
  if (typeof store === 'string') return new SqliteJobStore(store);
  return store;
}
