/**
 * Runs one ingest job step by step: temporary work directory, probe, the single native pass (with
 * KLV decoded as it arrives), clean-up, checks, atomic publish. Messages are appended in the
 * contract's order as each part finishes; on failure or cancellation the temporary directory is
 * removed and nothing is published.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from '../errors.js';
import { loadAddon } from '../native.js';
import { probe, type ProbeResult } from '../probe.js';
import type { HwAccel, IngestJob, JobHardware, Resolution } from './job.js';
import { KLV_GEOJSON, KLV_NDJSON, KlvOutputs } from './klv-outputs.js';
import type { PipelineOutcome, PipelineRunner, PipelineStep } from './pipeline-adapter.js';
import { PASS_STEPS, TRANSCODE_CPU, stepByKey, type StepDefinition, type StepKey } from './steps.js';
import type { Storage } from './storage.js';

export const STREAM_INFO_FILE = 'streamInfo.json';
export const VIDEO_INFO_FILE = 'videoInfo.json';

export interface RunSettings {
  input: string;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  timeoutMs?: number;
  /** Real paths of the directories the input may read from (see ProbeOptions.inputRoots). */
  inputRoots?: string[];
  storage: Storage;
  pipeline: PipelineRunner;
  /** Parent of the job's temporary work directory. */
  tempRoot: string;
  /** Records where the job's temporary directory is (null once it is gone), for crash recovery. */
  recordTempDir(dir: string | null): void;
}

function asMediaError(err: unknown, signal: AbortSignal, step: string): MediaError {
  if (signal.aborted && (!(err instanceof MediaError) || err.code === 'ERR_CANCELLED')) {
    return signal.reason instanceof MediaError ? signal.reason : new MediaError('The ingest was cancelled', { code: 'ERR_CANCELLED', step: 'job' });
  }
  if (err instanceof MediaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException)?.code;
  return new MediaError(message, { code: code === 'ENOSPC' ? 'ERR_NO_SPACE' : 'ERR_INTERNAL', step });
}

/** Resolves with the promise's value, or rejects as soon as the signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.part`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.part`, path);
}

export function streamInfo(p: ProbeResult): Record<string, unknown> {
  // The input's path stays out of published files: it can reveal server paths.
  return {
    format: p.format,
    formatLongName: p.formatLongName,
    duration: p.duration,
    startTime: p.startTime,
    bitRate: p.bitRate,
    size: p.size,
    video: p.video,
    otherVideo: p.otherVideo,
    audio: p.audio,
    klv: p.klv,
  };
}

export function videoInfo(p: ProbeResult, outcome?: PipelineOutcome, klv?: unknown): Record<string, unknown> {
  const v = p.video;
  const fps = v && v.frameRate.den ? v.frameRate.num / v.frameRate.den : null;
  return {
    duration: outcome?.duration ?? p.duration,
    frameRate: fps,
    width: v?.width ?? null,
    height: v?.height ?? null,
    displayAspectRatio: v ? `${v.displayAspectRatio.num}:${v.displayAspectRatio.den}` : null,
    codec: v?.codec ?? null,
    bitRate: p.bitRate,
    audio: p.audio.length > 0,
    klv: {
      streams: p.klv.map((k) => ({ pid: k.pid, carriage: k.carriage })),
      ...(klv && typeof klv === 'object' ? (klv as Record<string, unknown>) : {}),
    },
    ...(outcome
      ? {
          renditions: outcome.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height, playlist: r.playlist })),
          hardware: outcome.hardware,
          final: true,
        }
      : { final: false }),
  };
}

/** Appends the pass's messages (159-182) in contract order as their parts finish. */
class PassTracker {
  private readonly finished = new Set<StepKey>();
  private cursor = 0;

  constructor(
    private readonly job: IngestJob,
    private readonly transcodeStep: () => StepDefinition,
  ) {}

  mark(key: StepKey): void {
    this.finished.add(key);
    while (this.cursor < PASS_STEPS.length && this.finished.has(PASS_STEPS[this.cursor]!)) {
      const next = PASS_STEPS[this.cursor++]!;
      this.job.appendStep(next === 'transcode' ? this.transcodeStep() : stepByKey(next));
    }
  }

