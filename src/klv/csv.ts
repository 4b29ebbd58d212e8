/**
 * CSV of decoded packets: one row per packet, one column per scalar tag
 * (numbers, strings, enumeration/flag integers; nested sets, lists and
 * packs are left out). Two forms:
 *
 * - `packetsToCsv(packets)` makes two passes: the header is the union of the
 *   scalar tags seen, ordered by standard then tag number.
 * - `CsvWriter` streams: its columns are fixed up front (by default every
 *   scalar tag of the ST 0601 table; or the tags you list), so the header
 *   can be written before the first packet. Tags outside the column set are
 *   dropped.
 *
 * Leading columns: time (ISO of the packet's timestamp), pts, stream, pid,
 * carriage, standard, checksumValid. Headers are camelCase item names,
 * prefixed with the standard ("ST0903.frameWidth") when two standards share
 * a name; unknown tags are "<standard>.tag<N>".
 */
import { isoFromMicros } from './kinds.js';
import { EG0104_TABLE } from './eg0104.js';
import { ST0601_TABLE } from './st0601.js';
import { maskedKey, type Table } from './localset.js';
import { ST0102_TABLE } from './st0102.js';
import { ST0903_TABLE } from './st0903.js';
import { packetTags } from './packet.js';
import type { KlvPacket, KlvStandard, KlvTag } from './types.js';

const LEADING = ['time', 'pts', 'stream', 'pid', 'carriage', 'standard', 'checksumValid'] as const;

const TABLES: Partial<Record<KlvStandard, Table>> = { ST0601: ST0601_TABLE, ST0903: ST0903_TABLE, ST0102: ST0102_TABLE };
const STANDARD_ORDER: KlvStandard[] = ['ST0601', 'ST0903', 'ST0102', 'EG0104', 'unknown'];

export interface CsvOptions {
  /** Field separator, default ",". */
  separator?: string;
  /** Line ending, default "\n". */
  newline?: string;
}

interface Column {
  standard: KlvStandard;
  key: string;
  name: string;
}

/** RFC 4180 quoting; text a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading '. */
function cell(v: unknown, sep: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  if (s.includes(sep) || s.includes('"') || s.includes('\n') || s.includes('\r')) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

function isScalar(t: KlvTag): boolean {
  const v = t.value;
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** EG 0104's User Defined Time Stamp, with the UL version byte masked as the table matches it. */
const EG0104_TIME_KEY = '060e2b34010101000702010101050000';

function packetTime(p: KlvPacket): string | undefined {
  const tags = packetTags(p);
  // Tag 2 is the Precision Time Stamp in ST 0601 and ST 0903 only (in ST 0102 it is a coding method).
  let t: KlvTag | undefined;
  if (p.standard === 'ST0601' || p.standard === 'ST0903') t = tags['2'];
  else if (p.standard === 'EG0104') {
    const key = Object.keys(tags).find((k) => k.length === 32 && maskedKey(k) === EG0104_TIME_KEY);
    t = key === undefined ? undefined : tags[key];
  }
  return t !== undefined && typeof t.value === 'number' && t.error === undefined ? isoFromMicros(t.value) : undefined;
}

function columnName(standard: KlvStandard, key: string, t: KlvTag | undefined): string {
  if (t !== undefined && t.name !== 'unknown') return t.name;
  if (standard === 'EG0104') {
    const r = EG0104_TABLE.byKey.get(maskedKey(key));
    if (r !== undefined) return r.name;
  }
  const r = TABLES[standard]?.get(Number(key));
  return r !== undefined ? r.name : `tag${key}`;
}

function headers(columns: Column[]): string[] {
  const count = new Map<string, number>();
  for (const c of columns) count.set(c.name, (count.get(c.name) ?? 0) + 1);
  return columns.map((c) => (count.get(c.name)! > 1 || c.name.startsWith('tag') || c.name === 'unknown' ? `${c.standard}.${c.name}` : c.name));
}

function rowCells(p: KlvPacket, columns: Column[], sep: string): string {
  const lead = [packetTime(p), p.pts, p.stream, p.pid, p.carriage, p.standard, p.checksumValid];
  let s = lead.map((v) => cell(v, sep)).join(sep);
  const tags = packetTags(p);
  for (const c of columns) {
    const t = c.standard === p.standard ? tags[c.key] : undefined;
    s += sep + (t !== undefined && isScalar(t) ? cell(t.value, sep) : '');
  }
  return s;
}

/** Two-pass CSV of `packets`: header from the union of scalar tags seen. */
export function packetsToCsv(packets: readonly KlvPacket[], options: CsvOptions = {}): string {
  const sep = options.separator ?? ',';
  const nl = options.newline ?? '\n';
  const seen = new Map<string, Column>();
  for (const p of packets) {
    const tags = packetTags(p);
    for (const key of Object.keys(tags)) {
      const t = tags[key]!;
      if (!isScalar(t)) continue;
      const id = `${p.standard}|${key}`;
      if (!seen.has(id)) seen.set(id, { standard: p.standard, key, name: columnName(p.standard, key, t) });
    }
  }
  const columns = [...seen.values()].sort((a, b) => {
    const sa = STANDARD_ORDER.indexOf(a.standard);
    const sb = STANDARD_ORDER.indexOf(b.standard);
    if (sa !== sb) return sa - sb;
    const na = Number(a.key);
    const nb = Number(b.key);
    if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
  const lines = [[...LEADING, ...headers(columns)].map((h) => cell(h, sep)).join(sep)];
  for (const p of packets) lines.push(rowCells(p, columns, sep));
  return lines.join(nl) + nl;
}

/** Streaming CSV writer with a fixed column set (see the module comment). */
export class CsvWriter {
  private readonly columns: Column[];
  private readonly sep: string;
  private readonly nl: string;

  /**
   * @param columns ST 0601 tag numbers or camelCase names; default: every
   *   ST 0601 tag whose mapping yields a scalar.
   */
  constructor(columns?: readonly (number | string)[], options: CsvOptions = {}) {
    this.sep = options.separator ?? ',';
    this.nl = options.newline ?? '\n';
    const rows =
      columns === undefined
        ? ST0601_TABLE.list.filter((r) => r.kind.scalar && r.tag !== 1)
        : columns.map((c) => {
            const r = ST0601_TABLE.resolve(String(c));
            if (r === undefined) throw new TypeError(`CsvWriter: unknown ST 0601 tag ${String(c)}`);
            return r;
          });
    this.columns = rows.map((r) => ({ standard: 'ST0601' as KlvStandard, key: String(r.tag), name: r.name }));
  }

  /** Header line, including the newline. */
  header(): string {
    return [...LEADING, ...this.columns.map((c) => c.name)].map((h) => cell(h, this.sep)).join(this.sep) + this.nl;
  }

  /** One data line, including the newline. */
  row(packet: KlvPacket): string {
    return rowCells(packet, this.columns, this.sep) + this.nl;
  }
}
