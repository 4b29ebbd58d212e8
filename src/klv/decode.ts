/** KLV unit splitting and decoding: the entry points of the decoder. */
import { readBerLength, cursor } from './ber.js';
import { toHex } from './bytes.js';
import { bcc16 } from './checksum.js';
import { EG0104_TABLE } from './eg0104.js';
import { KlvError, asKlvError } from './errors.js';
import { decodeGenericSet } from './generic.js';
import { findKeyPrefix, identifyKey, isKeyPrefix, keyHex } from './keys.js';
import { type DecodeContext, newDecodeContext } from './kinds.js';
import { type Table, decodeSet, decodeUniversalSet } from './localset.js';
import { DecodedPacket, scanSet } from './packet.js';
import { ST0102_TABLE } from './st0102.js';
import { ST0601_TABLE } from './st0601.js';
import { ST0903_TABLE } from './st0903.js';
import type { DecodeOptions, KlvPacket, KlvStandard, KlvTags } from './types.js';

const LOCAL_TABLES: Partial<Record<KlvStandard, Table>> = {
  ST0601: ST0601_TABLE,
  ST0903: ST0903_TABLE,
  ST0102: ST0102_TABLE,
};

const STANDARD_LABEL: Record<KlvStandard, string> = {
  ST0601: 'ST 0601',
  ST0903: 'ST 0903',
  ST0102: 'ST 0102',
  EG0104: 'EG 0104',
  unknown: 'KLV',
};

function checkBuffer(buffer: unknown): asserts buffer is Uint8Array {
  if (!(buffer instanceof Uint8Array)) {
    throw new KlvError('ERR_KLV_ARGUMENT', `expected a Uint8Array or Buffer, got ${buffer === null ? 'null' : typeof buffer}`);
  }
}

/** State of one decode call. */
interface Run {
  ctx: DecodeContext;
  input: Uint8Array;
  /** End offset of the unit decoded last. */
  end: number;
}

function newRun(input: Uint8Array, strict: boolean): Run {
  return { ctx: newDecodeContext(strict), input, end: 0 };
}

/** Decodes the unit whose key starts at `k` (the caller checked the prefix); sets `run.end`. */
function decodeUnitAt(run: Run, k: number, options: DecodeOptions): DecodedPacket {
  const b = run.input;
  const ctx = run.ctx;
  const n = b.length;
  if (n - k < 17) {
    const msg = `KLV unit at offset ${k}: ${n - k} bytes cannot hold a 16-byte key and a length`;
    if (ctx.strict) throw new KlvError('ERR_KLV_TRUNCATED', msg, { offset: k });
    const packet = new DecodedPacket(options, toHex(b, k, n), 'unknown', null, {});
    packet.error = msg;
    run.end = n;
    return packet;
  }
  const standard = identifyKey(b, k);
  const key = keyHex(b, k, standard);
  let len: number;
  try {
    len = readBerLength(b, k + 16, n);
  } catch (e) {
    const err = asKlvError(e, 'ERR_KLV_BER');
    const msg = `${STANDARD_LABEL[standard]} unit at offset ${k}: ${err.message}`;
    if (ctx.strict) throw new KlvError(err.code, msg, { offset: k + 16, standard });
    const packet = new DecodedPacket(options, key, standard, standard === 'ST0601' || standard === 'ST0903' ? false : null, {});
    packet.error = msg;
    const next = findKeyPrefix(b, k + 16);
    run.end = next < 0 ? n : next;
    return packet;
  }
  const vs = cursor.pos;
  let ve = vs + len;
  let error: string | undefined;
  if (ve > n) {
    error = `${STANDARD_LABEL[standard]} unit at offset ${k} declares ${len} value bytes, only ${n - vs} available`;
    if (ctx.strict) throw new KlvError('ERR_KLV_TRUNCATED', error, { offset: k, standard });
    // A damaged length must not swallow the units after it: the unit ends at the next key.
    const next = findKeyPrefix(b, vs);
    if (next >= 0) {
      ve = next;
      error += `; cut at the next key, offset ${next}`;
    } else {
      ve = n;
    }
  }

  let tags: KlvTags | undefined;
  let checksumValid: boolean | null = null;
  let value: string | undefined;
  const table = LOCAL_TABLES[standard];
  if (table !== undefined) {
    if (table.options.checksumTag !== undefined) {
      // ST 0601 / ST 0903: tag 1 length 2 closes the set; the sum covers key..01 02.
      if (error === undefined && ve - vs >= 4 && b[ve - 4] === 0x01 && b[ve - 3] === 0x02) {
        const stored = (b[ve - 2]! << 8) | b[ve - 1]!;
        const computed = bcc16(b, k, ve - 2);
        checksumValid = stored === computed;
        if (!checksumValid && ctx.strict) {
          throw new KlvError(
            'ERR_KLV_CHECKSUM',
            `${STANDARD_LABEL[standard]} unit at offset ${k}: checksum mismatch, stored 0x${hex4(stored)}, computed 0x${hex4(computed)}`,
            { offset: ve - 2, standard, tag: 1 },
          );
        }
      } else {
        checksumValid = false;
        if (error === undefined) {
          error = `${STANDARD_LABEL[standard]} unit at offset ${k}: checksum item (tag 1, length 2) missing at the end of the set`;
          if (ctx.strict) throw new KlvError('ERR_KLV_CHECKSUM', error, { offset: k, standard, tag: 1 });
        }
      }
    }
    if (ctx.strict) tags = decodeSet(table, b, vs, ve, ctx);
  } else if (standard === 'EG0104') {
    tags = decodeUniversalSet(EG0104_TABLE, b, vs, ve, ctx);
  } else {
    const generic = decodeGenericSet(b, k, vs, ve, ctx);
    tags = generic.tags;
    if (generic.error !== undefined) ctx.setError = generic.error;
    value = toHex(b, vs, ve);
  }
  const packet = new DecodedPacket(options, key, standard, checksumValid, tags);
  if (table !== undefined && tags === undefined) scanSet(table, b, vs, ve, ctx, packet);
  if (ctx.setError !== undefined) {
    error = error === undefined ? ctx.setError : `${error}; ${ctx.setError}`;
    ctx.setError = undefined;
  }
  if (error !== undefined) packet.error = error;
  if (value !== undefined) packet.value = value;
  run.end = ve;
  return packet;
}

