#!/usr/bin/env node
// Ingest benchmark: our single-pass ingest against
//   (a) a shell pipeline of ffmpeg CLI calls producing the same outputs: ffprobe, one ffmpeg per
//       rendition (FFmpeg 5.1's var_stream_map refuses the KLV data stream, so each rung is its own
//       HLS output with the KLV PID), poster, thumbnail sprite, KLV extraction;
//   (a') the same pipeline with the ladder as one multi-output ffmpeg process (split filter);
//   (b) one ffmpeg process doing the ladder alone,
// on the same clip with the same preset, rungs and bit rates. Reports wall time, fps, speed, CPU
// time and peak RSS side by side, and the event-loop delay p99 while our ingest runs. Wall times
// are best of N (other load on the machine only ever adds time); CPU time, RSS and event-loop delay
// are medians.
//
//   node bench/ingest.mjs [input] [--hwaccel cpu,cuda] [--runs 3] [--seconds 10] [--preset veryfast]
//                         [--tier fhd] [--json report.json]
//
// Without an input it makes a 1080p30 clip with KLV under bench/out/ (testsrc2 + sine + the KLV
// units of KWIVER's h264_klv.ts). Runs alternate between the contenders and report medians.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The CLI (`fmv-ingest bench`) points this at a temporary directory: an installed package may be read-only.
const outRoot = process.env.FMV_INGEST_BENCH_DIR ?? join(root, 'bench', 'out');

// ---- child mode: one ingest in a fresh process, so its CPU time and peak RSS are its own ----

async function child(input, outDir, optionsJson) {
  const { startPipeline } = await import(pathToFileURL(join(root, 'dist', 'pipeline.js')).href);
  const eld = monitorEventLoopDelay({ resolution: 5 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  eld.enable();
  let klvUnits = 0;
  let progressEvents = 0;
  let report;
  try {
    const result = await startPipeline(input, { outDir, ...JSON.parse(optionsJson) }, {
      onKlv: (u) => (klvUnits += u.length),
      onProgress: () => progressEvents++,
    }).done;
    const wallMs = performance.now() - t0;
    eld.disable();
    const cpu = process.cpuUsage(cpu0);
    report = {
      ok: true,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
      eldP99Ms: eld.percentile(99) / 1e6,
      eldMaxMs: eld.max / 1e6,
      frames: result.counts.framesOut,
      duration: result.duration,
      klvUnits,
      progressEvents,
      hardware: result.hardware,
      renditions: result.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height, videoBitrate: r.videoBitrate, maxBitrate: r.maxBitrate })),
      files: result.files.length,
      warnings: result.warnings.map((w) => w.code),
    };
  } catch (err) {
    report = { ok: false, code: err.code ?? 'ERR', message: err.message };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---- helpers ----

function args() {
  const a = process.argv.slice(2);
  const o = { input: null, hwaccel: ['cpu'], runs: 3, seconds: 10, preset: 'veryfast', tier: 'fhd', json: join(outRoot, 'report.json') };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    const v = () => {
      if (i + 1 >= a.length) throw new Error(`${k} needs a value`);
      return a[++i];
    };
    if (k === '--hwaccel') o.hwaccel = v().split(',').filter(Boolean);
    else if (k === '--runs') o.runs = Math.max(1, Number(v()));
    else if (k === '--seconds') o.seconds = Number(v());
    else if (k === '--preset') o.preset = v();
    else if (k === '--tier') o.tier = v();
    else if (k === '--json') o.json = resolve(v());
    else if (k === '-h' || k === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 13).join('\n'));
      process.exit(0);
    } else if (!k.startsWith('--') && !o.input) o.input = resolve(k);
    else throw new Error(`unknown argument ${k}`);
  }
  return o;
}

const hasGnuTime = existsSync('/usr/bin/time');

/** Runs a command, measuring wall time, and (with GNU time) CPU time and peak RSS. */
function timed(cmd, argv, { cwd } = {}) {
  return new Promise((resolvePromise, reject) => {
    const stats = join(outRoot, `.time-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const [bin, list] = hasGnuTime ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, cmd, ...argv]] : [cmd, argv];
    const t0 = performance.now();
    const p = spawn(bin, list, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${cmd} ${argv.join(' ')} failed (${code}): ${err.slice(-800)}`));
      let cpuMs = null;
      let maxRssKb = null;
      if (hasGnuTime && existsSync(stats)) {
        const [, user, sys, rss] = readFileSync(stats, 'utf8').trim().split(/\s+/).map(Number);
        cpuMs = (user + sys) * 1000;
        maxRssKb = rss;
        rmSync(stats, { force: true });
      }
      resolvePromise({ wallMs, cpuMs, maxRssKb, stdout: out });
    });
  });
}

