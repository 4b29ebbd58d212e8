/**
 * The single-pass ingest pipeline: one demux pass over a file or URL produces an HLS ABR ladder
 * that keeps the KLV (`ABR.m3u8`, one media playlist per rendition, `abr.json`), the poster and
 * preview images, and KLV unit batches for decoding, on a native thread of its own.
 *
 * ```ts
 * const run = startPipeline('flight.ts', { outDir, requestedResolutions: 'fhd', signal }, {
 *   onProgress: (p) => console.log(`${p.percent?.toFixed(0) ?? '?'}%`),
 *   onKlv: (units) => decode(units),
 * });
 * const result = await run.done;
 * ```
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { track } from './counters.js';
import { MediaError, withCallerStack } from './errors.js';
import { unpackKlvBatch, type NativeKlvBatch, type RawKlvUnit } from './klv-extract.js';
import { loadAddon } from './native.js';
import { validatePipelineOptions, type HwAccel, type PipelineOptions } from './pipeline-options.js';
import type { ProbeResult } from './probe.js';
import { checkString, invalid, isPlainObject } from './validate.js';

export * from './pipeline-options.js';

/** One rendition of the ladder. Sizes and bit rates are measured from the written segments. */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  frameRate: number;
  /** RFC 6381 CODECS value, e.g. `avc1.640028,mp4a.40.2`. */
  codecs: string;
  videoEncoder: string;
  /** Target video bit rate (bits/s). */
  videoBitrate: number;
  /** VBV peak (bits/s). */
  maxBitrate: number;
  audioBitrate: number;
  /** Peak segment bit rate: the master playlist's BANDWIDTH. */
  bandwidth: number;
  /** Average bit rate: the master playlist's AVERAGE-BANDWIDTH. */
  averageBandwidth: number;
  /** Media playlist, relative to outDir. */
  playlist: string;
  segments: number;
  /** Seconds (sum of the segment durations). */
  duration: number;
  bytes: number;
  frames: number;
  /** KLV units muxed into this rendition (as PES in TS segments, as emsg boxes in fMP4): equal to the source's. */
  klvUnits: number;
}

/** Which hardware path ran, and why. A fallback is always recorded, never silent. */
export interface HardwareInfo {
  requested: HwAccel;
  used: 'cpu' | 'cuda' | 'vaapi';
  /** Why this path ran: the measurement behind an 'auto' choice, or the cause of a fallback. */
  reason: string;
  /** True when the path used differs from the one requested or planned (e.g. no NVENC on this GPU). */
  fallback: boolean;
  device: string | null;
  /** e.g. `h264 (nvdec)`, `h264`. */
  decoder: string;
  /** `scale_cuda` | `scale_vaapi` | `swscale`. */
  scaler: string;
  /** `libx264` | `libx265` | `h264_nvenc` | `hevc_nvenc` | `h264_vaapi` | `hevc_vaapi`. */
  encoder: string;
}

export interface PipelineWarning {
  /**
   * Stable: INPUT_DAMAGED (first sign of damage), DECODE_ERRORS (totals), INPUT_TRUNCATED (a file cut
   * short), INPUT_ENDED (a network input stopped), HW_FALLBACK, KLV_NOT_IN_SEGMENTS, KLV_TRUNCATED,
   * RUNG_SKIPPED, AUDIO_DROPPED, AUDIO_DECODE_ERRORS; live: INPUT_STALLED (nothing arrived for
   * inputTimeoutMs), INPUT_RESUMED (a discontinuity follows), INPUT_LOST (the run ended after the
   * reconnect window).
   */
  code: string;
  message: string;
}

export interface PipelineCounts {
  packetsRead: number;
  bytesRead: number;
  videoPackets: number;
  framesDecoded: number;
  /** Display frames (after deinterlacing) fed to every rung. */
  framesOut: number;
  /** Live: display frames left out (every other one) while the machine could not keep up (FRAMES_SHED). */
  framesShed: number;
  decodeErrors: number;
  corruptPackets: number;
  /** Timestamp discontinuities joined into one timeline (TIMESTAMP_JUMP warnings). */
  timestampJumps: number;
  audioPackets: number;
  audioDecodeErrors: number;
  klvPackets: number;
  klvUnits: number;
  klvBytes: number;
  klvPtsInferred: number;
  klvGarbageBytes: number;
  klvTruncatedUnits: number;
  previewFrames: number;
}

export interface PipelinePreviews {
  poster: { path: string; width: number; height: number; bytes: number; time: number; interesting: boolean } | null;
  thumbnails: { count: number; width: number; height: number; directory: string | null };
  sprites: Array<{ path: string; tiles: number; firstTile: number; columns: number; rows: number; width: number; height: number }>;
  vtt: string | null;
  skippedDarkFrames: number;
  startTime: number;
  duration: number;
  frames: number;
}

