/**
 * A live ingest: a feed (udp://, srt://, rtmp://, rtsp://, rist://, or `-` for stdin) becomes a
 * growing HLS ladder in `outDir`, read while it is written, with the decoded telemetry beside it:
 * klv.ndjson appended as units arrive, klv.csv streamed, klv.geojson written at the end.
 *
 * ```ts
 * const run = startLive('udp://0.0.0.0:5000', { outDir: '/srv/live/cam1', live: { windowSegments: 6 } });
 * for await (const { packet } of run.telemetry()) console.log(packet.tags[13]?.value);
 * // later: run.stop() → every playlist ends with EXT-X-ENDLIST and done resolves
 * const result = await run.done;
 * ```
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MediaError } from '../errors.js';
import { KlvOutputs, KLV_CSV, KLV_GEOJSON, KLV_NDJSON } from '../jobs/klv-outputs.js';
import type { JobKlvSummary } from '../jobs/job.js';
import type { RawKlvUnit } from '../klv-extract.js';
import { startPipeline, type PipelineHandlers, type PipelineOptions, type PipelineProgress, type PipelineResult, type PipelineWarning } from '../pipeline.js';
import { checkString, invalid, isPlainObject } from '../validate.js';
import { TelemetryHub, type TelemetryPacket, type TelemetrySubscription } from './telemetry.js';

export type LiveState = 'starting' | 'live' | 'stalled' | 'stopping' | 'ended' | 'failed';

/** Options of a live run: the pipeline's, with `live` on unless given (`true` or LiveOptions). */
export type LiveRunOptions = Omit<PipelineOptions, 'live'> & { live?: PipelineOptions['live'] };

export interface LiveHandlers extends PipelineHandlers {
  /** Every state change: starting → live ⇄ stalled → stopping → ended | failed. */
  onState?(state: LiveState): void;
}

export interface LiveStatus {
  state: LiveState;
  /** Wall-clock ms (since 1970) when the run started, and when the first frame was encoded. */
  startedAt: number;
  liveSince: number | null;
  /** Segments in the top rendition's playlist so far. */
  segments: number;
  /** Seconds the latest frame waited between its arrival and its encoding. */
  lagSeconds: number | null;
  /** Seconds of video encoded. */
  outTime: number;
  bytesRead: number;
  /** Decoded KLV packets so far, and when the latest reached this process (ms since 1970). */
  klvPackets: number;
  lastKlvAt: number | null;
  warnings: PipelineWarning[];
}

export interface LiveResult extends PipelineResult {
  /** Decoded telemetry written beside the ladder (klv.ndjson, klv.csv, klv.geojson). */
  telemetry: JobKlvSummary & { files: string[] };
}

export interface LiveRun {
  /** Resolves when the run ends (stop(), the feed lost past its reconnect window, or a file input's end). */
  readonly done: Promise<LiveResult>;
  /** Graceful end: the encoders drain, every playlist ends with EXT-X-ENDLIST, the telemetry files are completed. */
  stop(): void;
  /** Discards the run: `done` rejects with ERR_CANCELLED and the files written are removed. */
  cancel(): void;
  /** Decoded KLV packets from now on; the iterator ends with the run. A slow reader loses its oldest packets. */
  telemetry(options?: { queueLimit?: number }): TelemetrySubscription;
  /** The latest decoded packet, or null before the first. */
  latest(): TelemetryPacket | null;
  status(): LiveStatus;
}

/** `-` reads the process's standard input (`ffmpeg … -f mpegts - | fmv-ingest live -`). */
export function liveInputUrl(input: string): string {
  return input === '-' ? 'pipe:0' : input;
}

function liveOptionsOf(options: unknown): PipelineOptions {
  if (!isPlainObject(options)) throw invalid('an options object with outDir', 'live options', options);
  const o = options as LiveRunOptions;
  if (o.live === false) throw invalid('true or an object (a live run is live)', 'live', o.live);
  return { ...o, live: o.live ?? (o.liveWindowSegments === undefined ? true : undefined) } as PipelineOptions;
}

/**
 * Starts a live ingest. Options are validated before anything starts (ERR_INVALID_OPTION is thrown
 * synchronously); telemetry files already in outDir are refused (ERR_OUTPUT_EXISTS), as the
 * ladder's are, so a second run never appends to the first one's.
 */
