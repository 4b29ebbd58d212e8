/**
 * Decoded packets and their compact tags.
 *
 * The top-level set of a unit is read once: framing and checksum are
 * checked, numeric values are computed, text is validated, and everything
 * is recorded in a column store shared by successive decode calls. The tag
 * objects, the `tags` map, strings and nested sets/packs are built on first
 * access of `packet.tags` (then cached), and the NDJSON writer serialises
 * straight from the store. Allocating tens of small objects per packet cost
 * several times more than reading the bytes.
 */
import { readBerLength, readBerOid, cursor } from './ber.js';
import { decodeUtf8, readInt, readUint } from './bytes.js';
import { asKlvError } from './errors.js';
import { tagJson, tagsJson } from './json.js';
import {
  type DecodeContext,
  ERROR_INDICATOR,
  OP_INT,
  OP_MAPPED_INT,
  OP_MAPPED_UINT,
  OP_STRING,
  OP_UINT,
  Special,
  type TagRow,
  newDecodeContext,
  specialTag,
} from './kinds.js';
import { type Table, addTag, decodeItemTag, label, plainTag, rawTag, rowText, sameBytes } from './localset.js';
import type { DecodeOptions, KlvCarriage, KlvPacket, KlvStandard, KlvTag, KlvTags, KlvValue } from './types.js';

/**
 * Own symbol property of decoded packets pointing at the packet that holds
 * the compact tags; object spread copies it, so `{ ...packet }` stays
 * readable by the writers.
 */
export const LAZY_TAGS: unique symbol = Symbol('klv.lazyTags');
const BUILT: unique symbol = Symbol('klv.tags');
const STORE: unique symbol = Symbol('klv.store');
const VALS: unique symbol = Symbol('klv.vals');
const TABLE: unique symbol = Symbol('klv.table');
const START: unique symbol = Symbol('klv.start');
const COUNT: unique symbol = Symbol('klv.count');
const LEGACY: unique symbol = Symbol('klv.vmtiLegacy');
/** Input offset minus store offset of the packet's copied bytes (for messages). */
const DELTA: unique symbol = Symbol('klv.delta');

// Item kinds in the store's second column. Values >= 0 are deferred items
// (the byte length); values <= STR encode a text item of length STR - kind.
const NUM = -1;
const VAL = -2;
const TAG = -3;
const ERR = -4;
const STR = -16;

/**
 * Column store: triples (tag, item kind, number) in one Float64Array; the
 * number is the value (NUM), an index into the packet's values (VAL, TAG)
 * or an offset into `bytes`, which holds a copy of each set so callers may
 * reuse their buffers. Packets keep their store alive; a full store is
 * replaced.
 */
class Store {
  readonly cols: Float64Array;
  readonly bytes: Uint8Array;
  items = 0;
  bytesUsed = 0;
  constructor(items: number, bytes: number) {
    this.cols = new Float64Array(3 * items);
    this.bytes = new Uint8Array(bytes);
  }
}

const STORE_ITEMS = 1 << 16;
const STORE_BYTES = 1 << 19;
/** Items one set may hold; more is treated as a broken set rather than allocated. */
const MAX_SET_ITEMS = 1 << 20;
let current = new Store(STORE_ITEMS, STORE_BYTES);

/** A store with room for `items` items and `bytes` copied bytes. */
function reserve(items: number, bytes: number): Store {
  const s = current;
  if (3 * (s.items + items) <= s.cols.length && s.bytesUsed + bytes <= s.bytes.length) return s;
  current = new Store(Math.max(STORE_ITEMS, items), Math.max(STORE_BYTES, bytes));
  return current;
}

/** Scratch for sorting item indices when writing JSON. */
let order = new Int32Array(256);

/**
 * A decoded KLV unit. `tags` is an accessor (built on first use, then
 * cached); JSON.stringify yields the documented packet shape. A spread copy
 * (`{ ...packet }`) has no `tags` property of its own but carries the
 * compact tags, which the NDJSON/CSV/GeoJSON writers read; add
 * `tags: packet.tags` to such a copy before handing it to anything else, and
 * send `packet.toJSON()` rather than the packet through structured clone
 * (postMessage), which copies own data properties only.
 */
