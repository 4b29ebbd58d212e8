/**
 * The Redis backend: jobs go onto BullMQ queues (one per worker tag), their resources live in
 * Redis next to them (see redis-jobs.ts), so any node submits, lists, reads and cancels any job.
 * Submitting fails fast when Redis is unreachable (ERR_QUEUE_UNAVAILABLE naming the URL): the
 * connection has no offline queue and the whole submission is bounded to 2 s.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { MediaError } from '../../errors.js';
import { layerIdAfter, newJobId } from '../ids.js';
import { IngestJob, isTerminal, orderedResource, type HwAccel, type JobResource, type Resolution } from '../job.js';
import type { IngestOptions } from '../manager.js';
import { CANCELLED_CODE, CANCELLED_MESSAGE, stepByKey } from '../steps.js';
import type { JobPage, QueueBackend, SubmittedJob } from './backend.js';
import { RedisJobs, redisKeys } from './redis-jobs.js';
import { fastConnection, queueUnavailable, whenReady, type ValidRedisQueueOptions } from './redis-options.js';

/** What the manager validated of one submission. */
export interface SubmitPlan {
  input: string;
  serviceName: string;
  layerName: string;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  username: string;
  restUrl: string;
  sourceName: string;
  fileId: string;
  timeoutMs?: number;
  inputRoots?: string[];
  /** Layer ids the service already has in storage. */
  existingLayerIds: number[];
  tag: string;
  signal?: AbortSignal;
}

/** The BullMQ job's data: what a worker needs besides the stored resource. */
export interface QueuedIngest {
  input: string;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  timeoutMs?: number;
  inputRoots?: string[];
}

export const SUBMIT_TIMEOUT_MS = 2000;
const POLL_MS = 200;

export function queueName(tag: string): string {
  return `ingest-${tag}`;
}

/** The resource of a job cancelled before a worker took it. */
export function cancelledResource(stored: JobResource, at = new Date()): JobResource {
  const r = orderedResource(stored);
  const submitted = Date.parse(r.customAttributes.timings.submitted);
  const start = stepByKey('start');
  r.messages.push(CANCELLED_MESSAGE);
  r.customAttributes.messageCodes.push(CANCELLED_CODE);
  r.customAttributes.timings.messageMs.push(Number.isFinite(submitted) ? Math.max(0, at.getTime() - submitted) : 0);
  r.customAttributes.timings.finished = at.toISOString();
  r.customAttributes.savingToStorage = false;
  r.customAttributes.progress = null;
  r.customAttributes.error = { code: 'ERR_CANCELLED', step: 'job', message: 'The ingest was cancelled', failedStep: { code: start.code, message: start.message } };
  r.status = 'CANCELLED';
  return r;
}

