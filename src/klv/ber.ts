import { KlvError } from './errors.js';

/** Result of reading a BER field: the decoded value and how many bytes it used. */
export interface BerField {
  value: number;
  length: number;
}

/** Position after the last field read by `readBerLength`/`readBerOid`. */
export const cursor = { pos: 0 };

/**
 * Reads a BER length (short form, or long form with 1..4 length octets) at
 * `p`; returns the value and leaves the next position in `cursor.pos`.
 */
export function readBerLength(b: Uint8Array, p: number, end: number): number {
  if (p >= end) {
    throw new KlvError('ERR_KLV_BER', 'BER length missing', { offset: p });
  }
  const first = b[p]!;
  if (first < 0x80) {
    cursor.pos = p + 1;
    return first;
  }
  const n = first & 0x7f;
  if (n === 0) {
    throw new KlvError('ERR_KLV_BER', 'indefinite BER length (0x80) is not allowed in KLV', {
      offset: p,
    });
  }
  if (n > 4) {
    throw new KlvError('ERR_KLV_BER', `BER length uses ${n} length octets (at most 4 allowed)`, {
      offset: p,
    });
  }
  if (p + 1 + n > end) {
    throw new KlvError('ERR_KLV_BER', `BER length truncated: needs ${n} more bytes`, {
      offset: p,
    });
  }
  let v = 0;
  for (let i = 1; i <= n; i++) v = v * 256 + b[p + i]!;
  cursor.pos = p + 1 + n;
  return v;
}

/** Reads a BER-OID encoded unsigned integer (7 bits per byte, high bit = more). */
export function readBerOid(b: Uint8Array, p: number, end: number): number {
  let v = 0;
  const start = p;
  for (;;) {
    if (p >= end) {
      throw new KlvError('ERR_KLV_BER', 'BER-OID truncated (continuation bit set on last byte)', {
        offset: start,
      });
    }
    const c = b[p++]!;
    v = v * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) break;
    if (p - start >= 8) {
      throw new KlvError('ERR_KLV_BER', 'BER-OID longer than 8 bytes', { offset: start });
    }
  }
  // Eight bytes hold 56 bits: past 2^53 a number would silently round to a neighbouring value.
  if (v > Number.MAX_SAFE_INTEGER) throw new KlvError('ERR_KLV_BER', `BER-OID value ${v} is beyond 2^53 and cannot be held exactly`, { offset: start });
  cursor.pos = p;
  return v;
}

function checkOffset(bytes: Uint8Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new KlvError('ERR_KLV_ARGUMENT', `offset ${offset} outside the buffer of ${bytes.length} bytes`);
  }
}

/** Decodes a BER length at `offset`. Throws KlvError(ERR_KLV_BER) when malformed. */
export function decodeBerLength(bytes: Uint8Array, offset = 0): BerField {
  checkOffset(bytes, offset);
  const value = readBerLength(bytes, offset, bytes.length);
  return { value, length: cursor.pos - offset };
}

/** Decodes a BER-OID value at `offset`. Throws KlvError(ERR_KLV_BER) when malformed. */
export function decodeBerOid(bytes: Uint8Array, offset = 0): BerField {
  checkOffset(bytes, offset);
  const value = readBerOid(bytes, offset, bytes.length);
  return { value, length: cursor.pos - offset };
}

function checkNonNegative(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new KlvError('ERR_KLV_ENCODE', `${what} must be a non-negative safe integer, got ${n}`);
  }
}

export function berLengthSize(n: number): number {
  if (n < 0x80) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffff) return 4;
  return 5;
}

/** Minimal BER length encoding (short form below 128, else long form). */
export function encodeBerLength(n: number): Uint8Array {
  checkNonNegative(n, 'BER length');
  if (n > 0xffffffff) throw new KlvError('ERR_KLV_ENCODE', `BER length ${n} exceeds 4 length octets`);
  const size = berLengthSize(n);
  const out = new Uint8Array(size);
  if (size === 1) {
    out[0] = n;
    return out;
  }
  out[0] = 0x80 | (size - 1);
  let v = n;
  for (let i = size - 1; i >= 1; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export function berOidSize(n: number): number {
  let size = 1;
  let v = Math.floor(n / 128);
  while (v > 0) {
    size++;
    v = Math.floor(v / 128);
  }
  return size;
}

/** Minimal BER-OID encoding of a non-negative integer. */
export function encodeBerOid(n: number): Uint8Array {
  checkNonNegative(n, 'BER-OID value');
  const size = berOidSize(n);
  const out = new Uint8Array(size);
  let v = n;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = (v % 128) | (i === size - 1 ? 0 : 0x80);
    v = Math.floor(v / 128);
  }
  return out;
}