export interface PipelineResult {
  source: ProbeResult;
  /** Highest first, as listed in ABR.m3u8. */
  renditions: Rendition[];
  /** 'ABR.m3u8', relative to outDir. */
  masterPlaylist: string;
  /** 'abr.json', relative to outDir. */
  abrInfo: string;
  /** Every file written, relative to outDir. */
  files: string[];
  hardware: HardwareInfo;
  counts: PipelineCounts;
  timings: { openMs: number; transcodeMs: number; finalizeMs: number; totalMs: number };
  /**
   * How the KLV travelled: 'ts-pes' in every TS segment (PES with PTS on the KLV PIDs), 'emsg' in
   * fMP4 segments (an ISO/IEC 23009-1 'emsg' box per unit, scheme urn:misb:KLV:bin:1910.1, 90 kHz
   * presentation time, before each segment's first 'moof'), 'none' without KLV.
   */
  klv: { inSegments: boolean; mode: 'ts-pes' | 'emsg' | 'none'; reason: string | null };
  warnings: PipelineWarning[];
  previews: PipelinePreviews | null;
  /** Tiers left out because the source is smaller (never upscaled). */
  ladderNotes: string[];
  audio: 'copy' | 'aac' | 'none';
  deinterlaced: boolean;
  /** Output duration, first to last video frame, seconds. */
  duration: number;
  /** Input clock time of the first video frame. */
  sourceStart: number;
  /** FFmpeg warnings and errors logged while the job ran (tail). */
  log: string[];
}

export interface PipelineProgress {
  /** Display frames encoded (per rung). */
  frames: number;
  /** Seconds of video done. */
  outTime: number;
  fps: number;
  /** outTime per wall-clock second. */
  speed: number;
  /** null when the input's duration is unknown (live inputs). */
  percent: number | null;
  etaSeconds: number | null;
  bytesRead: number;
  elapsedSeconds: number;
  /** Live: segments listed so far in the top rendition's playlist (0 otherwise). */
  segments: number;
  /** Live: seconds the latest frame waited between its arrival at the input and its encoding (null otherwise). */
  lagSeconds: number | null;
}

/** Decisions taken when the input was opened, before the pass. */
export interface PipelinePlan {
  source: ProbeResult;
  renditions: Rendition[];
  hardware: HardwareInfo;
  audio: 'copy' | 'aac' | 'none';
  deinterlace: boolean;
}

/** Completed parts of the job: 'streamInfo', 'videoInfo', 'transcode', 'klv', 'hls', 'poster', 'previews', 'abr'. */
export type PipelineStep = 'streamInfo' | 'videoInfo' | 'transcode' | 'klv' | 'hls' | 'poster' | 'previews' | 'abr';

export interface PipelineHandlers {
  onPlan?(plan: PipelinePlan): void;
  /** At most one call per progressIntervalMs (latest value only). */
  onProgress?(progress: PipelineProgress): void;
  /** KLV units in batches (about 100 units or 250 ms each), in input order. */
  onKlv?(units: RawKlvUnit[]): void;
  onWarning?(warning: PipelineWarning): void;
  onStep?(step: PipelineStep): void;
}

export interface PipelineRun {
  /** Settles with the result, or a MediaError (ERR_CANCELLED, ERR_TIMEOUT, ERR_DECODE, ERR_HW_INIT, ...). */
  readonly done: Promise<PipelineResult>;
  /** Stops the job; `done` rejects with ERR_CANCELLED and the files written are removed. */
  cancel(): void;
  /**
   * Ends the job gracefully: the input is let go (a live feed, or a file part-way), the encoders
   * drain, every playlist is finished (EXT-X-ENDLIST) and `done` resolves with what was written.
   */
  stop(): void;
}

type NativeEvent =
  | ({ type: 'plan' } & PipelinePlan)
  | ({ type: 'progress' } & PipelineProgress)
  | { type: 'klv'; units: NativeKlvBatch }
  | ({ type: 'warning' } & PipelineWarning)
  | { type: 'step'; step: PipelineStep }
  | { type: 'done'; result: PipelineResult }
  | { type: 'error'; error: Error };

interface NativePipeline {
  ingest(input: string, options: Record<string, unknown>, onEvent: (event: NativeEvent) => void): { cancel(): void; stop(): void };
  capabilities(refresh: boolean): Promise<Capabilities>;
}

function handlersOf(value: unknown): PipelineHandlers {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid('an object of event handlers', 'handlers', value);
  const known = ['onPlan', 'onProgress', 'onKlv', 'onWarning', 'onStep'];
  for (const [k, v] of Object.entries(value)) {
    if (!known.includes(k)) throw new MediaError(`Unknown handler '${k}' in handlers; known handlers: ${known.join(', ')}`, { code: 'ERR_INVALID_OPTION', step: 'options' });
    if (typeof v !== 'function') throw invalid('a function', `handlers.${k}`, v);
  }
  return value as PipelineHandlers;
}

/**
 * Starts an ingest of `input` (a file path or any URL libavformat opens) into `options.outDir`.
 * Options are validated before anything starts (MediaError ERR_INVALID_OPTION is thrown
 * synchronously). A handler that throws cancels the job and `done` rejects with its error.
 */
