/**
 * Mapping kinds: how one item's bytes become a value and back. Tag tables
 * are rows of (tag, name, kind, units); everything standard-specific is a
 * kind built from the factories at the bottom of this file.
 */
import { readBerLength, readBerOid, cursor, encodeBerLength, encodeBerOid } from './ber.js';
import {
  ByteWriter,
  decodeUtf8,
  fromHex,
  intSize,
  isHex,
  readFloat,
  readInt,
  readUint,
  toHex,
  uintSize,
} from './bytes.js';
import { KlvError, itemError } from './errors.js';
import {
  IMAPB_SPECIAL_BYTE,
  type ImapbParams,
  type ImapbSpecial,
  imapbEncodeInto,
  imapbParams,
  imapbInRange,
  imapbSpecialOf,
  imapbValue,
} from './imapb.js';
import type { KlvTag, KlvValue } from './types.js';

/** Mutable state threaded through one decode call. */
export interface DecodeContext {
  strict: boolean;
  /** ST 0903 before version 4 used integer encodings instead of IMAPB. */
  vmtiLegacy: boolean;
  depth: number;
  /** Item area of the set currently being decoded (for packs that refer to siblings). */
  setStart: number;
  setEnd: number;
  /** Structural problem found by the last nested set decode (lenient mode). */
  setError: string | undefined;
  /** The last `limit` tags preceding the item being decoded, in order. */
  preceding: ((limit: number) => number[]) | undefined;
  /** Added to buffer offsets in messages, when decoding from a copy of the input. */
  offsetBase: number;
}

export function newDecodeContext(strict: boolean): DecodeContext {
  return { strict, vmtiLegacy: false, depth: 0, setStart: 0, setEnd: 0, setError: undefined, preceding: undefined, offsetBase: 0 };
}

export interface EncodeContext {
  vmtiLegacy: boolean;
  depth: number;
}

export function newEncodeContext(): EncodeContext {
  return { vmtiLegacy: false, depth: 0 };
}

/** Nested sets deeper than this are kept raw (ST 1607 amend sets can nest). */
export const MAX_DEPTH = 12;

/** A table row: one tag of one standard. */
export interface TagRow {
  readonly tag: number;
  readonly name: string;
  readonly kind: Kind;
  readonly units?: string;
  /** Decoded eagerly (the kind yields scalars). */
  readonly eager?: boolean;
  /** JSON text up to the value: {"name":"…","value": */
  readonly jsonHead?: string;
  /** JSON text of the units member, or ''. */
  readonly jsonUnits?: string;
  /** Last numeric value written as JSON by this row, and its text. */
  readonly jsonCache?: { value: number; text: string };
  /** Bytes of the last text/nested item written as JSON by this row, and its text. */
  readonly spanCache?: { bytes: Uint8Array | undefined; text: string };
  /** JSON of the member key, "13": (and with a leading comma). */
  readonly jsonKey?: string;
  readonly jsonNextKey?: string;
  /** The kind's tag object is the plain {name, value, units} (no text, flags or iso). */
  readonly plainTag?: boolean;
  /** Bytes of the last nested set this row decoded as a deferred item, and what rebuilds its tag. */
  readonly setCache?: { bytes: Uint8Array | undefined; template: object | undefined };
  /** Bytes of the last text value this row decoded, and the string (telemetry repeats its text). */
  readonly textCache?: { bytes: Uint8Array | undefined; text: string };
  /** Hot-path recipe copied from the kind (see `FastOp`). */
  readonly op?: number;
  readonly opBytes?: number;
  readonly opScale?: number;
  readonly opOffset?: number;
  readonly opError?: number;
}

/** Op codes of the mappings the top-level decoder inlines; everything else is OP_GENERIC. */
export const OP_GENERIC = 0;
export const OP_UINT = 1;
export const OP_INT = 2;
export const OP_MAPPED_UINT = 3;
export const OP_MAPPED_INT = 4;
export const OP_STRING = 5;

/** value = raw · scale + offset, with `bytes` fixed (0: any 1..8) and `error` the reserved raw code. */
export interface FastOp {
  op: number;
  bytes: number;
  scale: number;
  offset: number;
  error: number;
}

const GENERIC_OP: FastOp = { op: OP_GENERIC, bytes: 0, scale: 1, offset: 0, error: NaN };

