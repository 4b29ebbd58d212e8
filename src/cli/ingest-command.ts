import type { Command } from 'commander';
import { MediaError } from '../errors.js';
import { parseMilliseconds } from './output.js';
import { HWACCELS, RESOLUTIONS, type HwAccel, type IngestJob, type JobProgress, type Resolution } from '../jobs/job.js';
import { ingest } from '../jobs/manager.js';

interface IngestCliOptions {
  out: string;
  resolutions?: string;
  hwaccel?: string;
  json?: boolean;
  serviceName?: string;
  layerName?: string;
  username?: string;
  timeout?: number;
}

function clock(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Progress on stderr: a redrawn bar on a terminal, plain lines otherwise (one per step, and one
 * per 10% of the pass), so logs stay readable.
 */
export class ProgressReporter {
  private lastDraw = 0;
  private lastDecile = -1;
  private barShown = false;
  private progress: JobProgress | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean = Boolean(out.isTTY),
  ) {}

  attach(job: IngestJob): void {
    job.on('step', (e) => this.line(`${String(e.code).padStart(4)}  ${e.message}`));
    job.on('warning', (w) => this.line(`warning ${w.code}: ${w.message}`));
    job.on('progress', (p) => this.onProgress(p));
    job.once('done', () => this.clearBar());
    job.once('failed', () => this.clearBar());
  }

  private onProgress(p: JobProgress): void {
    this.progress = p;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.drawBar();
      return;
    }
    if (p.percent === null) return;
    const decile = Math.floor(p.percent / 10);
    if (decile === this.lastDecile) return;
    this.lastDecile = decile;
    this.out.write(`      ${p.step} ${p.percent.toFixed(0)}%  ${p.fps.toFixed(0)} fps  ${p.speed.toFixed(2)}x  ETA ${clock(p.eta)}\n`);
  }

  private drawBar(): void {
    const p = this.progress;
    if (!p) return;
    const width = 28;
    const pct = p.percent === null ? null : Math.max(0, Math.min(100, p.percent));
    const filled = pct === null ? 0 : Math.round((pct / 100) * width);
    const bar = pct === null ? '?'.repeat(width) : `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
    const text = `[${bar}] ${pct === null ? ' --' : pct.toFixed(0).padStart(3)}%  ${p.step}  ${p.fps.toFixed(0)} fps  ETA ${clock(p.eta)}`;
    const columns = this.out.columns ?? 100;
    this.out.write(`\r\x1b[2K${text.slice(0, Math.max(10, columns - 1))}`);
    this.barShown = true;
  }

  private line(text: string): void {
    if (this.tty && this.barShown) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    if (this.tty && this.barShown) this.drawBar();
  }

  private clearBar(): void {
    if (this.tty && this.barShown) this.out.write('\r\x1b[2K');
    this.barShown = false;
  }
}

function choice<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new MediaError(`Expected one of ${allowed.map((a) => `'${a}'`).join(', ')} for ${flag} but received '${value}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  }
  return value as T;
}

export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description('ingest a video into a streaming service: HLS ABR ladder with KLV, poster, previews, decoded telemetry, job JSON')
    .argument('<input>', 'video file (or URL)')
    .requiredOption('--out <dir>', 'storage root: outputs go to <dir>/<serviceName>/<layerId>/')
    .option('--resolutions <tier>', `highest ladder tier: ${RESOLUTIONS.join(', ')} (default fhd)`)
    .option('--hwaccel <path>', `hardware path: ${HWACCELS.join(', ')} (default auto)`)
    .option('--service-name <name>', 'service to publish into (default: from the file name)')
    .option('--layer-name <name>', 'layer name (default: the file name without extension)')
    .option('--username <name>', "username recorded in the job (default: the current user's)")
    .option('--timeout <ms>', 'give up after this many milliseconds', parseMilliseconds('--timeout'))
    .option('--json', 'print only the job JSON on stdout')
    .action(async (input: string, opts: IngestCliOptions) => {
      const requestedResolutions = choice<Resolution>(opts.resolutions, RESOLUTIONS, '--resolutions');
      const hwaccel = choice<HwAccel>(opts.hwaccel, HWACCELS, '--hwaccel');
      const job = ingest(input, {
        outDir: opts.out,
        ...(requestedResolutions ? { requestedResolutions } : {}),
        ...(hwaccel ? { hwaccel } : {}),
        ...(opts.serviceName !== undefined ? { serviceName: opts.serviceName } : {}),
        ...(opts.layerName !== undefined ? { layerName: opts.layerName } : {}),
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {}),
      });
      new ProgressReporter(process.stderr).attach(job);
      let interrupts = 0;
      const onSignal = (): void => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write('\ncancelling (press Ctrl-C again to quit at once)\n');
        job.cancel();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const result = await job.done.catch(() => null);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const resource = job.toJSON();
      if (opts.json) process.stdout.write(`${JSON.stringify(resource, null, 2)}\n`);
      if (result) {
        if (!opts.json) {
          process.stdout.write(
            `${resource.status}: ${resource.results.serviceName} layer ${resource.results.layerId}\n` +
              `  outputs   ${result.location}\n  playlist  ${result.masterPlaylist}\n  job       ${resource.jobId}\n`,
          );
        }
        process.exitCode = 0;
        return;
      }
      const error = resource.customAttributes.error;
      process.stderr.write(`fmv-ingest: ${resource.status}: ${resource.messages.at(-1) ?? ''}${error ? `\n  code: ${error.code}  step: ${error.step}` : ''}\n`);
      process.exitCode = resource.status === 'CANCELLED' ? 130 : 1;
    });
}