export function startLive(input: string, options: LiveRunOptions, handlers: LiveHandlers = {}): LiveRun {
  const url = liveInputUrl(checkString(input, 'input', { nonEmpty: true }));
  const pipelineOptions = liveOptionsOf(options);
  if (!isPlainObject(handlers)) throw invalid('an object of event handlers', 'handlers', handlers);
  const { onState, onKlv, onProgress, onWarning, ...rest } = handlers as LiveHandlers;
  for (const [name, fn] of Object.entries({ onState, onKlv, onProgress, onWarning })) {
    if (fn !== undefined && typeof fn !== 'function') throw invalid('a function', `handlers.${name}`, fn);
  }

  const hub = new TelemetryHub();
  const status: LiveStatus = {
    state: 'starting',
    startedAt: Date.now(),
    liveSince: null,
    segments: 0,
    lagSeconds: null,
    outTime: 0,
    bytesRead: 0,
    klvPackets: 0,
    lastKlvAt: null,
    warnings: [],
  };
  const setState = (state: LiveState): void => {
    if (status.state === state) return;
    status.state = state;
    try {
      onState?.(state);
    } catch {
      // A state observer's fault must not end the feed; the pipeline's handlers carry errors.
    }
  };

  const dir = outDirOf(pipelineOptions);
  for (const name of [KLV_NDJSON, KLV_CSV, KLV_GEOJSON]) {
    if (existsSync(join(dir, name)) || existsSync(join(dir, `${name}.part`))) {
      throw new MediaError(`${join(dir, name)} already exists: a live run writes only names that are free, so nothing there is overwritten`, {
        code: 'ERR_OUTPUT_EXISTS',
        step: 'output',
      });
    }
  }

  let klv: KlvOutputs | undefined;
  const pipeline = startPipeline(url, pipelineOptions, {
    ...rest,
    onProgress(p: PipelineProgress) {
      status.segments = p.segments;
      status.lagSeconds = p.lagSeconds;
      status.outTime = p.outTime;
      status.bytesRead = p.bytesRead;
      if (p.frames > 0 && status.state === 'starting') {
        status.liveSince = Date.now();
        setState('live');
      }
      onProgress?.(p);
    },
    onKlv(units: RawKlvUnit[]) {
      klv ??= new KlvOutputs(dir, {
        live: true,
        onPacket: (packet) => {
          const now = Date.now();
          status.klvPackets++;
          status.lastKlvAt = now;
          hub.publish(packet, now);
        },
      });
      klv.write(units);
      onKlv?.(units);
    },
    onWarning(w: PipelineWarning) {
      status.warnings.push(w);
      if (w.code === 'INPUT_STALLED' && status.state === 'live') setState('stalled');
      else if (w.code === 'INPUT_RESUMED' && status.state === 'stalled') setState('live');
      else if (w.code === 'INPUT_LOST') setState('stopping');
      onWarning?.(w);
    },
  });

  const done = pipeline.done.then(
    async (result): Promise<LiveResult> => {
      // Telemetry files exist for every run, empty when the feed carried no KLV.
      klv ??= new KlvOutputs(dir, { live: true });
      const summary = await klv.finish();
      hub.end();
      setState('ended');
      return { ...result, files: [...result.files, ...klv.files].sort(), telemetry: { ...summary, files: klv.files } };
    },
    async (err: unknown) => {
      await klv?.abort();
      hub.end();
      setState('failed');
      throw err;
    },
  );

  return {
    done,
    stop() {
      if (status.state !== 'ended' && status.state !== 'failed') setState('stopping');
      pipeline.stop();
    },
    cancel() {
      pipeline.cancel();
    },
    telemetry(opts = {}) {
      if (!isPlainObject(opts)) throw invalid('an object', 'telemetry options', opts);
      const limit = opts.queueLimit ?? 1024;
      if (!Number.isInteger(limit) || limit < 1) throw invalid('an integer of at least 1', 'queueLimit', limit);
      return hub.subscribe(limit);
    },
    latest: () => hub.latest(),
    status: () => ({ ...status, warnings: [...status.warnings] }),
  };
}

/** The output directory the pipeline will use (startPipeline validates it, and creates it for a live run). */
function outDirOf(options: PipelineOptions): string {
  const outDir = (options as { outDir?: unknown }).outDir;
  if (typeof outDir !== 'string' || outDir.length === 0) throw invalid('a non-empty string', 'outDir', outDir);
  return resolve(outDir);
}