/** An item whose value is absent for a stated reason (error indicator, IMAPB special value). */
export class Special {
  constructor(readonly error: string) {}
}

export const ERROR_INDICATOR = new Special('error indicator');
const SPECIALS = new Map<string, Special>();
export function special(name: string): Special {
  let s = SPECIALS.get(name);
  if (s === undefined) SPECIALS.set(name, (s = new Special(name)));
  return s;
}

export function specialTag(row: TagRow, s: Special): KlvTag {
  return { name: row.name, value: null, units: row.units, error: s.error };
}

/** Base of every mapping kind. */
export abstract class Kind {
  /** Short identifier of the mapping (for docs, CSV column selection, generators). */
  abstract readonly type: string;
  /** True when decoded values are numbers, strings or null; such items are decoded eagerly. */
  readonly scalar: boolean = true;

  /** Value of a zero-length item. */
  empty(): KlvValue {
    return null;
  }

  /** Bytes to value; throws KlvError(ERR_KLV_ITEM) when the bytes do not fit the mapping. */
  abstract decode(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue;

  /** Like `decode`, but reports error indicators and special values as a `Special`. */
  decodeItem(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue | Special {
    return this.decode(b, off, len, ctx);
  }

  /** How the top-level decoder may decode this kind without a call. */
  fast(): FastOp {
    return GENERIC_OP;
  }

  /** JSON members that `wrap` adds after name/value/units (text, flags, iso), with a leading comma. */
  jsonTail(_value: KlvValue): string {
    return '';
  }

  /** The tag object for a decoded value (enumerations add `text`, flags add `flags`...). */
  wrap(row: TagRow, value: KlvValue): KlvTag {
    return { name: row.name, value, units: row.units };
  }

  /** Bytes to the tag object placed in a set. */
  item(row: TagRow, b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvTag {
    const v = this.decodeItem(b, off, len, ctx);
    return v instanceof Special ? specialTag(row, v) : this.wrap(row, v);
  }

  /** Value to bytes (the value only: no tag, no length). */
  abstract write(w: ByteWriter, value: unknown, ctx: EncodeContext): void;

  /** Encodes a null value with an error text (error indicators, IMAPB specials); false when null means "empty item". */
  writeNull(_w: ByteWriter, _error: string | undefined): boolean {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Helpers shared by kinds

export function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new KlvError('ERR_KLV_ENCODE', `${what}: expected a number, got ${describe(v)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return typeof v === 'object' ? 'object' : `${typeof v} ${String(v)}`;
}

function integer(v: unknown, what: string): number | bigint {
  if (typeof v === 'bigint') return v;
  const n = num(v, what);
  if (!Number.isInteger(n)) throw new KlvError('ERR_KLV_ENCODE', `${what}: expected an integer, got ${n}`);
  return n;
}

function checkFixed(len: number, fixed: number | undefined, what: string): void {
  if (fixed !== undefined && len !== fixed) throw itemError(`${what}: expected ${fixed} bytes, got ${len}`);
  if (len > 8) throw itemError(`${what}: ${len} bytes exceeds 8`);
}

/** ISO-8601 UTC text of microseconds since 1970 (milliseconds unless sub-millisecond digits are present). */
// Consecutive timestamps share their second: keep its "YYYY-MM-DDTHH:MM:SS" text.
let isoSecond = NaN;
let isoPrefix = '';

export function isoFromMicros(us: number): string | undefined {
  if (!Number.isFinite(us)) return undefined;
  const second = Math.floor(us / 1e6);
  if (second !== isoSecond) {
    const d = new Date(second * 1000);
    if (Number.isNaN(d.getTime())) return undefined;
    const iso = d.toISOString();
    // Years outside 0000-9999 print as +YYYYYY: not cacheable by a fixed-width prefix.
    if (iso.length !== 24) return isoSlow(us);
    isoSecond = second;
    isoPrefix = iso.slice(0, 19);
  }
  const sub = us - second * 1e6;
  const ms = Math.floor(sub / 1000);
  const micro = Math.round(sub - ms * 1000);
  const msText = ms < 10 ? '00' + ms : ms < 100 ? '0' + ms : String(ms);
  if (micro === 0) return `${isoPrefix}.${msText}Z`;
  return `${isoPrefix}.${msText}${micro < 10 ? '00' + micro : micro < 100 ? '0' + micro : micro}Z`;
}

function isoSlow(us: number): string | undefined {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return undefined;
  const iso = d.toISOString();
  const micro = Math.round(us - ms * 1000);
  if (micro === 0) return iso;
  return `${iso.slice(0, -1)}${String(micro).padStart(3, '0')}Z`;
}

/** Tag object of a timestamp: `iso` is computed on demand and included by JSON.stringify. */
class TimeTag implements KlvTag {
  name: string;
  value: KlvValue;
  units: string | undefined;
  declare repeats?: KlvTag[];
  constructor(name: string, value: number, units: string | undefined) {
    this.name = name;
    this.value = value;
    this.units = units;
  }
  get iso(): string | undefined {
    return typeof this.value === 'number' ? isoFromMicros(this.value) : undefined;
  }
  toJSON(): KlvTag {
    const out: KlvTag = { name: this.name, value: this.value };
    if (this.units !== undefined) out.units = this.units;
    const iso = this.iso;
    if (iso !== undefined) (out as { iso?: string }).iso = iso;
    if (this.repeats !== undefined) out.repeats = this.repeats;
    return out;
  }
}

// ---------------------------------------------------------------------------
// Integer kinds

export class UintKind extends Kind {
  readonly type: string = 'uint';
  /** fixed: the only length decoded and encoded. encodeSize: the length written (any is read). */
  constructor(
    readonly fixed?: number,
    readonly encodeSize?: number,
  ) {
    super();
  }
  override fast(): FastOp {
    return { op: OP_UINT, bytes: this.fixed ?? 0, scale: 1, offset: 0, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    checkFixed(len, this.fixed, 'unsigned integer');
    return readUint(b, off, len);
  }
  write(w: ByteWriter, value: unknown): void {
    const v = integer(value, 'unsigned integer');
    if (v < 0) throw new KlvError('ERR_KLV_ENCODE', `unsigned integer: negative value ${v}`);
    const size = this.fixed ?? Math.max(this.encodeSize ?? 0, uintSize(v));
    if (this.fixed !== undefined && uintSize(v) > this.fixed) {
      throw new KlvError('ERR_KLV_ENCODE', `unsigned integer ${v} does not fit in ${this.fixed} bytes`);
    }
    w.uint(v, size);
  }
}

export class IntKind extends Kind {
  readonly type: string = 'int';
  constructor(readonly fixed?: number) {
    super();
  }
  override fast(): FastOp {
    return { op: OP_INT, bytes: this.fixed ?? 0, scale: 1, offset: 0, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    checkFixed(len, this.fixed, 'signed integer');
    return readInt(b, off, len);
  }
  write(w: ByteWriter, value: unknown): void {
    const v = integer(value, 'signed integer');
    const size = this.fixed ?? intSize(v);
    if (this.fixed !== undefined && intSize(v) > this.fixed) {
      throw new KlvError('ERR_KLV_ENCODE', `signed integer ${v} does not fit in ${this.fixed} bytes`);
    }
    w.int(v, size);
  }
}

/** Microseconds since 1970 (MISP time); the tag carries an ISO string beside the number. */
export class TimestampKind extends UintKind {
  override readonly type = 'timestamp';
  override wrap(row: TagRow, value: KlvValue): KlvTag {
    return typeof value === 'number' ? new TimeTag(row.name, value, row.units) : { name: row.name, value, units: row.units };
  }
  override jsonTail(value: KlvValue): string {
    const iso = typeof value === 'number' ? isoFromMicros(value) : undefined;
    return iso === undefined ? '' : ',"iso":"' + iso + '"';
  }
}

/** Unsigned integer linearly mapped onto [min, max] (ST 0601 "uint16 0..360" style). */
export class MappedUintKind extends Kind {
  readonly type = 'mappedUint';
  readonly scale: number;
  readonly maxRaw: number;
  constructor(
    readonly min: number,
    readonly max: number,
    readonly bytes: number,
  ) {
    super();
    this.maxRaw = 2 ** (8 * bytes) - 1;
    this.scale = (max - min) / this.maxRaw;
  }
  override fast(): FastOp {
    return { op: OP_MAPPED_UINT, bytes: this.bytes, scale: this.scale, offset: this.min, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (len !== this.bytes) throw itemError(`mapped unsigned integer: expected ${this.bytes} bytes, got ${len}`);
    return readUint(b, off, len) * this.scale + this.min;
  }
  write(w: ByteWriter, value: unknown): void {
    const v = num(value, 'mapped unsigned integer');
    if (!Number.isFinite(v)) throw new KlvError('ERR_KLV_ENCODE', `mapped unsigned integer: ${v} is not finite`);
    // Beyond the range by more than rounding: refused, never clamped to a plausible wrong value.
    if (v < this.min - this.scale / 2 || v > this.max + this.scale / 2) {
      throw new KlvError('ERR_KLV_ENCODE', `mapped unsigned integer: ${v} is outside ${this.min}..${this.max}`);
    }
    const raw = Math.min(this.maxRaw, Math.max(0, Math.round((v - this.min) / this.scale)));
    w.uint(raw, this.bytes);
  }
}

/**
 * Signed integer mapped symmetrically onto [min, max] with the most negative
 * code reserved as the "out of range / error" indicator (decodes to null).
 */
export class MappedIntKind extends Kind {
  readonly type = 'mappedInt';
  readonly scale: number;
  readonly maxRaw: number;
  readonly errorRaw: number;
  constructor(
    readonly min: number,
    readonly max: number,
    readonly bytes: number,
  ) {
    super();
    this.maxRaw = 2 ** (8 * bytes - 1) - 1;
    this.errorRaw = -(2 ** (8 * bytes - 1));
    this.scale = (max - min) / (2 ** (8 * bytes) - 2);
  }
  override fast(): FastOp {
    return { op: OP_MAPPED_INT, bytes: this.bytes, scale: this.scale, offset: 0, error: this.errorRaw };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (len !== this.bytes) throw itemError(`mapped signed integer: expected ${this.bytes} bytes, got ${len}`);
    const raw = readInt(b, off, len);
    return raw === this.errorRaw ? null : raw * this.scale;
  }
  override decodeItem(b: Uint8Array, off: number, len: number): KlvValue | Special {
    if (len !== this.bytes) throw itemError(`mapped signed integer: expected ${this.bytes} bytes, got ${len}`);
    const raw = readInt(b, off, len);
    return raw === this.errorRaw ? ERROR_INDICATOR : raw * this.scale;
  }
  write(w: ByteWriter, value: unknown): void {
    const v = num(value, 'mapped signed integer');
    if (Number.isNaN(v)) {
      w.int(this.errorRaw, this.bytes);
      return;
    }
    // Out of range: the standard's own "out of range" code (the most negative), never a clamped value.
    if (v < this.min - this.scale / 2 || v > this.max + this.scale / 2) {
      w.int(this.errorRaw, this.bytes);
      return;
    }
    const raw = Math.min(this.maxRaw, Math.max(-this.maxRaw, Math.round(v / this.scale)));
    w.int(raw, this.bytes);
  }
  override writeNull(w: ByteWriter, error: string | undefined): boolean {
    if (error === undefined || !/indicator|range/i.test(error)) return false;
    w.int(this.errorRaw, this.bytes);
    return true;
  }
}

/**
 * ST 1201 IMAPB(a, b) of any length 1..8. Encoding uses `defaultLength`, or up to `maxLength`
 * bytes when a longer item reproduces the value exactly (a decoded value keeps its precision);
 * never more than the standard allows, whatever the value.
 */
export class ImapbKind extends Kind {
  readonly type = 'imapb';
  private readonly params: ImapbParams[] = [];
  readonly maxLength: number;
  constructor(
    readonly a: number,
    readonly b: number,
    readonly defaultLength: number,
    readonly fixed?: number,
    maxLength?: number,
  ) {
    super();
    // ST 0601's variable-length IMAPB items run to 4 bytes at most; longer exact matches are float noise.
    this.maxLength = fixed ?? maxLength ?? Math.max(defaultLength, 4);
    for (let l = 1; l <= 8; l++) this.params[l] = imapbParams(a, b, l);
  }
  private check(len: number): void {
    if (this.fixed !== undefined && len !== this.fixed) throw itemError(`IMAPB: expected ${this.fixed} bytes, got ${len}`);
    if (len < 1 || len > 8) throw itemError(`IMAPB: length ${len} outside 1..8`);
  }
  /** Value, or null for special values (infinities, NaNs, below/above range). */
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    this.check(len);
    if ((b[off]! & 0x80) !== 0 && imapbSpecialOf(b, off, len) !== undefined) return null;
    return imapbInRange(this.params[len]!, b, off) ?? null;
  }
  override decodeItem(b: Uint8Array, off: number, len: number): KlvValue | Special {
    this.check(len);
    if ((b[off]! & 0x80) !== 0) {
      const name = imapbSpecialOf(b, off, len);
      if (name !== undefined) return special(name);
    }
    return imapbInRange(this.params[len]!, b, off) ?? special('above maximum');
  }
  /** Shortest length from the default to maxLength that reproduces `v` exactly, else the default. */
  lengthFor(v: number): number {
    const start = this.fixed ?? this.defaultLength;
    if (this.fixed !== undefined || !Number.isFinite(v) || v < this.a || v > this.b) return start;
    const tmp = new Uint8Array(8);
    for (let l = start; l <= this.maxLength; l++) {
      const p = this.params[l]!;
      imapbEncodeInto(p, v, tmp, 0);
      if (imapbValue(p, tmp, 0) === v) return l;
    }
    return start;
  }
  write(w: ByteWriter, value: unknown): void {
    const v = num(value, 'IMAPB value');
    const len = this.lengthFor(v);
    const out = new Uint8Array(len);
    imapbEncodeInto(this.params[len]!, v, out, 0);
    w.bytes(out);
  }
  override writeNull(w: ByteWriter, error: string | undefined): boolean {
    if (error === undefined || !(error in IMAPB_SPECIAL_BYTE)) return false;
    const out = new Uint8Array(this.fixed ?? this.defaultLength);
    out[0] = IMAPB_SPECIAL_BYTE[error as ImapbSpecial];
    w.bytes(out);
    return true;
  }
}

/** IEEE-754 float of 4 or 8 bytes. */
export class FloatKind extends Kind {
  readonly type = 'float';
  constructor(readonly fixed?: 4 | 8) {
    super();
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (this.fixed !== undefined ? len !== this.fixed : len !== 4 && len !== 8) {
      throw itemError(`float: expected ${this.fixed ?? '4 or 8'} bytes, got ${len}`);
    }
    const v = readFloat(b, off, len);
    return Number.isFinite(v) ? v : null;
  }
  write(w: ByteWriter, value: unknown): void {
    const v = value === null ? NaN : num(value, 'float');
    const len = this.fixed ?? (Object.is(Math.fround(v), v) || Number.isNaN(v) ? 4 : 8);
    w.float(v, len);
  }
}

/** UTF-8 text; invalid UTF-8 is reported as a malformed item. */
export class StringKind extends Kind {
  readonly type = 'string';
  override empty(): KlvValue {
    return '';
  }
  override fast(): FastOp {
    return { op: OP_STRING, bytes: 0, scale: 1, offset: 0, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    const s = decodeUtf8(b, off, len);
    if (s === undefined) throw itemError('string is not valid UTF-8');
    return s;
  }
  write(w: ByteWriter, value: unknown): void {
    if (typeof value !== 'string') throw new KlvError('ERR_KLV_ENCODE', `string: got ${describe(value)}`);
    w.utf8(value);
  }
}

/** Opaque bytes, decoded as lowercase hex. */
export class BytesKind extends Kind {
  readonly type = 'bytes';
  override empty(): KlvValue {
    return '';
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    return toHex(b, off, off + len);
  }
  write(w: ByteWriter, value: unknown): void {
    w.bytes(hexInput(value, 'bytes'));
  }
}

/** Bytes from hex text (dashes allowed, as in UUIDs) or a Uint8Array. */
export function hexInput(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    const s = value.replace(/-/g, '');
    if (isHex(s)) return fromHex(s);
  }
  throw new KlvError('ERR_KLV_ENCODE', `${what}: expected hex text, got ${describe(value)}`);
}

/** 16-byte UUID in 8-4-4-4-12 lowercase form. */
export class UuidKind extends Kind {
  readonly type = 'uuid';
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (len !== 16) throw itemError(`UUID: expected 16 bytes, got ${len}`);
    return uuidText(b, off);
  }
  write(w: ByteWriter, value: unknown): void {
    const bytes = hexInput(value, 'UUID');
    if (bytes.length !== 16) throw new KlvError('ERR_KLV_ENCODE', `UUID: expected 16 bytes, got ${bytes.length}`);
    w.bytes(bytes);
  }
}

export function uuidText(b: Uint8Array, off: number): string {
  const h = toHex(b, off, off + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Unsigned enumeration; the tag carries `text` beside the integer value. */
export class EnumKind extends Kind {
  readonly type = 'enum';
  constructor(
    readonly texts: Readonly<Record<number, string>>,
    readonly fixed: number | undefined = 1,
    readonly berOid = false,
  ) {
    super();
  }
  override fast(): FastOp {
    return this.berOid ? GENERIC_OP : { op: OP_UINT, bytes: this.fixed ?? 0, scale: 1, offset: 0, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (this.berOid) return oidWhole(b, off, len);
    checkFixed(len, this.fixed, 'enumeration');
    return readUint(b, off, len);
  }
  override wrap(row: TagRow, value: KlvValue): KlvTag {
    const t: KlvTag = { name: row.name, value, units: row.units };
    const text = typeof value === 'number' ? this.texts[value] : undefined;
    if (text !== undefined) t.text = text;
    return t;
  }
  override jsonTail(value: KlvValue): string {
    const text = typeof value === 'number' ? this.texts[value] : undefined;
    return text === undefined ? '' : ',"text":' + JSON.stringify(text);
  }
  write(w: ByteWriter, value: unknown): void {
    let v = value;
    if (typeof v === 'string' && Number.isNaN(Number(v))) {
      const hit = Object.entries(this.texts).find(([, t]) => t.toLowerCase() === (v as string).toLowerCase());
      if (hit === undefined) throw new KlvError('ERR_KLV_ENCODE', `enumeration: unknown text "${v}"`);
      v = Number(hit[0]);
    }
    const n = integer(v, 'enumeration');
    if (this.berOid) w.bytes(encodeBerOid(Number(n)));
    else w.uint(n, this.fixed ?? uintSize(n));
  }
}

/** Bit flags; the tag carries `flags` (names of the set bits, bit 0 first). */
export class FlagsKind extends Kind {
  readonly type = 'flags';
  constructor(
    readonly names: readonly (string | undefined)[],
    readonly fixed: number | undefined = 1,
  ) {
    super();
  }
  override fast(): FastOp {
    return { op: OP_UINT, bytes: this.fixed ?? 0, scale: 1, offset: 0, error: NaN };
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    checkFixed(len, this.fixed, 'flags');
    return readUint(b, off, len);
  }
  override wrap(row: TagRow, value: KlvValue): KlvTag {
    if (typeof value !== 'number') return { name: row.name, value, units: row.units };
    return { name: row.name, value, units: row.units, flags: flagNames(this.names, value) };
  }
  override jsonTail(value: KlvValue): string {
    return typeof value === 'number' ? ',"flags":' + JSON.stringify(flagNames(this.names, value)) : '';
  }
  write(w: ByteWriter, value: unknown): void {
    const n = integer(value, 'flags');
    w.uint(n, this.fixed ?? uintSize(n));
  }
}

export function flagNames(names: readonly (string | undefined)[], value: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < names.length; bit++) {
    if (Math.floor(value / 2 ** bit) % 2 === 1) out.push(names[bit] ?? `bit ${bit}`);
  }
  return out;
}

/** A BER-OID that must fill the whole item. */
export function oidWhole(b: Uint8Array, off: number, len: number): number {
  const v = readBerOid(b, off, off + len);
  if (cursor.pos !== off + len) throw itemError(`BER-OID uses ${cursor.pos - off} of ${len} bytes`);
  return v;
}

export class BerOidKind extends Kind {
  readonly type = 'berOid';
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    return oidWhole(b, off, len);
  }
  write(w: ByteWriter, value: unknown): void {
    w.bytes(encodeBerOid(Number(integer(value, 'BER-OID'))));
  }
}

/** A list of BER-OID values filling the item (ST 0601 tags 116, 121). */
export class OidListKind extends Kind {
  readonly type = 'oidList';
  override readonly scalar = false;
  override empty(): KlvValue {
    return [];
  }
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    const out: number[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      out.push(readBerOid(b, p, end));
      p = cursor.pos;
    }
    return out;
  }
  write(w: ByteWriter, value: unknown): void {
    for (const v of arrayInput(value, 'BER-OID list')) w.bytes(encodeBerOid(Number(integer(v, 'BER-OID list element'))));
  }
}

export function arrayInput(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new KlvError('ERR_KLV_ENCODE', `${what}: expected an array, got ${describe(value)}`);
  return value;
}

export function objectInput(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KlvError('ERR_KLV_ENCODE', `${what}: expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Series: elements each preceded by a BER length (VTarget series, location
 * series, chip series...). Element values come from `element`.
 */
export class SeriesKind extends Kind {
  readonly type = 'series';
  override readonly scalar = false;
  constructor(readonly element: Kind) {
    super();
  }
  override empty(): KlvValue {
    return [];
  }
  decode(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue {
    const out: KlvValue[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      const l = readBerLength(b, p, end);
      p = cursor.pos;
      if (l > end - p) throw itemError(`series element of ${l} bytes overruns the item by ${l - (end - p)} bytes`);
      out.push(l === 0 ? this.element.empty() : this.element.decode(b, p, l, ctx));
      p += l;
    }
    return out;
  }
  write(w: ByteWriter, value: unknown, ctx: EncodeContext): void {
    for (const el of arrayInput(value, 'series')) {
      const sub = new ByteWriter();
      if (el !== null && el !== undefined) this.element.write(sub, el, ctx);
      w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
    }
  }
}

/** Chooses the pre-ST 0903.4 encoding or the IMAPB one from the VMTI version tag. */
export class VersionedKind extends Kind {
  readonly type: string;
  override readonly scalar: boolean;
  constructor(
    readonly legacy: Kind,
    readonly current: Kind,
  ) {
    super();
    this.type = current.type;
    this.scalar = current.scalar;
  }
  override empty(): KlvValue {
    return this.current.empty();
  }
  decode(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue {
    return (ctx.vmtiLegacy ? this.legacy : this.current).decode(b, off, len, ctx);
  }
  override decodeItem(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue | Special {
    return (ctx.vmtiLegacy ? this.legacy : this.current).decodeItem(b, off, len, ctx);
  }
  override wrap(row: TagRow, value: KlvValue): KlvTag {
    return this.current.wrap(row, value);
  }
  override jsonTail(value: KlvValue): string {
    return this.current.jsonTail(value);
  }
  write(w: ByteWriter, value: unknown, ctx: EncodeContext): void {
    (ctx.vmtiLegacy ? this.legacy : this.current).write(w, value, ctx);
  }
  override writeNull(w: ByteWriter, error: string | undefined): boolean {
    return this.current.writeNull(w, error);
  }
}

/** Pack with hand-written field layout (defined next to the standard that owns it). */
export class PackKind extends Kind {
  override readonly scalar = false;
  constructor(
    readonly type: string,
    private readonly decoder: (b: Uint8Array, off: number, len: number, ctx: DecodeContext) => KlvValue,
    private readonly writer: (w: ByteWriter, value: unknown, ctx: EncodeContext) => void,
    private readonly emptyValue: () => KlvValue = () => null,
  ) {
    super();
  }
  override empty(): KlvValue {
    return this.emptyValue();
  }
  decode(b: Uint8Array, off: number, len: number, ctx: DecodeContext): KlvValue {
    return this.decoder(b, off, len, ctx);
  }
  write(w: ByteWriter, value: unknown, ctx: EncodeContext): void {
    this.writer(w, value, ctx);
  }
}

// ---------------------------------------------------------------------------
// Field readers used by packs

/** Sequential reader over one item, with bounds checks that raise item errors. */
export class FieldReader {
  p: number;
  constructor(
    readonly b: Uint8Array,
    off: number,
    readonly end: number,
  ) {
    this.p = off;
  }
  get remaining(): number {
    return this.end - this.p;
  }
  need(n: number, what: string): void {
    if (n > this.end - this.p) throw itemError(`${what} needs ${n} bytes, ${this.end - this.p} left`);
  }
  oid(): number {
    const v = readBerOid(this.b, this.p, this.end);
    this.p = cursor.pos;
    return v;
  }
  ber(): number {
    const v = readBerLength(this.b, this.p, this.end);
    this.p = cursor.pos;
    if (v > this.end - this.p) throw itemError(`length ${v} overruns the item by ${v - (this.end - this.p)} bytes`);
    return v;
  }
  uint(n: number, what = 'field'): number {
    this.need(n, what);
    const v = readUint(this.b, this.p, n);
    this.p += n;
    return v;
  }
  int(n: number, what = 'field'): number {
    this.need(n, what);
    const v = readInt(this.b, this.p, n);
    this.p += n;
    return v;
  }
  float(n: number, what = 'field'): number {
    this.need(n, what);
    const v = readFloat(this.b, this.p, n);
    this.p += n;
    return v;
  }
  string(n: number, what = 'text'): string {
    this.need(n, what);
    const s = decodeUtf8(this.b, this.p, n);
    if (s === undefined) throw itemError(`${what} is not valid UTF-8`);
    this.p += n;
    return s;
  }
}

export function writeImapb(w: ByteWriter, a: number, b: number, len: number, v: unknown): void {
  const out = new Uint8Array(len);
  imapbEncodeInto(imapbParams(a, b, len), v === null || v === undefined ? NaN : num(v, 'IMAPB value'), out, 0);
  w.bytes(out);
}

export function readImapb(r: FieldReader, a: number, b: number, len: number): number | null {
  r.need(len, 'IMAPB field');
  const special = imapbSpecialOf(r.b, r.p, len);
  const v = special === undefined ? (imapbInRange(imapbParams(a, b, len), r.b, r.p) ?? null) : null;
  r.p += len;
  return v;
}

// ---------------------------------------------------------------------------
// Factories: the vocabulary of the tag tables

export const uint = (bytes?: number): Kind => new UintKind(bytes);
/** Any length read, `bytes` written (fields a standard sizes that producers send shorter). */
export const uintWritten = (bytes: number): Kind => new UintKind(undefined, bytes);
export const int = (bytes?: number): Kind => new IntKind(bytes);
export const timestamp = (bytes?: number): Kind => new TimestampKind(bytes);
export const mappedUint = (min: number, max: number, bytes: number): Kind => new MappedUintKind(min, max, bytes);
export const mappedInt = (min: number, max: number, bytes: number): Kind => new MappedIntKind(min, max, bytes);
/** IMAPB item: encoded in defaultLength bytes, or up to maxLength to keep a decoded value exact. */
export const imapb = (a: number, b: number, defaultLength: number, fixed?: number, maxLength?: number): Kind =>
  new ImapbKind(a, b, defaultLength, fixed, maxLength);
export const float = (bytes?: 4 | 8): Kind => new FloatKind(bytes);
export const string = (): Kind => new StringKind();
export const bytes = (): Kind => new BytesKind();
export const uuid = (): Kind => new UuidKind();
export const enumeration = (texts: Readonly<Record<number, string>> | readonly string[], bytes: number | undefined = 1): Kind =>
  new EnumKind(toRecord(texts), bytes);
export const oidEnumeration = (texts: Readonly<Record<number, string>> | readonly string[]): Kind =>
  new EnumKind(toRecord(texts), undefined, true);
export const flags = (names: readonly (string | undefined)[], bytes: number | undefined = 1): Kind =>
  new FlagsKind(names, bytes);
export const berOid = (): Kind => new BerOidKind();
export const oidList = (): Kind => new OidListKind();
export const series = (element: Kind): Kind => new SeriesKind(element);
export const versioned = (legacy: Kind, current: Kind): Kind => new VersionedKind(legacy, current);
export const pack = (
  type: string,
  decode: (b: Uint8Array, off: number, len: number, ctx: DecodeContext) => KlvValue,
  write: (w: ByteWriter, value: unknown, ctx: EncodeContext) => void,
  empty?: () => KlvValue,
): Kind => new PackKind(type, decode, write, empty);

function toRecord(texts: Readonly<Record<number, string>> | readonly string[]): Readonly<Record<number, string>> {
  if (!Array.isArray(texts)) return texts as Readonly<Record<number, string>>;
  const out: Record<number, string> = {};
  (texts as readonly string[]).forEach((t, i) => {
    if (t !== '') out[i] = t;
  });
  return out;
}

