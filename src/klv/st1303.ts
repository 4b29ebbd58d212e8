/** MISB ST 1303 Multi-Dimensional Array Pack (MDAP/MDARRAY), as nested in ST 1206, 1002 and 1601. */
import { encodeBerOid } from './ber.js';
import { ByteWriter, readFloat, readUint } from './bytes.js';
import { KlvError, itemError } from './errors.js';
import { imapbEncodeInto, imapbParams, imapbSpecialOf, imapbValue } from './imapb.js';
import { FieldReader, arrayInput, num, objectInput, pack, type Kind } from './kinds.js';
import type { KlvValue } from './types.js';

export const ARRAY_PROCESSING_ALGORITHM: Readonly<Record<number, string>> = {
  1: 'Natural',
  2: 'IMAP',
  3: 'Boolean',
  4: 'Unsigned Integer',
  5: 'Run-Length Encoding',
};

/** How elements are stored when the APA is "Natural" (1). */
export interface MdapElement {
  read(b: Uint8Array, off: number, size: number, rowIndex: number): number | null;
  write(w: ByteWriter, v: number | null, size: number, rowIndex: number): void;
  /** Default element size when encoding. */
  size: number;
}

export const naturalUint: MdapElement = {
  size: 2,
  read: (b, off, size) => {
    if (size > 8) throw itemError(`MDAP unsigned element of ${size} bytes exceeds 8`);
    return readUint(b, off, size);
  },
  write: (w, v, size) => {
    w.uint(v ?? 0, size);
  },
};

export const naturalFloat: MdapElement = {
  size: 4,
  read: (b, off, size) => {
    if (size !== 4 && size !== 8) throw itemError(`MDAP float element must be 4 or 8 bytes, got ${size}`);
    const v = readFloat(b, off, size);
    return Number.isFinite(v) ? v : null;
  },
  write: (w, v, size) => {
    w.float(v ?? NaN, size);
  },
};

function imapElement(ranges: readonly (readonly [number, number])[], size: number): MdapElement {
  return {
    size,
    read: (b, off, sz, rowIndex) => {
      const range = ranges[Math.min(rowIndex, ranges.length - 1)]!;
      if (sz < 1 || sz > 8) throw itemError(`MDAP IMAPB element of ${sz} bytes outside 1..8`);
      if (imapbSpecialOf(b, off, sz) !== undefined) return null;
      return imapbValue(imapbParams(range[0], range[1], sz), b, off);
    },
    write: (w, v, sz, rowIndex) => {
      const range = ranges[Math.min(rowIndex, ranges.length - 1)]!;
      const out = new Uint8Array(sz);
      imapbEncodeInto(imapbParams(range[0], range[1], sz), v ?? NaN, out, 0);
      w.bytes(out);
    },
  };
}

/** Natural elements stored as IMAPB(a, b). */
export const naturalImapb = (a: number, b: number, size = 4): MdapElement => imapElement([[a, b]], size);

/** Natural elements whose IMAPB range depends on the first-dimension row (ST 1601 SDCC arrays). */
export const rowImapb = (ranges: readonly (readonly [number, number])[], size = 3): MdapElement => imapElement(ranges, size);

