#!/usr/bin/env node
// Idempotent setup run before `npm test` and `npm run demo`: system packages (FFmpeg dev libraries,
// cmake, a compiler), node_modules, the native addon and the compiled TypeScript — each only when
// missing or stale.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addonPath, has, installCommand, log, missingSystemPieces, mtime, newest, root, run, succeeds, debianPackages } from './lib.mjs';

function ensureSystemPackages() {
  const missing = missingSystemPieces();
  if (missing.length === 0) return;
  log(`missing: ${missing.join(', ')}`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const canSudo = !isRoot && has('sudo') && succeeds('sudo', ['-n', 'true']);
  if (!has('apt-get') || (!isRoot && !canSudo)) {
    throw new Error(`cannot install system packages here. On Debian/Ubuntu run:\n  sudo sh -c '${installCommand()}'\nthen run the command again.`);
  }
  const sudo = isRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('installing system packages with apt-get');
  const [cmd, ...pre] = sudo.length ? sudo : ['apt-get'];
  run(cmd, [...pre, ...(sudo.length ? ['apt-get'] : []), 'update'], { env });
  run(cmd, [...pre, ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '--no-install-recommends', ...debianPackages], { env });
  const still = missingSystemPieces();
  if (still.length) throw new Error(`still missing after apt-get: ${still.join(', ')}`);
}

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && mtime(marker) >= mtime(join(root, 'package-lock.json'))) return;
  log('installing node modules (npm ci)');
  // Install scripts run: better-sqlite3 builds its binary, and ours builds the addon.
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function ensureAddon() {
  const sources = Math.max(newest(join(root, 'native')), mtime(join(root, 'CMakeLists.txt')));
  if (existsSync(addonPath) && mtime(addonPath) >= sources) return;
  log('building the native addon');
  run(process.execPath, [join(root, 'scripts', 'build-addon.mjs'), '--force']);
}

function ensureTypeScript() {
  const sources = Math.max(newest(join(root, 'src'), (n) => n.endsWith('.ts')), mtime(join(root, 'tsconfig.json')));
  const built = join(root, 'dist', '.built');
  if (existsSync(built) && mtime(built) >= sources) return;
  log('compiling TypeScript');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  run('sh', ['-c', `touch "${built}"`]);
}

try {
  ensureSystemPackages();
  ensureNodeModules();
  ensureAddon();
  ensureTypeScript();
} catch (err) {
  log(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
