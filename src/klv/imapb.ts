import { KlvError } from './errors.js';

/** Derived ST 1201 terms for one (a, b, L) triple. */
export interface ImapbParams {
  readonly a: number;
  readonly b: number;
  readonly length: number;
  readonly bPow: number;
  readonly dPow: number;
  /** Forward scale 2^(dPow - bPow). */
  readonly sF: number;
  /** Reverse scale 2^(bPow - dPow). */
  readonly sR: number;
  /** Non-zero only when a < 0 < b, so that zero maps to an exact integer. */
  readonly zOffset: number;
}

/** Names of the ST 1201 special values signalled in the leading bits. */
export type ImapbSpecial =
  | 'positive infinity'
  | 'negative infinity'
  | 'positive quiet NaN'
  | 'negative quiet NaN'
  | 'positive signalling NaN'
  | 'negative signalling NaN'
  | 'below minimum'
  | 'above maximum'
  | 'user defined'
  | 'reserved';

export const IMAPB_SPECIAL_VALUE: Readonly<Record<ImapbSpecial, number>> = {
  'positive infinity': Infinity,
  'negative infinity': -Infinity,
  'positive quiet NaN': NaN,
  'negative quiet NaN': NaN,
  'positive signalling NaN': NaN,
  'negative signalling NaN': NaN,
  'below minimum': -Infinity,
  'above maximum': Infinity,
  'user defined': NaN,
  'reserved': NaN,
};

/** Leading byte written for each special value (remaining bits zero). */
export const IMAPB_SPECIAL_BYTE: Readonly<Record<ImapbSpecial, number>> = {
  'positive infinity': 0xc8,
  'negative infinity': 0xe8,
  'positive quiet NaN': 0xd0,
  'negative quiet NaN': 0xf0,
  'positive signalling NaN': 0xd8,
  'negative signalling NaN': 0xf8,
  'below minimum': 0xe0,
  'above maximum': 0xe1,
  'user defined': 0xc0,
  'reserved': 0xe2,
};

// Table ranges are few; MDAP IMAP ranges come from the data, so the cache is bounded (oldest out).
const cache = new Map<string, ImapbParams>();
const CACHE_LIMIT = 4096;

/** ST 1201 terms: bPow = ceil(log2(b-a)), dPow = 8L-1. */
export function imapbParams(a: number, b: number, length: number): ImapbParams {
  const key = `${a}|${b}|${length}`;
  let p = cache.get(key);
  if (p !== undefined) return p;
  if (!(b > a) || !Number.isFinite(a) || !Number.isFinite(b)) {
    throw new KlvError('ERR_KLV_ARGUMENT', `IMAPB range must satisfy a < b, got a=${a} b=${b}`);
  }
  if (!Number.isInteger(length) || length < 1 || length > 8) {
    throw new KlvError('ERR_KLV_ARGUMENT', `IMAPB length must be 1..8 bytes, got ${length}`);
  }
  const bPow = Math.ceil(Math.log2(b - a));
  const dPow = 8 * length - 1;
  const sF = 2 ** (dPow - bPow);
  const sR = 2 ** (bPow - dPow);
  const zOffset = a < 0 && b > 0 ? sF * a - Math.floor(sF * a) : 0;
  p = { a, b, length, bPow, dPow, sF, sR, zOffset };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, p);
  return p;
}

/** Special value named by the leading bits, or undefined for a normal value. */
export function imapbSpecialOf(bytes: Uint8Array, offset: number, length: number): ImapbSpecial | undefined {
  const first = bytes[offset]!;
  if ((first & 0x80) === 0) return undefined;
  if (first === 0x80) {
    // 0x80 00.. is the largest normal value when b-a is a power of two.
    let rest = 0;
    for (let i = 1; i < length; i++) rest |= bytes[offset + i]!;
    if (rest === 0) return undefined;
  }
  // With one byte the identifier still occupies the top five bits.
  switch (first & 0xf8) {
    case 0xc8:
      return 'positive infinity';
    case 0xe8:
      return 'negative infinity';
    case 0xd0:
      return 'positive quiet NaN';
    case 0xf0:
      return 'negative quiet NaN';
    case 0xd8:
      return 'positive signalling NaN';
    case 0xf8:
      return 'negative signalling NaN';
    case 0xc0:
      return 'user defined';
    case 0xe0:
      if (first === 0xe0) return 'below minimum';
      if (first === 0xe1) return 'above maximum';
      return 'reserved';
    default:
      return 'reserved';
  }
}

