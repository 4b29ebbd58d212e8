/**
 * MISB ST 1010 Standard Deviation and Cross-Correlation Floating Length
 * Pack (SDCC-FLP). Its members are the items that precede it in the parent
 * set, so decoding re-reads the parent's tags up to this item.
 */
import { readBerLength, readBerOid, cursor, encodeBerOid } from './ber.js';
import { readFloat } from './bytes.js';
import { KlvError, itemError } from './errors.js';
import { imapbEncodeInto, imapbInRange, imapbParams, imapbSpecialOf } from './imapb.js';
import { FieldReader, arrayInput, num, objectInput, pack, type DecodeContext, type Kind } from './kinds.js';
import type { KlvValue } from './types.js';

/** Tag numbers of the items before the one whose value starts at `valueOffset`. */
function precedingTags(b: Uint8Array, ctx: DecodeContext, valueOffset: number): number[] {
  const tags: number[] = [];
  let p = ctx.setStart;
  try {
    while (p < valueOffset) {
      const tag = readBerOid(b, p, ctx.setEnd);
      const len = readBerLength(b, cursor.pos, ctx.setEnd);
      if (cursor.pos === valueOffset) break;
      tags.push(tag);
      p = cursor.pos + len;
    }
  } catch {
    return tags;
  }
  return tags;
}

function readValue(r: FieldReader, len: number, imap: boolean, range: readonly [number, number] | undefined): number | null {
  r.need(len, 'SDCC value');
  let v: number | null;
  if (imap) {
    if (range === undefined || imapbSpecialOf(r.b, r.p, len) !== undefined) v = null;
    else v = imapbInRange(imapbParams(range[0], range[1], len), r.b, r.p) ?? null;
  } else {
    if (len !== 4 && len !== 8) throw itemError(`SDCC float of ${len} bytes (expected 4 or 8)`);
    v = readFloat(r.b, r.p, len);
    if (!Number.isFinite(v)) v = null;
  }
  r.p += len;
  return v;
}

const RHO_RANGE = [-1, 1] as const;

export const sdccFlp = (): Kind =>
  pack(
    'sdccFlp',
    (b, off, len, ctx) => {
      const r = new FieldReader(b, off, off + len);
      const n = r.oid();
      if (n > 64) throw itemError(`SDCC matrix size ${n} exceeds 64`);
      const pcStart = r.p;
      let pc = r.oid();
      const longParseControl = r.p - pcStart > 1;
      if (r.p - pcStart > 2) throw itemError('SDCC parse control longer than 2 bytes');
      let sigmaLength: number;
      let rhoLength: number;
      let sigmaUsesImap = false;
      let rhoUsesImap = true;
      let sparse: boolean;
      if (longParseControl) {
        sigmaLength = pc & 0xf;
        pc >>= 4;
        sigmaUsesImap = (pc & 1) === 1;
        pc >>= 3;
        rhoLength = pc & 0xf;
        pc >>= 4;
        rhoUsesImap = (pc & 1) === 1;
        pc >>= 1;
        sparse = (pc & 1) === 1;
      } else {
        rhoLength = pc & 7;
        pc >>= 3;
        sparse = (pc & 1) === 1;
        pc >>= 1;
        sigmaLength = pc & 7;
      }
      const rhoCount = (n * (n - 1)) / 2;
      let bitset: Uint8Array | undefined;
      if (sparse) {
        const bl = Math.ceil(rhoCount / 8);
        r.need(bl, 'SDCC sparse bit vector');
        bitset = b.subarray(r.p, r.p + bl);
        r.p += bl;
      }
      const sigma: (number | null)[] = [];
      if (sigmaLength > 0) for (let i = 0; i < n; i++) sigma.push(readValue(r, sigmaLength, sigmaUsesImap, undefined));
      const rho: (number | null)[] = [];
      if (rhoLength > 0) {
        for (let i = 0; i < rhoCount; i++) {
          if (bitset !== undefined && (bitset[i >> 3]! & (0x80 >> (i & 7))) === 0) rho.push(0);
          else rho.push(readValue(r, rhoLength, rhoUsesImap, RHO_RANGE));
        }
      }
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the SDCC-FLP`);
      const members = ctx.preceding !== undefined ? ctx.preceding(n) : precedingTags(b, ctx, off).slice(-n);
      const out: Record<string, KlvValue> = {
        members,
        sigma,
        rho,
        sigmaLength,
        rhoLength,
        sigmaUsesImap,
        rhoUsesImap,
        longParseControl,
        sparse,
      };
      return out;
    },
    (w, value) => {
      const v = objectInput(value, 'SDCC-FLP');
      const sigma = v.sigma === undefined ? [] : arrayInput(v.sigma, 'SDCC sigma');
      const rho = v.rho === undefined ? [] : arrayInput(v.rho, 'SDCC rho');
      const members = v.members === undefined ? [] : arrayInput(v.members, 'SDCC members');
      const n = Math.max(members.length, sigma.length);
      if (n === 0) throw new KlvError('ERR_KLV_ENCODE', 'SDCC-FLP: members cannot be empty');
      const sigmaLength = sigma.length ? num(v.sigmaLength ?? 4, 'sigmaLength') : 0;
      const rhoLength = rho.length ? num(v.rhoLength ?? 2, 'rhoLength') : 0;
      const sigmaUsesImap = v.sigmaUsesImap === true;
      const rhoUsesImap = v.rhoUsesImap !== false;
      const sparse = v.sparse === true;
      const long = v.longParseControl === true || sigmaUsesImap || !rhoUsesImap || sigmaLength > 7 || rhoLength > 7;
      if (sigmaUsesImap) throw new KlvError('ERR_KLV_ENCODE', 'SDCC-FLP: IMAPB standard deviations need a range this pack does not carry');
      const rhoCount = (n * (n - 1)) / 2;
      if (sigma.length && sigma.length !== n) throw new KlvError('ERR_KLV_ENCODE', `SDCC-FLP: ${sigma.length} sigma values for ${n} members`);
      if (rho.length && rho.length !== rhoCount) throw new KlvError('ERR_KLV_ENCODE', `SDCC-FLP: ${rho.length} rho values, expected ${rhoCount}`);
      w.bytes(encodeBerOid(n));
      if (long) {
        const pc = ((sparse ? 1 : 0) << 12) | ((rhoUsesImap ? 1 : 0) << 11) | (rhoLength << 7) | ((sigmaUsesImap ? 1 : 0) << 4) | sigmaLength;
        const enc = encodeBerOid(pc);
        // The long form is recognised by its two-byte BER-OID.
        w.bytes(enc.length === 2 ? enc : new Uint8Array([0x80, enc[0]!]));
      } else {
        w.bytes(encodeBerOid((sigmaLength << 4) | ((sparse ? 1 : 0) << 3) | rhoLength));
      }
      const rhoNums = rho.map((x) => (x === null ? NaN : num(x, 'rho')));
      if (sparse) {
        const bits = new Uint8Array(Math.ceil(rhoCount / 8));
        rhoNums.forEach((x, i) => {
          if (x !== 0) bits[i >> 3]! |= 0x80 >> (i & 7);
        });
        w.bytes(bits);
      }
      for (const s of sigma) w.float(s === null ? NaN : num(s, 'sigma'), sigmaLength);
      for (const x of rhoNums) {
        if (sparse && x === 0) continue;
        if (rhoUsesImap) {
          const out = new Uint8Array(rhoLength);
          imapbEncodeInto(imapbParams(-1, 1, rhoLength), x, out, 0);
          w.bytes(out);
        } else w.float(x, rhoLength);
      }
    },
  );
