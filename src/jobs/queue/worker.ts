/**
 * A queue worker: takes jobs of its tags off the BullMQ queues and runs the same ingest steps as
 * the in-process mode (runJob), writing the resource into Redis as it goes (progress at most once
 * a second) and publishing into the shared storage with the usual staging-then-rename.
 *
 * A worker that stops (SIGKILL, power, network) stops renewing its lock; BullMQ's stalled-job
 * check on the other workers puts the job back on the queue and the next worker runs it again from
 * scratch: it first removes the dead run's staging (and a layer the dead run may have committed
 * without recording it, so nothing is published twice), then notes the retry as the resource's
 * first message. A job runs at most `retries` more times (default 1); after that it is FAILED
 * with ERR_INTERRUPTED. Cancels arrive over pub/sub and reach the running ingest at once.
 */
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { MediaError } from '../../errors.js';
import { IngestJob, interruptedResource, type HwAccel, type JobResource } from '../job.js';
import type { PipelineRunner } from '../pipeline-adapter.js';
import { runJob, transcodeStepFor } from '../run.js';
import { RETRY_CODE, RETRY_MESSAGE, stepByKey } from '../steps.js';
import { isInside, type Storage } from '../storage.js';
import { cancelledResource, queueName, type QueuedIngest } from './redis.js';
import { RedisJobs, redisKeys, type ClaimedJob } from './redis-jobs.js';
import { waitingConnectionOptions, type ValidRedisQueueOptions } from './redis-options.js';

export interface WorkerContext {
  storage: Storage;
  tempRoot: string;
  pipeline: PipelineRunner;
  /** Ingests run at once in this process, all tags together. */
  concurrency: number;
  /** Hardware path of jobs that ask for 'auto'. */
  hwaccel: HwAccel;
  /** This worker's input roots; when unset, those the submitting node gave. */
  inputRoots?: string[];
  warn(message: string): void;
}

/** Where a job ran: the host and the process. */
export interface WorkerIdentity {
  host: string;
  pid: number;
}

