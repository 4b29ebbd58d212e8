#!/usr/bin/env node
// Scale-out benchmark: N short ingest jobs through the Redis queue with 1, 2 and 4 worker
// processes (`fmv-ingest worker`), and the same jobs through the in-process JobManager. Prints
// jobs/minute, submit→start latency on an idle worker (p50/p95), the queue's overhead per job, and
// how throughput scales with workers (ratio to one worker, and per core used).
//
//   node bench/scale.mjs [--jobs 12] [--workers 1,2,4] [--seconds 2] [--width 320] [--height 240]
//                        [--idle 20] [--json report.json]
//
// It starts its own redis-server (Debian's) on a free loopback port, AOF with appendfsync always
// (what the README recommends), in a temporary directory, and stops it at the end.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = process.env.FMV_INGEST_BENCH_DIR ?? join(root, 'bench', 'out');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const JOBS = Number(opt('jobs', '12'));
const WORKERS = opt('workers', '1,2,4').split(',').map(Number);
const SECONDS = Number(opt('seconds', '2'));
const IDLE = Number(opt('idle', '20'));
const JSON_OUT = opt('json', undefined);

const { JobManager, synthesizeFlightClip } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
const cli = join(root, 'dist', 'cli.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function started(proc, pattern, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 60_000);
    const on = (d) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.once('exit', (code) => reject(new Error(`${what} exited (${code}):\n${out}`)));
  });
}

function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const ms = (iso) => Date.parse(iso);
const startLatency = (r) => ms(r.customAttributes.timings.started) - ms(r.customAttributes.timings.submitted);
/** From the first submission to the last finish, from the resources' own timings. */
const span = (rs) => Math.max(...rs.map((r) => ms(r.customAttributes.timings.finished))) - Math.min(...rs.map((r) => ms(r.customAttributes.timings.submitted)));
const ingestMs = (r) => ms(r.customAttributes.timings.finished) - ms(r.customAttributes.timings.started);

const work = join(outRoot, `scale-${process.pid}`);
mkdirSync(work, { recursive: true });
const clip = join(work, 'Scale_Bench.ts');
await synthesizeFlightClip(clip, { width: Number(opt('width', '320')), height: Number(opt('height', '240')), fps: 25, durationSeconds: SECONDS, audio: true });
const ingestOptions = { requestedResolutions: 'sd', hwaccel: 'cpu' };

const port = await freePort();
const redisDir = join(work, 'redis');
mkdirSync(redisDir);
const redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: ['ignore', 'pipe', 'pipe'] });
await started(redisProc, /Ready to accept connections/, 'redis-server');
const url = `redis://127.0.0.1:${port}/0`;
const report = { cores: availableParallelism(), loadavg: loadavg()[0], jobs: JOBS, clipSeconds: SECONDS, local: null, redis: [] };

