/**
 * ST 0601 / ST 0903 16-bit running sum ("bcc"): byte i (0-based from `start`)
 * is added shifted left by 8 when i is even, unshifted when odd; odd-length
 * data therefore behaves as if a zero byte were appended.
 */
export function bcc16(data: Uint8Array, start = 0, end = data.length): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  // Summing the two lanes separately halves the shifts in the hot loop.
  for (; i + 1 < end; i += 2) {
    hi += data[i]!;
    lo += data[i + 1]!;
  }
  if (i < end) hi += data[i]!;
  return ((hi << 8) + lo) & 0xffff;
}

const CRC16_TABLE = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  CRC16_TABLE[n] = c;
}

/**
 * CRC-16-CCITT as used by MISB (ST 1002, 1107, 1108): poly 0x1021, no
 * reflection, no final xor, effective initial value 0x1D0F (CRC-16/AUG-CCITT).
 */
export function crc16Ccitt(data: Uint8Array, start = 0, end = data.length, init = 0x1d0f): number {
  let crc = init & 0xffff;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ data[i]!) & 0xff]!;
  }
  return crc;
}

const CRC32_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  CRC32_TABLE[n] = c >>> 0;
}

/** CRC-32/MPEG-2 (ST 0806 RVT, ST 1303): poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor. */
export function crc32Mpeg(data: Uint8Array, start = 0, end = data.length, init = 0xffffffff): number {
  let crc = init >>> 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) ^ CRC32_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  }
  return crc >>> 0;
}
