/** MISB ST 1303 Multi-Dimensional Array Pack (MDAP/MDARRAY), as nested in ST 1206, 1002 and 1601. */
import { encodeBerOid } from './ber.js';
import { ByteWriter, readFloat, readUint } from './bytes.js';
import { KlvError, itemError } from './errors.js';
import { imapbEncodeInto, imapbInRange, imapbParams, imapbSpecialOf } from './imapb.js';
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
      return imapbInRange(imapbParams(range[0], range[1], sz), b, off) ?? null;
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

type MdapElements = (number | null)[] | boolean[];

/** Jumps in the flat (row-major) element array for one step along each dimension. */
function strides(sizes: readonly number[]): number[] {
  const out = sizes.map(() => 1);
  for (let i = sizes.length - 2; i >= 0; i--) out[i] = out[i + 1]! * sizes[i + 1]!;
  return out;
}

/**
 * Decodes an MDAP filling `[off, off+len)`. Array processing algorithms (ST 1303 §6): Natural and
 * IMAP elements of E_bytes each; Boolean packs one bit per element, most significant first; Unsigned
 * Integer stores a BER-OID bias then one BER-OID per element (bias added back); Run-Length Encoding
 * stores a default element then patches (value, start coordinates, run lengths) over it.
 */
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
  const apa = r.oid();
  // Every element costs at least one bit: a bigger count cannot be real (and would exhaust memory).
  if (count > r.remaining * 8 && apa !== 5) throw itemError(`MDAP of ${count} elements cannot fit in ${r.remaining} bytes`);
  if (count > 1 << 24) throw itemError(`MDAP of ${count} elements exceeds the 16,777,216 supported`);
  // Run-length arrays are small in KLV: a few bytes claiming millions of elements are damage (or an attack).
  if (apa === 5 && count > Math.max(4096, r.remaining * 256)) {
    throw itemError(`MDAP run-length array of ${count} elements is larger than its ${r.remaining} bytes can describe`);
  }
  const rowLength = count / sizes[0]!;
  let imapParams: { min: number; max: number } | null = null;
  let bias: number | null = null;
  let defaultElement: number | null | undefined;
  let elements: MdapElements;

  const fixedSize = (element: MdapElement): (number | null)[] => {
    if (count * elementSize !== r.remaining) {
      throw itemError(`MDAP holds ${count} elements of ${elementSize} bytes but ${r.remaining} bytes remain`);
    }
    const out: (number | null)[] = new Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = element.read(b, r.p, elementSize, Math.floor(i / rowLength));
      r.p += elementSize;
    }
    return out;
  };

  switch (apa) {
    case 1:
      elements = fixedSize(natural);
      break;
    case 2: {
      const paramsLength = r.remaining - count * elementSize;
      if (paramsLength !== 8 && paramsLength !== 16) throw itemError(`MDAP IMAP parameters of ${paramsLength} bytes (expected 8 or 16)`);
      const half = paramsLength / 2;
      const min = r.float(half, 'IMAP minimum');
      const max = r.float(half, 'IMAP maximum');
      if (!(max > min)) throw itemError(`MDAP IMAP range [${min}, ${max}] is empty`);
      imapParams = { min, max };
      elements = fixedSize(naturalImapb(min, max));
      break;
    }
    case 3: {
      const bytes = Math.ceil(count / 8);
      if (r.remaining !== bytes) throw itemError(`MDAP Boolean array of ${count} elements needs ${bytes} bytes, has ${r.remaining}`);
      const bits: boolean[] = new Array(count);
      for (let i = 0; i < count; i++) bits[i] = (b[r.p + (i >> 3)]! & (0x80 >> (i & 7))) !== 0;
      r.p += bytes;
      elements = bits;
      break;
    }
    case 4: {
      bias = r.oid();
      const values: number[] = new Array(count);
      for (let i = 0; i < count; i++) {
        if (r.remaining === 0) throw itemError(`MDAP unsigned integer array ends after ${i} of ${count} elements`);
        values[i] = bias + r.oid();
      }
      if (r.remaining !== 0) throw itemError(`MDAP has ${r.remaining} unexpected bytes after its ${count} elements`);
      elements = values;
      break;
    }
    case 5: {
      if (elementSize > r.remaining) throw itemError(`MDAP run-length array has no room for its ${elementSize}-byte default element`);
      // A value's meaning may depend on its row (rowImapb), so values are read per row.
      const valueAt = (at: number) => (row: number) => natural.read(b, at, elementSize, row);
      const fill = valueAt(r.p);
      r.p += elementSize;
      defaultElement = fill(0);
      const values: (number | null)[] = new Array(count);
      for (let i = 0; i < count; i++) values[i] = fill(Math.floor(i / rowLength));
      const stride = strides(sizes);
      let painted = 0;
      while (r.remaining > 0) {
        if (elementSize > r.remaining) throw itemError(`MDAP run-length patch is cut short`);
        const value = valueAt(r.p);
        r.p += elementSize;
        const start = sizes.map(() => r.oid());
        const runs = sizes.map(() => r.oid());
        sizes.forEach((size, d) => {
          if (runs[d]! < 1 || start[d]! + runs[d]! > size) {
            throw itemError(`MDAP run-length patch at ${JSON.stringify(start)} of ${JSON.stringify(runs)} leaves the ${JSON.stringify(sizes)} array`);
          }
        });
        painted += runs.reduce((a, n) => a * n, 1);
        if (painted > 16 * count) throw itemError(`MDAP run-length patches paint the ${count}-element array more than 16 times over`);
        // Walk the patch's rectangle, last dimension fastest.
        const at = start.slice();
        for (;;) {
          let index = 0;
          for (let d = 0; d < dims; d++) index += at[d]! * stride[d]!;
          values[index] = value(at[0]!);
          let d = dims - 1;
          while (d >= 0 && ++at[d]! >= start[d]! + runs[d]!) {
            at[d] = start[d]!;
            d--;
          }
          if (d < 0) break;
        }
      }
      elements = values;
      break;
    }
    default:
      throw itemError(`MDAP array processing algorithm ${apa} is not one of ST 1303's 1..5`);
  }
  const out: { [key: string]: KlvValue } = {
    sizes,
    elementSize,
    apa,
    apaText: ARRAY_PROCESSING_ALGORITHM[apa] ?? null,
    imapParams,
    elements,
  };
  if (bias !== null) out.bias = bias;
  if (defaultElement !== undefined) out.defaultElement = defaultElement;
  return out;
}

