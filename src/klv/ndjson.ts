/** NDJSON serialisation of decoded packets, one line per unit. */
import { tagsJson } from './json.js';
import { packetTagsJson } from './packet.js';
import type { KlvPacket } from './types.js';

/** A packet with the per-unit stream fields the caller fills in. */
export type NdjsonPacket = KlvPacket;

function numberJson(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : 'null';
}

/**
 * One NDJSON line (without the trailing newline) for a decoded packet:
 * `{"pts","stream","pid","carriage","key","standard","checksumValid","tags"}`
 * (+ "error"/"value" when present). Produces the same text as
 * `JSON.stringify(packet)`, built by hand for speed.
 */
export function toNdjsonLine(packet: NdjsonPacket): string {
  let s =
    '{"pts":' +
    numberJson(packet.pts) +
    ',"stream":' +
    numberJson(packet.stream) +
    ',"pid":' +
    numberJson(packet.pid) +
    ',"carriage":' +
    (packet.carriage == null ? 'null' : JSON.stringify(packet.carriage)) +
    ',"key":"' +
    packet.key +
    '","standard":"' +
    packet.standard +
    '","checksumValid":' +
    (packet.checksumValid === null ? 'null' : packet.checksumValid ? 'true' : 'false') +
    ',"tags":' +
    packetTagsJson(packet, tagsJson);
  if (packet.error !== undefined) s += ',"error":' + JSON.stringify(packet.error);
  if (packet.value !== undefined) s += ',"value":"' + packet.value + '"';
  return s + '}';
}
