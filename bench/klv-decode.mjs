// KLV decode throughput on one core.
// Build first: npx tsc -p tsconfig.json   then: node bench/klv-decode.mjs [packets] [rounds]
import { performance } from 'node:perf_hooks';
import { decodeKlv, encodeKlv, toNdjsonLine } from '../dist/klv/index.js';

const PACKETS = Number(process.argv[2] ?? 20000);
const ROUNDS = Number(process.argv[3] ?? 11);

/** A simulated orbit: 38 tags per packet, the mix real ST 0601 encoders send (nested security set included). */
function flightPacket(i) {
  const t = i / 30;
  const heading = (t * 3) % 360;
  const lat = 35.02 + 0.01 * Math.sin(t / 50);
  const lon = -79.18 + 0.01 * Math.cos(t / 50);
  const fcLat = lat + 0.008;
  const fcLon = lon + 0.04;
  return {
    standard: 'ST0601',
    tags: {
      2: 1513101511391891 + Math.round(i * 33366.7),
      3: 'MISSION-1234',
      4: 'N-4711',
      5: heading,
      6: 1.5 * Math.sin(t),
      7: 4 * Math.cos(t / 3),
      8: 41,
      10: 'Predator',
      11: 'EO Nose',
      12: 'Geodetic WGS84',
      13: lat,
      14: lon,
      15: 3657.5 + 2 * Math.sin(t),
      16: 7.6,
      17: 5.7,
      18: (heading + 90) % 360,
      19: -42.1,
      20: 0,
      21: 5361.4,
      22: 712.1,
      23: fcLat,
      24: fcLon,
      25: 67.1,
      26: 0.0041,
      27: 0.0034,
      28: -0.0024,
      29: 0.0053,
      30: -0.0037,
      31: -0.0034,
      32: 0.0021,
      33: -0.005,
      48: { 1: 1, 2: 2, 3: '//USA', 12: 2, 13: 'USA', 22: 12 },
      56: 38,
      59: 'VIPER21',
      65: 17,
      90: 1.5 * Math.sin(t),
      91: 4 * Math.cos(t / 3),
    },
  };
}

let units = [];
for (let i = 0; i < PACKETS; i++) units.push(encodeKlv(flightPacket(i)));
const total = units.reduce((a, u) => a + u.length, 0);
const buffer = new Uint8Array(total);
const views = [];
let o = 0;
for (const u of units) {
  buffer.set(u, o);
  views.push(buffer.subarray(o, o + u.length));
  o += u.length;
}
const sample = decodeKlv(units[0])[0];
units = null;
console.log(
  `buffer: ${PACKETS} ST 0601 packets, ${(total / 1e6).toFixed(2)} MB, ` +
    `${Math.round(total / PACKETS)} bytes and ${Object.keys(sample.tags).length} tags per packet`,
);

function measure(label, fn) {
  fn(); // warm-up
  fn();
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const n = fn();
    const dt = (performance.now() - t0) / 1000;
    rates.push(n / dt);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const best = rates[rates.length - 1];
  const mbps = (median * (total / PACKETS)) / 1e6;
  console.log(
    `${label.padEnd(30)} ${Math.round(median).toLocaleString('en-US').padStart(11)} packets/s (median of ${ROUNDS}; best ${Math.round(best).toLocaleString('en-US')})  ${mbps.toFixed(1)} MB/s`,
  );
  return median;
}

let sink = 0;
// One call over the whole buffer: framing, checksums and every scalar
// value; tag objects are built on first access.
measure('decodeKlv', () => {
  const packets = decodeKlv(buffer);
  sink += packets.length;
  return packets.length;
});

// One call per unit, as when decoding PES payloads as they arrive.
measure('decodeKlv, one call per unit', () => {
  for (const v of views) sink += decodeKlv(v).length;
  return views.length;
});

// The same plus building every packet's tags object (what reading `packet.tags` costs).
measure('decodeKlv + tags objects', () => {
  const packets = decodeKlv(buffer);
  for (const p of packets) sink += Object.keys(p.tags).length;
  return packets.length;
});

measure('decodeKlv + NDJSON line', () => {
  const packets = decodeKlv(buffer, { stream: 1, pid: 0x101, carriage: 'async' });
  let bytes = 0;
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i];
    p.pts = i / 29.97;
    bytes += toNdjsonLine(p).length + 1;
  }
  sink += bytes;
  return packets.length;
});

globalThis.klvBenchSink = sink;
