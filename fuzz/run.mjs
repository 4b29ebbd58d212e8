#!/usr/bin/env node
// npm run fuzz [-- --seconds N] [--only a,b] [--build-only]
// Builds the libFuzzer harnesses of fuzz/harness/ with Debian's clang (-fsanitize=fuzzer,address,
// undefined) over the native core, then runs each for N seconds on its seed corpus (fuzz/corpus/<name>,
// committed) plus the corpus it grew on earlier runs (fuzz/build/corpus/<name>). An input that crashes,
// leaks, hangs or trips a sanitizer is saved as fuzz/build/findings/<name>-*; the run then fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { ffmpegModules, has, log, mtime, newest, root } from '../scripts/lib.mjs';

const here = join(root, 'fuzz');
const out = join(here, 'build');
const clangPackages = ['clang', 'libclang-rt-14-dev'];
// Media harnesses read whole files; a cap keeps each run fast while still covering headers and PES.
const HARNESSES = {
  klv_framer: { maxLen: 8192 },
  ts_tables: { maxLen: 16384 },
  klv_scan: { maxLen: 65536 },
  probe: { maxLen: 65536 },
  demux_decode: { maxLen: 65536 },
};

function parseArgs(argv) {
  const args = { seconds: 60, only: Object.keys(HARNESSES), buildOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') {
      args.seconds = Number(argv[++i]);
      if (!Number.isInteger(args.seconds) || args.seconds < 1) throw new Error(`--seconds must be a whole number of seconds ≥ 1, got ${argv[i]}`);
    } else if (a === '--only') {
      args.only = String(argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = args.only.filter((n) => !(n in HARNESSES));
      if (unknown.length || !args.only.length) throw new Error(`--only takes names from ${Object.keys(HARNESSES).join(', ')}; got ${argv[i]}`);
    } else if (a === '--build-only') args.buildOnly = true;
    else throw new Error(`unknown option ${a} (known: --seconds N, --only a,b, --build-only)`);
  }
  return args;
}

function fuzzerRuntime() {
  const r = spawnSync('clang++', ['-print-resource-dir'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const lib = join(r.stdout.trim(), 'lib', 'linux', 'libclang_rt.fuzzer-x86_64.a');
  return existsSync(lib) ? lib : undefined;
}

/** clang and its libFuzzer runtime (apt does not pull libclang-rt in with clang). */
function ensureClang() {
  if (has('clang++') && fuzzerRuntime()) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const install = `apt-get install -y --no-install-recommends ${clangPackages.join(' ')}`;
  if (!isRoot || !has('apt-get')) throw new Error(`clang and its fuzzer runtime are missing. Fix (Debian): sudo sh -c 'apt-get update && ${install}'`);
  log(`installing ${clangPackages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const cmd of ['apt-get update', install]) {
    const r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`${cmd} failed with exit code ${r.status}`);
  }
  if (!fuzzerRuntime()) throw new Error('clang is installed but libclang_rt.fuzzer is still missing');
}

function pkgConfig(flag) {
  const r = spawnSync('pkg-config', [flag, ...ffmpegModules], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pkg-config ${flag} failed: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}

const SAN = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer', '-g', '-O1'];

function compileArgs() {
  return ['-std=c++17', ...SAN, '-fsanitize=fuzzer-no-link', '-I', join(root, 'native'), ...pkgConfig('--cflags')];
}

/** Runs commands, at most `jobs` at once; rejects on the first failure. */
async function parallel(commands, jobs) {
  const queue = [...commands];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [cmd, ...args] = c;
      await new Promise((resolve, reject) => {
        const p = spawn('nice', ['-n', '10', cmd, ...args], { stdio: 'inherit' });
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.at(-1)} failed (exit ${code})`))));
      });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

