import type { Command } from 'commander';
import { MediaError } from '../errors.js';
import { startLive, type LiveResult, type LiveStatus } from '../live/index.js';
import { HWACCELS, TIERS, type HwAccel, type LiveOptions, type PipelineOptions, type Tier } from '../pipeline-options.js';
import { liveIntoService } from './live-service.js';
import { parseMilliseconds } from './output.js';

interface LiveCliOptions {
  out: string;
  resolutions?: string;
  hwaccel?: string;
  window?: string;
  dvr?: boolean;
  dvrSeconds?: string;
  dvrBytes?: string;
  segmentSeconds?: string;
  lowLatency?: boolean;
  partSeconds?: string;
  inputTimeout?: number;
  reconnectWindow?: number;
  format?: string;
  previews?: boolean;
  json?: boolean;
  serviceName?: string;
  layerName?: string;
  username?: string;
}

function number(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new MediaError(`Expected ${integer ? 'a whole number' : 'a number'} for ${flag} but received '${value}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  }
  return n;
}

function choice<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new MediaError(`Expected one of ${allowed.map((a) => `'${a}'`).join(', ')} for ${flag} but received '${value}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  }
  return value as T;
}

/** The CLI flags as pipeline options (each value is checked again, and named, by the pipeline). */
export function liveOptionsFromFlags(opts: LiveCliOptions): PipelineOptions {
  const live: LiveOptions = {};
  const windowSegments = number(opts.window, '--window', true);
  if (windowSegments !== undefined) live.windowSegments = windowSegments;
  const maxSeconds = number(opts.dvrSeconds, '--dvr-seconds', false);
  const maxBytes = number(opts.dvrBytes, '--dvr-bytes', true);
  if (opts.dvr || maxSeconds !== undefined || maxBytes !== undefined) {
    live.dvr = maxSeconds === undefined && maxBytes === undefined ? true : { ...(maxSeconds !== undefined ? { maxSeconds } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) };
  }
  const partSeconds = number(opts.partSeconds, '--part-seconds', false);
  if (opts.lowLatency || partSeconds !== undefined) live.lowLatency = partSeconds === undefined ? true : { partSeconds };
  if (opts.inputTimeout !== undefined) live.inputTimeoutMs = opts.inputTimeout;
  if (opts.reconnectWindow !== undefined) live.reconnectWindowMs = opts.reconnectWindow;
  const o: PipelineOptions = { outDir: opts.out, live, previews: opts.previews === true };
  const tier = choice<Tier>(opts.resolutions, TIERS, '--resolutions');
  if (tier) o.requestedResolutions = tier;
  const hwaccel = choice<HwAccel>(opts.hwaccel, HWACCELS, '--hwaccel');
  if (hwaccel) o.hwaccel = hwaccel;
  const segmentSeconds = number(opts.segmentSeconds, '--segment-seconds', false);
  if (segmentSeconds !== undefined) o.segmentSeconds = segmentSeconds;
  if (opts.format !== undefined) o.format = opts.format;
  return o;
}

function summary(result: LiveResult): string {
  const top = result.renditions[0];
  return (
    `ended: ${result.renditions.length} renditions, ${top ? `${top.segments} segments listed in ${top.playlist}` : 'no video'}\n` +
    `  playlist   ${result.masterPlaylist}\n  telemetry  ${result.telemetry.packets} KLV packets (${result.telemetry.files.join(', ')})\n`
  );
}

export function registerLiveCommand(program: Command): void {
  program
    .command('live')
    .description('ingest a live feed (udp://, srt://, rtmp://, rtsp://, rist://, or - for stdin) into a growing HLS ladder with telemetry; Ctrl-C ends it gracefully')
    .argument('<input>', 'feed URL, or - to read MPEG-TS from stdin')
    .requiredOption('--out <dir>', 'output directory (created if missing; with --service-name the storage root); playlists and klv.ndjson are readable while it runs')
    .option('--resolutions <tier>', `highest ladder tier: ${TIERS.join(', ')} (default fhd)`)
    .option('--hwaccel <path>', `hardware path: ${HWACCELS.join(', ')} (default auto)`)
    .option('--window <segments>', 'sliding window of this many segments per playlist (default 6)')
    .option('--dvr', 'keep every segment (an event playlist) instead of a window')
    .option('--dvr-seconds <s>', 'DVR: drop the oldest segments beyond this many seconds')
    .option('--dvr-bytes <n>', 'DVR: drop the oldest segments beyond this many bytes per rendition')
    .option('--segment-seconds <s>', 'segment length (default 2; 1 allowed)')
    .option('--low-latency', 'LL-HLS: fMP4 parts listed as they are written, with a preload hint for the next')
    .option('--part-seconds <s>', 'LL-HLS part length (default 0.5; implies --low-latency)')
    .option('--input-timeout <ms>', 'warn and wait for the feed after this much silence (default 5000)', parseMilliseconds('--input-timeout'))
    .option('--reconnect-window <ms>', 'end gracefully when the feed stays away this long (default 60000)', parseMilliseconds('--reconnect-window'))
    .option('--format <name>', 'input format when it cannot be detected (e.g. mpegts)')
    .option('--previews', 'also write previews (thumbnails and sprites) as the feed arrives')
    .option('--json', 'print events as JSON lines on stdout (state, warning, status every second, done with the result)')
    .option('--service-name <name>', 'record the feed as a live layer of this service: <out>/<name>/<layerId>/, with a job resource (printed at the end with --json)')
    .option('--layer-name <name>', 'with --service-name: the layer name')
    .option('--username <name>', "with --service-name: the username recorded in the job (default: the current user's)")
    .action(async (input: string, opts: LiveCliOptions) => {
      const event = (e: Record<string, unknown>): void => {
        if (opts.json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
      };
      const status = new LiveStatusLine(process.stderr);
      const report: LiveReport = {
        warning: (w) => {
          status.line(`warning ${w.code}: ${w.message}`);
          event({ type: 'warning', ...w });
        },
        status: (s) => {
          status.update(s);
          event({ type: 'status', ...s, warnings: undefined });
        },
      };
      if (opts.serviceName !== undefined) {
        await liveCommandIntoService(input, opts, status, event, report);
        return;
      }
      const run = startLive(input, liveOptionsFromFlags(opts), {
        onState: (s) => {
          status.line(`state ${s}`);
          event({ type: 'state', state: s });
        },
        onWarning: report.warning,
      });
      const timer = setInterval(() => report.status(run.status()), 1000);
      let interrupts = 0;
      const onSignal = (): void => {
        interrupts++;
        if (interrupts > 1) {
          status.line('discarding the run');
          run.cancel();
          return;
        }
        status.line('stopping: finishing the playlists and telemetry (press Ctrl-C again to discard)');
        run.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await run.done;
        status.clear();
        if (opts.json) event({ type: 'done', result });
        else process.stdout.write(summary(result));
        process.exitCode = 0;
      } finally {
        clearInterval(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** How both modes of `live` report warnings and the status each second. */
interface LiveReport {
  warning(w: { code: string; message: string }): void;
  status(s: LiveStatus): void;
}

/** The service mode of `live`: the feed becomes a live layer with a job, stopped by SIGINT/SIGTERM. */
async function liveCommandIntoService(input: string, opts: LiveCliOptions, status: LiveStatusLine, event: (e: Record<string, unknown>) => void, report: LiveReport): Promise<void> {
  const flags = liveOptionsFromFlags(opts);
  const unsupported = [opts.segmentSeconds !== undefined && '--segment-seconds', opts.format !== undefined && '--format', opts.previews && '--previews'].filter((x): x is string => typeof x === 'string');
  let timer: NodeJS.Timeout | undefined;
  let stopJob: (() => void) | undefined;
  const onSignal = (): void => {
    status.line('stopping: finishing the playlists and telemetry');
    stopJob?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const job = await liveIntoService(
      {
        input,
        root: opts.out,
        serviceName: opts.serviceName!,
        live: flags.live as LiveOptions,
        unsupported,
        ...(opts.layerName !== undefined ? { layerName: opts.layerName } : {}),
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(flags.requestedResolutions ? { requestedResolutions: flags.requestedResolutions } : {}),
        ...(flags.hwaccel ? { hwaccel: flags.hwaccel } : {}),
      },
      {
        onJob: (job, liveStatus) => {
          stopJob = () => job.stop();
          job.on('warning', report.warning);
          timer = setInterval(() => {
            const s = liveStatus();
            if (s) report.status(s);
          }, 1000);
        },
      },
    );
    status.clear();
    const resource = job.toJSON();
    if (opts.json) event({ type: 'done', job: resource });
    else process.stdout.write(`${resource.status}: ${resource.results.serviceName} layer ${resource.results.layerId}  job ${resource.jobId}\n`);
    process.exitCode = resource.status === 'COMPLETED' ? 0 : 1;
  } finally {
    if (timer) clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * One status line on stderr: input rate, KLV rate, segments and lag, redrawn in place on a
 * terminal; elsewhere a plain line every 10 s so logs stay readable.
 */
class LiveStatusLine {
  private last: { at: number; bytes: number; klv: number } | null = null;
  private shown = false;
  private lastPlain = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(s: LiveStatus): void {
    const now = Date.now();
    const prev = this.last ?? { at: s.startedAt, bytes: 0, klv: 0 };
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    this.last = { at: now, bytes: s.bytesRead, klv: s.klvPackets };
    const text =
      `${s.state}  in ${(((s.bytesRead - prev.bytes) * 8) / seconds / 1e6).toFixed(2)} Mb/s  ` +
      `KLV ${((s.klvPackets - prev.klv) / seconds).toFixed(0)}/s  segments ${s.segments}  ` +
      `lag ${s.lagSeconds === null ? '-' : `${s.lagSeconds.toFixed(2)} s`}  video ${s.outTime.toFixed(0)} s`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${text.slice(0, Math.max(10, (this.out.columns ?? 100) - 1))}`);
      this.shown = true;
    } else if (now - this.lastPlain >= 10_000) {
      this.lastPlain = now;
      this.out.write(`${text}\n`);
    }
  }

  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }
}
