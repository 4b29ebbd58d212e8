/**
 * IngestJob: one ingest, its state machine and its resource JSON in the exact shape of Video
 * Server's GET /jobs/job/<jobId>. The runner drives the transitions; users read the job through
 * events, `await job.done`, `for await (const event of job)` and `job.toJSON()`.
 */
import { EventEmitter } from 'node:events';
import { MediaError } from '../errors.js';
import { HWACCELS, TIERS, type HwAccel, type Tier } from '../pipeline-options.js';
import { CANCELLED_CODE, CANCELLED_MESSAGE, STEPS, TRANSCODE_CPU, failureCode, failureMessage, stepByKey, type StepDefinition, type StepKey } from './steps.js';

/** Video Server's requestedResolutions: the highest tier of the ladder. */
export type Resolution = Tier;
export const RESOLUTIONS: readonly Resolution[] = TIERS;
export { HWACCELS, type HwAccel };
export type JobStatus = 'SUBMITTED' | 'IN PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export const JOB_TYPE = 'Publish Streaming Service';

export interface JobProgress {
  /** Message of the step the job is working on. */
  step: string;
  /** Percent of the single pass done, null while unknown. */
  percent: number | null;
  frames: number;
  /** Seconds of video encoded. */
  outTime: number;
  fps: number;
  /** Encoded seconds per wall-clock second. */
  speed: number;
  /** Seconds left in the pass, null while unknown. */
  eta: number | null;
}

export interface JobHardware {
  requested: string;
  used: string;
  reason: string;
  device: string;
  decoder: string;
  encoder: string;
  /** 'swscale', 'scale_cuda' or 'scale_vaapi'. */
  scaler?: string;
  /** True when a part of the requested path could not run (the reason says which). */
  fallback?: boolean;
  [more: string]: unknown;
}

export interface JobWarning {
  code: string;
  message: string;
}

export interface JobError {
  /** Stable MediaError code, e.g. ERR_NO_VIDEO_STREAM. */
  code: string;
  /** The MediaError's own step (open, probe, decode, storage, ...). */
  step: string;
  message: string;
  /** The job step that failed: its success-path code and message. */
  failedStep: { code: number; message: string };
  averror?: number;
  averrorText?: string;
}

export interface JobOutputs {
  /** Where storage put the layer (a directory for local storage). */
  location: string;
  masterPlaylist: string;
  files: number;
  bytes: number;
  renditions: Array<Record<string, unknown>>;
}

export interface JobKlvSummary {
  units: number;
  packets: number;
  standards: Record<string, number>;
  checksumFailures: number;
  decodeErrors: number;
  features: number;
}

export interface JobTimings {
  submitted: string;
  started: string | null;
  finished: string | null;
  /** Milliseconds from the start of the job to each message, index for index. */
  messageMs: number[];
}

/** A live job's counters, refreshed about once a second while it runs. */
export interface JobLiveStatus {
  /** The feed's address, credentials removed. */
  streamAddress: string;
  mode: 'client' | 'server';
  /** starting, live, stalled, stopping, ended, failed. */
  state: string;
  /** Input bit rate over the last seconds (bits/s). */
  inputBitrate: number;
  bytesRead: number;
  /** Segments listed in the top rendition's playlist. */
  segments: number;
  /** Damaged transport packets seen (losses on the way). */
  packetsLost: number;
  /** Times the feed went silent and came back. */
  reconnects: number;
  /** Seconds between a frame's arrival and its encoding (latest). */
  latencySeconds: number | null;
  klvPackets: number;
  /** When the feed started and when its latest KLV packet arrived (ISO 8601). */
  liveSince: string | null;
  lastKlvAt: string | null;
}

/** What fmv-ingest adds to Video Server's customAttributes (after its own three keys). */
export interface JobCustomAttributes {
  messageCodes: number[];
  savingToStorage: boolean;
  newLayerId: number;
  source: string;
  progress: JobProgress | null;
  hardware: JobHardware | null;
  warnings: JobWarning[];
  klv: JobKlvSummary | null;
  outputs: JobOutputs | null;
  timings: JobTimings;
  /** The tail of what FFmpeg logged (warnings and errors) during the pass. */
  log: string[];
  error: JobError | null;
  /** Live jobs only (absent for on-demand ones). */
  live?: JobLiveStatus;
  /** Jobs run by a queue worker process (Redis mode): which one ran the latest attempt. */
  worker?: { host: string; pid: number };
}

