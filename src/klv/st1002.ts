/** MISB ST 1002 Range Image Local Set (ST 0601 tag 97) and its ST 1202 Generalized Transformation set. */
import { encodeBerLength, encodeBerOid } from './ber.js';
import { ByteWriter } from './bytes.js';
import { itemError } from './errors.js';
import { FieldReader, berOid, enumeration, float, num, objectInput, pack, timestamp, uint, type Kind } from './kinds.js';
import { Table, row, set } from './localset.js';
import { sdccFlp } from './st1010.js';
import { decodeMdap, naturalFloat, writeMdap } from './st1303.js';
import type { KlvValue } from './types.js';

export const COMPRESSION_METHOD = ['None', 'Planar Fit'] as const;
export const RANGE_DATA_TYPE = ['Perspective Range Image', 'Depth Range Image'] as const;
export const RANGE_SOURCE = ['Computationally Extracted', 'Range Sensor'] as const;

/** One BER-OID byte: compression (bits 0-2), data type (bits 3-5), source (bit 6). */
const enumerations = (): Kind =>
  pack(
    'rangeImageEnumerations',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const v = r.oid();
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the enumerations`);
      const compressionMethod = v & 7;
      const dataType = (v >> 3) & 7;
      const source = (v >> 6) & 1;
      return {
        compressionMethod,
        compressionMethodText: COMPRESSION_METHOD[compressionMethod] ?? null,
        dataType,
        dataTypeText: RANGE_DATA_TYPE[dataType] ?? null,
        source,
        sourceText: RANGE_SOURCE[source] ?? null,
      };
    },
    (w, value) => {
      const v = objectInput(value, 'range image enumerations');
      const n = ((num(v.source ?? 0, 'source') & 1) << 6) | ((num(v.dataType ?? 0, 'dataType') & 7) << 3) | (num(v.compressionMethod ?? 0, 'compressionMethod') & 7);
      w.bytes(encodeBerOid(n));
    },
  );

function writeLv(w: ByteWriter, fill: (sub: ByteWriter) => void): void {
  const sub = new ByteWriter();
  fill(sub);
  w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
}

/**
 * Section Data Pack: length-prefixed section x, section y, range MDAP,
 * optional uncertainty MDAP, then optional plane x/y scale and constant floats.
 */
const sectionDataPack = (): Kind =>
  pack(
    'sectionDataPack',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const field = (): [number, number] => {
        const l = r.ber();
        const at = r.p;
        r.p += l;
        return [at, l];
      };
      const oidField = (what: string): number => {
        const [at, l] = field();
        if (l === 0) throw itemError(`${what} is empty`);
        const fr = new FieldReader(b, at, at + l);
        return fr.oid();
      };
      const sectionX = oidField('section x');
      const sectionY = oidField('section y');
      const [mAt, mLen] = field();
      const measurements = decodeMdap(b, mAt, mLen, naturalFloat);
      let uncertainty: KlvValue = null;
      if (r.remaining > 0) {
        const [uAt, uLen] = field();
        if (uLen > 0) uncertainty = decodeMdap(b, uAt, uLen, naturalFloat);
      }
      const plane = (): number | null => {
        if (r.remaining === 0) return null;
        const [at, l] = field();
        return l === 0 ? null : new FieldReader(b, at, at + l).float(l, 'plane coefficient');
      };
      const planeXScale = plane();
      const planeYScale = plane();
      const planeConstant = plane();
      return { sectionX, sectionY, measurements, uncertainty, planeXScale, planeYScale, planeConstant };
    },
    (w, value) => {
      const v = objectInput(value, 'section data pack');
      writeLv(w, (s) => s.bytes(encodeBerOid(num(v.sectionX, 'sectionX'))));
      writeLv(w, (s) => s.bytes(encodeBerOid(num(v.sectionY, 'sectionY'))));
      writeLv(w, (s) => writeMdap(s, v.measurements, naturalFloat));
      const planes = [v.planeXScale, v.planeYScale, v.planeConstant];
      let lastPlane = -1;
      planes.forEach((p, i) => {
        if (p !== null && p !== undefined) lastPlane = i;
      });
      if (v.uncertainty !== null && v.uncertainty !== undefined) writeLv(w, (s) => writeMdap(s, v.uncertainty, naturalFloat));
      else if (lastPlane >= 0) writeLv(w, () => undefined);
      for (let i = 0; i <= lastPlane; i++) {
        const p = planes[i];
        writeLv(w, (s) => {
          if (p !== null && p !== undefined) {
            const x = num(p, 'plane coefficient');
            s.float(x, Object.is(Math.fround(x), x) ? 4 : 8);
          }
        });
      }
    },
  );

export const ST1202_TABLE: Table = new Table('ST 1202', [
  row(1, 'xEquationNumeratorXFactor', float()),
  row(2, 'xEquationNumeratorYFactor', float()),
  row(3, 'xEquationNumeratorConstant', float()),
  row(4, 'yEquationNumeratorXFactor', float()),
  row(5, 'yEquationNumeratorYFactor', float()),
  row(6, 'yEquationNumeratorConstant', float()),
  row(7, 'denominatorXFactor', float()),
  row(8, 'denominatorYFactor', float()),
  row(9, 'sdccFlp', sdccFlp()),
  row(10, 'documentVersion', uint(1)),
  row(11, 'transformationType', enumeration(['Not Defined', 'Chipping', 'Child-Parent', 'Pixel to Image Space', 'Optical'])),
]);

export const ST1002_TABLE: Table = new Table('ST 1002', [
  row(1, 'precisionTimeStamp', timestamp(8), 'us'),
  row(11, 'documentVersion', berOid()),
  row(12, 'rangeImageEnumerations', enumerations()),
  row(13, 'rangeMeasurement', float(), 'm'),
  row(14, 'rangeMeasurementUncertainty', float(), 'm'),
  row(15, 'rangeMeasurementRowCoordinate', float()),
  row(16, 'rangeMeasurementColumnCoordinate', float()),
  row(17, 'numberOfSectionsInX', berOid()),
  row(18, 'numberOfSectionsInY', berOid()),
  row(19, 'generalizedTransformationLocalSet', set(() => ST1202_TABLE)),
  row(20, 'sectionDataPack', sectionDataPack()),
  row(21, 'checksum', uint(2)),
]);