try {
  // In-process: one manager, one ingest at a time (as each worker below runs one at a time).
  // Run before and after the workers; the better run counts (other load only ever adds time).
  const inProcess = async (round) => {
    const data = join(work, `local-${round}`);
    const m = await JobManager.open({ outDir: join(data, 'services'), tempDir: join(data, 'tmp'), hwaccel: 'cpu', concurrency: 1 });
    const jobs = Array.from({ length: JOBS }, (_, i) => m.ingest(clip, { ...ingestOptions, serviceName: `Local_${i}` }));
    await Promise.all(jobs.map((j) => j.done));
    const rs = jobs.map((j) => j.toJSON());
    await m.close();
    const wall = span(rs);
    const run = { wallMs: wall, jobsPerMinute: (JOBS * 60_000) / wall, ingestMsMedian: pct(rs.map(ingestMs), 50) };
    if (!report.local || run.wallMs < report.local.wallMs) report.local = run;
  };
  await inProcess(1);

  for (const n of WORKERS) {
    const data = join(work, `redis-${n}`);
    mkdirSync(data, { recursive: true });
    const prefix = `bench${n}`;
    const procs = [];
    for (let i = 0; i < n; i++) {
      const p = spawn(process.execPath, [cli, 'worker', '--redis', url, '--data', data, '--concurrency', '1', '--hwaccel', 'cpu', '--prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(p);
      await started(p, /taking jobs/, 'fmv-ingest worker');
    }
    const node = await JobManager.open({ outDir: join(data, 'services'), queue: { redis: url, prefix } });
    try {
      // Submit→start on idle workers: one job at a time, each waited for.
      const idle = [];
      for (let i = 0; i < IDLE; i++) idle.push(await (await node.submit(clip, { ...ingestOptions, serviceName: `Idle_${i}` })).finished);
      // Throughput: all at once.
      const submitted = await Promise.all(Array.from({ length: JOBS }, (_, i) => node.submit(clip, { ...ingestOptions, serviceName: `Burst_${i}` })));
      const rs = await Promise.all(submitted.map((s) => s.finished));
      const failed = rs.filter((r) => r.status !== 'COMPLETED');
      if (failed.length > 0) throw new Error(`${failed.length} jobs did not complete: ${failed[0].messages.at(-1)}`);
      const wall = span(rs);
      report.redis.push({
        workers: n,
        wallMs: wall,
        jobsPerMinute: (JOBS * 60_000) / wall,
        idleStartMs: { p50: pct(idle.map(startLatency), 50), p95: pct(idle.map(startLatency), 95) },
        burstStartMs: { p50: pct(rs.map(startLatency), 50), p95: pct(rs.map(startLatency), 95) },
        ingestMsMedian: pct(rs.map(ingestMs), 50),
        idleIngestMsMedian: pct(idle.map(ingestMs), 50),
        idleTotalMsMedian: pct(idle.map((r) => ms(r.customAttributes.timings.finished) - ms(r.customAttributes.timings.submitted)), 50),
      });
    } finally {
      await node.close();
      await Promise.all(procs.map(stop));
    }
  }
  await inProcess(2);
} finally {
  await stop(redisProc);
  rmSync(work, { recursive: true, force: true });
}

const one = report.redis.find((r) => r.workers === 1);
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`scale: ${JOBS} jobs of a ${SECONDS} s 320x240 clip (sd ladder, CPU), ${report.cores} cores, load ${f(report.loadavg, 2)}`);
console.log(`in-process manager (concurrency 1, better of two runs): ${f(report.local.jobsPerMinute, 1)} jobs/min, ingest median ${f(report.local.ingestMsMedian)} ms`);
console.log('workers  jobs/min  scaling  per-core  start p50/p95 idle (ms)  start p50/p95 burst (ms)  ingest median (ms)');
for (const r of report.redis) {
  const cores = Math.min(r.workers, report.cores);
  r.scaling = one ? r.jobsPerMinute / one.jobsPerMinute : NaN;
  r.perCore = r.jobsPerMinute / cores;
  console.log(
    `${String(r.workers).padStart(7)}  ${f(r.jobsPerMinute, 1).padStart(8)}  ${f(r.scaling, 2).padStart(7)}  ${f(r.perCore, 1).padStart(8)}  ${`${f(r.idleStartMs.p50)}/${f(r.idleStartMs.p95)}`.padStart(24)}  ${`${f(r.burstStartMs.p50)}/${f(r.burstStartMs.p95)}`.padStart(24)}  ${f(r.ingestMsMedian).padStart(18)}`,
  );
}
if (one) {
  // What the queue adds to one job: on an idle worker, submit→finished minus the ingest itself
  // (queue hand-over, resource writes to Redis, the final write), and the burst's wall time
  // against the in-process manager's for the same jobs.
  const perJob = one.idleTotalMsMedian - one.idleIngestMsMedian;
  const burst = (one.wallMs - report.local.wallMs) / JOBS;
  report.overhead = { perJobIdleMs: perJob, perJobBurstMs: burst, percentOf10sIngest: (perJob / 10_000) * 100, burstPercentOf10sIngest: (burst / 10_000) * 100 };
  console.log(`queue overhead per job: ${f(perJob)} ms on an idle worker (${f(report.overhead.percentOf10sIngest, 2)}% of a 10 s ingest); ${f(burst)} ms per job over the in-process burst (${f(report.overhead.burstPercentOf10sIngest, 2)}%)`);
}
if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(report, null, 2)}\n`);