export interface JobResource {
  jobId: string;
  inputs: { serviceItemId: string; requestedResolutions: Resolution; fileIds: string; serviceUrl: string };
  messages: string[];
  type: typeof JOB_TYPE;
  results: { layerId: number; layerName: string; serviceName: string };
  status: JobStatus;
  username: string;
  customAttributes: JobCustomAttributes;
}

export interface StepEvent {
  code: number;
  message: string;
  /** Position of the message in messages[]. */
  index: number;
}

export interface IngestResult {
  job: JobResource;
  /** Where the outputs were published (a directory for local storage). */
  location: string;
  /** The master playlist inside location. */
  masterPlaylist: string;
  /** Published files, relative to location. */
  files: string[];
}

export type IngestJobEvent =
  | ({ type: 'step' } & StepEvent)
  | ({ type: 'progress' } & JobProgress)
  | ({ type: 'warning' } & JobWarning)
  | { type: 'done'; result: IngestResult }
  | { type: 'failed'; status: 'FAILED' | 'CANCELLED'; error: MediaError };

export interface JobIdentity {
  jobId: string;
  fileId: string;
  serviceItemId: string;
  serviceName: string;
  serviceUrl: string;
  layerId: number;
  layerName: string;
  requestedResolutions: Resolution;
  username: string;
  source: string;
}

