#!/usr/bin/env node
/** The fmv-ingest command line: each command lives in src/cli/ and registers itself here. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native.js';
import { registerProbeCommand } from './cli/probe-command.js';
import { registerKlvCommand } from './cli/klv-command.js';
import { registerIngestCommand } from './cli/ingest-command.js';
import { registerServeCommand } from './cli/serve-command.js';
import { registerBenchCommand } from './cli/bench-command.js';
import { registerLiveCommand } from './cli/live-command.js';
import { registerWorkerCommand } from './cli/worker-command.js';
import { reportAndExit } from './cli/output.js';

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('fmv-ingest')
  .description('Ingest full-motion video (MPEG-TS with MISB KLV): probe, KLV telemetry, HLS ABR ladder, Video Server jobs.')
  .version(pkg.version)
  .showHelpAfterError()
  // Usage errors come back here (exit 2), not straight out of process.exit(1).
  .exitOverride();

registerProbeCommand(program);
registerKlvCommand(program);
registerIngestCommand(program);
registerLiveCommand(program);
registerServeCommand(program);
registerWorkerCommand(program);
registerBenchCommand(program);

// A closed pipe (`fmv-ingest klv x.ts | head`) is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  reportAndExit(err);
});

program.parseAsync(process.argv).catch(reportAndExit);
