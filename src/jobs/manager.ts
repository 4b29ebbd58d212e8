/**
 * JobManager: submits ingests, queues them, keeps their resources in a job store and publishes
 * into storage. At open it marks the jobs a dead process left queued or running as FAILED and
 * removes their temporary files. `ingest()` is the one-call form over a shared manager.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { MediaError } from '../errors.js';
import { checkEnum, checkInputRoots, checkInteger, checkKnownKeys, checkSignal, checkString, invalid, optionsObject } from '../validate.js';
import { FILE_ID_PATTERN, SERVICE_NAME_PATTERN, layerIdAfter, layerNameFromFile, newFileId, newJobId, serviceNameFromFile } from './ids.js';
import { HWACCELS, IngestJob, RESOLUTIONS, interruptedResource, isTerminal, type HwAccel, type JobResource, type Resolution } from './job.js';
import { nativePipeline, type PipelineRunner } from './pipeline-adapter.js';
import { JobQueue, defaultConcurrency } from './queue.js';
import { runJob } from './run.js';
import { finalizeLiveLayer, redactStreamAddress, runLiveJob } from './live-job.js';
import type { LiveRun } from '../live/index.js';
import type { LiveOptions } from '../pipeline-options.js';
import { stepByKey } from './steps.js';
import { LocalDirectoryStorage, type Storage } from './storage.js';
import { MemoryJobStore, openJobStore, type JobStore, type ServiceRecord } from './store.js';
import type { JobPage, QueueBackend, SubmittedJob } from './queue/backend.js';
import { LocalBackend } from './queue/local.js';
import { RedisBackend, type SubmitPlan } from './queue/redis.js';
import { DEFAULT_TAG, GPU_TAG, checkTag, validateRedisQueueOptions, type RedisQueueOptions, type ValidRedisQueueOptions } from './queue/redis-options.js';
import { QueueWorker } from './queue/worker.js';

export interface IngestOptions {
  /** Storage root directory: outputs land in <outDir>/<serviceName>/<layerId>/. */
  outDir?: string;
  /** A storage backend instead of outDir. */
  storage?: Storage;
  /** Highest tier of the ladder (default 'fhd'); lower tiers are included. */
  requestedResolutions?: Resolution;
  /** Hardware path: 'auto' (default), 'cpu', 'cuda' or 'vaapi'. */
  hwaccel?: HwAccel;
  /** Cancels the job when aborted. */
  signal?: AbortSignal;
  /** Recorded as the job's username. */
  username?: string;
  /** Service to publish into (default: from the file name, Cheyenne.ts → Cheyenne_TS). */
  serviceName?: string;
  /** Layer name (default: the file name without its extension). */
  layerName?: string;
  /** Gives up after this many milliseconds (ERR_TIMEOUT). */
  timeoutMs?: number;
  /** Parent directory of the job's temporary work directory. */
  tempDir?: string;
  /** REST root URL the service is served under; serviceUrl is <restUrl>/services/<serviceName>/VideoServer. */
  restUrl?: string;
  /** Read nothing outside these directories (see ProbeOptions.inputRoots): for inputs named by others. */
  inputRoots?: string[];
  /** How the job resource names the input (customAttributes.source; default: the input as given). */
  sourceName?: string;
  /** The id of the input file as the job resource shows it (inputs.fileIds), e.g. an uploaded item's; default: a new one. */
  fileId?: string;
  /**
   * Redis mode: only workers with this tag take the job (default 'gpu' when hwaccel is cuda or
   * vaapi, else 'default'). The in-process mode runs every job itself.
   */
  tag?: string;
}

