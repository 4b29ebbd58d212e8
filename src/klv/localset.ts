/**
 * Table-driven local sets (BER-OID tag + BER length + value) and universal
 * sets (16-byte key + BER length + value).
 */
import { readBerLength, readBerOid, cursor, encodeBerLength, encodeBerOid } from './ber.js';
import { ByteWriter, decodeUtf8, fromHex, isHex, readInt, readUint, toHex } from './bytes.js';
import { KlvError, asKlvError, itemError } from './errors.js';
import {
  type DecodeContext,
  type EncodeContext,
  ERROR_INDICATOR,
  Kind,
  MAX_DEPTH,
  OP_INT,
  OP_MAPPED_INT,
  OP_MAPPED_UINT,
  OP_STRING,
  OP_UINT,
  specialTag,
  type TagRow,
  describe,
  objectInput,
} from './kinds.js';
import type { KlvTag, KlvTags, KlvValue } from './types.js';

export type EncodeOrder = (tags: number[], values: Map<number, unknown>) => number[];

export interface NestedChecksum {
  tag: number;
  length: number;
  /** Checksum of `b[start..end)`: the set up to and including the checksum item's tag and length. */
  compute(b: Uint8Array, start: number, end: number): number;
}

/** Error text when a nested set ends in a checksum item that does not match, else undefined. */
function checkNested(cs: NestedChecksum, b: Uint8Array, off: number, end: number): string | undefined {
  const at = end - cs.length;
  if (at - 2 < off || b[at - 2] !== cs.tag || b[at - 1] !== cs.length) return undefined;
  let stored = 0;
  for (let i = at; i < end; i++) stored = stored * 256 + b[i]!;
  const computed = cs.compute(b, off, at);
  if (stored === computed) return undefined;
  const width = 2 * cs.length;
  return `checksum mismatch: stored 0x${stored.toString(16).padStart(width, '0')}, computed 0x${computed.toString(16).padStart(width, '0')}`;
}

/** One standard's tag table, indexed by tag number. */
export class Table {
  readonly rows: (TagRow | undefined)[] = [];
  readonly byName = new Map<string, TagRow>();
  readonly list: readonly TagRow[];

  constructor(
    /** Human name used in error messages, e.g. "ST 0601". */
    readonly standard: string,
    rows: readonly TagRow[],
    readonly options: {
      /** Tag whose value is recomputed when encoding a standalone unit (not written by encodeSet). */
      checksumTag?: number;
      /** Runs before a set of this table is decoded/encoded; returns a function restoring the context. */
      prepareDecode?: (b: Uint8Array, off: number, end: number, ctx: DecodeContext) => (() => void) | undefined;
      prepareEncode?: (tags: Record<string, unknown>, ctx: EncodeContext) => (() => void) | undefined;
      encodeOrder?: EncodeOrder;
      /** Checksum item closing a nested set: verified when present, rewritten when the input has it. */
      nestedChecksum?: NestedChecksum;
    } = {},
  ) {
    for (const r of rows) {
      if (this.rows[r.tag] !== undefined) throw new Error(`${standard}: duplicate row for tag ${r.tag}`);
      if (this.byName.has(r.name)) throw new Error(`${standard}: duplicate name ${r.name}`);
      this.rows[r.tag] = r;
      this.byName.set(r.name, r);
    }
    this.list = rows;
  }

  get(tag: number): TagRow | undefined {
    return this.rows[tag];
  }

  /** Row for a numeric key ("13") or a camelCase name ("sensorLatitude"). */
  resolve(key: string): TagRow | undefined {
    const n = Number(key);
    if (Number.isInteger(n) && n >= 0 && key.trim() !== '') return this.rows[n];
    return this.byName.get(key);
  }
}