function bounded<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class RedisBackend implements QueueBackend {
  readonly kind = 'redis' as const;
  readonly jobs: RedisJobs;
  private readonly client: Redis;
  private readonly queues = new Map<string, Queue>();
  private closed = false;

  private constructor(
    readonly options: ValidRedisQueueOptions,
    private readonly plan: (input: string, options?: IngestOptions) => SubmitPlan,
  ) {
    this.client = fastConnection(options);
    this.jobs = new RedisJobs(this.client, redisKeys(options.prefix), options.retainFinished);
  }

  /** Connects (at most 5 s) and returns the backend. */
  static async open(options: ValidRedisQueueOptions, plan: (input: string, options?: IngestOptions) => SubmitPlan): Promise<RedisBackend> {
    const backend = new RedisBackend(options, plan);
    try {
      await whenReady(backend.client, options.shown, 5000);
    } catch (err) {
      await backend.close();
      throw err;
    }
    return backend;
  }

  queue(tag: string): Queue {
    let q = this.queues.get(tag);
    if (!q) {
      q = new Queue(queueName(tag), { connection: this.client, prefix: this.jobs.keys.bull, skipWaitingForReady: true });
      q.on('error', () => undefined);
      this.queues.set(tag, q);
    }
    return q;
  }

  private unavailable(err: unknown, what?: string): MediaError {
    return err instanceof MediaError ? err : queueUnavailable(this.options.shown, err, what);
  }

  async submit(input: string, options?: IngestOptions): Promise<SubmittedJob> {
    if (this.closed) throw new MediaError('The job manager is closed', { code: 'ERR_CLOSED', step: 'job' });
    const p = this.plan(input, options);
    // Refused at once while disconnected: a request must not hang on a queue that is not there.
    if (this.client.status !== 'ready') throw queueUnavailable(this.options.shown, new Error(`connection ${this.client.status}`));
    const enqueued = this.enqueue(p);
    const jobId = await bounded(SUBMIT_TIMEOUT_MS, enqueued).catch((err: unknown) => {
      // Too slow: the caller is told the job was not accepted, so one that lands later is cancelled.
      enqueued.then((id) => this.cancel(id), () => undefined).catch(() => undefined);
      throw this.unavailable(err);
    });
    const handle = this.handle(jobId);
    p.signal?.addEventListener('abort', () => void handle.cancel().catch(() => undefined), { once: true });
    if (p.signal?.aborted) await handle.cancel().catch(() => undefined);
    return handle;
  }

  private async enqueue(p: SubmitPlan): Promise<string> {
    const existing = p.existingLayerIds;
    const { service, layerId } = await this.jobs.reserveLayer(p.serviceName, layerIdAfter(existing));
    const jobId = newJobId();
    const resource = new IngestJob(
      {
        jobId,
        fileId: p.fileId,
        serviceItemId: service.serviceItemId,
        serviceName: p.serviceName,
        serviceUrl: `${p.restUrl}/services/${p.serviceName}/VideoServer`,
        layerId,
        layerName: p.layerName,
        requestedResolutions: p.requestedResolutions,
        username: p.username,
        source: p.sourceName,
      },
      () => undefined,
    ).toJSON();
    await this.jobs.insert(resource, p.input, p.tag);
    const data: QueuedIngest = {
      input: p.input,
      requestedResolutions: p.requestedResolutions,
      hwaccel: p.hwaccel,
      ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
      ...(p.inputRoots !== undefined ? { inputRoots: p.inputRoots } : {}),
    };
    try {
      // An ingest's own failure is recorded in its resource and not retried (the input would fail
      // again): the worker's processor does not throw for it. BullMQ's attempts cover a worker that
      // could not talk to Redis when it took the job; a worker that stops is taken care of by
      // stalled-job detection (see worker.ts).
      await this.queue(p.tag).add('ingest', data, { jobId, attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: true });
    } catch (err) {
      await this.jobs.remove(jobId).catch(() => undefined);
      throw err;
    }
    return jobId;
  }

  private handle(jobId: string): SubmittedJob {
    let finished: Promise<JobResource> | undefined;
    const wait = (): Promise<JobResource> => (finished ??= this.waitFor(jobId));
    return {
      id: jobId,
      // Polled only when someone asks.
      get finished() {
        return wait();
      },
      cancel: () => this.cancel(jobId),
    };
  }

  async getJob(jobId: string): Promise<JobResource | undefined> {
    return this.jobs.get(jobId).catch((err: unknown) => {
      throw this.unavailable(err, 'the job could not be read');
    });
  }

  async listJobs(options: { limit?: number; offset?: number }): Promise<JobPage> {
    return this.jobs.list(options.limit, options.offset ?? 0).catch((err: unknown) => {
      throw this.unavailable(err, 'the jobs could not be read');
    });
  }

  async cancel(jobId: string): Promise<boolean> {
    try {
      const stored = await this.jobs.get(jobId);
      if (!stored || isTerminal(stored.status)) return false;
      await this.jobs.requestCancel(jobId);
      // Still waiting: it ends here. Held by a worker: that worker stops it (told over pub/sub).
      const tag = (await this.jobs.tagOf(jobId)) ?? 'default';
      const removed = await this.queue(tag)
        .remove(jobId)
        .catch(() => 0);
      if (removed === 1) await this.jobs.writeUnclaimed(cancelledResource(stored));
      return true;
    } catch (err) {
      throw this.unavailable(err, 'the job could not be cancelled');
    }
  }

  async waitFor(jobId: string): Promise<JobResource> {
    for (;;) {
      // null: Redis did not answer (try again); undefined: no such record.
      const r = await this.jobs.get(jobId).catch(() => null);
      if (r === undefined) {
        throw new MediaError(`No job ${jobId} in the queue at ${this.options.shown} (never submitted, or removed after it ended: see queue.retainFinished)`, { code: 'ERR_JOB_NOT_FOUND', step: 'job' });
      }
      if (r && isTerminal(r.status)) return r;
      if (this.closed) throw new MediaError('The job manager is closed', { code: 'ERR_CLOSED', step: 'job' });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.client.disconnect();
  }
}