async function build(names) {
  const objDir = join(out, 'obj');
  const binDir = join(out, 'bin');
  mkdirSync(objDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  const flags = compileArgs();
  const headers = Math.max(newest(join(root, 'native', 'core'), (n) => n.endsWith('.h')), newest(join(here, 'harness'), (n) => n.endsWith('.h')));
  const core = readdirSync(join(root, 'native', 'core')).filter((n) => n.endsWith('.cc'));
  const jobs = [];
  const objects = [];
  for (const name of core) {
    const src = join(root, 'native', 'core', name);
    const obj = join(objDir, name.replace(/\.cc$/, '.o'));
    objects.push(obj);
    if (mtime(obj) < Math.max(mtime(src), headers)) jobs.push(['clang++', ...flags, '-c', '-o', obj, src]);
  }
  for (const name of names) {
    const src = join(here, 'harness', `${name}.cc`);
    const obj = join(objDir, `harness-${name}.o`);
    if (mtime(obj) < Math.max(mtime(src), headers)) jobs.push(['clang++', ...flags, '-c', '-o', obj, src]);
  }
  if (jobs.length) log(`fuzz: compiling ${jobs.length} file(s) with clang (address, undefined, fuzzer)`);
  await parallel(jobs, Math.max(1, Math.min(2, cpus().length)));
  const lib = join(objDir, 'libfmv_core_fuzz.a');
  if (mtime(lib) < Math.max(...objects.map(mtime))) {
    spawnSync('rm', ['-f', lib]);
    const r = spawnSync('ar', ['rcs', lib, ...objects], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('ar failed');
  }
  for (const name of names) {
    const bin = join(binDir, name);
    const obj = join(objDir, `harness-${name}.o`);
    if (mtime(bin) >= Math.max(mtime(obj), mtime(lib))) continue;
    const r = spawnSync('clang++', [...SAN, '-fsanitize=fuzzer', '-o', bin, obj, lib, ...pkgConfig('--libs'), '-lpthread'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`linking ${name} failed`);
  }
}

/** One harness for `seconds`; returns what libFuzzer reported. */
function fuzzOne(name, seconds) {
  const corpus = join(out, 'corpus', name);
  const seeds = join(here, 'corpus', name);
  const findings = join(out, 'findings');
  mkdirSync(corpus, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const before = new Set(readdirSync(findings));
  const args = [
    `-max_total_time=${seconds}`,
    '-timeout=25',
    '-rss_limit_mb=2560',
    `-max_len=${HARNESSES[name].maxLen}`,
    '-print_final_stats=1',
    `-artifact_prefix=${join(findings, `${name}-`)}`,
    corpus,
    ...[seeds, join(here, 'regressions', name)].filter((d) => existsSync(d)),
  ];
  const env = {
    ...process.env,
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:allocator_may_return_null=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
  log(`fuzz: ${name} for ${seconds} s`);
  const started = Date.now();
  const r = spawnSync('nice', ['-n', '10', join(out, 'bin', name), ...args], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const runs = /stat::number_of_executed_units:\s*(\d+)/.exec(text)?.[1];
  const newFindings = readdirSync(findings).filter((f) => !before.has(f) && f.startsWith(`${name}-`));
  const ok = r.status === 0 && newFindings.length === 0;
  if (!ok) process.stderr.write(text.split('\n').slice(-60).join('\n'));
  return {
    name,
    ok,
    exit: r.status,
    seconds: Math.round((Date.now() - started) / 1000),
    runs: runs ? Number(runs) : null,
    corpus: readdirSync(corpus).length,
    findings: newFindings.map((f) => join(findings, f)),
  };
}

try {
  const args = parseArgs(process.argv.slice(2));
  ensureClang();
  await build(args.only);
  if (args.buildOnly) process.exit(0);
  const results = args.only.map((n) => fuzzOne(n, args.seconds));
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(13)} ${String(r.seconds).padStart(5)} s ${String(r.runs ?? '?').padStart(9)} runs  corpus ${r.corpus}${r.findings.length ? `  findings: ${r.findings.map((f) => basename(f)).join(' ')}` : ''}`);
  }
  writeFileSync(join(out, 'last-run.json'), `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
  const failed = results.filter((r) => !r.ok);
  console.log(`fuzz: ${results.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length) {
    console.log('Reproduce one: fuzz/build/bin/<name> <finding file>; keep it as a regression in fuzz/regressions/<name>/.');
    process.exit(1);
  }
} catch (err) {
  log(`fuzz: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
