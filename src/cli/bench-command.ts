import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../native.js';
import { MediaError } from '../errors.js';
import { HWACCELS, PRESETS, TIERS } from '../pipeline-options.js';

/** The ingest benchmark (bench/ingest.mjs) behind `fmv-ingest bench`. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run the same ingest on each hardware path and the same work with the ffmpeg CLI; print wall time, fps, speed, CPU time and peak RSS side by side')
    .argument('[input]', 'clip to ingest (default: a synthetic 1080p30 clip with KLV)')
    .option('--hwaccel <list>', `comma-separated paths: ${HWACCELS.join(', ')}`, 'cpu')
    .option('--runs <n>', 'runs per contender (wall time is the best run)', '3')
    .option('--seconds <n>', 'length of the synthetic clip', '10')
    .option('--preset <preset>', `libx264 preset: ${PRESETS.join(', ')}`, 'veryfast')
    .option('--tier <tier>', `requestedResolutions: ${TIERS.join(', ')}`, 'fhd')
    .option('--json <file>', 'also write the report as JSON')
    .action((input: string | undefined, opts: { hwaccel: string; runs: string; seconds: string; preset: string; tier: string; json?: string }) => {
      const bad = (what: string, value: string, expected: string) =>
        new MediaError(`Expected ${expected} for --${what} but received '${value}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
      for (const h of opts.hwaccel.split(',')) if (!(HWACCELS as readonly string[]).includes(h)) throw bad('hwaccel', h, `a list of ${HWACCELS.join(', ')}`);
      if (!(PRESETS as readonly string[]).includes(opts.preset)) throw bad('preset', opts.preset, `one of ${PRESETS.join(', ')}`);
      if (!(TIERS as readonly string[]).includes(opts.tier)) throw bad('tier', opts.tier, `one of ${TIERS.join(', ')}`);
      if (!/^[1-9]\d*$/.test(opts.runs)) throw bad('runs', opts.runs, 'a positive integer');
      if (!(Number(opts.seconds) > 0)) throw bad('seconds', opts.seconds, 'a positive number');
      const args = [join(packageRoot, 'bench', 'ingest.mjs'), ...(input ? [input] : []), '--hwaccel', opts.hwaccel, '--runs', opts.runs, '--seconds', opts.seconds, '--preset', opts.preset, '--tier', opts.tier];
      if (opts.json) args.push('--json', opts.json);
      // Clips, outputs and the report go to a work directory of its own, not into the package.
      const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, FMV_INGEST_BENCH_DIR: process.env.FMV_INGEST_BENCH_DIR ?? join(tmpdir(), 'fmv-ingest-bench') } });
      process.exitCode = r.status ?? 1;
    });
}
