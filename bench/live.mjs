#!/usr/bin/env node
// Live ingest latency: the ffmpeg CLI plays a 1080p30 clip with ST 0601 at 30 Hz in real time
// (`-re`, looped) and writes it twice through a tee — to the ingest (UDP or SRT) and to a UDP
// socket of this script, which notes when each video frame and KLV unit left the sender (the
// sender's clock: the input arrival, not our own PROGRAM-DATE-TIME). Meanwhile the playlist is
// polled every 5 ms. Printed per path:
//   segment listed   wall time from the arrival of a segment's last frame to the playlist naming it (p50/p95)
//   KLV event        arrival of a KLV unit at the input → its packet from run.telemetry() (p50/p99)
//   lag              the run's own arrival → encode delay at the end, and FALLING_BEHIND warnings
//   CPU, RSS         CPU seconds per second of wall time, peak RSS of this process
//   part listed      with --low-latency: the same for LL-HLS parts (p50/p95)
// Options: --seconds N (default 60), --paths udp,srt, --resolutions fhd (ladder top), --preset veryfast,
// --low-latency (LL-HLS parts of 0.5 s), --soak N (one UDP run of N seconds: RSS after the first minute
// and at the end, KLV units sent and received, packets the demuxer found damaged).
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = join(root, 'bench', 'out', 'live');

function args() {
  const o = { seconds: 60, paths: ['udp', 'srt'], resolutions: 'fhd', preset: 'veryfast', lowLatency: false };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--seconds') o.seconds = Number(a[++i]);
    else if (a[i] === '--paths') o.paths = a[++i].split(',');
    else if (a[i] === '--resolutions') o.resolutions = a[++i];
    else if (a[i] === '--preset') o.preset = a[++i];
    else if (a[i] === '--low-latency') o.lowLatency = true;
    else if (a[i] === '--soak') {
      o.seconds = Number(a[++i]);
      o.paths = ['udp'];
      o.soak = true;
    }
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return o;
}

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Notes the wall time each PES with a PTS starts on each PID, from TS datagrams. */
function startTap(port) {
  const firstSeen = new Map(); // `${pid}:${pts}` → ms
  const pids = new Map(); // pid → 'video' | 'klv'
  const socket = createSocket('udp4');
  socket.on('message', (buf) => {
    const now = performance.timeOrigin + performance.now();
    for (let off = 0; off + 188 <= buf.length; off += 188) {
      if (buf[off] !== 0x47) continue;
      const pusi = (buf[off + 1] & 0x40) !== 0;
      const pid = ((buf[off + 1] & 0x1f) << 8) | buf[off + 2];
      const afc = (buf[off + 3] >> 4) & 3;
      let p = off + 4;
      if (afc === 2) continue;
      if (afc === 3) p += 1 + buf[p];
      if (!pusi || p + 14 > off + 188) continue;
      if (pid === 0 || buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) continue;
      const streamId = buf[p + 3];
      const kind = streamId >= 0xe0 && streamId <= 0xef ? 'video' : streamId === 0xbd || streamId === 0xfc ? 'klv' : null;
      if (!kind || (buf[p + 7] & 0x80) === 0) continue;
      const b = p + 9;
      const pts = (buf[b] & 0x0e) * 536870912 + buf[b + 1] * 4194304 + (buf[b + 2] >> 1) * 32768 + buf[b + 3] * 128 + (buf[b + 4] >> 1);
      pids.set(pid, kind);
      const key = `${kind}:${pts}`;
      if (!firstSeen.has(key)) firstSeen.set(key, now);
    }
  });
  socket.bind(port, '127.0.0.1');
  return { firstSeen, close: () => socket.close() };
}

