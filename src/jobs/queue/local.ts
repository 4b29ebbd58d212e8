/**
 * The local backend: today's in-process queue (queue.ts) and this process's job store (SQLite or
 * memory), seen through the backend interface. The manager keeps running the jobs itself; this
 * only answers in the interface's terms.
 */
import { MediaError } from '../../errors.js';
import { isTerminal, type IngestJob, type JobResource } from '../job.js';
import type { IngestOptions } from '../manager.js';
import type { JobPage, QueueBackend, SubmittedJob } from './backend.js';

export interface LocalJobs {
  ingest(input: string, options?: IngestOptions): IngestJob;
  job(jobId: string): IngestJob | undefined;
  getJob(jobId: string): JobResource | undefined;
  listJobs(options: { limit?: number; offset?: number }): JobResource[];
  countJobs(): number;
}

/** A local job as a SubmittedJob: `finished` resolves with the resource however the job ends. */
export function localHandle(job: IngestJob): SubmittedJob {
  const finished = job.done.then(
    () => job.toJSON(),
    () => job.toJSON(),
  );
  return { id: job.id, finished, cancel: () => Promise.resolve(job.cancel()) };
}

export class LocalBackend implements QueueBackend {
  readonly kind = 'local' as const;

  constructor(private readonly local: LocalJobs) {}

  async submit(input: string, options?: IngestOptions): Promise<SubmittedJob> {
    return localHandle(this.local.ingest(input, options));
  }

  async getJob(jobId: string): Promise<JobResource | undefined> {
    return this.local.getJob(jobId);
  }

  async listJobs(options: { limit?: number; offset?: number }): Promise<JobPage> {
    return { total: this.local.countJobs(), jobs: this.local.listJobs(options) };
  }

  async cancel(jobId: string): Promise<boolean> {
    return this.local.job(jobId)?.cancel() ?? false;
  }

  async waitFor(jobId: string): Promise<JobResource> {
    const job = this.local.job(jobId);
    if (job) return localHandle(job).finished;
    const r = this.local.getJob(jobId);
    if (r && isTerminal(r.status)) return r;
    throw new MediaError(`No job ${jobId} in this process`, { code: 'ERR_JOB_NOT_FOUND', step: 'job' });
  }

  async close(): Promise<void> {
    // The manager closes its own queue and store.
  }
}