/** Builds a table row. */
export function row(tag: number, name: string, kind: Kind, units?: string): TagRow {
  // One object shape for every row keeps the decoder's property loads monomorphic.
  const fast = kind.fast();
  return {
    tag,
    name,
    kind,
    units,
    eager: kind.scalar,
    op: fast.op,
    opBytes: fast.bytes,
    opScale: fast.scale,
    opOffset: fast.offset,
    opError: fast.error,
    jsonHead: '{"name":' + JSON.stringify(name) + ',"value":',
    jsonUnits: units === undefined ? '' : ',"units":' + JSON.stringify(units),
    jsonCache: { value: NaN, text: '' },
    spanCache: { bytes: undefined, text: '' },
    jsonKey: '"' + tag + '":',
    jsonNextKey: ',"' + tag + '":',
    plainTag: kind.wrap === Kind.prototype.wrap && kind.jsonTail === Kind.prototype.jsonTail,
    textCache: { bytes: undefined, text: '' },
    setCache: { bytes: undefined, template: undefined },
  };
}

/** `readFast` result for an item the row's inlined mapping does not cover (kind, length). */
export const NOT_FAST = NaN;
/** `readFast` result for the error indicator of a mapped signed integer. */
export const FAST_ERROR = -Infinity;

/**
 * Value of an item through the row's inlined integer mapping (see `FastOp`): the same number
 * the kind decodes, FAST_ERROR for an error indicator, NOT_FAST when the row has no inlined
 * mapping for this length. Neither sentinel is a value these mappings can yield.
 */
export function readFast(r: TagRow, b: Uint8Array, p: number, len: number): number {
  const op = r.op;
  if (op === OP_MAPPED_INT && len === r.opBytes) {
    const raw = readInt(b, p, len);
    return raw === r.opError ? FAST_ERROR : raw * r.opScale!;
  }
  if (op === OP_MAPPED_UINT && len === r.opBytes) return readUint(b, p, len) * r.opScale! + r.opOffset!;
  if (op === OP_UINT && (r.opBytes === 0 ? len <= 8 : len === r.opBytes)) return readUint(b, p, len);
  if (op === OP_INT && (r.opBytes === 0 ? len <= 8 : len === r.opBytes)) return readInt(b, p, len);
  return NOT_FAST;
}

/** The tag object of a row whose kind adds nothing to name, value and units. */
export function plainTag(r: TagRow, value: KlvValue): KlvTag {
  return { name: r.name, value, units: r.units };
}

/** `a` holds exactly the `len` bytes of `b` at `off`. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array, off: number, len: number): boolean {
  if (a === undefined || a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

/**
 * UTF-8 text of `len` bytes at `off` (undefined when invalid), reusing the row's last string
 * when the bytes are the same: telemetry repeats its texts packet after packet.
 */
export function rowText(r: TagRow, b: Uint8Array, off: number, len: number): string | undefined {
  const cache = r.textCache!;
  if (sameBytes(cache.bytes, b, off, len)) return cache.text;
  const text = decodeUtf8(b, off, len);
  // Long texts are rare and rarely repeat: not worth a copy.
  if (text !== undefined && len <= 64) {
    cache.bytes = b.slice(off, off + len);
    cache.text = text;
  }
  return text;
}

/** Tag object of a scalar decoded by `readFast` (not NOT_FAST). */
export function fastTag(r: TagRow, v: number): KlvTag {
  if (v === FAST_ERROR) return specialTag(r, ERROR_INDICATOR);
  return r.plainTag === true ? plainTag(r, v) : r.kind.wrap(r, v);
}

export function label(table: Table, tag: number): string {
  const r = table.rows[tag];
  return r === undefined ? `${table.standard} tag ${tag}` : `${table.standard} tag ${tag} (${r.name})`;
}

export function rawTag(name: string, b: Uint8Array, start: number, end: number, error: string): KlvTag {
  return { name, value: toHex(b, start, end), error };
}

export function addTag(tags: KlvTags, key: number | string, t: KlvTag): void {
  const prev = tags[key];
  if (prev === undefined) tags[key] = t;
  else (prev.repeats ??= []).push(t);
}