/** Decodes an MDAP filling `[off, off+len)`. */
export function decodeMdap(b: Uint8Array, off: number, len: number, natural: MdapElement): KlvValue {
  const r = new FieldReader(b, off, off + len);
  const dims = r.oid();
  if (dims < 1 || dims > 16) throw itemError(`MDAP dimension count ${dims} outside 1..16`);
  const sizes: number[] = [];
  let count = 1;
  for (let i = 0; i < dims; i++) {
    const s = r.oid();
    if (s < 1) throw itemError(`MDAP dimension ${i + 1} has size 0`);
    sizes.push(s);
    count *= s;
  }
  const elementSize = r.oid();
  const apa = r.uint(1, 'MDAP APA');
  if (count * elementSize > r.remaining) {
    throw itemError(`MDAP holds ${count} elements of ${elementSize} bytes but only ${r.remaining} bytes remain`);
  }
  let element: MdapElement;
  let imapParams: { min: number; max: number } | null = null;
  if (apa === 2) {
    const paramsLength = r.remaining - count * elementSize;
    if (paramsLength !== 8 && paramsLength !== 16) throw itemError(`MDAP IMAP parameters of ${paramsLength} bytes (expected 8 or 16)`);
    const half = paramsLength / 2;
    const min = r.float(half, 'IMAP minimum');
    const max = r.float(half, 'IMAP maximum');
    if (!(max > min)) throw itemError(`MDAP IMAP range [${min}, ${max}] is empty`);
    imapParams = { min, max };
    element = naturalImapb(min, max);
  } else if (apa === 1) {
    element = natural;
  } else {
    throw itemError(`MDAP array processing algorithm ${apa} (${ARRAY_PROCESSING_ALGORITHM[apa] ?? 'unknown'}) is not supported`);
  }
  if (r.remaining !== count * elementSize) {
    throw itemError(`MDAP has ${r.remaining - count * elementSize} unexpected bytes after the parameters`);
  }
  const rowLength = count / sizes[0]!;
  const elements: (number | null)[] = [];
  for (let i = 0; i < count; i++) {
    elements.push(element.read(b, r.p, elementSize, Math.floor(i / rowLength)));
    r.p += elementSize;
  }
  return {
    sizes,
    elementSize,
    apa,
    apaText: ARRAY_PROCESSING_ALGORITHM[apa] ?? null,
    imapParams,
    elements,
  };
}

export function writeMdap(w: ByteWriter, value: unknown, natural: MdapElement): void {
  const v = objectInput(value, 'MDAP');
  const sizes = arrayInput(v.sizes, 'MDAP sizes').map((s) => num(s, 'MDAP size'));
  const elements = arrayInput(v.elements, 'MDAP elements').map((e) => (e === null ? null : num(e, 'MDAP element')));
  const count = sizes.reduce((a, s) => a * s, 1);
  if (sizes.length === 0 || count !== elements.length) {
    throw new KlvError('ERR_KLV_ENCODE', `MDAP: sizes ${JSON.stringify(sizes)} do not match ${elements.length} elements`);
  }
  const imap = v.imapParams as { min?: unknown; max?: unknown } | null | undefined;
  const apa = v.apa === undefined ? (imap ? 2 : 1) : num(v.apa, 'MDAP apa');
  const elementSize = v.elementSize === undefined ? (apa === 2 ? 4 : natural.size) : num(v.elementSize, 'MDAP elementSize');
  w.bytes(encodeBerOid(sizes.length));
  for (const s of sizes) w.bytes(encodeBerOid(s));
  w.bytes(encodeBerOid(elementSize)).u8(apa);
  let element = natural;
  if (apa === 2) {
    if (!imap) throw new KlvError('ERR_KLV_ENCODE', 'MDAP: IMAP arrays need imapParams {min, max}');
    const min = num(imap.min, 'imapParams.min');
    const max = num(imap.max, 'imapParams.max');
    const single = Object.is(Math.fround(min), min) && Object.is(Math.fround(max), max);
    w.float(min, single ? 4 : 8).float(max, single ? 4 : 8);
    element = naturalImapb(min, max);
  } else if (apa !== 1) {
    throw new KlvError('ERR_KLV_ENCODE', `MDAP: array processing algorithm ${apa} is not supported`);
  }
  const rowLength = count / sizes[0]!;
  elements.forEach((e, i) => element.write(w, e, elementSize, Math.floor(i / rowLength)));
}

/** MDAP item kind whose natural elements are read with `natural`. */
export const mdap = (natural: MdapElement): Kind =>
  pack(
    'mdap',
    (b, off, len) => decodeMdap(b, off, len, natural),
    (w, value) => writeMdap(w, value, natural),
  );
