import type { Command } from 'commander';
import { MediaError } from '../errors.js';
import { startLive, type LiveResult } from '../live/index.js';
import { HWACCELS, TIERS, type HwAccel, type LiveOptions, type PipelineOptions, type Tier } from '../pipeline-options.js';
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
  inputTimeout?: number;
  reconnectWindow?: number;
  format?: string;
  previews?: boolean;
  json?: boolean;
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
    .requiredOption('--out <dir>', 'output directory (created if missing); playlists and klv.ndjson are readable while it runs')
    .option('--resolutions <tier>', `highest ladder tier: ${TIERS.join(', ')} (default fhd)`)
    .option('--hwaccel <path>', `hardware path: ${HWACCELS.join(', ')} (default auto)`)
    .option('--window <segments>', 'sliding window of this many segments per playlist (default 6)')
    .option('--dvr', 'keep every segment (an event playlist) instead of a window')
    .option('--dvr-seconds <s>', 'DVR: drop the oldest segments beyond this many seconds')
    .option('--dvr-bytes <n>', 'DVR: drop the oldest segments beyond this many bytes per rendition')
    .option('--segment-seconds <s>', 'segment length (default 2; 1 allowed)')
    .option('--input-timeout <ms>', 'warn and wait for the feed after this much silence (default 5000)', parseMilliseconds('--input-timeout'))
    .option('--reconnect-window <ms>', 'end gracefully when the feed stays away this long (default 60000)', parseMilliseconds('--reconnect-window'))
    .option('--format <name>', 'input format when it cannot be detected (e.g. mpegts)')
    .option('--previews', 'also write previews (thumbnails and sprites) as the feed arrives')
    .option('--json', 'print the result as JSON on stdout when the run ends')
    .action(async (input: string, opts: LiveCliOptions) => {
      const run = startLive(input, liveOptionsFromFlags(opts), {
        onState: (s) => process.stderr.write(`state ${s}\n`),
        onWarning: (w) => process.stderr.write(`warning ${w.code}: ${w.message}\n`),
      });
      let interrupts = 0;
      const onSignal = (): void => {
        interrupts++;
        if (interrupts > 1) {
          process.stderr.write('\ndiscarding the run\n');
          run.cancel();
          return;
        }
        process.stderr.write('\nstopping: finishing the playlists and telemetry (press Ctrl-C again to discard)\n');
        run.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await run.done;
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else process.stdout.write(summary(result));
        process.exitCode = 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