/** Decodes one item to its tag object; malformed values become raw hex with an `error` (strict: KlvError). */
export function decodeItemTag(table: Table, r: TagRow | undefined, tag: number, b: Uint8Array, p: number, len: number, ctx: DecodeContext): KlvTag {
  if (r === undefined) return { name: 'unknown', value: toHex(b, p, p + len) };
  if (len === 0) return { name: r.name, value: r.kind.empty(), units: r.units };
  try {
    return r.kind.item(r, b, p, len, ctx);
  } catch (e) {
    const err = asKlvError(e);
    if (ctx.strict) {
      // Errors from nested sets already carry the innermost position.
      throw new KlvError(err.code, `${label(table, tag)} at offset ${ctx.offsetBase + p}: ${err.message}`, {
        offset: err.offset ?? ctx.offsetBase + p,
        tag: err.tag ?? tag,
        standard: err.standard ?? table.standard,
      });
    }
    return rawTag(r.name, b, p, p + len, err.message);
  }
}

/**
 * Decodes the items in `b[off..end)`. Malformed items are kept as raw hex
 * with an `error`; a structural break (unreadable tag or length, item
 * overrunning the set) stops the set and is reported in `ctx.setError`.
 * In strict mode every such problem throws.
 */
export function decodeSet(table: Table, b: Uint8Array, off: number, end: number, ctx: DecodeContext): KlvTags {
  const tags: KlvTags = {};
  const saveStart = ctx.setStart;
  const saveEnd = ctx.setEnd;
  const savePreceding = ctx.preceding;
  const restore = table.options.prepareDecode?.(b, off, end, ctx);
  ctx.setStart = off;
  ctx.setEnd = end;
  // The tags read so far, for items that refer to the ones before them (SDCC): kept as we go, so
  // a set of many such items is not re-read for each.
  const seen: number[] = [];
  ctx.preceding = (limit) => seen.slice(-limit);
  let setError: string | undefined;
  let p = off;
  try {
    while (p < end) {
      const itemStart = p;
      let tag = b[p++]!;
      if (tag >= 0x80) {
        tag = readBerOid(b, itemStart, end);
        p = cursor.pos;
      }
      let len: number;
      if (p < end && b[p]! < 0x80) len = b[p++]!;
      else {
        len = readBerLength(b, p, end);
        p = cursor.pos;
      }
      const r = table.rows[tag];
      if (len > end - p) {
        const msg = `${label(table, tag)} at offset ${ctx.offsetBase + itemStart}: length ${len} overruns the set by ${len - (end - p)} bytes`;
        if (ctx.strict) throw new KlvError('ERR_KLV_TRUNCATED', msg, { offset: ctx.offsetBase + itemStart, tag, standard: table.standard });
        addTag(tags, tag, rawTag(r?.name ?? 'unknown', b, p, end, msg));
        setError = msg;
        p = end;
        break;
      }
      // Integer mappings straight from the bytes; the rest through the kind.
      const v = r !== undefined && len > 0 ? readFast(r, b, p, len) : NOT_FAST;
      let t: KlvTag;
      if (v === v) t = fastTag(r!, v);
      else {
        const text = r !== undefined && len > 0 && r.op === OP_STRING && r.plainTag === true ? rowText(r, b, p, len) : undefined;
        t = text !== undefined ? plainTag(r!, text) : decodeItemTag(table, r, tag, b, p, len, ctx);
      }
      // addTag inline: its keyed access also sees UL strings and stored tags, here only integers.
      const prev = tags[tag];
      if (prev === undefined) tags[tag] = t;
      else (prev.repeats ??= []).push(t);
      seen.push(tag);
      p += len;
    }
  } catch (e) {
    const err = asKlvError(e, 'ERR_KLV_BER');
    const msg = `${table.standard} set broken at offset ${ctx.offsetBase + p}: ${err.message}`;
    if (ctx.strict) throw err.message.startsWith(table.standard) ? err : new KlvError(err.code, msg, { offset: ctx.offsetBase + p, standard: table.standard });
    setError = msg;
  } finally {
    ctx.setStart = saveStart;
    ctx.setEnd = saveEnd;
    ctx.preceding = savePreceding;
    restore?.();
  }
  ctx.setError = setError;
  return tags;
}

