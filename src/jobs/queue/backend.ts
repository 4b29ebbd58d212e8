/**
 * The one interface JobManager queues through. Two backends: 'local' (the in-process queue and the
 * job store of this process: SQLite or memory) and 'redis' (a BullMQ queue on Redis, with the job
 * resources next to it so every node reads them). Reads are asynchronous because the shared
 * backend answers over the network.
 */
import type { JobResource } from '../job.js';
import type { IngestOptions } from '../manager.js';

/** A submitted job, as any node sees it. */
export interface SubmittedJob {
  readonly id: string;
  /** Settles when the job ends: COMPLETED resolves, FAILED and CANCELLED resolve too (read status). */
  readonly finished: Promise<JobResource>;
  /** Asks the job to stop; false when it already ended or is unknown. */
  cancel(): Promise<boolean>;
}

export interface JobPage {
  total: number;
  jobs: JobResource[];
}

export interface QueueBackend {
  readonly kind: 'local' | 'redis';
  /** Accepts an ingest; resolves once the job is queued (in Redis mode: stored there). */
  submit(input: string, options?: IngestOptions): Promise<SubmittedJob>;
  /** The job's resource, wherever it runs (live progress included). */
  getJob(jobId: string): Promise<JobResource | undefined>;
  /** Newest first. */
  listJobs(options: { limit?: number; offset?: number }): Promise<JobPage>;
  /** Cancels a queued or running job, on whatever node or worker holds it. */
  cancel(jobId: string): Promise<boolean>;
  /** Resolves with the resource once the job has ended. */
  waitFor(jobId: string): Promise<JobResource>;
  close(): Promise<void>;
}
