/** Ingest jobs: the Video Server job resource, job store, storage, queue. */
export {
  IngestJob,
  RESOLUTIONS,
  JOB_TYPE,
  interruptedResource,
  type JobResource,
  type JobStatus,
  type JobProgress,
  type JobHardware,
  type JobWarning,
  type JobError,
  type JobOutputs,
  type JobKlvSummary,
  type JobTimings,
  type JobCustomAttributes,
  type IngestResult,
  type IngestJobEvent,
  type StepEvent,
  type Resolution,
} from './job.js';
export { JobManager, ingest, DEFAULT_REST_URL, type IngestOptions, type JobManagerOptions } from './manager.js';
export { STEPS, TRANSCODE_CPU, FAILURE_CODE_BASE, CANCELLED_CODE, CANCELLED_MESSAGE, messageCodeTable, type StepDefinition, type StepKey } from './steps.js';
export { newJobId, newFileId, newServiceItemId, serviceNameFromFile, sanitizeServiceName, layerNameFromFile, JOB_ID_PATTERN, SERVICE_NAME_PATTERN } from './ids.js';
export { JobQueue, defaultConcurrency } from './queue.js';
export type { QueueBackend, SubmittedJob, JobPage } from './queue/backend.js';
export type { RedisQueueOptions } from './queue/redis-options.js';
export { SqliteJobStore, MemoryJobStore, openJobStore, type JobStore, type StoredJob, type ServiceRecord } from './store.js';
export { LocalDirectoryStorage, safeRelativePath, isInside, type Storage, type StoredFile, type PublishTarget, type PublishedLayer } from './storage.js';
export { KlvOutputs, KLV_NDJSON, KLV_GEOJSON } from './klv-outputs.js';
export { STREAM_INFO_FILE, VIDEO_INFO_FILE } from './run.js';
export { syntheticFlight, synthesizeFlightClip, type SyntheticFlightOptions, type SyntheticFlightClipOptions } from './synthetic-flight.js';