export function startPipeline(input: string, options: PipelineOptions, handlers?: PipelineHandlers): PipelineRun {
  const stack = new Error().stack;
  const url = checkString(input, 'input', { nonEmpty: true });
  const { native, signal } = validatePipelineOptions(options);
  const h = handlersOf(handlers);
  const addon = loadAddon() as unknown as NativePipeline;

  let settle!: { resolve: (r: PipelineResult) => void; reject: (e: unknown) => void };
  const promise = new Promise<PipelineResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const done = withCallerStack(promise, stack);

  if (signal?.aborted) {
    promise.catch(() => undefined);
    settle.reject(new MediaError('cancelled before the ingest started', { code: 'ERR_CANCELLED', step: 'open' }));
    return { done, cancel: () => undefined, stop: () => undefined };
  }

  let handlerError: unknown;
  let finished = false;
  const call = <A>(fn: ((arg: A) => void) | undefined, arg: A, cancel: () => void) => {
    if (!fn || handlerError !== undefined) return;
    try {
      fn(arg);
    } catch (err) {
      handlerError = err;
      cancel();
    }
  };

  let onAbort: (() => void) | undefined;
  track('ingest', promise);
  const job = addon.ingest(url, native, (event: NativeEvent) => {
    if (finished) return;
    switch (event.type) {
      case 'plan': {
        const { type: _t, ...plan } = event;
        call(h.onPlan, plan, cancel);
        break;
      }
      case 'progress': {
        const { type: _t, ...progress } = event;
        call(h.onProgress, progress, cancel);
        break;
      }
      case 'klv':
        if (h.onKlv) call(h.onKlv, unpackKlvBatch(event.units), cancel);
        break;
      case 'warning':
        call(h.onWarning, { code: event.code, message: event.message }, cancel);
        break;
      case 'step':
        call(h.onStep, event.step, cancel);
        break;
      case 'done':
      case 'error':
        finished = true;
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (handlerError !== undefined && event.type === 'done') {
          // The pass had finished before the cancel reached it: take back what it wrote, as a
          // cancelled pass does, so a rejected run never leaves outputs behind.
          const error = handlerError;
          void removeOutputs(String(native.outDir), event.result.files).finally(() => settle.reject(error));
        } else if (handlerError !== undefined) settle.reject(handlerError);
        else if (event.type === 'done') settle.resolve(event.result);
        else settle.reject(event.error);
        break;
    }
  });
  function cancel(): void {
    if (!finished) job.cancel();
  }
  function stop(): void {
    if (!finished) job.stop();
  }
  if (signal) {
    onAbort = cancel;
    signal.addEventListener('abort', onAbort, { once: true });
  }
  return { done, cancel, stop };
}

/** Removes the top-level entries (rendition folders, playlists, images) that hold `files`. */
async function removeOutputs(outDir: string, files: readonly string[]): Promise<void> {
  const tops = new Set(files.map((f) => f.split('/')[0]!).filter((t) => t && t !== '.' && t !== '..'));
  await Promise.all([...tops].map((t) => rm(join(outDir, t), { recursive: true, force: true }).catch(() => undefined)));
}

/** What one hardware path can really do on this machine (each path opened and run on a test frame). */
export interface PathCapabilities {
  available: boolean;
  device: string | null;
  /** Why the path is unavailable, or null. */
  reason: string | null;
  /** Codecs that decoded a test frame on this path. */
  decoders: string[];
  /** The path's scaler ran on a test frame. */
  scale: boolean;
  /** Encoders that opened. */
  encoders: string[];
  /** What failed and why (decoders, scaler, encoders). */
  notes: string[];
}

export interface Capabilities {
  ffmpeg: string;
  paths: { cpu: PathCapabilities; cuda: PathCapabilities; vaapi: PathCapabilities };
}

/**
 * Reports what this machine can run: CPU encoders, and for CUDA and VAAPI whether the device opens,
 * which codecs decode on it, whether its scaler runs and which encoders open (NVENC is absent on
 * H100/H200/A100). Probed once per process; `refresh` probes again.
 */
export function capabilities(options: { refresh?: boolean } = {}): Promise<Capabilities> {
  const stack = new Error().stack;
  try {
    if (!isPlainObject(options)) throw invalid('an object', 'capabilities options', options);
    for (const k of Object.keys(options)) {
      if (k !== 'refresh') throw new MediaError(`Unknown option '${k}' in capabilities options; known options: refresh`, { code: 'ERR_INVALID_OPTION', step: 'options' });
    }
    if (options.refresh !== undefined && typeof options.refresh !== 'boolean') throw invalid('a boolean', 'refresh', options.refresh);
    const addon = loadAddon() as unknown as NativePipeline;
    return withCallerStack(addon.capabilities(options.refresh === true), stack);
  } catch (err) {
    return Promise.reject(err);
  }
}
