/**
 * Runs one live job: the feed is ingested straight into its layer directory (a live layer is read
 * while it is written: no staging), the job stays IN PROGRESS with live counters until stop(), the
 * feed is lost past its reconnect window, or it fails. Messages follow the on-demand contract's
 * order, less the parts a live layer does not make (poster, previews, the staging moves).
 */
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from '../errors.js';
import { startLive, type LiveRun, type LiveStatus } from '../live/index.js';
import type { LiveOptions } from '../pipeline-options.js';
import type { HwAccel, IngestJob, JobLiveStatus, Resolution } from './job.js';
import { hardwareOf, type PipelineOutcome } from './pipeline-adapter.js';
import { STREAM_INFO_FILE, VIDEO_INFO_FILE, streamInfo, transcodeStepFor, videoInfo, writeJsonAtomic } from './run.js';
import { stepByKey } from './steps.js';

export interface LiveJobSettings {
  input: string;
  /** What the resource shows of the address (credentials removed). */
  streamAddress: string;
  mode: 'client' | 'server';
  /** The layer's directory (created). */
  dir: string;
  requestedResolutions: Resolution;
  hwaccel: HwAccel;
  live: LiveOptions;
  inputOptions?: Record<string, string>;
  /** Sees the run once it has started (the server reads its telemetry). */
  onRun?(run: LiveRun | undefined): void;
}

