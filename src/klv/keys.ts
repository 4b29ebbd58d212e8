/** Universal Labels of the recognised standards and key matching. */
import { toHex } from './bytes.js';
import type { KlvStandard } from './types.js';
import { ST0601_KEY } from './st0601.js';
import { ST0102_KEY } from './st0102.js';
import { ST0903_KEY } from './st0903.js';
import { EG0104_KEY } from './eg0104.js';

/** SMPTE UL prefix every KLV key starts with. */
export const KEY_PREFIX = [0x06, 0x0e, 0x2b, 0x34] as const;

export const STANDARD_KEYS: Readonly<Record<Exclude<KlvStandard, 'unknown'>, string>> = {
  ST0601: ST0601_KEY,
  ST0102: ST0102_KEY,
  ST0903: ST0903_KEY,
  EG0104: EG0104_KEY,
};

export function isKeyPrefix(b: Uint8Array, p: number): boolean {
  return b[p] === 0x06 && b[p + 1] === 0x0e && b[p + 2] === 0x2b && b[p + 3] === 0x34;
}

/** Offset of the next key prefix at or after `from`, or -1. */
export function findKeyPrefix(b: Uint8Array, from: number): number {
  const last = b.length - 4;
  for (let i = from; i <= last; i++) {
    if (b[i] === 0x06 && b[i + 1] === 0x0e && b[i + 2] === 0x2b && b[i + 3] === 0x34) return i;
  }
  return -1;
}

/**
 * Standard named by the 16-byte key at `k`. The version byte (index 7) is
 * ignored, and local-set keys match with 1-byte (0x03) or BER-OID (0x0B)
 * tag coding since tags below 128 read the same either way.
 */
export function identifyKey(b: Uint8Array, k: number): KlvStandard {
  if (b[k + 4] !== 0x02 || b[k + 6] !== 0x01 || b[k + 8] !== 0x0e || b[k + 9] !== 0x01) return 'unknown';
  if (b[k + 13] !== 0x00 || b[k + 14] !== 0x00 || b[k + 15] !== 0x00) {
    // EG 0104 is the only one with a non-zero byte 13.
    if (
      b[k + 5] === 0x01 &&
      b[k + 10] === 0x01 &&
      b[k + 11] === 0x02 &&
      b[k + 12] === 0x01 &&
      b[k + 13] === 0x01 &&
      b[k + 14] === 0x00 &&
      b[k + 15] === 0x00
    ) {
      return 'EG0104';
    }
    return 'unknown';
  }
  const localSet = b[k + 5] === 0x0b || b[k + 5] === 0x03;
  if (!localSet || b[k + 10] !== 0x03) return 'unknown';
  const b11 = b[k + 11];
  const b12 = b[k + 12];
  if (b11 === 0x01 && b12 === 0x01) return 'ST0601';
  if (b11 === 0x03 && b12 === 0x06) return 'ST0903';
  if (b11 === 0x03 && b12 === 0x02) return 'ST0102';
  return 'unknown';
}

const CANONICAL: Record<string, Uint8Array> = {};
for (const [std, hex] of Object.entries(STANDARD_KEYS)) {
  CANONICAL[std] = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** Lowercase hex of the key, reusing the canonical string when the bytes match it exactly. */
export function keyHex(b: Uint8Array, k: number, standard: KlvStandard): string {
  if (standard !== 'unknown') {
    const c = CANONICAL[standard]!;
    let same = true;
    for (let i = 4; i < 16; i++) {
      if (b[k + i] !== c[i]) {
        same = false;
        break;
      }
    }
    if (same) return STANDARD_KEYS[standard];
  }
  return toHex(b, k, k + 16);
}