export class DecodedPacket implements KlvPacket {
  declare pts: number | null;
  declare stream: number | null;
  declare pid: number | null;
  declare carriage: KlvCarriage | null;
  declare key: string;
  declare standard: KlvStandard;
  declare checksumValid: boolean | null;
  declare error?: string;
  declare value?: string;
  declare [LAZY_TAGS]: DecodedPacket | undefined;
  declare [BUILT]: KlvTags | undefined;
  declare [STORE]: Store | undefined;
  declare [VALS]: unknown[] | undefined;
  declare [TABLE]: Table | undefined;
  declare [START]: number;
  declare [COUNT]: number;
  declare [LEGACY]: boolean;
  declare [DELTA]: number;

  constructor(options: DecodeOptions, key: string, standard: KlvStandard, checksumValid: boolean | null, tags: KlvTags | undefined) {
    this.pts = options.pts ?? null;
    this.stream = options.stream ?? null;
    this.pid = options.pid ?? null;
    this.carriage = options.carriage ?? null;
    this.key = key;
    this.standard = standard;
    this.checksumValid = checksumValid;
    this[LAZY_TAGS] = undefined;
    this[BUILT] = tags;
    this[STORE] = undefined;
    this[VALS] = undefined;
    this[TABLE] = undefined;
    this[START] = 0;
    this[COUNT] = 0;
    this[LEGACY] = false;
    this[DELTA] = 0;
  }

  get tags(): KlvTags {
    let t = this[BUILT];
    if (t === undefined) t = this[BUILT] = this[STORE] === undefined ? {} : buildTags(this);
    return t;
  }

  set tags(value: KlvTags) {
    this[BUILT] = value;
    this[STORE] = undefined;
    this[LAZY_TAGS] = undefined;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      pts: this.pts,
      stream: this.stream,
      pid: this.pid,
      carriage: this.carriage,
      key: this.key,
      standard: this.standard,
      checksumValid: this.checksumValid,
      tags: this.tags,
    };
    if (this.error !== undefined) out.error = this.error;
    if (this.value !== undefined) out.value = this.value;
    return out;
  }
}

/** Tag object of store item `i` of packet `p`. */
function itemTag(p: DecodedPacket, i: number): KlvTag {
  const st = p[STORE]!;
  const c = st.cols;
  const tag = c[3 * i]!;
  const kind = c[3 * i + 1]!;
  const table = p[TABLE]!;
  const r = table.rows[tag];
  // Scalars of rows with the plain tag shape: one object literal, one hidden class for all of
  // them, no call through the kind.
  if (kind === NUM) return r!.plainTag === true ? plainTag(r!, c[3 * i + 2]!) : r!.kind.wrap(r!, c[3 * i + 2]!);
  if (kind <= STR) {
    const text = rowText(r!, st.bytes, c[3 * i + 2]!, STR - kind)!;
    return r!.plainTag === true ? plainTag(r!, text) : r!.kind.wrap(r!, text);
  }
  if (kind === ERR) return specialTag(r!, ERROR_INDICATOR);
  if (kind === VAL) {
    const v = p[VALS]![c[3 * i + 2]!];
    return v instanceof Special ? specialTag(r!, v) : r!.kind.wrap(r!, v as KlvValue);
  }
  if (kind === TAG) return p[VALS]![c[3 * i + 2]!] as KlvTag;
  return deferredTag(p, table, r, tag, i, kind);
}

// Deferred items (nested sets, packs) decode with one reused context; `preceding` reads the
// item being decoded from these, so no closure is made per item.
const deferred: { c: Float64Array; start: number; i: number } = { c: new Float64Array(0), start: 0, i: 0 };
const deferredCtx = newDecodeContext(false);
function precedingTags(limit: number): number[] {
  const out: number[] = [];
  for (let j = Math.max(deferred.start, deferred.i - limit); j < deferred.i; j++) out.push(deferred.c[3 * j]!);
  return out;
}