/** An address as it may be shown: no user:password@, no passphrase= or other secrets in the query. */
export function redactStreamAddress(address: string): string {
  return address.replace(/\/\/[^/@]*@/, '//<redacted>@').replace(/([?&](?:passphrase|password|pass|pwd|key|token|secret)=)[^&#]*/gi, '$1<redacted>');
}

export async function runLiveJob(job: IngestJob, s: LiveJobSettings): Promise<void> {
  let counters: JobLiveStatus = {
    streamAddress: s.streamAddress,
    mode: s.mode,
    state: 'starting',
    inputBitrate: 0,
    bytesRead: 0,
    segments: 0,
    packetsLost: 0,
    reconnects: 0,
    latencySeconds: null,
    klvPackets: 0,
    liveSince: null,
    lastKlvAt: null,
  };
  job.setLive(counters, 'now');
  job.markStarted();
  job.appendStep(stepByKey('start'));
  let transcodeStep = transcodeStepFor(null, s.hwaccel);
  let run: LiveRun | undefined;
  const rate = { at: Date.now(), bytes: 0 };
  const refresh = (status: LiveStatus, persist: 'now' | 'throttled' = 'throttled'): void => {
    const now = Date.now();
    if (now - rate.at >= 1000) {
      counters = { ...counters, inputBitrate: Math.round(((status.bytesRead - rate.bytes) * 8 * 1000) / (now - rate.at)) };
      rate.at = now;
      rate.bytes = status.bytesRead;
    }
    counters = {
      ...counters,
      state: status.state,
      bytesRead: status.bytesRead,
      segments: status.segments,
      latencySeconds: status.lagSeconds,
      klvPackets: status.klvPackets,
      liveSince: status.liveSince === null ? null : new Date(status.liveSince).toISOString(),
      lastKlvAt: status.lastKlvAt === null ? null : new Date(status.lastKlvAt).toISOString(),
    };
    job.setLive(counters, persist);
  };

  try {
    if (job.signal.aborted) throw job.signal.reason;
    let planWritten: Promise<void> = Promise.resolve();
    run = startLive(
      s.input,
      {
        outDir: s.dir,
        live: s.live,
        requestedResolutions: s.requestedResolutions,
        hwaccel: s.hwaccel,
        previews: false,
        signal: job.signal,
        ...(s.inputOptions ? { inputOptions: s.inputOptions } : {}),
      },
      {
        onPlan(plan) {
          job.setHardware(hardwareOf(plan.hardware));
          transcodeStep = transcodeStepFor(plan.hardware, s.hwaccel);
          for (const key of ['probeVideo', 'probeAudio', 'probeKlv'] as const) job.appendStep(stepByKey(key));
          planWritten = (async () => {
            await writeJsonAtomic(join(s.dir, STREAM_INFO_FILE), streamInfo(plan.source));
            job.appendStep(stepByKey('streamInfo'));
            await writeJsonAtomic(join(s.dir, VIDEO_INFO_FILE), videoInfo(plan.source));
            job.appendStep(stepByKey('videoInfo'));
          })();
        },
        onProgress(p) {
          job.setProgress({ step: transcodeStep.message, percent: null, frames: p.frames, outTime: p.outTime, fps: p.fps, speed: p.speed, eta: null });
          if (run) refresh(run.status());
        },
        onWarning(w) {
          job.addWarning(w);
          if (w.code === 'INPUT_RESUMED') counters = { ...counters, reconnects: counters.reconnects + 1 };
          if (w.code === 'INPUT_DAMAGED') counters = { ...counters, packetsLost: counters.packetsLost + 1 };
        },
        onState() {
          if (run) refresh(run.status(), 'now');
        },
      },
    );
    job.setStopper(() => run?.stop());
    s.onRun?.(run);
    const result = await run.done;
    await planWritten;
    counters = { ...counters, packetsLost: result.counts.corruptPackets };
    refresh(run.status(), 'now');
    job.setHardware(hardwareOf(result.hardware));
    if (result.log.length > 0) job.setLog(result.log);
    job.setKlvSummary({ ...result.telemetry });
    const outcome: PipelineOutcome = {
      files: result.files,
      masterPlaylist: result.masterPlaylist,
      renditions: result.renditions.map((r) => ({ ...r })),
      hardware: hardwareOf(result.hardware),
      warnings: result.warnings,
      duration: result.duration,
      details: {},
    };
    await writeJsonAtomic(join(s.dir, VIDEO_INFO_FILE), videoInfo(result.source, outcome, result.telemetry));
    job.appendStep(transcodeStepFor(result.hardware, s.hwaccel));
    for (const key of ['klv', 'hls', 'abr', 'videoFiles'] as const) job.appendStep(stepByKey(key));
    const bytes = result.renditions.reduce((n, r) => n + r.bytes, 0);
    job.markPublished({ location: s.dir, masterPlaylist: result.masterPlaylist, files: result.files.length, bytes, renditions: outcome.renditions });
    job.complete({ location: s.dir, masterPlaylist: result.masterPlaylist, files: result.files });
  } catch (err) {
    if (run) refresh(run.status(), 'now');
    const error =
      job.signal.aborted && (!(err instanceof MediaError) || err.code === 'ERR_CANCELLED')
        ? (job.signal.reason as MediaError)
        : err instanceof MediaError
          ? err
          : new MediaError(err instanceof Error ? err.message : String(err), { code: 'ERR_INTERNAL', step: 'live' });
    const at = job.nextStepKey() ?? 'complete';
    job.fail(at, error, transcodeStep);
  } finally {
    job.setStopper(undefined);
    s.onRun?.(undefined);
  }
}

/**
 * After a crash: ends every media playlist of a live layer that the dead process left open
 * (EXT-X-ENDLIST, written atomically) and removes its unfinished temporary files, so what was
 * recorded stays playable as a finished stream.
 */
export async function finalizeLiveLayer(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isFile() && (e.name.endsWith('.part') || e.name.endsWith('.tmp'))) await rm(path, { force: true });
    if (!e.isDirectory()) continue;
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const file = join(path, name);
      if (name.endsWith('.tmp')) await rm(file, { force: true });
      if (!name.endsWith('.m3u8')) continue;
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.length === 0 || /#EXT-X-ENDLIST/.test(text)) continue;
      await writeFile(`${file}.end.tmp`, `${text.endsWith('\n') ? text : `${text}\n`}#EXT-X-ENDLIST\n`);
      await rename(`${file}.end.tmp`, file);
    }
  }
}
