#!/usr/bin/env node
// Builds the native addon with cmake-js, or keeps a matching prebuild.
//   --if-missing  use a prebuild that loads on this machine, else build (the npm install path)
//   --force       always build
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addonPath, installCommand, log, missingSystemPieces, root, run } from './lib.mjs';

const force = process.argv.includes('--force');

/** A prebuild for this platform whose FFmpeg libraries exist here: loading it in a child proves both. */
function usablePrebuild() {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.node'))) {
    const file = join(dir, name);
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
    if (probe.status === 0) return file;
  }
  return undefined;
}

try {
  if (!force) {
    if (existsSync(addonPath)) process.exit(0);
    const prebuild = usablePrebuild();
    if (prebuild) {
      log(`using prebuild ${prebuild}`);
      process.exit(0);
    }
  }
  // Building needs neither the ffmpeg command, the browser nor redis-server: only the tests do.
  const missing = missingSystemPieces().filter((m) => !m.startsWith('the ffmpeg command') && !m.startsWith('chromium') && !m.startsWith('redis-server'));
  if (missing.length) {
    throw new Error(`cannot build the addon, missing: ${missing.join(', ')}.\n  Fix (Debian/Ubuntu): sudo sh -c '${installCommand()}'`);
  }
  // Resolved as Node resolves it: in a consumer's tree cmake-js is usually hoisted above this package.
  let cmakeJs;
  try {
    cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
  } catch {
    throw new Error('cmake-js is not installed. Fix: npm install (or npm ci in a checkout)');
  }
  run(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn']);
  log(`built ${addonPath}`);
} catch (err) {
  log(`addon build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
