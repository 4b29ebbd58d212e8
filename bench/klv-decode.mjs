// KLV decode throughput on one core, with the ratio to klvdata (Python) for each figure.
// Build first: npx tsc -p tsconfig.json   then: node bench/klv-decode.mjs [packets] [rounds]
import { performance } from 'node:perf_hooks';
import { decodeKlv, encodeKlv, toNdjsonLine } from '../dist/klv/index.js';
import { flightPacket } from './klv-flight.mjs';

const PACKETS = Number(process.argv[2] ?? 20000);
const ROUNDS = Number(process.argv[3] ?? 11);
/** klvdata (Python) decoding these packets and reading their values, measured on this kind of machine. */
export const KLVDATA_PACKETS_PER_S = 4600;

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
    `${label.padEnd(44)} ${Math.round(median).toLocaleString('en-US').padStart(11)} packets/s (median of ${ROUNDS}; best ${Math.round(best).toLocaleString('en-US')})  ${mbps.toFixed(1)} MB/s  ${Math.round(median / KLVDATA_PACKETS_PER_S)}× klvdata`,
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

/** Reads every tag's value the way callers do (`packet.tags[k].value`). */
function readValues(p) {
  const tags = p.tags;
  let n = 0;
  for (const k in tags) {
    const v = tags[k].value;
    n += v === null ? 1 : typeof v === 'number' ? 2 : 3;
  }
  return n;
}

// The figure of the target (≥ 500,000 packets/s): decode, then every tag's value of every packet.
measure('decodeKlv + every value, one call per unit', () => {
  for (const v of views) sink += readValues(decodeKlv(v)[0]);
  return views.length;
});

measure(`decodeKlv + every value, all ${PACKETS} kept`, () => {
  const packets = decodeKlv(buffer);
  for (const p of packets) sink += readValues(p);
  return packets.length;
});

// Floor of the kept case: only allocating 38 plain tag objects per packet and keeping them all,
// no decoding. Keeping that many objects alive is what costs (garbage-collector copying).
const TAG_KEYS = Object.keys(sample.tags).map(Number);
measure(`(floor) ${TAG_KEYS.length} plain objects/packet, all kept`, () => {
  const kept = new Array(PACKETS);
  for (let i = 0; i < PACKETS; i++) {
    const tags = {};
    for (let j = 0; j < TAG_KEYS.length; j++) tags[TAG_KEYS[j]] = { name: 'x', value: i + j * 0.5, units: 'deg' };
    kept[i] = tags;
  }
  for (const tags of kept) for (const k in tags) sink += tags[k].value;
  return PACKETS;
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