export interface JobManagerOptions {
  /** 'memory' (default), the path of a SQLite file, or a JobStore of your own. */
  store?: JobStore | string;
  /** Default storage root for jobs that name none. */
  outDir?: string;
  /** Default storage backend for jobs that name none. */
  storage?: Storage;
  /** Parent directory of the jobs' temporary work directories (default <os tmpdir>/fmv-ingest). */
  tempDir?: string;
  /** Ingests that run at once (default: one per four cores, at least one). */
  concurrency?: number;
  /** Jobs that may wait for a slot (default 1000); past it, ingest() throws ERR_QUEUE_FULL. */
  maxQueued?: number;
  /** Default REST root URL for serviceUrl (default http://localhost/arcgis/rest). */
  restUrl?: string;
  /** Default username of jobs that name none. */
  username?: string;
  /** Default ladder tier (default 'fhd'). */
  requestedResolutions?: Resolution;
  /** Default hardware path (default 'auto'). */
  hwaccel?: HwAccel;
  /**
   * Queue the jobs on Redis (BullMQ) instead of in this process: every manager on the same Redis
   * and prefix sees the same jobs; `worker: true` runs them here too. Use `submit()`.
   */
  queue?: RedisQueueOptions;
}

export interface LiveJobOptions {
  /** Service the live layer belongs to (required). */
  serviceName: string;
  layerName?: string;
  username?: string;
  /** 'client': we pull from / dial the address; 'server': we listen on it (default 'client'). */
  mode?: 'client' | 'server';
  requestedResolutions?: Resolution;
  hwaccel?: HwAccel;
  /** Window or DVR, input timeout and reconnect window (see LiveOptions). */
  live?: LiveOptions;
  /** Protocol and demuxer options (see PipelineOptions.inputOptions). */
  inputOptions?: Record<string, string>;
  restUrl?: string;
  storage?: Storage;
  outDir?: string;
}

const INGEST_OPTIONS = ['outDir', 'storage', 'requestedResolutions', 'hwaccel', 'signal', 'username', 'serviceName', 'layerName', 'timeoutMs', 'tempDir', 'restUrl', 'inputRoots', 'sourceName', 'fileId', 'tag'] as const;
const MANAGER_OPTIONS = ['store', 'outDir', 'storage', 'tempDir', 'concurrency', 'maxQueued', 'restUrl', 'username', 'requestedResolutions', 'hwaccel', 'queue'] as const;

export const DEFAULT_REST_URL = 'http://localhost/arcgis/rest';

/** Instances alive in this process, so a second manager on the same store leaves their jobs alone. */
const LIVE_INSTANCES = new Set<string>();

function isStorage(v: unknown): v is Storage {
  const s = v as Storage;
  return typeof v === 'object' && v !== null && typeof s.publish === 'function' && typeof s.existingLayerIds === 'function' && typeof s.discard === 'function' && typeof s.open === 'function';
}

function checkFileId(v: unknown): string {
  const s = checkString(v, 'fileId', { nonEmpty: true });
  if (!FILE_ID_PATTERN.test(s)) throw invalid('"i" followed by a UUID (the form of an uploaded item\'s fileId)', 'fileId', v);
  return s;
}

function checkRestUrl(v: unknown, path: string): string {
  const s = checkString(v, path, { nonEmpty: true });
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalid('an http(s) URL', path, v);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('an http(s) URL', path, v);
  return s.replace(/\/+$/, '');
}

function defaultUsername(): string {
  try {
    return userInfo().username || 'fmv-ingest';
  } catch {
    return 'fmv-ingest';
  }
}

/** How often a manager records that it is alive, and how old a record means its owner is gone. */
export const OWNER_BEAT_MS = 30_000;
export const OWNER_GONE_MS = 120_000;