/** Run-length patches for the elements that differ from the background: runs along the last dimension. */
function runLengthPatches(sizes: readonly number[], elements: readonly (number | null)[], background: (index: number) => number | null) {
  const last = sizes[sizes.length - 1]!;
  const stride = strides(sizes);
  const patches: { value: number | null; start: number[]; runs: number[] }[] = [];
  for (let i = 0; i < elements.length; ) {
    const v = elements[i]!;
    if (Object.is(v, background(i))) {
      i++;
      continue;
    }
    let n = 1;
    // A run stays in one row of the last dimension.
    while ((i + n) % last !== 0 && Object.is(elements[i + n], v)) n++;
    const start = stride.map((s, d) => Math.floor(i / s) % sizes[d]!);
    patches.push({ value: v, start, runs: sizes.map((_, d) => (d === sizes.length - 1 ? n : 1)) });
    i += n;
  }
  return patches;
}

/** The most frequent element (the background of a run-length array). */
function mostFrequent(elements: readonly (number | null)[]): number | null {
  const counts = new Map<number | null, number>();
  let best: number | null = elements[0] ?? null;
  let bestCount = 0;
  for (const e of elements) {
    const c = (counts.get(e) ?? 0) + 1;
    counts.set(e, c);
    if (c > bestCount) [best, bestCount] = [e, c];
  }
  return best;
}