/** Member shapes a set template rebuilds with one object literal each (own keys in this order). */
const SHAPE_PLAIN = 0; // name, value, units
const SHAPE_TEXT = 1; // name, value, units, text
const SHAPE_FLAGS = 2; // name, value, units, flags

/** What rebuilds a nested set's tag: the outer tag's fields and each member's key, shape and fields. */
interface SetTemplate {
  name: string;
  units: string | undefined;
  keys: number[];
  shapes: number[];
  members: KlvTag[];
}

/**
 * Template of a nested set tag of scalar members without errors (the security set, most sets),
 * or undefined for anything else: such a tag is rebuilt member by member instead of decoded
 * again when the same bytes come back.
 */
function setTemplate(t: KlvTag): SetTemplate | undefined {
  if (Object.getPrototypeOf(t) !== Object.prototype || Object.keys(t).join() !== 'name,value,units') return undefined;
  const members = t.value;
  if (members === null || typeof members !== 'object' || Object.getPrototypeOf(members) !== Object.prototype) return undefined;
  const keys: number[] = [];
  const shapes: number[] = [];
  const list: KlvTag[] = [];
  for (const k of Object.keys(members)) {
    const m = (members as KlvTags)[k]!;
    const own = Object.keys(m).join();
    const shape = own === 'name,value,units' ? SHAPE_PLAIN : own === 'name,value,units,text' ? SHAPE_TEXT : own === 'name,value,units,flags' ? SHAPE_FLAGS : -1;
    const v = m.value;
    if (shape < 0 || Object.getPrototypeOf(m) !== Object.prototype || (v !== null && typeof v === 'object') || !/^\d+$/.test(k)) return undefined;
    keys.push(Number(k));
    shapes.push(shape);
    list.push(shape === SHAPE_FLAGS ? { ...m, flags: m.flags!.slice() } : { ...m });
  }
  return { name: t.name, units: t.units, keys, shapes, members: list };
}

/** Marks bytes whose set is not one a template can rebuild (errors, nested values, timestamps). */
const NO_TEMPLATE = {};

/** A fresh tag from a template: the same members in the same order, each a new object. */
function fromTemplate(s: SetTemplate): KlvTag {
  const tags: KlvTags = {};
  for (let j = 0; j < s.keys.length; j++) {
    const m = s.members[j]!;
    const shape = s.shapes[j];
    tags[s.keys[j]!] =
      shape === SHAPE_PLAIN
        ? { name: m.name, value: m.value, units: m.units }
        : shape === SHAPE_TEXT
          ? { name: m.name, value: m.value, units: m.units, text: m.text }
          : { name: m.name, value: m.value, units: m.units, flags: m.flags!.slice() };
  }
  return { name: s.name, value: tags as KlvValue, units: s.units };
}

function deferredTag(p: DecodedPacket, table: Table, r: TagRow | undefined, tag: number, i: number, len: number): KlvTag {
  const st = p[STORE]!;
  const off = st.cols[3 * i + 2]!;
  // A nested set depends only on its bytes here (pre-0903.4 VMTI also on the outer version).
  const cache = r !== undefined && r.kind.type === 'set' && !p[LEGACY] && len > 0 ? r.setCache! : undefined;
  const again = cache !== undefined && sameBytes(cache.bytes, st.bytes, off, len);
  if (again && cache.template !== undefined && cache.template !== NO_TEMPLATE) return fromTemplate(cache.template as SetTemplate);
  const t = decodeDeferred(p, table, r, tag, i, len);
  if (cache !== undefined && (!again || cache.template === undefined)) {
    // A template is made once the same bytes come twice in a row, so sets that change every
    // packet cost only the copy of their bytes. It holds its own copies of the members:
    // callers may change the tag they were given.
    if (!again) cache.bytes = st.bytes.slice(off, off + len);
    cache.template = again ? (setTemplate(t) ?? NO_TEMPLATE) : undefined;
  }
  return t;
}

