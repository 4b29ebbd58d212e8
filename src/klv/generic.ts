/**
 * Generic SMPTE 336 decoding for keys of unknown standards: local sets are
 * split into items using the tag and length coding announced in key byte 6,
 * universal sets into 16-byte-keyed items; values stay hex.
 */
import { readBerLength, readBerOid, cursor } from './ber.js';
import { readUint, toHex } from './bytes.js';
import { KlvError, asKlvError } from './errors.js';
import type { DecodeContext } from './kinds.js';
import { decodeUniversalSet } from './localset.js';
import type { KlvTags } from './types.js';

/** Tag size code (key byte 6, bits 3-4): 1 byte, BER-OID, 2 bytes, 4 bytes. */
const TAG_SIZES = [1, 0, 2, 4] as const;
/** Length size code (key byte 6, bits 5-6): BER, 1 byte, 2 bytes, 4 bytes. */
const LENGTH_SIZES = [0, 1, 2, 4] as const;

export function decodeGenericSet(b: Uint8Array, k: number, vs: number, ve: number, ctx: DecodeContext): { tags: KlvTags; error?: string } {
  const category = b[k + 4];
  const coding = b[k + 5]!;
  if (category === 0x02 && (coding & 0x07) === 0x01) {
    const tags = decodeUniversalSet(undefined, b, vs, ve, ctx);
    const error = ctx.setError;
    ctx.setError = undefined;
    return error === undefined ? { tags } : { tags, error };
  }
  if (category !== 0x02 || (coding & 0x07) !== 0x03) return { tags: {} };
  const tagSize = TAG_SIZES[(coding >> 3) & 3]!;
  const lengthSize = LENGTH_SIZES[(coding >> 5) & 3]!;
  const tags: KlvTags = {};
  let p = vs;
  try {
    while (p < ve) {
      const start = p;
      let tag: number;
      if (tagSize === 0) {
        tag = readBerOid(b, p, ve);
        p = cursor.pos;
      } else {
        if (ve - p < tagSize) throw new KlvError('ERR_KLV_TRUNCATED', `tag at offset ${p} truncated`, { offset: p });
        tag = readUint(b, p, tagSize);
        p += tagSize;
      }
      let len: number;
      if (lengthSize === 0) {
        len = readBerLength(b, p, ve);
        p = cursor.pos;
      } else {
        if (ve - p < lengthSize) throw new KlvError('ERR_KLV_TRUNCATED', `length at offset ${p} truncated`, { offset: p });
        len = readUint(b, p, lengthSize);
        p += lengthSize;
      }
      if (len > ve - p) {
        throw new KlvError('ERR_KLV_TRUNCATED', `tag ${tag} at offset ${start}: length ${len} overruns the set by ${len - (ve - p)} bytes`, {
          offset: start,
          tag,
        });
      }
      const t = { name: 'unknown', value: toHex(b, p, p + len) };
      const prev = tags[tag];
      if (prev === undefined) tags[tag] = t;
      else (prev.repeats ??= []).push(t);
      p += len;
    }
  } catch (e) {
    const err = asKlvError(e, 'ERR_KLV_BER');
    if (ctx.strict) throw err;
    return { tags, error: `local set broken at offset ${p}: ${err.message}` };
  }
  return { tags };
}