export function writeMdap(w: ByteWriter, value: unknown, natural: MdapElement): void {
  const v = objectInput(value, 'MDAP');
  const sizes = arrayInput(v.sizes, 'MDAP sizes').map((s) => num(s, 'MDAP size'));
  const imap = v.imapParams as { min?: unknown; max?: unknown } | null | undefined;
  const apa = v.apa === undefined ? (imap ? 2 : 1) : num(v.apa, 'MDAP apa');
  const raw = arrayInput(v.elements, 'MDAP elements');
  const elements =
    apa === 3
      ? raw.map((e) => (e ? 1 : 0))
      : raw.map((e) => (e === null ? null : num(e, 'MDAP element')));
  const count = sizes.reduce((a, s) => a * s, 1);
  if (sizes.length === 0 || count !== elements.length) {
    throw new KlvError('ERR_KLV_ENCODE', `MDAP: sizes ${JSON.stringify(sizes)} do not match ${elements.length} elements`);
  }
  const elementSize =
    v.elementSize === undefined ? (apa === 2 ? 4 : apa === 3 || apa === 4 ? 1 : natural.size) : num(v.elementSize, 'MDAP elementSize');
  w.bytes(encodeBerOid(sizes.length));
  for (const s of sizes) w.bytes(encodeBerOid(s));
  w.bytes(encodeBerOid(elementSize)).bytes(encodeBerOid(apa));
  const rowLength = count / sizes[0]!;
  switch (apa) {
    case 1:
    case 2: {
      let element = natural;
      if (apa === 2) {
        if (!imap) throw new KlvError('ERR_KLV_ENCODE', 'MDAP: IMAP arrays need imapParams {min, max}');
        const min = num(imap.min, 'imapParams.min');
        const max = num(imap.max, 'imapParams.max');
        const single = Object.is(Math.fround(min), min) && Object.is(Math.fround(max), max);
        w.float(min, single ? 4 : 8).float(max, single ? 4 : 8);
        element = naturalImapb(min, max);
      }
      elements.forEach((e, i) => element.write(w, e, elementSize, Math.floor(i / rowLength)));
      return;
    }
    case 3: {
      const out = new Uint8Array(Math.ceil(count / 8));
      elements.forEach((e, i) => {
        if (e) out[i >> 3]! |= 0x80 >> (i & 7);
      });
      w.bytes(out);
      return;
    }
    case 4: {
      const ints = elements.map((e) => {
        if (e === null || !Number.isSafeInteger(e) || e < 0) {
          throw new KlvError('ERR_KLV_ENCODE', `MDAP: unsigned integer arrays hold integers ≥ 0, got ${String(e)}`);
        }
        return e;
      });
      const bias = v.bias === undefined ? Math.min(...ints) : num(v.bias, 'MDAP bias');
      if (ints.some((e) => e < bias)) throw new KlvError('ERR_KLV_ENCODE', `MDAP: bias ${bias} exceeds an element`);
      w.bytes(encodeBerOid(bias));
      for (const e of ints) w.bytes(encodeBerOid(e - bias));
      return;
    }
    case 5: {
      const fill = v.defaultElement === undefined ? mostFrequent(elements) : (v.defaultElement as number | null);
      const fillBytes = new ByteWriter(elementSize);
      natural.write(fillBytes, fill, elementSize, 0);
      const fillEncoded = fillBytes.finish();
      w.bytes(fillEncoded);
      // The background as a reader will see it in each row (row-dependent formats decode it per row).
      const background = (row: number) => natural.read(fillEncoded, 0, elementSize, row);
      for (const patch of runLengthPatches(sizes, elements, (i) => background(Math.floor(i / rowLength)))) {
        natural.write(w, patch.value, elementSize, patch.start[0]!);
        for (const c of patch.start) w.bytes(encodeBerOid(c));
        for (const n of patch.runs) w.bytes(encodeBerOid(n));
      }
      return;
    }
    default:
      throw new KlvError('ERR_KLV_ENCODE', `MDAP: array processing algorithm ${apa} is not one of ST 1303's 1..5`);
  }
}

/** MDAP item kind whose natural elements are read with `natural`. */
export const mdap = (natural: MdapElement): Kind =>
  pack(
    'mdap',
    (b, off, len) => decodeMdap(b, off, len, natural),
    (w, value) => writeMdap(w, value, natural),
  );
