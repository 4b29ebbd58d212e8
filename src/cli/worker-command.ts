/**
 * `fmv-ingest worker --redis URL --data DIR`: a process that takes ingest jobs off the Redis queue
 * and publishes into the shared storage under DIR/services (the same directory every node mounts).
 * SIGTERM/SIGINT: stop taking jobs and finish the running ones; a second signal stops at once
 * (the jobs it ran are then retried by another worker once their lock expires).
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { MediaError } from '../errors.js';
import { HWACCELS, type HwAccel } from '../jobs/job.js';
import { JobManager } from '../jobs/manager.js';
import { defaultConcurrency } from '../jobs/queue.js';
import { redactRedisUrl } from '../jobs/queue/redis-options.js';

interface WorkerCliOptions {
  redis?: string;
  data?: string;
  inputRoot: string[];
  concurrency?: string;
  hwaccel?: string;
  tags?: string;
  lockSeconds?: string;
  retries?: string;
  prefix?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function usage(message: string): MediaError {
  return new MediaError(message, { code: 'ERR_INVALID_OPTION', step: 'options' });
}

function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw usage(`Expected a whole number from ${min} to ${max} for ${flag} but received '${value}'`);
  return Number(value);
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('take ingest jobs off a Redis queue and publish into the shared storage (scale-out)')
    .option('--redis <url>', 'Redis the jobs are queued on, redis://host:6379/0 (also FMV_INGEST_REDIS)')
    .option('--data <dir>', 'data directory shared with the servers: services and temporary files (also FMV_INGEST_DATA)')
    .option('--input-root <dir>', 'directory that inputs must lie in (repeatable; default: the roots the submitting server named)', collect, [])
    .option('--concurrency <n>', 'ingests that run at once (default: one per four cores)')
    .option('--hwaccel <path>', "hardware path of jobs that ask for 'auto': auto, cpu, cuda, vaapi (default auto)")
    .option('--tags <list>', "comma-separated tags of the jobs to take (default 'default'; 'gpu' takes cuda and vaapi jobs)")
    .option('--lock-seconds <n>', 'a worker silent this long is taken for gone and its job retried (default 30)')
    .option('--retries <n>', 'times a job whose worker stopped runs again (default 1)')
    .option('--prefix <name>', "prefix of the Redis keys (default 'fmv')")
    .action(async (opts: WorkerCliOptions) => {
      const redis = opts.redis ?? process.env.FMV_INGEST_REDIS;
      if (!redis) throw usage('A Redis URL is required (--redis redis://host:6379/0 or FMV_INGEST_REDIS)');
      const data = opts.data ?? process.env.FMV_INGEST_DATA;
      if (!data) throw usage('A data directory is required (--data DIR or FMV_INGEST_DATA)');
      const hwaccel = opts.hwaccel ?? 'auto';
      if (!(HWACCELS as readonly string[]).includes(hwaccel)) throw usage(`Expected one of ${HWACCELS.join(', ')} for --hwaccel but received '${hwaccel}'`);
      const concurrency = wholeNumber('--concurrency', opts.concurrency, 1, 1024) ?? defaultConcurrency();
      const lockSeconds = wholeNumber('--lock-seconds', opts.lockSeconds, 1, 600);
      const retries = wholeNumber('--retries', opts.retries, 0, 10);
      const tags = opts.tags?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
      const dir = resolve(data);
      const manager = await JobManager.open({
        store: 'memory',
        outDir: join(dir, 'services'),
        tempDir: join(dir, 'tmp'),
        hwaccel: hwaccel as HwAccel,
        concurrency,
        queue: {
          redis,
          worker: true,
          ...(tags ? { tags } : {}),
          ...(lockSeconds !== undefined ? { lockMs: lockSeconds * 1000 } : {}),
          ...(retries !== undefined ? { retries } : {}),
          ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
          ...(opts.inputRoot.length > 0 ? { inputRoots: opts.inputRoot } : {}),
        },
      });
      const w = manager.queueWorker!.identity;
      process.stderr.write(
        `fmv-ingest: worker ${w.host}:${w.pid} taking jobs tagged ${(tags ?? ['default']).join(', ')} (concurrency ${concurrency}) from ${redactRedisUrl(redis)}, publishing into ${join(dir, 'services')}\n`,
      );
      let stopping = false;
      const stop = (): void => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write('fmv-ingest: stopping (running ingests finish first; signal again to stop at once)\n');
        manager.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
