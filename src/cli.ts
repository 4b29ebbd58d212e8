#!/usr/bin/env node
/** The fmv-ingest command line: each command lives in src/cli/ and registers itself here. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native.js';
import { registerProbeCommand } from './cli/probe-command.js';
import { reportAndExit } from './cli/output.js';

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('fmv-ingest')
  .description('Ingest full-motion video (MPEG-TS with MISB KLV): probe, KLV telemetry, HLS ABR ladder, Video Server jobs.')
  .version(pkg.version)
  .showHelpAfterError();

registerProbeCommand(program);

program.parseAsync(process.argv).catch(reportAndExit);