  /** Message of the part of the pass still being worked on. */
  current(): string {
    const next = PASS_STEPS[this.cursor];
    if (next === undefined) return stepByKey('cleanup').message;
    return next === 'transcode' ? this.transcodeStep().message : stepByKey(next).message;
  }
}

/** GPU wording when any part of the pass ran on a GPU; before the plan is known, what was asked for. */
export function transcodeStepFor(hardware: Pick<JobHardware, 'used'> | null, requested: HwAccel): StepDefinition {
  const gpu = hardware ? hardware.used !== 'cpu' : requested === 'cuda' || requested === 'vaapi';
  return gpu ? stepByKey('transcode') : TRANSCODE_CPU;
}

/** A job's work directory, removed natively if its worker_thread is terminated mid-job (no JS runs then). */
function teardownRemoves(dir: string, remove: boolean): void {
  (loadAddon().removeAtTeardown as (dir: string, remove: boolean) => void)(dir, remove);
}

export async function runJob(job: IngestJob, s: RunSettings): Promise<void> {
  // One controller for this run: aborted by the job's cancel, or by us when a step fails while
  // the native pass is still running.
  const run = new AbortController();
  const onJobAbort = (): void => run.abort(job.signal.reason);
  job.signal.addEventListener('abort', onJobAbort, { once: true });
  // Cancelled after the queue handed the job over but before this ran: the event has already fired.
  if (job.signal.aborted) onJobAbort();
  const signal = run.signal;
  let tempDir: string | undefined;
  let klv: KlvOutputs | undefined;
  let pass: Promise<PipelineOutcome> | undefined;
  let transcodeStep = transcodeStepFor(null, s.hwaccel);
  let callbackError: unknown;

  const deadline = s.timeoutMs === undefined ? undefined : Date.now() + s.timeoutMs;
  try {
    job.markStarted();
    await mkdir(s.tempRoot, { recursive: true, mode: 0o700 });
    tempDir = join(s.tempRoot, job.id);
    await mkdir(tempDir, { mode: 0o700 });
    teardownRemoves(tempDir, true);
    s.recordTempDir(tempDir);
    const outDir = join(tempDir, 'out');
    const scratchDir = join(tempDir, 'scratch');
    await mkdir(outDir);
    await mkdir(scratchDir);
    signal.throwIfAborted();
    job.appendStep(stepByKey('start'));

    // 154-158: what the input holds, before the pass.
    const info = await abortable(
      probe(s.input, { ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}), ...(s.inputRoots ? { inputRoots: s.inputRoots } : {}) }),
      signal,
    );
    job.appendStep(stepByKey('probeVideo'));
    job.appendStep(stepByKey('probeAudio'));
    job.appendStep(stepByKey('probeKlv'));
    await writeJsonAtomic(join(outDir, STREAM_INFO_FILE), streamInfo(info));
    job.appendStep(stepByKey('streamInfo'));
    await writeJsonAtomic(join(outDir, VIDEO_INFO_FILE), videoInfo(info));
    job.appendStep(stepByKey('videoInfo'));
    signal.throwIfAborted();

    // 159-182: the single pass. KLV batches are decoded and written as they arrive.
    const klvOut = new KlvOutputs(outDir);
    klv = klvOut;
    const tracker = new PassTracker(job, () => transcodeStep);
    let klvDone: Promise<void> | undefined;
    const finishKlv = (): Promise<void> =>
      (klvDone ??= klvOut.finish().then((summary) => {
        job.setKlvSummary(summary);
        tracker.mark('klv');
      }));
    // Callbacks run from the native event channel: an exception there must end this job, not the process.
    const guard =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A): void => {
        try {
          fn(...a);
        } catch (err) {
          callbackError ??= err;
          run.abort(asMediaError(err, new AbortController().signal, 'job'));
        }
      };
    // timeoutMs bounds the whole job: the pass gets what the probe left of it.
    const left = deadline === undefined ? undefined : Math.max(1, Math.round(deadline - Date.now()));
    pass = s.pipeline.run(
      s.input,
      {
        outDir,
        requestedResolutions: s.requestedResolutions,
        hwaccel: s.hwaccel,
        signal,
        ...(left !== undefined ? { timeoutMs: left } : {}),
        ...(s.inputRoots ? { inputRoots: s.inputRoots } : {}),
      },
      {
        plan: guard((hardware) => {
          job.setHardware(hardware);
          transcodeStep = transcodeStepFor(hardware, s.hwaccel);
        }),
        progress: guard((p) => job.setProgress({ step: tracker.current(), ...p })),
        klv: guard((units) => klvOut.write(units)),
        step: guard((step: PipelineStep) => {
          if (step === 'klv') {
            finishKlv().catch((err: unknown) => {
              callbackError ??= err;
              run.abort(asMediaError(err, new AbortController().signal, 'klv'));
            });
          } else if ((PASS_STEPS as readonly string[]).includes(step)) {
            tracker.mark(step as StepKey);
          }
        }),
        warning: guard((w) => job.addWarning(w)),
      },
    );
    const outcome = await pass;
    if (callbackError) throw callbackError;
    signal.throwIfAborted();
    job.setHardware(outcome.hardware);
    const log = outcome.details.log;
    if (Array.isArray(log) && log.length > 0) job.setLog(log.filter((l): l is string => typeof l === 'string'));
    transcodeStep = transcodeStepFor(outcome.hardware, s.hwaccel);
    for (const w of outcome.warnings) {
      if (!job.toJSON().customAttributes.warnings.some((x) => x.code === w.code && x.message === w.message)) job.addWarning(w);
    }
    await finishKlv();
    // Parts the pipeline did not announce separately are finished once it has returned.
    for (const key of PASS_STEPS) tracker.mark(key);
    await writeJsonAtomic(join(outDir, VIDEO_INFO_FILE), videoInfo(info, outcome, job.toJSON().customAttributes.klv));
    signal.throwIfAborted();

    // 163: scratch only; the staged outputs stay.
    await rm(scratchDir, { recursive: true, force: true });
    for (const name of await readdir(outDir)) {
      if (name.endsWith('.part') || name.endsWith('.tmp')) await rm(join(outDir, name), { recursive: true, force: true });
    }
    job.appendStep(stepByKey('cleanup'));

    // 205: the outputs a layer needs are all there.
    const needed = [outcome.masterPlaylist, KLV_NDJSON, KLV_GEOJSON, STREAM_INFO_FILE, VIDEO_INFO_FILE];
    for (const r of outcome.renditions) if (typeof r.playlist === 'string') needed.push(r.playlist);
    for (const file of needed) {
      const st = await stat(join(outDir, file)).catch(() => null);
      if (!st?.isFile()) throw new MediaError(`The output ${file} is missing`, { code: 'ERR_OUTPUT_MISSING', step: 'outputs' });
    }
    job.appendStep(stepByKey('videoFiles'));
    signal.throwIfAborted();

    // 206: one atomic publish.
    job.setSavingToStorage(true);
    const published = await s.storage.publish(outDir, { serviceName: job.serviceName, layerId: job.layerId, jobId: job.id }, { signal });
    job.markPublished({
      location: published.location,
      masterPlaylist: outcome.masterPlaylist,
      files: published.files.length,
      bytes: published.bytes,
      renditions: outcome.renditions,
    });
    job.setSavingToStorage(false);
    job.appendStep(stepByKey('storage'));

    // The layer is published: a leftover empty work directory is no reason to fail it.
    await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    teardownRemoves(tempDir, false);
    tempDir = undefined;
    s.recordTempDir(null);
    job.complete({ location: published.location, masterPlaylist: join(published.location, outcome.masterPlaylist), files: published.files });
  } catch (err) {
    const error = asMediaError(callbackError ?? err, signal, 'job');
    const failing = job.nextStepKey() ?? 'complete';
    // The native pass must have stopped writing before its directory is removed.
    if (!signal.aborted) run.abort(error);
    if (pass) await pass.catch(() => undefined);
    await klv?.abort().catch(() => undefined);
    if (tempDir) {
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      teardownRemoves(tempDir, false);
    }
    await s.storage.discard(job.id).catch(() => undefined);
    s.recordTempDir(null);
    job.fail(failing, error, transcodeStep);
  } finally {
    job.signal.removeEventListener('abort', onJobAbort);
  }
}