const best = (xs) => {
  const v = xs.filter((x) => typeof x === 'number');
  return v.length ? Math.min(...v) : null;
};

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

function probeClip(input) {
  const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_format', '-show_streams', input]).toString());
  const v = j.streams.find((s) => s.codec_type === 'video');
  const [n, d] = (v.avg_frame_rate || v.r_frame_rate).split('/').map(Number);
  return {
    width: v.width,
    height: v.height,
    fps: d ? n / d : 30,
    duration: Number(j.format.duration),
    frames: null,
    audio: j.streams.some((s) => s.codec_type === 'audio'),
    audioCodec: j.streams.find((s) => s.codec_type === 'audio')?.codec_name ?? null,
    klv: j.streams.some((s) => s.codec_name === 'klv'),
    ffmpeg: execFileSync('ffmpeg', ['-version']).toString().split('\n')[0],
  };
}

// ---- the ffmpeg CLI contenders ----

/** One ffmpeg process: decode once, split, scale and encode each rung, one HLS output per rung with audio and KLV. */
function ladderArgs(input, dir, rungs, clip, preset, segmentSeconds) {
  const split = `[0:v]split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')}`;
  const scales = rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p,setsar=1[v${i}]`);
  const a = ['-nostdin', '-v', 'error', '-y', '-i', input, '-filter_complex', [split, ...scales].join(';')];
  const gop = Math.ceil(segmentSeconds * clip.fps);
  rungs.forEach((r, i) => {
    mkdirSync(join(dir, r.name), { recursive: true });
    a.push('-map', `[v${i}]`);
    if (clip.audio) a.push('-map', '0:a:0');
    if (clip.klv) a.push('-map', '0:d?');
    a.push('-c:v', 'libx264', '-preset', preset, '-profile:v', 'high', '-x264-params', 'scenecut=0:open_gop=0', '-forced-idr', '1');
    a.push('-g', String(gop), '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`);
    a.push('-b:v', String(r.videoBitrate), '-maxrate', String(r.maxBitrate), '-bufsize', String(r.videoBitrate * 2));
    if (clip.audio) a.push(...(clip.audioCodec === 'aac' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k']));
    if (clip.klv) a.push('-c:d', 'copy');
    a.push('-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_playlist_type', 'vod', '-hls_segment_filename', join(dir, r.name, `${r.name}_%05d.ts`), join(dir, r.name, `${r.name}.m3u8`));
  });
  return a;
}

/** (a) and (a'): probe, ladder, poster, thumbnail sprite, KLV extraction, one after the other (a shell script's way). */
async function shellPipeline(input, dir, rungs, clip, preset, segmentSeconds, onePerRung) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ladder = onePerRung ? rungs.map((r) => ['ffmpeg', ladderArgs(input, dir, [r], clip, preset, segmentSeconds)]) : [['ffmpeg', ladderArgs(input, dir, rungs, clip, preset, segmentSeconds)]];
  const steps = [
    ['ffprobe', ['-v', 'error', '-of', 'json', '-show_format', '-show_streams', input]],
    ...ladder,
    ['ffmpeg', ['-nostdin', '-v', 'error', '-y', '-ss', String(clip.duration * 0.1), '-i', input, '-frames:v', '1', '-vf', `scale=${Math.min(1920, clip.width)}:-2`, join(dir, 'poster.jpg')]],
    ['ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', input, '-vf', 'fps=1/10,scale=160:-2,tile=10x10', '-frames:v', '1', join(dir, 'sprite.jpg')]],
  ];
  if (clip.klv) steps.push(['ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', input, '-map', '0:d:0', '-c', 'copy', '-f', 'data', join(dir, 'klv.bin')]]);
  let wallMs = 0;
  let cpuMs = 0;
  let maxRssKb = 0;
  for (const [cmd, argv] of steps) {
    const r = await timed(cmd, argv);
    wallMs += r.wallMs;
    cpuMs = r.cpuMs === null || cpuMs === null ? null : cpuMs + r.cpuMs;
    maxRssKb = r.maxRssKb === null || maxRssKb === null ? null : Math.max(maxRssKb, r.maxRssKb);
  }
  const master = ['#EXTM3U', ...rungs.flatMap((r) => [`#EXT-X-STREAM-INF:BANDWIDTH=${r.maxBitrate},RESOLUTION=${r.width}x${r.height}`, `${r.name}/${r.name}.m3u8`])];
  writeFileSync(join(dir, 'ABR.m3u8'), `${master.join('\n')}\n`);
  return { wallMs, cpuMs, maxRssKb };
}

async function ladderAlone(input, dir, rungs, clip, preset, segmentSeconds) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return timed('ffmpeg', ladderArgs(input, dir, rungs, clip, preset, segmentSeconds));
}

