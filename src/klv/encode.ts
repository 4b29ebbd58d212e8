/** KLV encoder: the inverse of the decoder, computing ST 0601 / ST 0903 checksums. */
import { encodeBerLength } from './ber.js';
import { ByteWriter, fromHex, isHex } from './bytes.js';
import { bcc16 } from './checksum.js';
import { EG0104_TABLE } from './eg0104.js';
import { KlvError, asKlvError } from './errors.js';
import { STANDARD_KEYS, identifyKey } from './keys.js';
import { newEncodeContext } from './kinds.js';
import { type Table, encodeSet, encodeUniversalSet } from './localset.js';
import { ST0102_TABLE } from './st0102.js';
import { ST0601_TABLE } from './st0601.js';
import { ST0903_TABLE } from './st0903.js';
import type { KlvStandard } from './types.js';

/**
 * Input of `encodeKlv`: the same shape the decoder produces, so a decoded
 * packet can be encoded again.
 *
 * - `standard`: 'ST0601' (default), 'ST0903', 'ST0102', 'EG0104'; or
 *   'unknown' together with `key` and a hex `value`. When omitted it is
 *   taken from `key`.
 * - `key`: optional UL hex; defaults to the standard's key.
 * - `tags`: keyed by tag number ("13") or camelCase item name
 *   ("sensorLatitude"); EG 0104 items by UL hex or name. Each entry is
 *   either a bare value or a decoded tag object (`{ value, ... }`). Values
 *   are in engineering units: numbers for mapped/IMAPB fields (null with
 *   `error: "error indicator"` writes the most negative code; null with an
 *   IMAPB special name such as "above maximum" writes that special), strings
 *   for text, integers for enumerations and flags, nested tag objects for
 *   sets, arrays for series and lists, plain objects for packs (the field
 *   names the decoder emits). A tag object with an `error` and a hex string
 *   value is written back as those raw bytes. ST 0601 tag 1 / ST 0903 tag 1
 *   (checksum) is ignored and recomputed; tag 2 is written first.
 * - `value`: hex of the whole value, for `standard: 'unknown'`.
 */
export interface KlvEncodeInput {
  standard?: KlvStandard;
  key?: string;
  tags?: Record<string, unknown>;
  value?: string;
}

const TABLES: Partial<Record<KlvStandard, Table>> = {
  ST0601: ST0601_TABLE,
  ST0903: ST0903_TABLE,
  ST0102: ST0102_TABLE,
};

function resolveStandard(input: KlvEncodeInput): { standard: KlvStandard; key: Uint8Array } {
  let key: Uint8Array | undefined;
  if (input.key !== undefined) {
    if (!isHex(input.key) || input.key.length !== 32) {
      throw new KlvError('ERR_KLV_ENCODE', `key must be 32 hex digits, got "${input.key}"`);
    }
    key = fromHex(input.key);
  }
  let standard = input.standard;
  if (standard === undefined) standard = key === undefined ? 'ST0601' : identifyKey(key, 0);
  if (!(standard in STANDARD_KEYS) && standard !== 'unknown') {
    throw new KlvError('ERR_KLV_ENCODE', `unknown standard "${String(standard)}"`);
  }
  if (standard === 'unknown') {
    if (key === undefined) throw new KlvError('ERR_KLV_ENCODE', 'standard "unknown" needs a key');
    return { standard, key };
  }
  return { standard, key: key ?? fromHex(STANDARD_KEYS[standard]) };
}

function encodeOne(input: KlvEncodeInput): Uint8Array {
  if (input === null || typeof input !== 'object') {
    throw new KlvError('ERR_KLV_ENCODE', `expected a packet object, got ${input === null ? 'null' : typeof input}`);
  }
  const { standard, key } = resolveStandard(input);
  const body = new ByteWriter(256);
  const ctx = newEncodeContext();
  if (standard === 'unknown') {
    if (typeof input.value !== 'string' || !isHex(input.value)) {
      throw new KlvError('ERR_KLV_ENCODE', 'standard "unknown" needs a hex value');
    }
    body.bytes(fromHex(input.value));
  } else {
    const tags = input.tags ?? {};
    if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
      throw new KlvError('ERR_KLV_ENCODE', 'tags must be an object keyed by tag number or name');
    }
    if (standard === 'EG0104') encodeUniversalSet(EG0104_TABLE, tags, body, ctx);
    else encodeSet(TABLES[standard]!, tags, body, ctx);
  }
  const checksummed = standard === 'ST0601' || standard === 'ST0903';
  const valueLength = body.length + (checksummed ? 4 : 0);
  const out = new ByteWriter(16 + 5 + valueLength);
  out.bytes(key).bytes(encodeBerLength(valueLength)).bytes(body.view());
  if (checksummed) {
    out.u8(0x01).u8(0x02);
    out.uint(bcc16(out.view()), 2);
  }
  return out.finish();
}

/**
 * Encodes one packet (or an array of packets, concatenated) as KLV units.
 * See `KlvEncodeInput` for the accepted shape. Throws KlvError(ERR_KLV_ENCODE)
 * naming the tag when a value does not fit its mapping.
 */
export function encodeKlv(input: KlvEncodeInput | readonly KlvEncodeInput[]): Uint8Array {
  try {
    if (!Array.isArray(input)) return encodeOne(input as KlvEncodeInput);
    const parts = (input as readonly KlvEncodeInput[]).map(encodeOne);
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  } catch (e) {
    throw asKlvError(e, 'ERR_KLV_ENCODE');
  }
}