function decodeDeferred(p: DecodedPacket, table: Table, r: TagRow | undefined, tag: number, i: number, len: number): KlvTag {
  const ctx = deferredCtx;
  ctx.strict = false;
  ctx.depth = 0;
  ctx.setStart = 0;
  ctx.setEnd = 0;
  ctx.setError = undefined;
  ctx.vmtiLegacy = p[LEGACY];
  ctx.offsetBase = p[DELTA];
  ctx.preceding = precedingTags;
  const st = p[STORE]!;
  deferred.c = st.cols;
  deferred.start = p[START];
  deferred.i = i;
  return decodeItemTag(table, r, tag, st.bytes, st.cols[3 * i + 2]!, len, ctx);
}

/** Tags up to this are stored with an int32 key (the elements fast path); larger ones are rare. */
const SMALL_TAG = 0x3fffffff;

function buildTags(p: DecodedPacket): KlvTags {
  const tags: KlvTags = {};
  const st = p[STORE]!;
  const c = st.cols;
  const bytes = st.bytes;
  const rows = p[TABLE]!.rows;
  const start = p[START];
  const end = start + p[COUNT];
  // Integer keys live in the object's elements: storing the largest first sizes them once
  // instead of growing them three or four times. Keys enumerate ascending whatever the order.
  let first = -1;
  for (let i = start, max = -1; i < end; i++) {
    if (c[3 * i]! > max) {
      max = c[3 * i]!;
      first = i;
    }
  }
  if (first >= 0) tags[c[3 * first]!] = itemTag(p, first);
  for (let i = start; i < end; i++) {
    if (i === first) continue;
    const f = c[3 * i]!;
    const kind = c[3 * i + 1]!;
    let t: KlvTag;
    if (f <= SMALL_TAG && (kind === NUM || kind <= STR)) {
      // The common case inline: a scalar of a plain row, keyed by a small integer.
      const tag = f | 0;
      const r = rows[tag]!;
      if (r.plainTag === true) {
        const v = kind === NUM ? c[3 * i + 2]! : rowText(r, bytes, c[3 * i + 2]!, STR - kind)!;
        t = plainTag(r, v);
      } else t = itemTag(p, i);
      const prev = tags[tag];
      // `first` is the earliest item of its tag, so repeats still follow wire order.
      if (prev === undefined) tags[tag] = t;
      else (prev.repeats ??= []).push(t);
    } else addTag(tags, f, itemTag(p, i));
  }
  return tags;
}

/** JSON of the compact tags, identical to JSON.stringify of the built tags, written without building them. */
function storeJson(p: DecodedPacket): string {
  const st = p[STORE]!;
  const c = st.cols;
  const start = p[START];
  const count = p[COUNT];
  // JSON.stringify lists integer keys ascending: sort item indices by tag (insertion sort, as the
  // wire order is nearly sorted, 2 first and 1 last; a unit in no order at all gets a real sort).
  if (order.length < count) order = new Int32Array(count * 2);
  let moves = 0;
  for (let j = 0; j < count && moves <= 8 * count + 64; j++) {
    const i = start + j;
    const tag = c[3 * i]!;
    let k = j;
    while (k > 0 && c[3 * order[k - 1]!]! > tag) {
      order[k] = order[k - 1]!;
      k--;
      moves++;
    }
    order[k] = i;
  }
  if (moves > 8 * count + 64) {
    const sorted = Array.from({ length: count }, (_, j) => start + j).sort((x, y) => c[3 * x]! - c[3 * y]! || x - y);
    for (let j = 0; j < count; j++) order[j] = sorted[j]!;
  }
  for (let j = 1; j < count; j++) {
    // Repeated tags fold into `repeats`: take the generic path.
    if (c[3 * order[j]!] === c[3 * order[j - 1]!]) return tagsJson(p.tags);
  }
  const rows = p[TABLE]!.rows;
  let s = '{';
  for (let j = 0; j < count; j++) {
    const i = order[j]!;
    const tag = c[3 * i]!;
    const kind = c[3 * i + 1]!;
    const r = rows[tag];
    // Unknown tags have no row.
    if (r !== undefined) s += j === 0 ? r.jsonKey! : r.jsonNextKey!;
    else s += (j === 0 ? '"' : ',"') + tag + '":';
    if (kind === NUM) {
      const v = c[3 * i + 2]!;
      // Telemetry repeats many values packet to packet: reuse the last text per row.
      const cache = r!.jsonCache!;
      if (cache.value !== v) {
        cache.value = v;
        cache.text = r!.jsonHead! + v + r!.jsonUnits! + (r!.plainTag === true ? '' : r!.kind.jsonTail(v)) + '}';
      }
      s += cache.text;
    } else if (kind === ERR) {
      s += r!.jsonHead! + 'null' + r!.jsonUnits! + ',"error":"error indicator"}';
    } else if (kind <= STR || (kind >= 0 && r !== undefined && r.kind.type !== 'sdccFlp' && !p[LEGACY])) {
      // Text, nested sets and packs often repeat packet to packet (security
      // set, designations): reuse the JSON of the same bytes. SDCC members
      // and pre-0903.4 VMTI fields depend on more than the bytes.
      const off = c[3 * i + 2]!;
      const len = kind <= STR ? STR - kind : kind;
      const cache = r!.spanCache!;
      if (!sameBytes(cache.bytes, st.bytes, off, len)) {
        const t = itemTag(p, i);
        cache.text = tagJson(t);
        // Messages of malformed items name offsets, which differ per packet.
        cache.bytes = t.error === undefined ? st.bytes.slice(off, off + len) : undefined;
        s += cache.text;
      } else s += cache.text;
    } else s += tagJson(itemTag(p, i));
  }
  return s + '}';
}