async function ours(input, dir, options) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = await timed(process.execPath, [fileURLToPath(import.meta.url), '--child', input, dir, JSON.stringify(options)]);
  const report = JSON.parse(r.stdout.trim().split('\n').pop());
  if (!report.ok) return { ...report, wallMs: r.wallMs };
  // The child's own clock excludes Node's start-up; the outer one is comparable to the CLI runs.
  return { ...report, innerWallMs: report.wallMs, wallMs: r.wallMs, maxRssKb: r.maxRssKb ?? report.maxRssKb };
}

// ---- report ----

const fmt = {
  s: (ms) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`),
  mb: (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`),
  x: (v) => (v === null ? 'n/a' : `${v.toFixed(2)}×`),
  n: (v, d = 1) => (v === null || v === undefined ? 'n/a' : v.toFixed(d)),
};

function row(name, m, clip) {
  const fps = m.wallMs ? (clip.duration * clip.fps) / (m.wallMs / 1000) : null;
  const speed = m.wallMs ? clip.duration / (m.wallMs / 1000) : null;
  return `| ${name} | ${fmt.s(m.wallMs)} | ${fmt.s(m.medianWallMs)} | ${fmt.n(fps)} | ${fmt.x(speed)} | ${fmt.s(m.cpuMs)} | ${fmt.mb(m.maxRssKb)} |`;
}