/** A nested local set; the value is a tags object keyed by tag number. */
export class SetKind extends Kind {
  readonly type = 'set';
  override readonly scalar = false;
  constructor(readonly table: () => Table) {
    super();
  }
  override empty(): KlvValue {
    return {};
  }
  decode(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue {
    if (ctx.depth >= MAX_DEPTH) throw itemError(`sets nested deeper than ${MAX_DEPTH} levels`);
    ctx.depth++;
    try {
      const tags = decodeSet(this.table(), b, off, off + len, ctx);
      const msg = ctx.setError;
      ctx.setError = undefined;
      // Inside series and packs there is no tag to carry the error: fail the element.
      if (msg !== undefined) throw itemError(msg);
      return tags as KlvValue;
    } finally {
      ctx.depth--;
    }
  }
  override item(row: TagRow, b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvTag {
    if (ctx.depth >= MAX_DEPTH) throw itemError(`sets nested deeper than ${MAX_DEPTH} levels`);
    ctx.depth++;
    let tags: KlvTags;
    let setError: string | undefined;
    const table = this.table();
    try {
      tags = decodeSet(table, b, off, off + len, ctx);
      setError = ctx.setError;
      ctx.setError = undefined;
    } finally {
      ctx.depth--;
    }
    const cs = table.options.nestedChecksum;
    const mismatch = cs === undefined ? undefined : checkNested(cs, b, off, off + len);
    if (mismatch !== undefined) {
      if (ctx.strict) throw new KlvError('ERR_KLV_CHECKSUM', `${table.standard} set at offset ${ctx.offsetBase + off}: ${mismatch}`, { offset: ctx.offsetBase + off, standard: table.standard });
      setError = setError === undefined ? mismatch : `${setError}; ${mismatch}`;
    }
    const t: KlvTag = { name: row.name, value: tags as KlvValue, units: row.units };
    if (setError !== undefined) t.error = setError;
    return t;
  }
  write(w: ByteWriter, value: unknown, ctx: EncodeContext): void {
    if (ctx.depth >= MAX_DEPTH) throw new KlvError('ERR_KLV_ENCODE', `sets nested deeper than ${MAX_DEPTH} levels`);
    ctx.depth++;
    try {
      const table = this.table();
      const tags = objectInput(value, `${table.standard} set`);
      const cs = table.options.nestedChecksum;
      if (cs === undefined || tags[cs.tag] === undefined) encodeSet(table, tags, w, ctx);
      else {
        const sub = new ByteWriter();
        encodeSet(table, tags, sub, ctx);
        sub.u8(cs.tag).u8(cs.length);
        sub.uint(cs.compute(sub.view(), 0, sub.length), cs.length);
        w.bytes(sub.view());
      }
    } finally {
      ctx.depth--;
    }
  }
}

export const set = (table: () => Table): Kind => new SetKind(table);

/** Writes one item: tag, BER length, value. */
export function writeItem(w: ByteWriter, tag: number, r: TagRow | undefined, input: unknown, ctx: EncodeContext, table: Table): void {
  const value = valueOf(input);
  const error = errorOf(input);
  const sub = new ByteWriter();
  try {
    if (error !== undefined && typeof value === 'string' && isHex(value)) {
      // Malformed items were kept as raw hex: write the bytes back unchanged.
      sub.bytes(fromHex(value));
    } else if (r === undefined) {
      if (typeof value !== 'string' || !isHex(value)) {
        throw new KlvError('ERR_KLV_ENCODE', `unknown tag needs a hex value, got ${describe(value)}`);
      }
      sub.bytes(fromHex(value));
    } else if (value === null || value === undefined) {
      r.kind.writeNull(sub, error);
    } else {
      r.kind.write(sub, value, ctx);
    }
  } catch (e) {
    const err = asKlvError(e, 'ERR_KLV_ENCODE');
    throw new KlvError('ERR_KLV_ENCODE', `${label(table, tag)}: ${err.message}`, { tag, standard: table.standard });
  }
  w.bytes(encodeBerOid(tag)).bytes(encodeBerLength(sub.length)).bytes(sub.view());
}

function valueOf(input: unknown): unknown {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'value' in input) {
    return (input as { value: unknown }).value;
  }
  return input;
}

function errorOf(input: unknown): string | undefined {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'value' in input) {
    const e = (input as { error?: unknown }).error;
    return typeof e === 'string' ? e : undefined;
  }
  return undefined;
}