async function freePort() {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function runPath(path, clip, o, startLive) {
  const [tapPort, port] = [await freePort(), await freePort()];
  const out = join(outRoot, path);
  rmSync(out, { recursive: true, force: true });
  const tap = startTap(tapPort);
  const ingestUrl = path === 'srt' ? `srt://127.0.0.1:${port}?mode=listener&latency=20000` : `udp://127.0.0.1:${port}?fifo_size=200000&overrun_nonfatal=1`;
  const sendUrl = path === 'srt' ? `srt://127.0.0.1:${port}?mode=caller&latency=20000&pkt_size=1316` : `udp://127.0.0.1:${port}?pkt_size=1316`;
  const warnings = [];
  const klvLatency = [];
  const run = startLive(ingestUrl, { outDir: out, requestedResolutions: o.resolutions, preset: o.preset, previews: false, live: { windowSegments: 1000, ...(o.lowLatency ? { lowLatency: true } : {}) } }, { onWarning: (w) => warnings.push(w.code) });
  await new Promise((r) => setTimeout(r, 300));
  const sender = spawn(
    'ffmpeg',
    ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-map', '0', '-c', 'copy', '-f', 'tee', `[f=mpegts]${sendUrl}|[f=mpegts]udp://127.0.0.1:${tapPort}?pkt_size=1316`],
    { stdio: 'ignore' },
  );
  const t0 = Date.now();
  const reader = (async () => {
    for await (const { packet, receivedAt } of run.telemetry({ queueLimit: 100_000 })) {
      const sent = tap.firstSeen.get(`klv:${Math.round(packet.pts * 90000)}`);
      // The start (input opening, encoders warming up) is not the steady state: skipped for 3 s.
      if (sent !== undefined && receivedAt - t0 > 3000) klvLatency.push(receivedAt - sent);
    }
  })();
  // Playlist polling: when each segment URI first appears.
  const listedAt = new Map();
  const partListedAt = new Map();
  const playlist = join(out, o.resolutions === 'sd' ? '480p' : o.resolutions === 'hd' ? '720p' : '1080p', `${o.resolutions === 'sd' ? '480p' : o.resolutions === 'hd' ? '720p' : '1080p'}.m3u8`);
  const poll = setInterval(() => {
    let text = '';
    try {
      text = readFileSync(playlist, 'utf8');
    } catch {
      return;
    }
    const now = performance.timeOrigin + performance.now();
    let start = 0;
    let partStart = 0;
    for (const m of text.matchAll(/#EXTINF:([\d.]+),\n(\S+)|#EXT-X-PART:DURATION=([\d.]+),URI="([^"]+)"/g)) {
      if (m[3] !== undefined) {
        if (!partListedAt.has(m[4])) partListedAt.set(m[4], { at: now, start: start + partStart, duration: Number(m[3]) });
        partStart += Number(m[3]);
        continue;
      }
      if (!listedAt.has(m[2])) listedAt.set(m[2], { at: now, start, duration: Number(m[1]) });
      start += Number(m[1]);
      partStart = 0;
    }
  }, 5);
  const cpu0 = process.cpuUsage();
  let peakRss = 0;
  const rssSamples = [];
  const rss = setInterval(() => {
    const now = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, now);
    if (rssSamples.length === 0 || Date.now() - rssSamples.at(-1).at >= 5000) rssSamples.push({ at: Date.now(), rss: now });
  }, 200);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const lag = run.status().lagSeconds;
  clearInterval(poll);
  sender.kill('SIGKILL');
  const klvReceived = run.status().klvPackets;
  run.stop();
  const result = await run.done;
  await reader;
  clearInterval(rss);
  tap.close();
  const cpu = process.cpuUsage(cpu0);
  const wall = (Date.now() - t0) / 1000;

  // Input clock of each frame as the sender sent it; our segments keep the input's timestamps.
  const videoPts = [...tap.firstSeen.keys()].filter((k) => k.startsWith('video:')).map((k) => Number(k.slice(6))).sort((a, b) => a - b);
  // Where the first listed segment starts on the input clock (our segments keep the input's timestamps).
  const first = [...listedAt.keys()][0];
  let firstFile = first ? join(dirname(playlist), first) : undefined;
  if (firstFile?.endsWith('.m4s')) {
    // fMP4: the segment plays after its init segment.
    const joined = join(out, 'first-segment.mp4');
    const rendition = dirname(playlist);
    writeFileSync(joined, Buffer.concat([readFileSync(join(rendition, `${rendition.split('/').pop()}_init.mp4`)), readFileSync(firstFile)]));
    firstFile = joined;
  }
  const firstPts = firstFile ? Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', firstFile], { encoding: 'utf8' }).trim().split('\n')[0]) : 0;
  if (process.env.FMV_BENCH_DEBUG) console.log('first tap pts', videoPts[0] / 90000, 'first segment start', firstPts);
  const frame = 1 / 30;
  // The last frame of a segment or part, on the input clock: first frame + cumulative duration − one frame.
  const latencies = (listed) => {
    const out = [];
    for (const { at, start, duration } of listed.values()) {
      const lastPts = Math.round((firstPts + start + duration - frame) * 90000);
      const near = videoPts.find((p) => Math.abs(p - lastPts) <= 1500);
      const sent = near === undefined ? undefined : tap.firstSeen.get(`video:${near}`);
      if (sent !== undefined) out.push((at - sent) / 1000);
    }
    return out;
  };
  const segmentLatency = latencies(listedAt);
  const partLatency = latencies(partListedAt);
  // The benchmark clip carries ST 0601 at 30 Hz: what the sender sent while the run listened.
  const klvSent = Math.round(((Date.now() - t0) / 1000) * 30);
  const afterMinute = rssSamples.find((x) => x.at - t0 >= 60_000) ?? rssSamples[0];
  const soak = { rssAfterMinute: afterMinute?.rss ?? 0, rssEnd: rssSamples.at(-1)?.rss ?? 0, klvSent, klvReceived, corrupt: result.counts.corruptPackets, decodeErrors: result.counts.decodeErrors, shed: result.counts.framesShed };
  return { path, soak, segmentLatency, partLatency, klvLatency, lag, warnings: [...new Set(warnings)], cpu: (cpu.user + cpu.system) / 1e6 / wall, peakRss, segments: listedAt.size };
}

async function main() {
  const o = args();
  const { startLive } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const { makeClip } = await import(pathToFileURL(join(root, 'test', 'pipeline-fixtures.mjs')).href);
  mkdirSync(outRoot, { recursive: true });
  const clip = makeClip(join(root, 'bench', 'out', 'clips'), 'live-fhd-30hz', { seconds: 10, klvRate: 30, preset: 'veryfast', videoBitrate: 8_000_000 }).path;
  console.log(`live ingest, 1080p30 source with ST 0601 at 30 Hz, ladder up to ${o.resolutions}, preset ${o.preset}, ${o.seconds} s per path, 2 s segments${o.lowLatency ? ', LL-HLS parts of 0.5 s' : ''}`);
  for (const path of o.paths) {
    const r = await runPath(path, clip, o, startLive);
    // The first segment waits for the encoders to start; it is reported, not counted.
    const steady = r.segmentLatency.slice(1);
    console.log(
      `${path.padEnd(4)} segment listed p50 ${percentile(steady, 50).toFixed(3)} s  p95 ${percentile(steady, 95).toFixed(3)} s  (first ${r.segmentLatency[0]?.toFixed(3)} s, ${r.segments} segments)` +
        (r.partLatency.length > 1 ? `  part listed p50 ${percentile(r.partLatency.slice(1), 50).toFixed(3)} s  p95 ${percentile(r.partLatency.slice(1), 95).toFixed(3)} s` : '') +
        `  KLV event p50 ${percentile(r.klvLatency, 50).toFixed(1)} ms  p99 ${percentile(r.klvLatency, 99).toFixed(1)} ms (${r.klvLatency.length})` +
        `  lag ${r.lag === null ? '-' : r.lag.toFixed(2)} s  CPU ${r.cpu.toFixed(2)} cores  peak RSS ${(r.peakRss / 1048576).toFixed(0)} MB` +
        (r.warnings.length ? `  warnings ${r.warnings.join(',')}` : ''),
    );
    if (o.soak) {
      const mb = (b) => (b / 1048576).toFixed(1);
      console.log(
        `soak ${o.seconds} s: RSS ${mb(r.soak.rssAfterMinute)} MB after the first minute, ${mb(r.soak.rssEnd)} MB at the end (growth ${mb(r.soak.rssEnd - r.soak.rssAfterMinute)} MB)` +
          `  KLV packets decoded ${r.soak.klvReceived} of about ${r.soak.klvSent} sent  damaged packets ${r.soak.corrupt}  decode errors ${r.soak.decodeErrors}  frames shed ${r.soak.shed}`,
      );
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