async function main() {
  const o = args();
  mkdirSync(outRoot, { recursive: true });
  if (!existsSync(join(root, 'dist', 'pipeline.js'))) throw new Error('dist/pipeline.js is missing: run `npm run build` (or `npx tsc -p tsconfig.json`) first');
  let input = o.input;
  if (!input) {
    const { makeClip } = await import(pathToFileURL(join(root, 'test', 'pipeline-fixtures.mjs')).href);
    process.stderr.write(`making a ${o.seconds} s 1080p30 clip with KLV under ${outRoot} ...\n`);
    input = makeClip(join(outRoot, 'clips'), `fhd-${o.seconds}s`, { seconds: o.seconds, preset: 'veryfast', videoBitrate: 8_000_000 }).path;
  }
  const clip = probeClip(input);
  const segmentSeconds = 4;
  const base = { requestedResolutions: o.tier, preset: o.preset, segmentSeconds };

  // The rungs and bit rates our planner picks are handed to the CLI contenders verbatim.
  process.stderr.write('planning the ladder ...\n');
  const plan = await ours(input, join(outRoot, 'ours-plan'), { ...base, hwaccel: 'cpu' });
  if (!plan.ok) throw new Error(`our ingest failed: ${plan.code}: ${plan.message}`);
  const rungs = plan.renditions;

  const samples = { a: [], a2: [], b: [] };
  for (const hw of o.hwaccel) samples[`ours-${hw}`] = [];
  for (let i = 0; i < o.runs; i++) {
    for (const hw of o.hwaccel) {
      process.stderr.write(`run ${i + 1}/${o.runs}: ours (hwaccel ${hw}) ...\n`);
      samples[`ours-${hw}`].push(await ours(input, join(outRoot, `ours-${hw}`), { ...base, hwaccel: hw }));
    }
    process.stderr.write(`run ${i + 1}/${o.runs}: (a) ffmpeg CLI pipeline, one process per rendition ...\n`);
    samples.a.push(await shellPipeline(input, join(outRoot, 'cli-pipeline'), rungs, clip, o.preset, segmentSeconds, true));
    process.stderr.write(`run ${i + 1}/${o.runs}: (a') ffmpeg CLI pipeline, multi-output ladder ...\n`);
    samples.a2.push(await shellPipeline(input, join(outRoot, 'cli-pipeline-split'), rungs, clip, o.preset, segmentSeconds, false));
    process.stderr.write(`run ${i + 1}/${o.runs}: (b) ffmpeg ladder alone ...\n`);
    samples.b.push(await ladderAlone(input, join(outRoot, 'cli-ladder'), rungs, clip, o.preset, segmentSeconds));
  }

  const med = (list) => ({
    wallMs: best(list.map((s) => s.wallMs)),
    medianWallMs: median(list.map((s) => s.wallMs)),
    cpuMs: median(list.map((s) => s.cpuMs)),
    maxRssKb: median(list.map((s) => s.maxRssKb)),
    eldP99Ms: median(list.map((s) => s.eldP99Ms)),
    eldMaxMs: median(list.map((s) => s.eldMaxMs)),
  });
  const a = med(samples.a);
  const a2 = med(samples.a2);
  const b = med(samples.b);
  const lines = [];
  lines.push(`### fmv-ingest bench: ${clip.width}x${clip.height} @ ${fmt.n(clip.fps, 2)} fps, ${fmt.n(clip.duration, 2)} s${clip.klv ? ', KLV' : ''}${clip.audio ? `, ${clip.audioCodec} audio` : ''}`);
  lines.push('');
  lines.push(`ladder ${rungs.map((r) => `${r.name} ${r.width}x${r.height} ${(r.videoBitrate / 1e6).toFixed(1)} Mb/s`).join(', ')}; libx264 ${o.preset}; ${segmentSeconds} s segments; ${o.runs} run(s) each, alternating: wall = best run, the rest medians`);
  lines.push(`machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; Node ${process.version}; ${clip.ffmpeg}`);
  lines.push('');
  lines.push('| contender | wall (best) | wall (median) | fps | speed | CPU time | peak RSS |');
  lines.push('|---|---|---|---|---|---|---|');
  const verdicts = [];
  const results = {};
  for (const hw of o.hwaccel) {
    const list = samples[`ours-${hw}`];
    const failed = list.find((s) => !s.ok);
    if (failed) {
      lines.push(`| ours, hwaccel ${hw} | failed: ${failed.code} | | | | | |`);
      verdicts.push(`- hwaccel ${hw}: ${failed.code}: ${failed.message}`);
      results[hw] = { ok: false, code: failed.code, message: failed.message };
      continue;
    }
    const m = med(list);
    const h = list[0].hardware;
    lines.push(row(`**ours**, hwaccel ${hw} (${h.used}: ${h.decoder} → ${h.scaler} → ${h.encoder})`, m, clip));
    results[hw] = { ...m, hardware: h };
    const ra = m.wallMs / a.wallMs;
    const ra2 = m.wallMs / a2.wallMs;
    const rb = m.wallMs / b.wallMs;
    const cpuRatio = (x) => (m.cpuMs === null || x.cpuMs === null ? 'n/a' : fmt.x(m.cpuMs / x.cpuMs));
    const rssOk = m.maxRssKb === null || b.maxRssKb === null ? null : m.maxRssKb <= b.maxRssKb + 100 * 1024;
    const mark = (ok) => (ok === null ? '?' : ok ? 'pass' : 'FAIL');
    verdicts.push(`- hwaccel ${hw} (${h.reason})`);
    verdicts.push(`  - wall vs (a) CLI pipeline: ${fmt.x(ra)} (target ≤ 0.80×) ${mark(ra <= 0.8)}; CPU time ${cpuRatio(a)}`);
    verdicts.push(`  - wall vs (a') CLI pipeline with a multi-output ladder: ${fmt.x(ra2)}; CPU time ${cpuRatio(a2)}`);
    verdicts.push(`  - wall vs (b) CLI ladder alone: ${fmt.x(rb)} (target ≤ 1.10×) ${mark(rb <= 1.1)}; CPU time ${cpuRatio(b)}`);
    verdicts.push(`  - peak RSS ${fmt.mb(m.maxRssKb)} vs ffmpeg ${fmt.mb(b.maxRssKb)} + 100 MB ${mark(rssOk)}`);
    verdicts.push(`  - event-loop delay p99 ${fmt.n(m.eldP99Ms, 2)} ms (max ${fmt.n(m.eldMaxMs, 1)} ms) (target < 20 ms) ${mark(m.eldP99Ms < 20)}`);
    verdicts.push(`  - per run wall: ${list.map((s) => fmt.s(s.wallMs)).join(', ')}; KLV units delivered ${list[0].klvUnits}, progress events ${list[0].progressEvents}`);
  }
  lines.push(row(`(a) ffmpeg CLI pipeline: ffprobe + ${rungs.length} ladder processes + poster + sprite + KLV`, a, clip));
  lines.push(row("(a') ffmpeg CLI pipeline, ladder as one multi-output process", a2, clip));
  lines.push(row('(b) ffmpeg CLI, ladder alone (one process)', b, clip));
  lines.push('');
  lines.push(...verdicts);
  lines.push('');
  lines.push(`per run wall (a): ${samples.a.map((s) => fmt.s(s.wallMs)).join(', ')}; (a'): ${samples.a2.map((s) => fmt.s(s.wallMs)).join(', ')}; (b): ${samples.b.map((s) => fmt.s(s.wallMs)).join(', ')}`);
  if (!hasGnuTime) lines.push('CPU time and RSS of the ffmpeg runs need GNU time (/usr/bin/time): n/a here.');
  const text = lines.join('\n');
  console.log(text);
  writeFileSync(o.json, JSON.stringify({ clip, rungs, runs: o.runs, preset: o.preset, ours: results, a, a2, b, samples }, null, 2));
  process.stderr.write(`\nreport written to ${o.json}\n`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  main().catch((err) => {
    console.error(`bench failed: ${err.message}`);
    process.exit(1);
  });
}