function hex4(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Decodes every KLV unit in `buffer`. Bytes that do not start with the
 * 06 0E 2B 34 key prefix are skipped until the next prefix (lenient) or
 * raise ERR_KLV_SYNC (strict). In lenient mode (default) bad checksums,
 * truncation and malformed items are reported in the packets and values are
 * still decoded; with `strict: true` the first such problem throws KlvError.
 */
export function decodeKlv(buffer: Uint8Array, options: DecodeOptions = {}): KlvPacket[] {
  checkBuffer(buffer);
  const strict = options.strict === true;
  const run = newRun(buffer, strict);
  const out: KlvPacket[] = [];
  const n = buffer.length;
  let p = 0;
  try {
    while (p < n) {
      if (!isKeyPrefix(buffer, p)) {
        const next = findKeyPrefix(buffer, p + 1);
        if (strict) {
          throw new KlvError(
            'ERR_KLV_SYNC',
            next < 0
              ? `no KLV key (06 0E 2B 34) at offset ${p}; ${n - p} trailing bytes`
              : `no KLV key (06 0E 2B 34) at offset ${p}; next key at offset ${next}`,
            { offset: p },
          );
        }
        if (next < 0) break;
        p = next;
        continue;
      }
      out.push(decodeUnitAt(run, p, options));
      p = run.end > p ? run.end : p + 1;
    }
  } catch (e) {
    // Anything unexpected still surfaces as a KlvError.
    throw asKlvError(e);
  }
  return out;
}

/** Decodes the single KLV unit whose key starts at `options.offset` (default 0). */
export function decodeKlvUnit(buffer: Uint8Array, options: DecodeOptions & { offset?: number } = {}): KlvPacket {
  checkBuffer(buffer);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > buffer.length) {
    throw new KlvError('ERR_KLV_ARGUMENT', `offset ${offset} outside the buffer of ${buffer.length} bytes`);
  }
  if (!isKeyPrefix(buffer, offset)) {
    throw new KlvError('ERR_KLV_SYNC', `no KLV key (06 0E 2B 34) at offset ${offset}`, { offset });
  }
  try {
    return decodeUnitAt(newRun(buffer, options.strict === true), offset, options);
  } catch (e) {
    throw asKlvError(e);
  }
}

/**
 * Decodes a bare item sequence (no key, no length) of one standard, e.g.
 * the value of a nested set or a single TLV from a test vector.
 */
export function decodeKlvSet(
  standard: Exclude<KlvStandard, 'unknown'>,
  bytes: Uint8Array,
  options: { strict?: boolean } = {},
): KlvTags {
  checkBuffer(bytes);
  const ctx = newDecodeContext(options.strict === true);
  try {
    if (standard === 'EG0104') return decodeUniversalSet(EG0104_TABLE, bytes, 0, bytes.length, ctx);
    const table = LOCAL_TABLES[standard];
    if (table === undefined) throw new KlvError('ERR_KLV_ARGUMENT', `unknown standard ${String(standard)}`);
    return decodeSet(table, bytes, 0, bytes.length, ctx);
  } catch (e) {
    throw asKlvError(e);
  }
}