function repeatsOf(input: unknown): unknown[] {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'value' in input) {
    const r = (input as { repeats?: unknown }).repeats;
    if (Array.isArray(r)) return r;
  }
  return [];
}

/** Encodes a tags object (keys: tag numbers or camelCase names) as local set items. */
export function encodeSet(table: Table, tags: Record<string, unknown>, w: ByteWriter, ctx: EncodeContext): void {
  const values = new Map<number, unknown>();
  for (const key of Object.keys(tags)) {
    const input = tags[key];
    if (input === undefined) continue;
    const n = Number(key);
    let tag: number;
    if (Number.isInteger(n) && n >= 0 && key.trim() !== '') tag = n;
    else {
      const r = table.byName.get(key);
      if (r === undefined) throw new KlvError('ERR_KLV_ENCODE', `${table.standard}: unknown tag name "${key}"`, { standard: table.standard });
      tag = r.tag;
    }
    if (tag === table.options.checksumTag) continue;
    if (values.has(tag)) throw new KlvError('ERR_KLV_ENCODE', `${table.standard}: tag ${tag} given twice`, { tag });
    values.set(tag, input);
  }
  let order = [...values.keys()];
  order.sort((x, y) => x - y);
  if (table.options.encodeOrder !== undefined) order = table.options.encodeOrder(order, values);
  const restore = table.options.prepareEncode?.(tags, ctx);
  try {
    for (const tag of order) {
      const input = values.get(tag);
      const r = table.rows[tag];
      writeItem(w, tag, r, input, ctx, table);
      for (const rep of repeatsOf(input)) writeItem(w, tag, r, rep, ctx, table);
    }
  } finally {
    restore?.();
  }
}

// ---------------------------------------------------------------------------
// Universal sets (16-byte keys)

export interface UniversalRow {
  /** Key with the version byte (index 7) zeroed, lowercase hex. */
  readonly key: string;
  readonly name: string;
  readonly kind: Kind;
  readonly units?: string;
}

/** Masks the UL version byte so keys match across registry versions. */
export function maskedKeyHex(b: Uint8Array, off: number): string {
  return toHex(b, off, off + 7) + '00' + toHex(b, off + 8, off + 16);
}

export class UniversalTable {
  readonly byKey = new Map<string, UniversalRow>();
  readonly byName = new Map<string, UniversalRow>();
  constructor(
    readonly standard: string,
    readonly list: readonly UniversalRow[],
  ) {
    for (const r of list) {
      this.byKey.set(r.key, r);
      this.byName.set(r.name, r);
    }
  }
  resolve(key: string): { key: Uint8Array; row: UniversalRow | undefined } {
    const named = this.byName.get(key);
    if (named !== undefined) return { key: fromHex(named.key), row: named };
    if (!isHex(key) || key.length !== 32) {
      throw new KlvError('ERR_KLV_ENCODE', `${this.standard}: "${key}" is neither a known item name nor a 16-byte UL`);
    }
    const bytes = fromHex(key);
    return { key: bytes, row: this.byKey.get(maskedKeyHex(bytes, 0)) };
  }
}