/** A counting semaphore: several tag queues share one limit. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class QueueWorker {
  readonly identity: WorkerIdentity = { host: hostname(), pid: process.pid };
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly jobs: RedisJobs;
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, IngestJob>();
  private readonly slots: Slots;
  private closed = false;

  constructor(
    private readonly o: ValidRedisQueueOptions,
    private readonly ctx: WorkerContext,
  ) {
    // Commands wait for a reconnect here: a worker's writes must land once Redis is back.
    this.client = new Redis(waitingConnectionOptions(o));
    this.subscriber = new Redis(waitingConnectionOptions(o));
    for (const c of [this.client, this.subscriber]) c.on('error', () => undefined);
    this.jobs = new RedisJobs(this.client, redisKeys(o.prefix), o.retainFinished);
    this.slots = new Slots(ctx.concurrency);
  }

  /** Jobs this worker runs now. */
  get active(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, jobId: string) => void this.running.get(jobId)?.cancel());
    await this.subscriber.subscribe(this.jobs.keys.cancel);
    for (const tag of this.o.tags) {
      const worker = new Worker<QueuedIngest>(queueName(tag), (job) => this.process(job), {
        connection: waitingConnectionOptions(this.o) as ConnectionOptions,
        prefix: this.jobs.keys.bull,
        concurrency: this.ctx.concurrency,
        lockDuration: this.o.lockMs,
        stalledInterval: this.o.lockMs,
        // One above the retries: the last stalled run still reaches a worker, which records the
        // failure in the resource and cleans up after it (see process()).
        maxStalledCount: this.o.retries + 1,
      });
      let warned = false;
      worker.on('error', (err) => {
        if (warned) return;
        warned = true;
        this.ctx.warn(`fmv-ingest: the worker for tag '${tag}' lost Redis at ${this.o.shown} (${err.message}); it reconnects by itself`);
      });
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private async process(entry: Job<QueuedIngest>): Promise<void> {
    const jobId = entry.id!;
    await this.slots.take();
    try {
      const token = `${this.identity.host}:${this.identity.pid}:${randomUUID()}`;
      const claim = await this.jobs.claim(jobId, token);
      if (claim.state === 'missing' || claim.state === 'terminal') return;
      const previous = claim.resource;
      if (claim.attempts > 1) await this.cleanUpAfter(claim);
      if (claim.state === 'cancelled') {
        await this.jobs.writeRun(token, cancelledResource(previous));
        return;
      }
      const gone = previous.customAttributes.worker;
      const who = gone ? `the worker ${gone.host}:${gone.pid}` : 'the worker';
      const why = `${who} running the job stopped before it finished (no word from it for ${Math.round(this.o.lockMs / 1000)} s)`;
      if (claim.attempts > 1 + this.o.retries) {
        const runs = claim.attempts - 1;
        await this.jobs.writeRun(token, stoppedResource(previous, `${why}; no retry is left (it ran ${runs} time${runs === 1 ? '' : 's'})`));
        return;
      }
      await this.run(entry.data, previous, token, claim.attempts, claim.attempts > 1 ? `${RETRY_MESSAGE}: ${why}; attempt ${claim.attempts} of ${1 + this.o.retries}` : undefined);
    } finally {
      this.slots.give();
    }
  }

  /** A stopped run's leftovers: its temporary directory, its staging, a layer it committed unrecorded. */
  private async cleanUpAfter(claim: ClaimedJob): Promise<void> {
    const r = claim.resource;
    // The run's own directory (<tempRoot>/<jobId>.run<n>/<jobId>), parent included.
    const runRoot = claim.tempDir && isAbsolute(claim.tempDir) ? dirname(claim.tempDir) : undefined;
    if (runRoot && basename(runRoot).startsWith(`${r.jobId}.run`) && (claim.tempHost === this.identity.host || isInside(this.ctx.tempRoot, runRoot))) {
      await rm(runRoot, { recursive: true, force: true }).catch(() => undefined);
    }
    // Stopped at or after Video Files Created: the rename may have happened.
    const committed = r.customAttributes.messageCodes.includes(stepByKey('videoFiles').code);
    await this.ctx.storage
      .discard(r.jobId, committed ? { jobId: r.jobId, serviceName: r.results.serviceName, layerId: r.results.layerId } : undefined)
      .catch((err: unknown) => this.ctx.warn(`fmv-ingest: could not clean up after job ${r.jobId}: ${(err as Error).message}`));
  }

  private async run(data: QueuedIngest, previous: JobResource, token: string, attempt: number, retryNote: string | undefined): Promise<void> {
    const jobId = previous.jobId;
    const submitted = previous.customAttributes.timings.submitted;
    const offset = Math.max(0, Date.now() - Date.parse(submitted));
    const pending = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>): void => {
      const q = p.catch((err: unknown) => this.ctx.warn(`fmv-ingest: the resource of job ${jobId} could not be written: ${(err as Error).message}`));
      pending.add(q);
      void q.finally(() => pending.delete(q));
    };
    let lost = false;
    const job = new IngestJob(
      {
        jobId,
        fileId: previous.inputs.fileIds,
        serviceItemId: previous.inputs.serviceItemId,
        serviceName: previous.results.serviceName,
        serviceUrl: previous.inputs.serviceUrl,
        layerId: previous.results.layerId,
        layerName: previous.results.layerName,
        requestedResolutions: previous.inputs.requestedResolutions,
        username: previous.username,
        source: previous.customAttributes.source,
      },
      (resource) => {
        const r = this.decorate(resource, submitted, offset, retryNote);
        // Commands on one connection keep their order: the last write is the last state.
        track(
          this.jobs.writeRun(token, r).then((ok) => {
            // Another run holds the job now (this one was taken for gone): stop, publish nothing.
            if (!ok && !lost) {
              lost = true;
              job.cancel();
            }
          }),
        );
      },
    );
    this.running.set(jobId, job);
    // Each run has its own temporary directory: a run taken for gone may still be writing its own.
    const runRoot = join(this.ctx.tempRoot, `${jobId}.run${attempt}`);
    try {
      await runJob(job, {
        input: data.input,
        requestedResolutions: data.requestedResolutions,
        hwaccel: data.hwaccel === 'auto' ? this.ctx.hwaccel : data.hwaccel,
        ...(data.timeoutMs !== undefined ? { timeoutMs: data.timeoutMs } : {}),
        ...((this.ctx.inputRoots ?? data.inputRoots) ? { inputRoots: this.ctx.inputRoots ?? data.inputRoots } : {}),
        storage: this.guardedStorage(jobId, token, () => lost),
        pipeline: this.ctx.pipeline,
        tempRoot: runRoot,
        recordTempDir: (dir) => track(this.jobs.recordTempDir(jobId, dir, this.identity.host)),
      });
    } finally {
      this.running.delete(jobId);
      await rm(runRoot, { recursive: true, force: true }).catch(() => undefined);
      await Promise.all([...pending]);
    }
  }

  /**
   * The shared storage as one run sees it: it publishes only while the run still holds the job
   * (checked in Redis right before the commit), and a run that lost the job leaves the staging
   * alone (it may be the new run's).
   */
  private guardedStorage(jobId: string, token: string, lost: () => boolean): Storage {
    const s = this.ctx.storage;
    return {
      description: s.description,
      existingLayerIds: (name) => s.existingLayerIds(name),
      location: (name, layerId) => s.location(name, layerId),
      open: (name, layerId, path) => s.open(name, layerId, path),
      publish: async (staged, target, options) => {
        if (lost() || !(await this.jobs.holdsRun(jobId, token))) {
          throw new MediaError('Another worker runs this job now (this worker was taken for gone); nothing was published', { code: 'ERR_CANCELLED', step: 'storage' });
        }
        return s.publish(staged, target, options);
      },
      discard: (id, committed) => (lost() ? Promise.resolve() : s.discard(id, committed)),
    };
  }

  /** The resource as the shared record holds it: the worker, the submission time, a retry note first. */
  private decorate(resource: JobResource, submitted: string, offset: number, retryNote: string | undefined): JobResource {
    const c = resource.customAttributes;
    c.timings.submitted = submitted;
    c.timings.messageMs = c.timings.messageMs.map((ms) => ms + offset);
    if (retryNote) {
      resource.messages.unshift(retryNote);
      c.messageCodes.unshift(RETRY_CODE);
      c.timings.messageMs.unshift(offset);
    }
    c.worker = { ...this.identity };
    return resource;
  }

  /** Stops taking jobs and waits for the running ones to finish. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close().catch(() => undefined)));
    this.subscriber.disconnect();
    this.client.disconnect();
  }

  /** Stops at once: running ingests are cancelled and cleaned up (their jobs end CANCELLED). */
  async abort(): Promise<void> {
    for (const job of this.running.values()) job.cancel();
    await this.close();
  }
}

/** FAILED with ERR_INTERRUPTED and our own reason. */
function stoppedResource(previous: JobResource, why: string): JobResource {
  const r = interruptedResource({ ...previous, status: 'IN PROGRESS' });
  const e = r.customAttributes.error!;
  // The pass step in the words of the path that ran (interruptedResource names the GPU one).
  if (e.failedStep.code === stepByKey('transcode').code) {
    const t = transcodeStepFor(previous.customAttributes.hardware, 'auto');
    e.failedStep = { code: t.code, message: t.message };
  }
  r.messages[r.messages.length - 1] = `${e.failedStep.message} failed: ${why}`;
  e.message = `The ingest was interrupted: ${why}`;
  return r;
}