/** Whether the process that owns a queued/running job record is still alive. */
function ownerAlive(owner: string | null, store: JobStore, now = Date.now()): boolean {
  if (!owner) return false;
  const [host, pidText, instance] = owner.split(':');
  // Silent for too long: gone, on any host (a restarted container has a new host name, and a PID
  // may have been reused by another program).
  const beat = store.lastBeat?.(owner);
  if (beat !== undefined && now - beat >= OWNER_GONE_MS) return false;
  // Another machine's process cannot be checked from here: its beat is fresh, or it keeps none.
  if (host !== hostname()) return true;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return instance !== undefined && LIVE_INSTANCES.has(instance);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface ValidIngestOptions {
  storage: Storage;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  signal?: AbortSignal;
  username: string;
  serviceName: string;
  layerName: string;
  timeoutMs?: number;
  tempRoot: string;
  restUrl: string;
  inputRoots?: string[];
  sourceName: string;
  fileId: string;
  tag: string;
}

export class JobManager {
  readonly store: JobStore;
  readonly queue: JobQueue;
  private readonly ownsStore: boolean;
  private readonly storage: Storage | undefined;
  private readonly tempRoot: string;
  private readonly restUrl: string;
  private readonly defaults: { username: string; requestedResolutions: Resolution; hwaccel: HwAccel };
  private readonly instance = randomUUID();
  private readonly owner: string;
  private readonly live = new Map<string, IngestJob>();
  private readonly liveRuns = new Map<string, LiveRun>();
  private readonly pipeline: PipelineRunner;
  private readonly maxQueued: number;
  private readonly beatTimer: NodeJS.Timeout;
  private closed = false;
  private storeWarned = false;
  private readonly redis: ValidRedisQueueOptions | undefined;
  private backend: QueueBackend;
  private worker: QueueWorker | undefined;

  /** Opens a manager and recovers the jobs a stopped process left behind. */
  static async open(options?: JobManagerOptions): Promise<JobManager> {
    const manager = new JobManager(options);
    try {
      if (manager.redis) await manager.connect(manager.redis);
      // Redis mode keeps no job in this process's store: a dead worker's jobs are retried by the others.
      else await manager.recover();
    } catch (err) {
      await manager.close();
      throw err;
    }
    return manager;
  }

  /** Prefer `JobManager.open()`, which also recovers interrupted jobs. */
  constructor(options?: JobManagerOptions, pipeline: PipelineRunner = nativePipeline) {
    const o = optionsObject(options, 'job manager options');
    checkKnownKeys(o, MANAGER_OPTIONS, 'job manager options');
    if (o.store !== undefined && typeof o.store !== 'string' && (typeof o.store !== 'object' || o.store === null)) {
      throw invalid("'memory', a SQLite file path or a JobStore", 'store', o.store);
    }
    if (o.storage !== undefined && !isStorage(o.storage)) throw invalid('a Storage (publish, existingLayerIds, discard, open)', 'storage', o.storage);
    if (o.storage !== undefined && o.outDir !== undefined) throw invalid('either storage or outDir, not both', 'outDir', o.outDir);
    this.storage = o.storage !== undefined ? (o.storage as Storage) : o.outDir !== undefined ? new LocalDirectoryStorage(checkString(o.outDir, 'outDir', { nonEmpty: true })) : undefined;
    this.tempRoot = resolve(o.tempDir !== undefined ? checkString(o.tempDir, 'tempDir', { nonEmpty: true }) : join(tmpdir(), 'fmv-ingest'));
    this.restUrl = o.restUrl !== undefined ? checkRestUrl(o.restUrl, 'restUrl') : DEFAULT_REST_URL;
    this.defaults = {
      username: o.username !== undefined ? checkString(o.username, 'username', { nonEmpty: true }) : defaultUsername(),
      requestedResolutions: o.requestedResolutions !== undefined ? checkEnum(o.requestedResolutions, 'requestedResolutions', RESOLUTIONS) : 'fhd',
      hwaccel: o.hwaccel !== undefined ? checkEnum(o.hwaccel, 'hwaccel', HWACCELS) : 'auto',
    };
    this.queue = new JobQueue(o.concurrency !== undefined ? checkInteger(o.concurrency, 'concurrency', 1, 1024) : defaultConcurrency());
    this.maxQueued = o.maxQueued !== undefined ? checkInteger(o.maxQueued, 'maxQueued', 0, 1_000_000) : 1000;
    this.store = openJobStore(o.store as JobStore | string | undefined);
    this.ownsStore = o.store === undefined || typeof o.store === 'string';
    this.pipeline = pipeline;
    this.owner = `${hostname()}:${process.pid}:${this.instance}`;
    LIVE_INSTANCES.add(this.instance);
    const beat = (): void => this.safeStore(() => this.store.beat?.(this.owner, Date.now()));
    beat();
    this.beatTimer = setInterval(beat, OWNER_BEAT_MS).unref();
    this.redis = o.queue !== undefined ? validateRedisQueueOptions(o.queue) : undefined;
    this.backend = new LocalBackend({
      ingest: (input, options) => this.ingest(input, options),
      job: (jobId) => this.job(jobId),
      getJob: (jobId) => this.getJob(jobId),
      listJobs: (options) => this.listJobs(options),
      countJobs: () => this.store.countJobs(),
    });
  }

  private async connect(redis: ValidRedisQueueOptions): Promise<void> {
    this.backend = await RedisBackend.open(redis, (input, options) => this.plan(input, options));
    if (!redis.worker) return;
    if (!this.storage) throw invalid('a directory to publish into (a worker publishes into the shared storage)', 'outDir', undefined);
    this.worker = new QueueWorker(redis, {
      storage: this.storage,
      tempRoot: this.tempRoot,
      pipeline: this.pipeline,
      concurrency: this.queue.concurrency,
      hwaccel: this.defaults.hwaccel,
      ...(redis.inputRoots ? { inputRoots: redis.inputRoots } : {}),
      warn: (message) => process.emitWarning(message, 'FmvIngestWarning'),
    });
    await this.worker.start();
  }

  /** 'redis' when jobs are queued on Redis, else 'local'. */
  get queueKind(): 'local' | 'redis' {
    return this.redis ? 'redis' : 'local';
  }

  /** The queue worker of this process (Redis mode with `queue.worker`). */
  get queueWorker(): QueueWorker | undefined {
    return this.worker;
  }

  /** A Redis-mode submission, validated here; the worker publishes into its own (shared) storage. */
  private plan(input: string, options?: IngestOptions): SubmitPlan {
    const given = optionsObject(options, 'ingest options');
    for (const key of ['storage', 'outDir', 'tempDir'] as const) {
      if (given[key] !== undefined) throw invalid('unset in Redis mode (workers publish into their own storage and temporary directory)', key, key === 'storage' ? (given.storage as Storage).description : given[key]);
    }
    const { input: path, o } = this.validate(input, options);
    return {
      input: path,
      serviceName: o.serviceName,
      layerName: o.layerName,
      requestedResolutions: o.requestedResolutions,
      hwaccel: o.hwaccel,
      username: o.username,
      restUrl: o.restUrl,
      sourceName: o.sourceName,
      fileId: o.fileId,
      existingLayerIds: o.storage.existingLayerIds(o.serviceName),
      tag: o.tag,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.inputRoots !== undefined ? { inputRoots: o.inputRoots } : {}),
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
    };
  }

  /**
   * Submits an ingest in either mode and resolves once it is queued. In Redis mode it fails fast
   * (ERR_QUEUE_UNAVAILABLE) when Redis cannot be reached.
   */
  submit(input: string, options?: IngestOptions): Promise<SubmittedJob> {
    if (this.redis && this.backend.kind !== 'redis') return Promise.reject(new MediaError('A Redis-mode manager must be opened with JobManager.open()', { code: 'ERR_CLOSED', step: 'job' }));
    return this.backend.submit(input, options);
  }

  /** Any job's resource, from whatever node or worker runs it. */
  findJob(jobId: string): Promise<JobResource | undefined> {
    return this.backend.getJob(jobId);
  }

  /** Jobs newest first, with the total count. */
  findJobs(options: { limit?: number; offset?: number } = {}): Promise<JobPage> {
    return this.backend.listJobs(options);
  }

  /** Cancels a job wherever it is queued or running; false when it already ended or is unknown. */
  cancelJob(jobId: string): Promise<boolean> {
    return this.backend.cancel(jobId);
  }

  /** Resolves with the job's resource once it has ended. */
  waitForJob(jobId: string): Promise<JobResource> {
    return this.backend.waitFor(jobId);
  }

  /** Marks jobs of stopped processes FAILED and removes their temporary and staging files. */
  async recover(): Promise<JobResource[]> {
    const recovered: JobResource[] = [];
    for (const rec of this.store.activeJobs()) {
      if (this.live.has(rec.jobId) || ownerAlive(rec.owner, this.store)) continue;
      const resource = interruptedResource(rec.resource);
      this.store.updateJob(rec.jobId, { status: resource.status, resource, owner: null });
      if (rec.tempDir && isAbsolute(rec.tempDir)) await rm(rec.tempDir, { recursive: true, force: true });
      const storage = rec.storageRoot ? new LocalDirectoryStorage(rec.storageRoot) : this.storage;
      // Stopped at or after Saving To Storage: the layer may be committed, and a FAILED job must not
      // leave one published.
      const codes = rec.resource.customAttributes.messageCodes;
      const saving = codes.includes(stepByKey('videoFiles').code);
      if (rec.resource.customAttributes.live && storage) {
        // A live layer is written in place: what was recorded stays, its playlists ended.
        await finalizeLiveLayer(storage.location(rec.resource.results.serviceName, rec.resource.results.layerId));
        this.store.updateJob(rec.jobId, { tempDir: null });
        recovered.push(resource);
        continue;
      }
      await storage?.discard(
        rec.jobId,
        saving ? { jobId: rec.jobId, serviceName: rec.resource.results.serviceName, layerId: rec.resource.results.layerId } : undefined,
      );
      this.store.updateJob(rec.jobId, { tempDir: null });
      recovered.push(resource);
    }
    return recovered;
  }

  private validate(input: unknown, options: unknown): { input: string; o: ValidIngestOptions } {
    const source = checkString(input, 'input', { nonEmpty: true });
    const o = optionsObject(options, 'ingest options');
    checkKnownKeys(o, INGEST_OPTIONS, 'ingest options');
    if (o.storage !== undefined && !isStorage(o.storage)) throw invalid('a Storage (publish, existingLayerIds, discard, open)', 'storage', o.storage);
    if (o.storage !== undefined && o.outDir !== undefined) throw invalid('either storage or outDir, not both', 'outDir', o.outDir);
    const storage =
      o.storage !== undefined ? (o.storage as Storage) : o.outDir !== undefined ? new LocalDirectoryStorage(checkString(o.outDir, 'outDir', { nonEmpty: true })) : this.storage;
    if (!storage) throw invalid('a directory to publish into (or a storage)', 'outDir', o.outDir);
    const serviceName = o.serviceName !== undefined ? checkString(o.serviceName, 'serviceName', { nonEmpty: true }) : serviceNameFromFile(source);
    if (!SERVICE_NAME_PATTERN.test(serviceName)) throw invalid('a service name of letters, digits and underscores (at most 120)', 'serviceName', serviceName);
    const out: ValidIngestOptions = {
      storage,
      requestedResolutions: o.requestedResolutions !== undefined ? checkEnum(o.requestedResolutions, 'requestedResolutions', RESOLUTIONS) : this.defaults.requestedResolutions,
      hwaccel: o.hwaccel !== undefined ? checkEnum(o.hwaccel, 'hwaccel', HWACCELS) : this.defaults.hwaccel,
      username: o.username !== undefined ? checkString(o.username, 'username', { nonEmpty: true }) : this.defaults.username,
      serviceName,
      layerName: o.layerName !== undefined ? checkString(o.layerName, 'layerName', { nonEmpty: true }) : layerNameFromFile(source),
      tempRoot: o.tempDir !== undefined ? resolve(checkString(o.tempDir, 'tempDir', { nonEmpty: true })) : this.tempRoot,
      restUrl: o.restUrl !== undefined ? checkRestUrl(o.restUrl, 'restUrl') : this.restUrl,
      sourceName: o.sourceName !== undefined ? checkString(o.sourceName, 'sourceName', { nonEmpty: true }) : source,
      fileId: o.fileId !== undefined ? checkFileId(o.fileId) : newFileId(),
      tag: DEFAULT_TAG,
    };
    out.tag = o.tag !== undefined ? checkTag(o.tag, 'tag') : out.hwaccel === 'cuda' || out.hwaccel === 'vaapi' ? GPU_TAG : DEFAULT_TAG;
    if (o.signal !== undefined) out.signal = checkSignal(o.signal, 'signal');
    if (o.timeoutMs !== undefined) out.timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
    if (o.inputRoots !== undefined) out.inputRoots = checkInputRoots(o.inputRoots, 'inputRoots');
    // Local paths become absolute (the job may run after the working directory changed); URLs stay as they are.
    const isUrl = /^[A-Za-z][A-Za-z0-9+.-]+:/.test(source);
    return { input: isUrl ? source : resolve(source), o: out };
  }

  /** Submits an ingest and returns its job at once (SUBMITTED until a queue slot is free). */
  ingest(input: string, options?: IngestOptions): IngestJob {
    if (this.closed) throw new MediaError('The job manager is closed', { code: 'ERR_CLOSED', step: 'job' });
    this.refuseInRedisMode('ingest()', 'await manager.submit()');
    const { input: path, o } = this.validate(input, options);
    // A job that would start at once does not wait; past maxQueued waiting jobs, submitters are told to come back.
    if (this.queue.running >= this.queue.concurrency && this.queue.queued >= this.maxQueued) {
      throw new MediaError(`The job queue is full (${this.queue.queued} jobs waiting); try again later`, { code: 'ERR_QUEUE_FULL', step: 'job' });
    }
    const existing = o.storage.existingLayerIds(o.serviceName);
    const { service, layerId } = this.store.reserveLayer(o.serviceName, layerIdAfter(existing));
    const jobId = newJobId();
    const job = new IngestJob(
      {
        jobId,
        fileId: o.fileId,
        serviceItemId: service.serviceItemId,
        serviceName: o.serviceName,
        serviceUrl: `${o.restUrl}/services/${o.serviceName}/VideoServer`,
        layerId,
        layerName: o.layerName,
        requestedResolutions: o.requestedResolutions,
        username: o.username,
        source: o.sourceName,
      },
      (resource) => this.persist(jobId, resource),
    );
    const now = Date.now();
    this.store.insertJob({
      jobId,
      status: job.status,
      resource: job.toJSON(),
      input: path,
      tempDir: null,
      owner: this.owner,
      storageRoot: o.storage instanceof LocalDirectoryStorage ? o.storage.root : null,
      createdAt: now,
      updatedAt: now,
    });
    this.live.set(jobId, job);

    // Cancelled while still queued: it never starts.
    job.signal.addEventListener(
      'abort',
      () => {
        if (this.queue.remove(jobId)) job.fail('start', job.signal.reason as MediaError);
      },
      { once: true },
    );
    const external = o.signal;
    const onExternalAbort = (): void => void job.cancel();
    external?.addEventListener('abort', onExternalAbort, { once: true });
    void job.done
      .catch(() => undefined)
      .finally(() => {
        external?.removeEventListener('abort', onExternalAbort);
        this.live.delete(jobId);
      });

    this.queue.add(jobId, () =>
      runJob(job, {
        input: path,
        requestedResolutions: o.requestedResolutions,
        hwaccel: o.hwaccel,
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.inputRoots !== undefined ? { inputRoots: o.inputRoots } : {}),
        storage: o.storage,
        pipeline: this.pipeline,
        tempRoot: o.tempRoot,
        recordTempDir: (dir) => this.safeStore(() => this.store.updateJob(jobId, { tempDir: dir })),
      }),
    );
    if (external?.aborted) job.cancel();
    return job;
  }

  /**
   * Starts a live job: the feed at `streamAddress` is ingested straight into a new layer of
   * `serviceName` (read while it is written). The job is IN PROGRESS until `job.stop()` (or the
   * feed is lost past its reconnect window), then COMPLETED; `cancel()` discards the recording.
   * Live jobs do not wait in the queue: a feed cannot wait.
   */
  startLive(streamAddress: string, options: LiveJobOptions): IngestJob {
    if (this.closed) throw new MediaError('The job manager is closed', { code: 'ERR_CLOSED', step: 'job' });
    // A feed is received where it is ingested, and cannot wait in a queue for a worker.
    if (this.redis) throw new MediaError(`Live jobs run only in the in-process mode; this job manager queues on Redis (${this.redis.shown})`, { code: 'ERR_LIVE_LOCAL_ONLY', step: 'job' });
    const address = checkString(streamAddress, 'streamAddress', { nonEmpty: true });
    const o = optionsObject(options, 'live job options');
    const storage = o.storage !== undefined ? (o.storage as Storage) : o.outDir !== undefined ? new LocalDirectoryStorage(checkString(o.outDir, 'outDir', { nonEmpty: true })) : this.storage;
    if (!(storage instanceof LocalDirectoryStorage)) throw invalid('a local directory storage (a live layer is written in place)', 'storage', storage?.description);
    const serviceName = checkString(o.serviceName, 'serviceName', { nonEmpty: true });
    if (!SERVICE_NAME_PATTERN.test(serviceName)) throw invalid('a service name of letters, digits and underscores (at most 120)', 'serviceName', serviceName);
    const mode = o.mode !== undefined ? checkEnum(o.mode, 'mode', ['client', 'server'] as const) : 'client';
    const requestedResolutions = o.requestedResolutions !== undefined ? checkEnum(o.requestedResolutions, 'requestedResolutions', RESOLUTIONS) : this.defaults.requestedResolutions;
    const hwaccel = o.hwaccel !== undefined ? checkEnum(o.hwaccel, 'hwaccel', HWACCELS) : this.defaults.hwaccel;
    const restUrl = o.restUrl !== undefined ? checkRestUrl(o.restUrl, 'restUrl') : this.restUrl;
    const shown = redactStreamAddress(address);
    const existing = storage.existingLayerIds(serviceName);
    const { service, layerId } = this.store.reserveLayer(serviceName, layerIdAfter(existing));
    const jobId = newJobId();
    const job = new IngestJob(
      {
        jobId,
        fileId: newFileId(),
        serviceItemId: service.serviceItemId,
        serviceName,
        serviceUrl: `${restUrl}/services/${serviceName}/VideoServer`,
        layerId,
        layerName: o.layerName !== undefined ? checkString(o.layerName, 'layerName', { nonEmpty: true }) : `${serviceName} live`,
        requestedResolutions,
        username: o.username !== undefined ? checkString(o.username, 'username', { nonEmpty: true }) : this.defaults.username,
        source: shown,
      },
      (resource) => this.persist(jobId, resource),
    );
    const dir = storage.location(serviceName, layerId);
    const now = Date.now();
    this.store.insertJob({ jobId, status: job.status, resource: job.toJSON(), input: shown, tempDir: null, owner: this.owner, storageRoot: storage.root, createdAt: now, updatedAt: now });
    this.live.set(jobId, job);
    void runLiveJob(job, {
      input: address,
      streamAddress: shown,
      mode,
      dir,
      requestedResolutions,
      hwaccel,
      live: (o.live as LiveOptions | undefined) ?? {},
      ...(o.inputOptions !== undefined ? { inputOptions: o.inputOptions as Record<string, string> } : {}),
      onRun: (run) => (run ? this.liveRuns.set(jobId, run) : this.liveRuns.delete(jobId)),
    }).finally(() => this.live.delete(jobId));
    return job;
  }

  /** The running live ingest of a job (its telemetry and status), if it is one. */
  liveRun(jobId: string): LiveRun | undefined {
    return this.liveRuns.get(jobId);
  }

  /** The job that is ingesting a live feed into this layer now. */
  liveJobFor(serviceName: string, layerId: number): IngestJob | undefined {
    for (const job of this.live.values()) if (job.isLive && job.serviceName === serviceName && job.layerId === layerId) return job;
    return undefined;
  }

  private persist(jobId: string, resource: JobResource): void {
    this.safeStore(() =>
      this.store.updateJob(jobId, { status: resource.status, resource, ...(isTerminal(resource.status) ? { owner: null } : {}) }),
    );
  }

  /** A failing store must not take the ingest down with it; it is reported once. */
  private safeStore(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!this.storeWarned) {
        this.storeWarned = true;
        process.emitWarning(`fmv-ingest: the job store could not be updated: ${err instanceof Error ? err.message : String(err)}`, 'FmvIngestWarning');
      }
    }
  }

  /**
   * ERR_QUEUE_MODE: a synchronous read or submit of this process's own jobs, on a manager whose jobs
   * live in Redis (the in-process form would silently answer nothing).
   */
  private refuseInRedisMode(what: string, instead: string): void {
    if (this.redis) throw new MediaError(`This job manager queues on Redis (${this.redis.shown}): ${what} is for the in-process mode; use ${instead}`, { code: 'ERR_QUEUE_MODE', step: 'job' });
  }

  /** A job of this manager that has not finished yet. */
  job(jobId: string): IngestJob | undefined {
    return this.live.get(jobId);
  }

  /** The resource of any job in the store (live jobs read fresh). In Redis mode: use findJob(). */
  getJob(jobId: string): JobResource | undefined {
    this.refuseInRedisMode('getJob()', 'await manager.findJob(jobId)');
    const live = this.live.get(jobId);
    if (live) return live.toJSON();
    return this.store.getJob(jobId)?.resource;
  }

  /** Newest first. In Redis mode: use findJobs(). */
  listJobs(options: { limit?: number; offset?: number } = {}): JobResource[] {
    this.refuseInRedisMode('listJobs()', 'await manager.findJobs()');
    return this.store.listJobs(options).map((rec) => this.live.get(rec.jobId)?.toJSON() ?? rec.resource);
  }

  getService(serviceName: string): ServiceRecord | undefined {
    return this.store.getService(serviceName);
  }

  listServices(): ServiceRecord[] {
    return this.store.listServices();
  }

  /** The default storage, when one was configured. */
  get defaultStorage(): Storage | undefined {
    return this.storage;
  }

  /** Cancels the jobs still queued or running, waits for them to clean up, closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A worker finishes what it runs (a stopped one's jobs would be retried elsewhere).
    await this.worker?.close();
    await this.backend.close();
    // Live recordings are kept (stopped gracefully: playlists ended); other jobs are cancelled.
    for (const job of this.live.values()) if (!job.stop()) job.cancel();
    await Promise.all([...this.live.values()].map((j) => j.done.catch(() => undefined)));
    await this.queue.onIdle();
    clearInterval(this.beatTimer);
    this.safeStore(() => this.store.forgetOwner?.(this.owner));
    LIVE_INSTANCES.delete(this.instance);
    if (this.ownsStore) this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

let shared: JobManager | undefined;

/**
 * Ingests one input and returns its job at once. Jobs share one queue and an in-memory store;
 * use a JobManager for a persistent store or several storage defaults.
 */
export function ingest(input: string, options?: IngestOptions): IngestJob {
  // A long-lived process calling ingest() keeps the latest finished jobs only.
  shared ??= new JobManager({ store: new MemoryJobStore({ maxFinishedJobs: 1000 }) });
  return shared.ingest(input, options);
}