/**
 * Reads the items of a top-level local set into the store and returns the
 * packet holding them. A structural error (lenient mode only) is left in
 * `ctx.setError`.
 */
export function scanSet(
  table: Table,
  b: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext,
  packet: DecodedPacket,
): void {
  // Every item takes at least two bytes.
  const room = Math.min(((end - off) >> 1) + 1, MAX_SET_ITEMS);
  const st = reserve(room, end - off);
  const c = st.cols;
  const start = st.items;
  // The set's bytes are copied once; text and deferred items point into the copy.
  const at = st.bytesUsed;
  if (end - off < 64) for (let j = 0; j < end - off; j++) st.bytes[at + j] = b[off + j]!;
  else st.bytes.set(b.subarray(off, end), at);
  st.bytesUsed = at + (end - off);
  const shift = at - off;
  let vals: unknown[] | undefined;
  let i = start;
  const restore = table.options.prepareDecode?.(b, off, end, ctx);
  const vmtiLegacy = ctx.vmtiLegacy;
  let error: string | undefined;
  let p = off;
  try {
    while (p < end) {
      if (i - start === room) {
        error = `${table.standard} set at offset ${off} has more than ${room} items`;
        break;
      }
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
      const k = 3 * i;
      c[k] = tag;
      i++;
      if (len > end - p) {
        error = `${label(table, tag)} at offset ${itemStart}: length ${len} overruns the set by ${len - (end - p)} bytes`;
        c[k + 1] = TAG;
        c[k + 2] = (vals ??= []).push(rawTag(r?.name ?? 'unknown', b, p, end, error)) - 1;
        break;
      }
      if (r !== undefined && r.eager === true && len > 0) {
        // The common mappings are inlined; the others go through the kind.
        const op = r.op;
        if (op === OP_MAPPED_INT && len === r.opBytes) {
          const raw = readInt(b, p, len);
          if (raw === r.opError) c[k + 1] = ERR;
          else {
            c[k + 1] = NUM;
            c[k + 2] = raw * r.opScale!;
          }
          p += len;
          continue;
        }
        if (op === OP_MAPPED_UINT && len === r.opBytes) {
          c[k + 1] = NUM;
          c[k + 2] = readUint(b, p, len) * r.opScale! + r.opOffset!;
          p += len;
          continue;
        }
        if (op === OP_UINT && (r.opBytes === 0 ? len <= 8 : len === r.opBytes)) {
          c[k + 1] = NUM;
          c[k + 2] = readUint(b, p, len);
          p += len;
          continue;
        }
        if (op === OP_INT && (r.opBytes === 0 ? len <= 8 : len === r.opBytes)) {
          c[k + 1] = NUM;
          c[k + 2] = readInt(b, p, len);
          p += len;
          continue;
        }
        if (op === OP_STRING) {
          let ascii = true;
          for (let j = p; j < p + len; j++) if (b[j]! >= 0x80) ascii = false;
          // Text is validated now and built on demand from the copy.
          if (ascii || decodeUtf8(b, p, len) !== undefined) {
            c[k + 1] = STR - len;
            c[k + 2] = p + shift;
            p += len;
            continue;
          }
        }
        let v: KlvValue | Special;
        try {
          v = r.kind.decodeItem(b, p, len, ctx);
        } catch (e) {
          c[k + 1] = TAG;
          c[k + 2] = (vals ??= []).push(rawTag(r.name, b, p, p + len, asKlvError(e).message)) - 1;
          p += len;
          continue;
        }
        if (typeof v === 'number') {
          c[k + 1] = NUM;
          c[k + 2] = v;
        } else {
          c[k + 1] = VAL;
          c[k + 2] = (vals ??= []).push(v) - 1;
        }
      } else {
        // Deferred: nested sets, packs, unknown tags and empty items.
        c[k + 1] = len;
        c[k + 2] = p + shift;
      }
      p += len;
    }
  } catch (e) {
    // Thrown only while reading a tag or length, before the item was recorded.
    error = `${table.standard} set broken at offset ${p}: ${asKlvError(e, 'ERR_KLV_BER').message}`;
  } finally {
    restore?.();
  }
  st.items = i;
  ctx.setError = error;
  packet[BUILT] = undefined;
  packet[LAZY_TAGS] = packet;
  packet[STORE] = st;
  packet[VALS] = vals;
  packet[TABLE] = table;
  packet[START] = start;
  packet[COUNT] = i - start;
  packet[LEGACY] = vmtiLegacy;
  packet[DELTA] = -shift;
}

