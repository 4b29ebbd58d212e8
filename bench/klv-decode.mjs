// KLV decode throughput on one core, with the ratio to klvdata (Python) for each figure.
// Build first: npx tsc -p tsconfig.json   then: node bench/klv-decode.mjs [packets] [rounds]
import { performance } from 'node:perf_hooks';
import { decodeKlv, encodeKlv, toNdjsonLine } from '../dist/klv/index.js';
import { KLVDATA_PACKETS_PER_S, flightPacket } from './klv-flight.mjs';

const PACKETS = Number(process.argv[2] ?? 20000);
const ROUNDS = Number(process.argv[3] ?? 11);

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

const fmt = (x) => Math.round(x).toLocaleString('en-US');

/**
 * Packets per second of `fn` over ROUNDS rounds: wall-clock median and best, and per CPU second
 * of this process (user + system, the garbage collector's threads included), which load from
 * other processes on a shared machine changes least.
 */
function measure(label, fn) {
  fn(); // warm-up
  fn();
  const rates = [];
  const cpuRates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const n = fn();
    const c = process.cpuUsage(c0);
    rates.push(n / ((performance.now() - t0) / 1000));
    cpuRates.push(n / ((c.user + c.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const best = rates[rates.length - 1];
  const cpu = cpuRates[Math.floor(cpuRates.length / 2)];
  console.log(
    `${label.padEnd(44)} ${fmt(median).padStart(9)} packets/s (median of ${ROUNDS}; best ${fmt(best)}; per CPU second ${fmt(cpu)})  ${Math.round(median / KLVDATA_PACKETS_PER_S)}× klvdata`,
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

const TAG_KEYS = Object.keys(sample.tags).map(Number);
const kind = (v) => (v === null ? 1 : typeof v === 'number' ? 2 : 3);

/** Reads every tag's value by its number, the way callers read telemetry (`packet.tags[13].value`). */
function readByTag(p) {
  const tags = p.tags;
  let n = 0;
  for (let j = 0; j < TAG_KEYS.length; j++) n += kind(tags[TAG_KEYS[j]].value);
  return n;
}

/** The same with for...in (V8 lists integer keys afresh for each object: slower by itself). */
function readForIn(p) {
  const tags = p.tags;
  let n = 0;
  for (const k in tags) n += kind(tags[k].value);
  return n;
}

// The figure of the target (≥ 500,000 packets/s): decode, then every tag's value of every packet.
measure('decodeKlv + every value, one call per unit', () => {
  for (const v of views) sink += readByTag(decodeKlv(v)[0]);
  return views.length;
});

measure('  the same, values read with for...in', () => {
  for (const v of views) sink += readForIn(decodeKlv(v)[0]);
  return views.length;
});

measure(`decodeKlv + every value, all ${PACKETS} kept`, () => {
  const packets = decodeKlv(buffer);
  for (const p of packets) sink += readByTag(p);
  return packets.length;
});

// Floors: only allocating 38 plain tag objects per packet and reading them, no decoding. Kept
// for all packets, that many live objects cost the garbage collector's copying most of the time.
function plainTags(i) {
  const tags = {};
  for (let j = 0; j < TAG_KEYS.length; j++) tags[TAG_KEYS[j]] = { name: 'x', value: i + j * 0.5, units: 'deg' };
  return tags;
}
measure(`(floor) ${TAG_KEYS.length} plain objects/packet, read`, () => {
  for (let i = 0; i < PACKETS; i++) sink += readByTag({ tags: plainTags(i) });
  return PACKETS;
});
measure(`(floor) the same, all ${PACKETS} kept`, () => {
  const kept = new Array(PACKETS);
  for (let i = 0; i < PACKETS; i++) kept[i] = { tags: plainTags(i) };
  for (const p of kept) sink += readByTag(p);
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
