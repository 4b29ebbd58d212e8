#!/usr/bin/env node
// npm run test:asan [-- test/probe.test.ts ...] [--build-only] [--leaks]
// Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, into build-asan/) and runs
// the tests that reach native code under it. Node is not instrumented, so the ASan runtime is preloaded
// (LD_PRELOAD=$(gcc -print-file-name=libasan.so)), vitest runs in forks, and every sanitizer report
// is also written under build-asan/reports/: the run fails when any appears, even one a test swallowed.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { log, mtime, newest, root, run } from './lib.mjs';

const out = join(root, 'build-asan');
const addon = join(out, 'RelWithDebInfo', 'fmv_ingest.node');
const reports = join(out, 'reports');
const SAN = '-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g';
// Tests that import only the TypeScript KLV and geometry code never load the addon.
const PURE_TS = /^\.\.?\/(src\/(klv|geometry)\/|src\/jobs\/synthetic-flight|klv-helpers)/;

function buildAddon() {
  const sources = Math.max(newest(join(root, 'native')), mtime(join(root, 'CMakeLists.txt')), mtime(join(root, 'scripts', 'asan.mjs')));
  if (existsSync(addon) && mtime(addon) >= sources) return;
  log('building the addon with ASan + UBSan into build-asan/');
  const cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
  run('nice', ['-n', '10', process.execPath, cmakeJs, 'compile', '--log-level', 'warn', '--out', out, '--config', 'RelWithDebInfo',
    `--CDCMAKE_C_FLAGS=${SAN}`, `--CDCMAKE_CXX_FLAGS=${SAN}`,
    '--CDCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined', '--CDCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined']);
  if (!existsSync(addon)) throw new Error(`the ASan build did not produce ${addon}`);
}

function nativeTests() {
  const dir = join(root, 'test');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.test.ts'))
    .filter((n) => {
      const imports = [...readFileSync(join(dir, n), 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => m[1]);
      return imports.some((i) => !PURE_TS.test(i));
    })
    .map((n) => join('test', n));
}

function runtime() {
  const r = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const lib = r.stdout?.trim();
  if (r.status !== 0 || !lib || !existsSync(lib)) throw new Error('libasan.so not found (gcc -print-file-name=libasan.so). Fix (Debian): apt-get install -y g++');
  return lib;
}

try {
  const argv = process.argv.slice(2);
  buildAddon();
  if (argv.includes('--build-only')) process.exit(0);
  const leaks = argv.includes('--leaks');
  const files = argv.filter((a) => !a.startsWith('--'));
  const tests = files.length ? files : nativeTests();
  rmSync(reports, { recursive: true, force: true });
  mkdirSync(reports, { recursive: true });
  const env = {
    ...process.env,
    FMV_INGEST_ADDON: addon,
    LD_PRELOAD: runtime(),
    // Node's own allocations are not instrumented: leak checking is opt-in, with V8/Node suppressed.
    ASAN_OPTIONS: [`detect_leaks=${leaks ? 1 : 0}`, 'abort_on_error=1', 'allow_user_segv_handler=1', 'detect_odr_violation=0', `log_path=${join(reports, 'asan')}`].join(':'),
    LSAN_OPTIONS: `suppressions=${join(root, 'scripts', 'asan-leaks.supp')}:print_suppressions=0`,
    UBSAN_OPTIONS: ['print_stacktrace=1', 'halt_on_error=1', `log_path=${join(reports, 'ubsan')}`].join(':'),
  };
  log(`running ${tests.length} test file(s) under ASan + UBSan`);
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  // Instrumented code runs 2-3 times slower: a test's own time bound gets one more try (a sanitizer
  // report still fails the run, whatever the retry gives).
  const r = spawnSync(process.execPath, [vitest, 'run', '--pool', 'forks', '--retry', '1', ...tests], { stdio: 'inherit', env, cwd: root });
  const found = readdirSync(reports);
  for (const f of found) process.stderr.write(`\n== ${relative(root, join(reports, f))}\n${readFileSync(join(reports, f), 'utf8')}`);
  log(`sanitizer reports: ${found.length}`);
  process.exit(r.status === 0 && found.length === 0 ? 0 : 1);
} catch (err) {
  log(`test:asan: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
