import { KlvError } from './errors.js';

/** Two-character lowercase hex for every byte value. */
export const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** Lowercase hex of `b[start..end)`. */
export function toHex(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX_PAIRS[b[i]!];
  return s;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

/** Parses hex (whitespace and ':'/'-' separators allowed) into bytes. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0) {
    throw new KlvError('ERR_KLV_ARGUMENT', `hex string has odd length ${clean.length}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX_VALUE[clean.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUE[clean.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) {
      throw new KlvError('ERR_KLV_ARGUMENT', `invalid hex digit near position ${2 * i}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function isHex(s: string): boolean {
  return s.length % 2 === 0 && /^[0-9a-f]*$/i.test(s);
}

/** Big-endian unsigned integer of 0..8 bytes (exact below 2^53). */
export function readUint(b: Uint8Array, off: number, len: number): number {
  switch (len) {
    case 1:
      return b[off]!;
    case 2:
      return (b[off]! << 8) | b[off + 1]!;
    case 3:
      return (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
    case 4:
      return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
    case 0:
      return 0;
  }
  if (len <= 6) {
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  // Split so the final addition is the only rounding step.
  return readUint(b, off, len - 4) * 4294967296 + readUint(b, off + len - 4, 4);
}

/** Big-endian two's-complement integer of 1..8 bytes (exact within ±2^53). */
export function readInt(b: Uint8Array, off: number, len: number): number {
  switch (len) {
    case 1:
      return (b[off]! << 24) >> 24;
    case 2:
      return (((b[off]! << 8) | b[off + 1]!) << 16) >> 16;
    case 3:
      return (((b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!) << 8) >> 8;
    case 4:
      return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
    case 0:
      return 0;
  }
  if (len <= 6) {
    const u = readUint(b, off, len);
    const half = 2 ** (8 * len - 1);
    return u >= half ? u - 2 * half : u;
  }
  return readInt(b, off, len - 4) * 4294967296 + readUint(b, off + len - 4, 4);
}

/** Unsigned integer of up to 8 bytes as a BigInt (for values above 2^53). */
export function readBigUint(b: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}

const F64 = new Float64Array(1);
const F64B = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32B = new Uint8Array(F32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE-754 big-endian float of 4 or 8 bytes. */
export function readFloat(b: Uint8Array, off: number, len: number): number {
  if (len === 4) {
    for (let i = 0; i < 4; i++) F32B[LITTLE_ENDIAN ? 3 - i : i] = b[off + i]!;
    return F32[0]!;
  }
  if (len === 8) {
    for (let i = 0; i < 8; i++) F64B[LITTLE_ENDIAN ? 7 - i : i] = b[off + i]!;
    return F64[0]!;
  }
  throw new KlvError('ERR_KLV_ITEM', `float must be 4 or 8 bytes, got ${len}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF16BE = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

function decodeWith(d: { decode(input: Uint8Array): string }, b: Uint8Array, off: number, len: number): string | undefined {
  try {
    return d.decode(b.subarray(off, off + len));
  } catch {
    return undefined;
  }
}

const fcc = String.fromCharCode;

/** Up to 16 ASCII characters; fromCharCode with explicit arguments builds one flat string. */
function ascii16(b: Uint8Array, o: number, l: number): string {
  switch (l) {
    case 1:
      return fcc(b[o]!);
    case 2:
      return fcc(b[o]!, b[o + 1]!);
    case 3:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!);
    case 4:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
    case 5:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!);
    case 6:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!);
    case 7:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!);
    case 8:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!);
    case 9:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!);
    case 10:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!);
    case 11:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!);
    case 12:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!);
    case 13:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!);
    case 14:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!);
    case 15:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!);
    default:
      return fcc(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!, b[o + 15]!);
  }
}

/** UTF-8 text, or undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(b: Uint8Array, off: number, len: number): string | undefined {
  if (len > 64) return decodeWith(UTF8, b, off, len);
  // Short ASCII strings dominate real telemetry and skip TextDecoder's per-call cost.
  for (let i = off, end = off + len; i < end; i++) if (b[i]! >= 0x80) return decodeWith(UTF8, b, off, len);
  if (len <= 16) return len === 0 ? '' : ascii16(b, off, len);
  let s = '';
  let i = off;
  const end = off + len;
  for (; i + 16 <= end; i += 16) s += ascii16(b, i, 16);
  if (i < end) s += ascii16(b, i, end - i);
  return s;
}

export function decodeUtf16be(b: Uint8Array, off: number, len: number): string | undefined {
  if (len % 2 !== 0) return undefined;
  // Short ASCII text (country codes) needs no TextDecoder call: code units 00 xx with xx < 0x80.
  if (len <= 32) {
    let s = '';
    for (let i = off, end = off + len; i < end; i += 2) {
      if (b[i] !== 0 || b[i + 1]! >= 0x80) return decodeWith(UTF16BE, b, off, len);
      s += fcc(b[i + 1]!);
    }
    return s;
  }
  return decodeWith(UTF16BE, b, off, len);
}

const UTF8_ENCODER = new TextEncoder();
export function encodeUtf8(s: string): Uint8Array {
  return UTF8_ENCODER.encode(s);
}

export function encodeUtf16be(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

/** Growable big-endian byte sink used by every encoder. */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  bytes(src: ArrayLike<number>): this {
    this.ensure(src.length);
    if (src instanceof Uint8Array) this.buf.set(src, this.length);
    else for (let i = 0; i < src.length; i++) this.buf[this.length + i] = src[i]! & 0xff;
    this.length += src.length;
    return this;
  }

  /** Unsigned integer in exactly `len` bytes. */
  uint(v: number | bigint, len: number): this {
    let big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    if (big < 0n) big = 0n;
    this.ensure(len);
    for (let i = len - 1; i >= 0; i--) {
      this.buf[this.length + i] = Number(big & 0xffn);
      big >>= 8n;
    }
    this.length += len;
    return this;
  }

  /** Two's-complement integer in exactly `len` bytes. */
  int(v: number | bigint, len: number): this {
    let big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    if (big < 0n) big += 1n << BigInt(8 * len);
    return this.uint(big, len);
  }

  float(v: number, len: number): this {
    this.ensure(len);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.length, len);
    if (len === 4) dv.setFloat32(0, v);
    else dv.setFloat64(0, v);
    this.length += len;
    return this;
  }

  utf8(s: string): this {
    return this.bytes(encodeUtf8(s));
  }

  /** Copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Smallest number of bytes that holds unsigned `v` (at least 1). */
export function uintSize(v: number | bigint): number {
  let big = typeof v === 'bigint' ? v : BigInt(Math.trunc(Math.max(0, v)));
  let n = 1;
  while (big > 0xffn && n < 8) {
    big >>= 8n;
    n++;
  }
  return n;
}

/** Smallest number of bytes that holds signed `v` (at least 1). */
export function intSize(v: number | bigint): number {
  const big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  for (let n = 1; n < 8; n++) {
    const lim = 1n << BigInt(8 * n - 1);
    if (big >= -lim && big < lim) return n;
  }
  return 8;
}
