// npm run bench:soak — repeats every native operation (probe, KLV scan, previews, a small ingest)
// and prints RSS and JS heap as it goes, so a leak in the addon or its FFmpeg objects shows up as
// RSS that keeps growing after the first rounds. Prints figures; asserts nothing.
//   node bench/soak.mjs [rounds=40]
import { mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probe, KlvUnitStream, generatePreviews, startPipeline, synthesizeFlightClip } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out', 'soak');
const rounds = Number(process.argv[2] ?? 40);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const clip = join(out, 'clip.ts');
await synthesizeFlightClip(clip, { width: 320, height: 240, fps: 30, durationSeconds: 3, preset: 'ultrafast' });

const mb = (n) => (n / 1048576).toFixed(1);
const samples = [];
function sample(round) {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  samples.push({ round, rss: m.rss });
  process.stdout.write(`round ${String(round).padStart(3)}  rss ${mb(m.rss).padStart(7)} MB  heapUsed ${mb(m.heapUsed).padStart(6)} MB  external ${mb(m.external).padStart(6)} MB\n`);
}

const t0 = Date.now();
for (let round = 1; round <= rounds; round++) {
  await probe(clip);
  await probe(join(out, 'missing.ts')).catch(() => undefined);
  const klv = new KlvUnitStream(clip);
  for await (const batch of klv) void batch;
  const dir = join(out, `r${round % 2}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await generatePreviews(clip, { outDir: join(dir, 'previews'), thumbnailInterval: 1 });
  mkdirSync(join(dir, 'hls'));
  await startPipeline(clip, { outDir: join(dir, 'hls'), requestedResolutions: 'sd', preset: 'ultrafast' }, { onKlv: () => undefined }).done;
  if (round === 1 || round % Math.max(1, Math.floor(rounds / 10)) === 0 || round === Math.floor(rounds / 2)) sample(round);
}
// Growth over the second half: the first rounds fill caches and allocator pools.
const warm = samples.find((s) => s.round >= Math.floor(rounds / 2)) ?? samples[0];
const last = samples[samples.length - 1];
const perRound = (last.rss - warm.rss) / Math.max(1, last.round - warm.round);
process.stdout.write(`\n${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s; RSS after warm-up (round ${warm.round}) ${mb(warm.rss)} MB → ${mb(last.rss)} MB: ${(perRound / 1024).toFixed(1)} KB per round\n`);
