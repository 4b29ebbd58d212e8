// Shared helpers of the setup scripts (plain Node, no dependencies: they run before npm ci).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const addonPath = join(root, 'build', 'Release', 'fmv_ingest.node');
export const ffmpegModules = ['libavformat', 'libavcodec', 'libavfilter', 'libswscale', 'libswresample', 'libavutil'];
export const debianPackages = [
  'pkg-config', 'cmake', 'g++', 'make',
  'libavformat-dev', 'libavcodec-dev', 'libavfilter-dev', 'libswscale-dev', 'libswresample-dev', 'libavutil-dev',
  'ffmpeg',
  // The player tests drive Debian's chromium (H.264/AAC in MSE) with playwright-core.
  'chromium',
  'redis-server',
];

export function log(msg) {
  process.stderr.write(`fmv-ingest: ${msg}\n`);
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw new Error(`${cmd} could not be started: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

export function succeeds(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export function has(command) {
  return succeeds('sh', ['-c', `command -v ${command}`]);
}

/** Newest modification time of the files under dir whose names match test. */
export function newest(dir, test = () => true) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(p, test));
    else if (test(entry.name)) latest = Math.max(latest, statSync(p).mtimeMs);
  }
  return latest;
}

export function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

export function missingSystemPieces() {
  const missing = [];
  if (!has('pkg-config')) missing.push('pkg-config');
  else if (!succeeds('pkg-config', ['--exists', ...ffmpegModules])) missing.push('FFmpeg development packages');
  if (!has('cmake')) missing.push('cmake');
  if (!has('c++') && !has('g++')) missing.push('a C++ compiler');
  if (!has('make')) missing.push('make');
  if (!has('ffmpeg')) missing.push('the ffmpeg command (used to make test fixtures)');
  if (!has('chromium')) missing.push('chromium (the browser the player tests drive)');
  if (!has('redis-server')) missing.push('redis-server (the scale-out tests start their own)');
  return missing;
}

export function installCommand() {
  return `apt-get update && apt-get install -y --no-install-recommends ${debianPackages.join(' ')}`;
}