/**
 * Numeric value of the first item with `tag`, read from the store without
 * building the tags (null for error indicators, specials, malformed or
 * non-numeric items; undefined when absent).
 */
export function packetNumber(p: KlvPacket, tag: number): number | null | undefined {
  const holder = p instanceof DecodedPacket ? p : (p as { [LAZY_TAGS]?: DecodedPacket })[LAZY_TAGS];
  const own = Object.prototype.hasOwnProperty.call(p, 'tags') ? (p as { tags?: KlvTags }).tags : undefined;
  if (holder !== undefined && own === undefined && holder[STORE] !== undefined && holder[BUILT] === undefined) {
    const c = holder[STORE].cols;
    for (let i = holder[START], end = holder[START] + holder[COUNT]; i < end; i++) {
      if (c[3 * i] !== tag) continue;
      return c[3 * i + 1] === NUM ? c[3 * i + 2]! : null;
    }
    return undefined;
  }
  const t = packetTags(p)[tag];
  if (t === undefined) return undefined;
  return t.error === undefined && typeof t.value === 'number' && Number.isFinite(t.value) ? t.value : null;
}

/** Tags of any packet-like object: decoded packets, spread copies of them, or plain objects. */
export function packetTags(p: KlvPacket): KlvTags {
  const own = (p as { tags?: KlvTags }).tags;
  if (own !== undefined) return own;
  const holder = (p as { [LAZY_TAGS]?: DecodedPacket })[LAZY_TAGS];
  return holder !== undefined ? holder.tags : {};
}

/** JSON of a packet's tags, from the store when they were never replaced. */
export function packetTagsJson(p: KlvPacket, generic: (tags: KlvTags) => string): string {
  if (p instanceof DecodedPacket) {
    // Tags replaced through the setter dropped the store.
    return p[STORE] !== undefined ? storeJson(p) : generic(p.tags);
  }
  const holder = (p as { [LAZY_TAGS]?: DecodedPacket })[LAZY_TAGS];
  if (holder !== undefined && holder[STORE] !== undefined) {
    // A plain copy may carry tags of its own; honour them unless they are the holder's.
    const own = Object.getOwnPropertyDescriptor(p, 'tags');
    if (own === undefined || own.value === holder[BUILT]) return storeJson(holder);
  }
  return generic(packetTags(p));
}
