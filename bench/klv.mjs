// npm run bench:klv — KLV figures on this machine:
//  1. decodeKlv throughput on typical ST 0601 packets (bench/klv-decode.mjs),
//  2. `fmv-ingest klv --format ndjson` end to end on a raw KLV stream of many packets (the same
//     38-tag packets), process start included, and the heap it holds as the input grows,
//  3. extraction from a TS (our one-pass scan) next to `ffmpeg -map 0:d -c copy -f data`.
// Prints figures; asserts nothing.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encodeKlv } from '../dist/klv/index.js';
import { synthesizeClip, KlvUnitStream } from '../dist/index.js';
import { KLVDATA_PACKETS_PER_S, flightPacket } from './klv-flight.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });
const cli = join(root, 'dist', 'cli.js');

function timeIt(fn) {
  const t0 = performance.now();
  const r = fn();
  return { ms: performance.now() - t0, r };
}

const lines = [];
const say = (s) => { lines.push(s); process.stdout.write(`${s}\n`); };

say(`# KLV benchmark — ${new Date().toISOString()}, Node ${process.version}, ${process.arch}`);
say('');
say('## 1. decodeKlv (one core)');
const decode = spawnSync(process.execPath, [join(root, 'bench', 'klv-decode.mjs')], { encoding: 'utf8' });
say(decode.stdout.trim());

say('');
say('## 2. CLI end to end: fmv-ingest klv --format ndjson on a raw KLV stream');
const packets = Array.from({ length: 1000 }, (_, i) => encodeKlv(flightPacket(i)));
const probe = pathToFileURL(join(root, 'bench', 'klv-memory-probe.mjs')).href;
const probeOut = join(out, 'klv-memory.json');

/** One CLI run over a raw KLV file: wall ms and the probe's figures (peaks, CPU seconds). */
function cliRun(rawFile, target = join(out, 'flight.ndjson')) {
  const e2e = timeIt(() =>
    spawnSync(process.execPath, ['--import', probe, cli, 'klv', rawFile, '--format', 'ndjson', '--out', target], {
      encoding: 'utf8',
      env: { ...process.env, KLV_MEMORY_PROBE: probeOut },
    }),
  );
  if (e2e.r.status !== 0) throw new Error(e2e.r.stderr);
  return { ms: e2e.ms, ...JSON.parse(readFileSync(probeOut, 'utf8')) };
}

function rawStream(n) {
  const file = join(out, `flight-${n}.klv`);
  const raw = Buffer.concat(Array.from({ length: n }, (_, i) => packets[i % packets.length]));
  writeFileSync(file, raw);
  return { file, bytes: raw.length };
}

const N = 100_000;
const big = rawStream(N);
// Other load on the machine only ever adds time: report the best of 5 runs, and the median;
// CPU time (user + system of the process) is what other load changes least.
const cliRuns = [];
for (let i = 0; i < 5; i++) cliRuns.push(cliRun(big.file));
const byWall = [...cliRuns].sort((a, b) => a.ms - b.ms);
const byCpu = [...cliRuns].sort((a, b) => a.cpuSeconds - b.cpuSeconds);
const best = byWall[0].ms;
const median = byWall[2].ms;
const rate = N / (best / 1000);
say(`${N} packets, ${(big.bytes / 1e6).toFixed(1)} MB of KLV → ${(statSync(join(out, 'flight.ndjson')).size / 1e6).toFixed(0)} MB of NDJSON, process start included; best of 5 ${best.toFixed(0)} ms, median ${median.toFixed(0)} ms`);
say(`best ${Math.round(rate).toLocaleString('en')} packets/s (median ${Math.round(N / (median / 1000)).toLocaleString('en')}), ${(big.bytes / 1e6 / (best / 1000)).toFixed(1)} MB/s in — ` +
  `${(rate / KLVDATA_PACKETS_PER_S).toFixed(1)}× klvdata (${KLVDATA_PACKETS_PER_S} packets/s); target ≥ 200,000 packets/s`);
say(`per CPU second: best ${Math.round(N / byCpu[0].cpuSeconds).toLocaleString('en')} packets/s, median ${Math.round(N / byCpu[2].cpuSeconds).toLocaleString('en')} (CPU ${byCpu[0].cpuSeconds.toFixed(2)}–${byCpu[4].cpuSeconds.toFixed(2)} s)`);

say('');
say('## 2b. Memory of the same command as the input grows (goal: flat)');
const MB = (x) => `${(x / 1048576).toFixed(0)} MB`;
const sizes = [10_000, 100_000, 300_000];
const mem = sizes.map((n) => {
  const r = cliRun(n === N ? big.file : rawStream(n).file, '/dev/null');
  return { n, ...r };
});
for (const m of mem) say(`${String(m.n).padStart(7)} packets: peak JS heap in use ${MB(m.maxHeapUsed)}, peak RSS ${MB(m.maxRss)}`);
const growth = mem[mem.length - 1].maxHeapUsed / mem[0].maxHeapUsed;
say(`heap at ${sizes[sizes.length - 1].toLocaleString('en')} packets / at ${sizes[0].toLocaleString('en')}: ${growth.toFixed(2)}× for ${sizes[sizes.length - 1] / sizes[0]}× the input`);

say('');
say('## 3. Extraction from MPEG-TS: our scan vs ffmpeg -map 0:d -c copy -f data');
const ts = join(out, 'klv-60s.ts');
const klv = Array.from({ length: 60 * 30 }, (_, i) => ({ seconds: i / 30, data: packets[i % packets.length] }));
await synthesizeClip(ts, { width: 1280, height: 720, fps: 30, durationSeconds: 60, preset: 'ultrafast', klv });
const size = statSync(ts).size;
const runs = 5;
let ours = Infinity;
let units = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const s = new KlvUnitStream(ts);
  units = 0;
  for await (const b of s) units += b.length;
  ours = Math.min(ours, performance.now() - t0);
}
let ff = Infinity;
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (hasFfmpeg) {
  for (let i = 0; i < runs; i++) {
    const t = timeIt(() => execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', ts, '-map', '0:d', '-c', 'copy', '-f', 'data', join(out, 'ffmpeg.klv')]));
    ff = Math.min(ff, t.ms);
  }
}
say(`input ${(size / 1e6).toFixed(1)} MB, ${units} KLV units; best of ${runs}`);
say(`fmv-ingest scan (in-process): ${ours.toFixed(0)} ms`);
if (hasFfmpeg) say(`ffmpeg -c copy -f data (process):  ${ff.toFixed(0)} ms   → ratio ${(ours / ff).toFixed(2)}× (target ≤ 1.5×)`);
else say('ffmpeg CLI not installed: no comparison');