/** Normal-value decode: y = sR·(x − zOffset) + a. */
export function imapbValue(p: ImapbParams, bytes: Uint8Array, offset: number): number {
  const len = p.length;
  let x: number;
  if (len <= 6) {
    x = 0;
    for (let i = 0; i < len; i++) x = x * 256 + bytes[offset + i]!;
  } else {
    let hi = 0;
    for (let i = 0; i < len - 4; i++) hi = hi * 256 + bytes[offset + i]!;
    let lo = 0;
    for (let i = len - 4; i < len; i++) lo = lo * 256 + bytes[offset + i]!;
    x = hi * 4294967296 + lo;
  }
  return p.sR * (x - p.zOffset) + p.a;
}

/**
 * A normal value, or undefined when the code decodes above b: when b − a is not a power of two the
 * top codes map past b, no encoder writes them, and they are reported rather than returned as a
 * plausible value (the slack covers float rounding of the top valid code only).
 */
export function imapbInRange(p: ImapbParams, bytes: Uint8Array, offset: number): number | undefined {
  const y = imapbValue(p, bytes, offset);
  return y > p.b + 16 * Number.EPSILON * Math.max(Math.abs(p.a), Math.abs(p.b)) ? undefined : y;
}

/**
 * Inverse IMAPB (ST 1201): bytes to a number. Special values decode to
 * ±Infinity or NaN; use `imapbDecodeDetailed` to learn which one.
 */
export function imapbDecode(a: number, b: number, bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  return imapbDecodeDetailed(a, b, bytes, offset, length).value;
}

export function imapbDecodeDetailed(
  a: number,
  b: number,
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): { value: number; special?: ImapbSpecial } {
  if (offset + length > bytes.length) {
    throw new KlvError('ERR_KLV_TRUNCATED', `IMAPB value needs ${length} bytes at offset ${offset}`, { offset });
  }
  const p = imapbParams(a, b, length);
  const special = imapbSpecialOf(bytes, offset, length);
  if (special !== undefined) return { value: IMAPB_SPECIAL_VALUE[special], special };
  const value = imapbInRange(p, bytes, offset);
  return value === undefined ? { value: IMAPB_SPECIAL_VALUE['above maximum'], special: 'above maximum' } : { value };
}

/**
 * Forward IMAPB (ST 1201): x = trunc(sF·(y − a) + zOffset). Infinities and
 * NaN become their special codes; values outside [a, b] become
 * below-minimum / above-maximum.
 */
export function imapbEncode(a: number, b: number, length: number, y: number): Uint8Array {
  const out = new Uint8Array(length);
  imapbEncodeInto(imapbParams(a, b, length), y, out, 0);
  return out;
}

export function imapbEncodeSpecial(length: number, special: ImapbSpecial): Uint8Array {
  const out = new Uint8Array(length);
  out[0] = IMAPB_SPECIAL_BYTE[special];
  return out;
}

export function imapbEncodeInto(p: ImapbParams, y: number, out: Uint8Array, offset: number): void {
  let special: ImapbSpecial | undefined;
  if (Number.isNaN(y)) special = 'positive quiet NaN';
  else if (y === Infinity) special = 'positive infinity';
  else if (y === -Infinity) special = 'negative infinity';
  else if (y < p.a) special = 'below minimum';
  else if (y > p.b) special = 'above maximum';
  if (special !== undefined) {
    out[offset] = IMAPB_SPECIAL_BYTE[special];
    for (let i = 1; i < p.length; i++) out[offset + i] = 0;
    return;
  }
  const x = Math.trunc(p.sF * (y - p.a) + p.zOffset);
  if (p.length <= 6) {
    let v = x;
    for (let i = p.length - 1; i >= 0; i--) {
      out[offset + i] = v % 256;
      v = Math.floor(v / 256);
    }
    return;
  }
  let big = BigInt(x);
  for (let i = p.length - 1; i >= 0; i--) {
    out[offset + i] = Number(big & 0xffn);
    big >>= 8n;
  }
}