/** Builds a resource with keys in the contract's order whatever order the parts come in. */
export function orderedResource(r: JobResource): JobResource {
  const c = r.customAttributes;
  return {
    jobId: r.jobId,
    inputs: {
      serviceItemId: r.inputs.serviceItemId,
      requestedResolutions: r.inputs.requestedResolutions,
      fileIds: r.inputs.fileIds,
      serviceUrl: r.inputs.serviceUrl,
    },
    messages: [...r.messages],
    type: JOB_TYPE,
    results: { layerId: r.results.layerId, layerName: r.results.layerName, serviceName: r.results.serviceName },
    status: r.status,
    username: r.username,
    customAttributes: {
      messageCodes: [...c.messageCodes],
      savingToStorage: c.savingToStorage,
      newLayerId: c.newLayerId,
      source: c.source,
      progress: c.progress ? { ...c.progress } : null,
      hardware: c.hardware ? { ...c.hardware } : null,
      warnings: c.warnings.map((w) => ({ ...w })),
      klv: c.klv ? { ...c.klv, standards: { ...c.klv.standards } } : null,
      outputs: c.outputs ? { ...c.outputs, renditions: c.outputs.renditions.map((x) => ({ ...x })) } : null,
      timings: { ...c.timings, messageMs: [...c.timings.messageMs] },
      log: [...(c.log ?? [])],
      error: c.error ? { ...c.error, failedStep: { ...c.error.failedStep } } : null,
      ...(c.live ? { live: { ...c.live } } : {}),
      ...(c.worker ? { worker: { host: c.worker.host, pid: c.worker.pid } } : {}),
    },
  };
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  SUBMITTED: ['IN PROGRESS', 'FAILED', 'CANCELLED'],
  'IN PROGRESS': ['COMPLETED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.has(status);
}

/** Persists a job's resource; called on every state change (progress at most once a second). */
export type JobPersister = (resource: JobResource, change: 'state' | 'progress') => void;

export declare interface IngestJob {
  on(event: 'step', listener: (e: StepEvent) => void): this;
  on(event: 'progress', listener: (p: JobProgress) => void): this;
  on(event: 'warning', listener: (w: JobWarning) => void): this;
  on(event: 'done', listener: (r: IngestResult) => void): this;
  on(event: 'failed', listener: (e: MediaError) => void): this;
  once(event: 'step', listener: (e: StepEvent) => void): this;
  once(event: 'progress', listener: (p: JobProgress) => void): this;
  once(event: 'warning', listener: (w: JobWarning) => void): this;
  once(event: 'done', listener: (r: IngestResult) => void): this;
  once(event: 'failed', listener: (e: MediaError) => void): this;
}

/**
 * One ingest. Created by `ingest()` / `JobManager.ingest()`, never directly.
 * `done` resolves with the published outputs when the job is COMPLETED and rejects with a
 * MediaError when it is FAILED or CANCELLED (ERR_CANCELLED).
 */
export class IngestJob extends EventEmitter implements AsyncIterable<IngestJobEvent> {
  readonly id: string;
  readonly done: Promise<IngestResult>;
  private resource: JobResource;
  private readonly controller = new AbortController();
  private readonly startedAt: number;
  private readonly persist: JobPersister;
  private lastProgressPersist = 0;
  private resolveDone!: (r: IngestResult) => void;
  private rejectDone!: (e: MediaError) => void;
  private readonly iterators = new Set<EventSink>();
  private terminalEvent: IngestJobEvent | undefined;
  private published = false;
  private stopper: (() => void) | undefined;

  /** @internal */
  constructor(identity: JobIdentity, persist: JobPersister) {
    super();
    this.id = identity.jobId;
    this.persist = persist;
    this.startedAt = Date.now();
    this.done = new Promise<IngestResult>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // Users who only listen to events must not get an unhandled rejection.
    this.done.catch(() => undefined);
    this.resource = {
      jobId: identity.jobId,
      inputs: {
        serviceItemId: identity.serviceItemId,
        requestedResolutions: identity.requestedResolutions,
        fileIds: identity.fileId,
        serviceUrl: identity.serviceUrl,
      },
      messages: [],
      type: JOB_TYPE,
      results: { layerId: identity.layerId, layerName: identity.layerName, serviceName: identity.serviceName },
      status: 'SUBMITTED',
      username: identity.username,
      customAttributes: {
        messageCodes: [],
        savingToStorage: false,
        newLayerId: identity.layerId,
        source: identity.source,
        progress: null,
        hardware: null,
        warnings: [],
        klv: null,
        outputs: null,
        timings: { submitted: new Date(this.startedAt).toISOString(), started: null, finished: null, messageMs: [] },
        log: [],
        error: null,
      },
    };
  }

  get status(): JobStatus {
    return this.resource.status;
  }

  get serviceName(): string {
    return this.resource.results.serviceName;
  }

  get layerId(): number {
    return this.resource.results.layerId;
  }

  /** Aborted when the job is cancelled (the runner passes it to every stage). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The job resource: exactly the shape and key order of Video Server's job JSON. */
  toJSON(): JobResource {
    return orderedResource(this.resource);
  }

  /**
   * Cancels the job: a queued job ends at once, a running one stops at the next packet and
   * removes its temporary files. Returns false when the job already ended or its outputs are
   * already in storage.
   */
  cancel(): boolean {
    if (isTerminal(this.status) || this.published) return false;
    if (!this.controller.signal.aborted) this.controller.abort(new MediaError('The ingest was cancelled', { code: 'ERR_CANCELLED', step: 'job' }));
    return true;
  }

  /**
   * Ends a live job gracefully: every playlist is finished, the telemetry completed, and the job
   * becomes COMPLETED. Returns false for a job that is not live or has ended.
   */
  stop(): boolean {
    if (isTerminal(this.status) || !this.stopper) return false;
    this.stopper();
    return true;
  }

  /** True for a job ingesting a live feed. */
  get isLive(): boolean {
    return this.resource.customAttributes.live !== undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    await this.done.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<IngestJobEvent> {
    const sink = new EventSink();
    if (this.terminalEvent) sink.push(this.terminalEvent, true);
    else this.iterators.add(sink);
    return {
      next: () => sink.next(),
      return: () => {
        this.iterators.delete(sink);
        sink.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  // ---- transitions, driven by the runner -------------------------------------------------

  /** @internal */
  markStarted(): void {
    this.transition('IN PROGRESS');
    this.resource.customAttributes.timings.started = new Date().toISOString();
    this.save('state');
  }

  /** @internal Appends a step's message (and its code) when that part of the work is finished. */
  appendStep(step: StepDefinition): void {
    const r = this.resource;
    r.messages.push(step.message);
    r.customAttributes.messageCodes.push(step.code);
    r.customAttributes.timings.messageMs.push(Date.now() - this.startedAt);
    const index = r.messages.length - 1;
    this.save('state');
    const event: StepEvent = { code: step.code, message: step.message, index };
    this.notify('step', event);
    this.broadcast({ type: 'step', ...event });
  }

  /** @internal Steps of the success path not yet appended, in order. */
  nextStepKey(): StepKey | undefined {
    const codes = this.resource.customAttributes.messageCodes;
    for (const step of STEPS) {
      const code = step.key === 'transcode' ? [step.code, TRANSCODE_CPU.code] : [step.code];
      if (!codes.some((c) => code.includes(c))) return step.key;
    }
    return undefined;
  }

  /** @internal */
  setProgress(p: JobProgress): void {
    this.resource.customAttributes.progress = p;
    const now = Date.now();
    if (now - this.lastProgressPersist >= 1000) {
      this.lastProgressPersist = now;
      this.save('progress');
    }
    this.notify('progress', p);
    this.broadcast({ type: 'progress', ...p });
  }

  /** @internal A live job's graceful end (see stop()). */
  setStopper(fn: (() => void) | undefined): void {
    this.stopper = fn;
  }

  /** @internal Live counters; persisted at most once a second, as progress is. */
  setLive(status: JobLiveStatus, persist: 'now' | 'throttled' = 'throttled'): void {
    this.resource.customAttributes.live = status;
    const now = Date.now();
    if (persist === 'now' || now - this.lastProgressPersist >= 1000) {
      this.lastProgressPersist = now;
      this.save(persist === 'now' ? 'state' : 'progress');
    }
  }

  /** @internal */
  setHardware(h: JobHardware): void {
    this.resource.customAttributes.hardware = h;
    this.save('state');
  }

  /** @internal */
  addWarning(w: JobWarning): void {
    this.resource.customAttributes.warnings.push(w);
    this.save('state');
    this.notify('warning', w);
    this.broadcast({ type: 'warning', ...w });
  }

  /** @internal */
  setKlvSummary(k: JobKlvSummary): void {
    this.resource.customAttributes.klv = k;
    this.save('state');
  }

  /** @internal Keeps the last lines only: the resource stays small. */
  setLog(lines: readonly string[]): void {
    this.resource.customAttributes.log = lines.slice(-20).map((l) => (l.length > 500 ? `${l.slice(0, 497)}...` : l));
    this.save('state');
  }

  /** @internal */
  setSavingToStorage(saving: boolean): void {
    this.resource.customAttributes.savingToStorage = saving;
    this.save('state');
  }

  /** @internal Once the outputs are in storage the job can no longer be cancelled. */
  markPublished(outputs: JobOutputs): void {
    this.published = true;
    this.resource.customAttributes.outputs = outputs;
    this.save('state');
  }

  /** @internal */
  complete(result: Omit<IngestResult, 'job'>): void {
    const step = stepByKey('complete');
    this.appendStep(step);
    this.resource.customAttributes.progress = null;
    this.finish('COMPLETED');
    const full: IngestResult = { job: this.toJSON(), ...result };
    this.terminalEvent = { type: 'done', result: full };
    this.resolveDone(full);
    this.notify('done', full);
    this.broadcast(this.terminalEvent, true);
  }

  /**
   * @internal Ends the job as FAILED (the failing step's message last, details under
   * customAttributes.error) or CANCELLED when the error is ERR_CANCELLED.
   */
  fail(stepKey: StepKey, error: MediaError, transcodeStep?: StepDefinition): void {
    if (isTerminal(this.status)) return;
    const base = stepKey === 'transcode' && transcodeStep ? transcodeStep : stepByKey(stepKey);
    const cancelled = error.code === 'ERR_CANCELLED';
    const r = this.resource;
    const why = firstLine(error.message);
    r.messages.push(cancelled ? CANCELLED_MESSAGE : failureMessage(base, why));
    r.customAttributes.messageCodes.push(cancelled ? CANCELLED_CODE : failureCode(stepKey));
    r.customAttributes.timings.messageMs.push(Date.now() - this.startedAt);
    r.customAttributes.savingToStorage = false;
    r.customAttributes.progress = null;
    r.customAttributes.error = {
      code: error.code,
      step: error.step,
      message: error.message,
      failedStep: { code: base.code, message: base.message },
      ...(error.averror !== undefined ? { averror: error.averror } : {}),
      ...(error.averrorText !== undefined ? { averrorText: error.averrorText } : {}),
    };
    const index = r.messages.length - 1;
    const status = cancelled ? 'CANCELLED' : 'FAILED';
    this.finish(status);
    this.terminalEvent = { type: 'failed', status, error };
    this.rejectDone(error);
    const step: StepEvent = { code: r.customAttributes.messageCodes[index]!, message: r.messages[index]!, index };
    this.notify('step', step);
    this.broadcast({ type: 'step', ...step });
    this.notify('failed', error);
    this.broadcast(this.terminalEvent, true);
  }

  /**
   * Emits to listeners. A listener that throws must not leave the job half-way through a
   * transition: its error is rethrown on its own tick, as an uncaught exception of the caller's.
   */
  private notify(event: string, arg: unknown): void {
    try {
      this.emit(event, arg);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private finish(status: JobStatus): void {
    this.transition(status);
    this.resource.customAttributes.timings.finished = new Date().toISOString();
    this.save('state');
  }

  private transition(to: JobStatus): void {
    const from = this.resource.status;
    if (!TRANSITIONS[from].includes(to)) {
      throw new MediaError(`Job ${this.id} cannot go from ${from} to ${to}`, { code: 'ERR_JOB_STATE', step: 'job' });
    }
    this.resource.status = to;
  }

  private save(change: 'state' | 'progress'): void {
    this.persist(this.toJSON(), change);
  }

  private broadcast(event: IngestJobEvent, last = false): void {
    for (const sink of this.iterators) sink.push(event, last);
    if (last) this.iterators.clear();
  }
}

/**
 * The resource of a job whose process stopped while it was queued or running: FAILED, with the
 * step it was at named in the last message.
 */
export function interruptedResource(stored: JobResource, at: Date = new Date()): JobResource {
  const r = orderedResource(stored);
  if (isTerminal(r.status)) return r;
  const codes = r.customAttributes.messageCodes;
  const key = STEPS.find((s) => !codes.includes(s.code) && !(s.key === 'transcode' && codes.includes(TRANSCODE_CPU.code)))?.key ?? 'complete';
  const step = stepByKey(key);
  const why =
    r.status === 'SUBMITTED'
      ? 'the process that queued the job stopped before the job started'
      : 'the process running the ingest stopped before the job finished (the job was not resumed)';
  r.messages.push(failureMessage(step, why));
  codes.push(failureCode(key));
  const started = Date.parse(r.customAttributes.timings.submitted);
  r.customAttributes.timings.messageMs.push(Number.isFinite(started) ? Math.max(0, at.getTime() - started) : 0);
  r.customAttributes.timings.finished = at.toISOString();
  r.customAttributes.savingToStorage = false;
  r.customAttributes.progress = null;
  r.customAttributes.error = {
    code: 'ERR_INTERRUPTED',
    step: 'job',
    message: `The ingest was interrupted: ${why}`,
    failedStep: { code: step.code, message: step.message },
  };
  r.status = 'FAILED';
  return r;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** Buffers events for one `for await` loop; unread progress events collapse to the latest. */
class EventSink {
  private readonly queue: IngestJobEvent[] = [];
  private ended = false;
  private waiter: ((r: IteratorResult<IngestJobEvent>) => void) | undefined;

  push(event: IngestJobEvent, last: boolean): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: event, done: false });
    } else if (event.type === 'progress' && this.queue.at(-1)?.type === 'progress') {
      this.queue[this.queue.length - 1] = event;
    } else {
      this.queue.push(event);
    }
    if (last) this.ended = true;
  }

  next(): Promise<IteratorResult<IngestJobEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    this.ended = true;
    this.queue.length = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }
}
