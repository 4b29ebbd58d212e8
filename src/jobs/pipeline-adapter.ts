/**
 * The seam between jobs and the native single-pass pipeline (src/pipeline.ts). Jobs only see the
 * small PipelineRunner interface below; this file maps it onto the pipeline's own API.
 */
import type { RawKlvUnit } from '../klv-extract.js';
import { startPipeline, type HardwareInfo } from '../pipeline.js';
import type { HwAccel, JobHardware, JobWarning, Resolution } from './job.js';

/** Parts of the pass the pipeline reports as finished. */
export type PipelineStep = 'streamInfo' | 'videoInfo' | 'transcode' | 'klv' | 'hls' | 'poster' | 'previews' | 'abr';

export interface PipelineProgress {
  frames: number;
  outTime: number;
  fps: number;
  speed: number;
  /** null while the duration is unknown. */
  percent: number | null;
  /** Seconds left, null while unknown. */
  eta: number | null;
}

export interface PipelineOutcome {
  /** Every file written, relative to the output directory. */
  files: string[];
  /** The master playlist, relative to the output directory ("ABR.m3u8"). */
  masterPlaylist: string;
  renditions: Array<Record<string, unknown>>;
  hardware: JobHardware;
  warnings: JobWarning[];
  /** Seconds of video written. */
  duration: number | null;
  /** Whatever else the pipeline reports (counts, timings, KLV carriage), kept for videoInfo.json. */
  details: Record<string, unknown>;
}

export interface PipelineCallbacks {
  /** The hardware path chosen, before the pass starts. */
  plan(hardware: JobHardware): void;
  progress(p: PipelineProgress): void;
  klv(units: RawKlvUnit[]): void;
  step(step: PipelineStep): void;
  warning(w: JobWarning): void;
}

export interface PipelineRunOptions {
  /** Existing directory the outputs are written into. */
  outDir: string;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  signal: AbortSignal;
  timeoutMs?: number;
  inputRoots?: string[];
}

export interface PipelineRunner {
  /** Runs one pass; resolves when every output is written, rejects with a MediaError. */
  run(input: string, options: PipelineRunOptions, callbacks: PipelineCallbacks): Promise<PipelineOutcome>;
}

export function hardwareOf(h: HardwareInfo): JobHardware {
  return {
    requested: h.requested,
    used: h.used,
    reason: h.reason,
    device: h.device ?? '',
    decoder: h.decoder,
    encoder: h.encoder,
    scaler: h.scaler,
    fallback: h.fallback,
  };
}

/** The native single-pass pipeline (src/pipeline.ts). */
export const nativePipeline: PipelineRunner = {
  async run(input, options, callbacks) {
    const run = startPipeline(
      input,
      {
        outDir: options.outDir,
        requestedResolutions: options.requestedResolutions,
        hwaccel: options.hwaccel,
        signal: options.signal,
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.inputRoots ? { inputRoots: options.inputRoots } : {}),
      },
      {
        onPlan: (plan) => callbacks.plan(hardwareOf(plan.hardware)),
        onProgress: (p) =>
          callbacks.progress({ frames: p.frames, outTime: p.outTime, fps: p.fps, speed: p.speed, percent: p.percent, eta: p.etaSeconds }),
        onKlv: (units) => callbacks.klv(units),
        onStep: (step) => callbacks.step(step),
        onWarning: (w) => callbacks.warning({ code: w.code, message: w.message }),
      },
    );
    const r = await run.done;
    const { files, masterPlaylist, renditions, hardware, warnings, duration, ...details } = r;
    return {
      files,
      masterPlaylist,
      renditions: renditions.map((x) => ({ ...x })),
      hardware: hardwareOf(hardware),
      warnings: warnings.map((w) => ({ code: w.code, message: w.message })),
      duration,
      details: details as Record<string, unknown>,
    };
  },
};