/** A UL in hex with its version byte (byte 8) zeroed, as universal tables match keys. */
export function maskedKey(hex: string): string {
  return hex.slice(0, 14) + '00' + hex.slice(16);
}

export function urow(key: string, name: string, kind: Kind, units?: string): UniversalRow {
  const masked = maskedKey(key.replace(/\s/g, '').toLowerCase());
  return units === undefined ? { key: masked, name, kind } : { key: masked, name, kind, units };
}

/** Decodes universal-set items keyed by their full UL hex. */
export function decodeUniversalSet(
  table: UniversalTable | undefined,
  b: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext,
): KlvTags {
  const tags: KlvTags = {};
  let p = off;
  let setError: string | undefined;
  const standard = table?.standard ?? 'universal set';
  try {
    while (p < end) {
      const itemStart = p;
      if (end - p < 17) {
        throw new KlvError('ERR_KLV_TRUNCATED', `${standard} item at offset ${p}: ${end - p} bytes cannot hold a 16-byte key and a length`, {
          offset: p,
        });
      }
      const keyHex = toHex(b, p, p + 16);
      const r = table?.byKey.get(maskedKeyHex(b, p));
      p += 16;
      const len = readBerLength(b, p, end);
      p = cursor.pos;
      if (len > end - p) {
        const msg = `${standard} item ${keyHex} at offset ${itemStart}: length ${len} overruns the set by ${len - (end - p)} bytes`;
        if (ctx.strict) throw new KlvError('ERR_KLV_TRUNCATED', msg, { offset: itemStart, tag: keyHex });
        addTag(tags, keyHex, rawTag(r?.name ?? 'unknown', b, p, end, msg));
        setError = msg;
        p = end;
        break;
      }
      let t: KlvTag;
      if (r === undefined) t = { name: 'unknown', value: toHex(b, p, p + len) };
      else if (len === 0) t = { name: r.name, value: r.kind.empty(), units: r.units };
      else {
        try {
          t = r.kind.item({ tag: -1, name: r.name, kind: r.kind, units: r.units } as TagRow, b, p, len, ctx);
        } catch (e) {
          const err = asKlvError(e);
          if (ctx.strict) {
            throw new KlvError(err.code, `${standard} item ${keyHex} (${r.name}) at offset ${p}: ${err.message}`, {
              offset: p,
              tag: keyHex,
            });
          }
          t = rawTag(r.name, b, p, p + len, err.message);
        }
      }
      addTag(tags, keyHex, t);
      p += len;
    }
  } catch (e) {
    const err = asKlvError(e, 'ERR_KLV_BER');
    if (ctx.strict) throw err;
    setError = `${standard} broken at offset ${p}: ${err.message}`;
  }
  ctx.setError = setError;
  return tags;
}

export function encodeUniversalSet(table: UniversalTable, tags: Record<string, unknown>, w: ByteWriter, ctx: EncodeContext): void {
  for (const key of Object.keys(tags)) {
    const input = tags[key];
    if (input === undefined) continue;
    const { key: ul, row: r } = table.resolve(key);
    for (const one of [input, ...repeatsOf(input)]) {
      const value = valueOf(one);
      const error = errorOf(one);
      const sub = new ByteWriter();
      try {
        if (r === undefined || (error !== undefined && typeof value === 'string' && isHex(value))) {
          if (typeof value !== 'string' || !isHex(value)) {
            throw new KlvError('ERR_KLV_ENCODE', `unknown item needs a hex value, got ${describe(value)}`);
          }
          sub.bytes(fromHex(value));
        } else if (value === null || value === undefined) r.kind.writeNull(sub, error);
        else r.kind.write(sub, value, ctx);
      } catch (e) {
        const err = asKlvError(e, 'ERR_KLV_ENCODE');
        throw new KlvError('ERR_KLV_ENCODE', `${table.standard} item ${key}: ${err.message}`, { tag: key });
      }
      w.bytes(ul).bytes(encodeBerLength(sub.length)).bytes(sub.view());
    }
  }
}
