/**
 * MISB ST 0903 Video Moving Target Indicator Local Set (nested in ST 0601
 * tag 74 and standalone), with its VTarget packs and nested sets. Before
 * ST 0903.4 (VMTI version tag 4 below 4) several fields used integer
 * encodings instead of IMAPB; `versioned` picks the one the packet uses.
 */
import { readBerLength, readBerOid, cursor, encodeBerLength, encodeBerOid } from './ber.js';
import { ByteWriter, readInt, readUint, uintSize } from './bytes.js';
import { itemError } from './errors.js';
import {
  ERROR_INDICATOR,
  FieldReader,
  Kind,
  MappedUintKind,
  type Special,
  bytes,
  enumeration,
  imapb,
  num,
  objectInput,
  pack,
  readImapb,
  series,
  string,
  timestamp,
  uint,
  uuid,
  versioned,
  writeImapb,
  type DecodeContext,
  type EncodeContext,
} from './kinds.js';
import { Table, decodeSet, encodeSet, row, set } from './localset.js';
import { miisCoreIdentifier } from './st1204.js';
import type { KlvValue } from './types.js';

export const ST0903_KEY = '060e2b34020b01010e01030306000000';

/** Pre-0903.4 target offsets: 1..3-byte signed integer scaled to ±19.2°, most negative 3-byte code = error. */
class LegacyOffsetKind extends Kind {
  readonly type = 'mappedInt';
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    const v = this.decodeItem(b, off, len);
    return v === ERROR_INDICATOR ? null : (v as KlvValue);
  }
  override decodeItem(b: Uint8Array, off: number, len: number): KlvValue | Special {
    if (len < 1 || len > 3) throw itemError(`legacy offset: expected 1..3 bytes, got ${len}`);
    const v = readInt(b, off, len);
    if (len === 3 && v === -8388608) return ERROR_INDICATOR;
    return (v * 19.2) / 8388607;
  }
  write(w: ByteWriter, value: unknown): void {
    w.int(Math.max(-8388607, Math.min(8388607, Math.round((num(value, 'offset') * 8388607) / 19.2))), 3);
  }
}

/** Pre-0903.4 HAE: 1..2-byte unsigned integer over -900..19000 m. */
class LegacyHaeKind extends Kind {
  readonly type = 'mappedUint';
  decode(b: Uint8Array, off: number, len: number): KlvValue {
    if (len < 1 || len > 2) throw itemError(`legacy HAE: expected 1..2 bytes, got ${len}`);
    return -900 + (readUint(b, off, len) * 19900) / 65535;
  }
  write(w: ByteWriter, value: unknown): void {
    w.uint(Math.max(0, Math.min(65535, Math.round(((num(value, 'HAE') + 900) * 65535) / 19900))), 2);
  }
}

const LOCATION_FIELDS = ['lat', 'lon', 'hae', 'sigmaEast', 'sigmaNorth', 'sigmaUp', 'rhoEastNorth', 'rhoEastUp', 'rhoNorthUp'] as const;

/** Location pack (lat, lon, HAE [, 3 sigmas [, 3 rhos]]) in 10, 16 or 22 bytes. */
function readLocation(b: Uint8Array, off: number, len: number, legacy: boolean): KlvValue {
  if (len !== 10 && len !== 16 && len !== 22) throw itemError(`location pack must be 10, 16 or 22 bytes, got ${len}`);
  const out: Record<string, number | null> = {};
  if (legacy) {
    // Unsigned integers mapped over the same ranges as the IMAPB form.
    out.lat = -90 + (readUint(b, off, 4) * 180) / 4294967295;
    out.lon = -180 + (readUint(b, off + 4, 4) * 360) / 4294967295;
    out.hae = -900 + (readUint(b, off + 8, 2) * 19900) / 65535;
    if (len >= 16) {
      out.sigmaEast = (readUint(b, off + 10, 2) * 650) / 65535;
      out.sigmaNorth = (readUint(b, off + 12, 2) * 650) / 65535;
      out.sigmaUp = (readUint(b, off + 14, 2) * 650) / 65535;
    }
    if (len === 22) {
      out.rhoEastNorth = -1 + (readUint(b, off + 16, 2) * 2) / 65535;
      out.rhoEastUp = -1 + (readUint(b, off + 18, 2) * 2) / 65535;
      out.rhoNorthUp = -1 + (readUint(b, off + 20, 2) * 2) / 65535;
    }
    return out;
  }
  const r = new FieldReader(b, off, off + len);
  out.lat = readImapb(r, -90, 90, 4);
  out.lon = readImapb(r, -180, 180, 4);
  out.hae = readImapb(r, -900, 19000, 2);
  if (len >= 16) {
    out.sigmaEast = readImapb(r, 0, 650, 2);
    out.sigmaNorth = readImapb(r, 0, 650, 2);
    out.sigmaUp = readImapb(r, 0, 650, 2);
  }
  if (len === 22) {
    out.rhoEastNorth = readImapb(r, -1, 1, 2);
    out.rhoEastUp = readImapb(r, -1, 1, 2);
    out.rhoNorthUp = readImapb(r, -1, 1, 2);
  }
  return out;
}

function has(v: Record<string, unknown>, k: string): boolean {
  return v[k] !== undefined;
}

function writeLocation(w: ByteWriter, value: unknown, legacy: boolean): void {
  const v = objectInput(value, 'location pack');
  const sigmas = has(v, 'sigmaEast') || has(v, 'sigmaNorth') || has(v, 'sigmaUp');
  const rhos = has(v, 'rhoEastNorth') || has(v, 'rhoEastUp') || has(v, 'rhoNorthUp');
  const n = rhos ? 9 : sigmas ? 6 : 3;
  const ranges: [number, number, number][] = [
    [-90, 90, 4],
    [-180, 180, 4],
    [-900, 19000, 2],
    [0, 650, 2],
    [0, 650, 2],
    [0, 650, 2],
    [-1, 1, 2],
    [-1, 1, 2],
    [-1, 1, 2],
  ];
  for (let i = 0; i < n; i++) {
    const [a, bb, l] = ranges[i]!;
    const x = v[LOCATION_FIELDS[i]!];
    if (legacy) {
      const max = l === 4 ? 4294967295 : 65535;
      const raw = Math.round(((num(x ?? a, LOCATION_FIELDS[i]!) - a) * max) / (bb - a));
      w.uint(Math.max(0, Math.min(max, raw)), l);
    } else writeImapb(w, a, bb, l, x);
  }
}

const location = (): Kind =>
  pack(
    'location',
    (b, off, len, ctx) => readLocation(b, off, len, ctx.vmtiLegacy),
    (w, value, ctx) => writeLocation(w, value, ctx.vmtiLegacy),
  );

/** Velocity / acceleration pack: east, north, up IMAPB(-900, 900, 2) [+ sigmas, rhos]. */
const motion = (): Kind =>
  pack(
    'motion',
    (b, off, len) => {
      if (len !== 6 && len !== 12 && len !== 18) throw itemError(`velocity/acceleration pack must be 6, 12 or 18 bytes, got ${len}`);
      const r = new FieldReader(b, off, off + len);
      const out: Record<string, number | null> = {
        east: readImapb(r, -900, 900, 2),
        north: readImapb(r, -900, 900, 2),
        up: readImapb(r, -900, 900, 2),
      };
      if (len >= 12) {
        out.sigmaEast = readImapb(r, 0, 650, 2);
        out.sigmaNorth = readImapb(r, 0, 650, 2);
        out.sigmaUp = readImapb(r, 0, 650, 2);
      }
      if (len === 18) {
        out.rhoEastNorth = readImapb(r, -1, 1, 2);
        out.rhoEastUp = readImapb(r, -1, 1, 2);
        out.rhoNorthUp = readImapb(r, -1, 1, 2);
      }
      return out;
    },
    (w, value) => {
      const v = objectInput(value, 'velocity/acceleration pack');
      for (const k of ['east', 'north', 'up']) writeImapb(w, -900, 900, 2, v[k]);
      const sigmas = has(v, 'sigmaEast') || has(v, 'sigmaNorth') || has(v, 'sigmaUp');
      const rhos = has(v, 'rhoEastNorth') || has(v, 'rhoEastUp') || has(v, 'rhoNorthUp');
      if (sigmas || rhos) for (const k of ['sigmaEast', 'sigmaNorth', 'sigmaUp']) writeImapb(w, 0, 650, 2, v[k]);
      if (rhos) for (const k of ['rhoEastNorth', 'rhoEastUp', 'rhoNorthUp']) writeImapb(w, -1, 1, 2, v[k]);
    },
  );

const fpaIndex = (): Kind =>
  pack(
    'fpaIndex',
    (b, off, len) => {
      if (len !== 2) throw itemError(`FPA index pack must be 2 bytes, got ${len}`);
      return { row: b[off]!, column: b[off + 1]! };
    },
    (w, value) => {
      const v = objectInput(value, 'FPA index pack');
      w.uint(num(v.row, 'row'), 1).uint(num(v.column, 'column'), 1);
    },
  );

/** Pixel contour: series of BER-length-prefixed unsigned pixel numbers. */
const pixelContour = (): Kind => series(uint());

/** Bit-mask series: records of (BER length of pixel, pixel number, run length). */
const bitMaskSeries = (): Kind =>
  series(
    pack(
      'pixelRun',
      (b, off, len) => {
        const r = new FieldReader(b, off, off + len);
        const pl = r.ber();
        const pixel = r.uint(pl, 'pixel number');
        if (r.remaining < 1) throw itemError('pixel run has no run length');
        const run = r.uint(r.remaining, 'run length');
        return { pixel, run };
      },
      (w, value) => {
        const v = objectInput(value, 'pixel run');
        const pixel = num(v.pixel, 'pixel');
        const run = num(v.run, 'run');
        const size = uintSize(pixel);
        w.bytes(encodeBerLength(size)).uint(pixel, size).uint(run, uintSize(run));
      },
    ),
  );

export const VMASK_TABLE: Table = new Table('ST 0903 VMask', [
  row(1, 'pixelContour', pixelContour()),
  row(2, 'bitMaskSeries', bitMaskSeries()),
]);

export const VOBJECT_TABLE: Table = new Table('ST 0903 VObject', [
  row(1, 'ontology', string()),
  row(2, 'ontologyClass', string()),
  row(3, 'ontologyId', uint()),
  row(4, 'confidence', imapb(0, 100, 2), '%'),
]);

export const VFEATURE_TABLE: Table = new Table('ST 0903 VFeature', [
  row(1, 'schema', string()),
  row(2, 'schemaFeature', string()),
]);

export const DETECTION_STATUS: Readonly<Record<number, string>> = {
  0: 'Inactive',
  1: 'Active',
  2: 'Dropped',
  3: 'Stopped',
};

export const VTRACKER_TABLE: Table = new Table('ST 0903 VTracker', [
  row(1, 'trackId', uuid()),
  row(2, 'detectionStatus', enumeration(DETECTION_STATUS)),
  row(3, 'startTime', timestamp(), 'us'),
  row(4, 'endTime', timestamp(), 'us'),
  row(5, 'boundarySeries', series(location())),
  row(6, 'algorithm', string()),
  row(7, 'confidenceLevel', uint(), '%'),
  row(8, 'numberOfTrackPoints', uint()),
  row(9, 'trackHistorySeries', series(location())),
  row(10, 'velocity', motion(), 'm/s'),
  row(11, 'acceleration', motion(), 'm/s2'),
  row(12, 'algorithmId', uint()),
]);

export const VCHIP_TABLE: Table = new Table('ST 0903 VChip', [
  row(1, 'imageType', string()),
  row(2, 'imageUri', string()),
  row(3, 'embeddedImage', bytes()),
]);

export const ALGORITHM_TABLE: Table = new Table('ST 0903 Algorithm', [
  row(1, 'id', uint()),
  row(2, 'name', string()),
  row(3, 'version', string()),
  row(4, 'class', string()),
  row(5, 'numberOfFrames', uint()),
]);

export const ONTOLOGY_TABLE: Table = new Table('ST 0903 Ontology', [
  row(1, 'id', uint()),
  row(2, 'parentId', uint()),
  row(3, 'ontology', string()),
  row(4, 'ontologyClass', string()),
]);

/** VTarget detection status (ST 0903.6). */
export const VTARGET_DETECTION_STATUS: Readonly<Record<number, string>> = {
  0: 'Inactive',
  1: 'Active - Moving',
  2: 'Dropped',
  3: 'Active - Stopped',
  4: 'Active - Coasting',
};

const offset = (): Kind => versioned(new LegacyOffsetKind(), imapb(-19.2, 19.2, 3));

export const VTARGET_TABLE: Table = new Table('ST 0903 VTarget', [
  row(1, 'targetCentroid', uint()),
  row(2, 'boundaryTopLeft', uint()),
  row(3, 'boundaryBottomRight', uint()),
  row(4, 'targetPriority', uint()),
  row(5, 'targetConfidenceLevel', uint(), '%'),
  row(6, 'targetHistory', uint()),
  row(7, 'percentageOfTargetPixels', uint(), '%'),
  row(8, 'targetColor', uint()),
  row(9, 'targetIntensity', uint()),
  row(10, 'targetLocationOffsetLatitude', offset(), 'deg'),
  row(11, 'targetLocationOffsetLongitude', offset(), 'deg'),
  row(12, 'targetHeightAboveEllipsoid', versioned(new LegacyHaeKind(), imapb(-900, 19000, 2)), 'm'),
  row(13, 'boundaryTopLeftLatitudeOffset', offset(), 'deg'),
  row(14, 'boundaryTopLeftLongitudeOffset', offset(), 'deg'),
  row(15, 'boundaryBottomRightLatitudeOffset', offset(), 'deg'),
  row(16, 'boundaryBottomRightLongitudeOffset', offset(), 'deg'),
  row(17, 'targetLocation', location()),
  row(18, 'targetBoundarySeries', series(location())),
  row(19, 'centroidPixelRow', uint()),
  row(20, 'centroidPixelColumn', uint()),
  row(21, 'fpaIndexPack', fpaIndex()),
  row(22, 'algorithmId', uint()),
  row(23, 'detectionStatus', enumeration(VTARGET_DETECTION_STATUS)),
  row(101, 'vMask', set(() => VMASK_TABLE)),
  row(102, 'vObject', set(() => VOBJECT_TABLE)),
  row(103, 'vFeature', set(() => VFEATURE_TABLE)),
  row(104, 'vTracker', set(() => VTRACKER_TABLE)),
  row(105, 'vChip', set(() => VCHIP_TABLE)),
  row(106, 'vChipSeries', series(set(() => VCHIP_TABLE))),
  row(107, 'vObjectSeries', series(set(() => VOBJECT_TABLE))),
]);

/** VTarget pack: BER-OID target id followed by the VTarget local set. */
const vtargetPack = (): Kind =>
  pack(
    'vtargetPack',
    (b, off, len, ctx) => {
      const targetId = readBerOid(b, off, off + len);
      const start = cursor.pos;
      const tags = decodeSet(VTARGET_TABLE, b, start, off + len, ctx);
      const err = ctx.setError;
      ctx.setError = undefined;
      const out: Record<string, KlvValue> = { targetId, tags: tags as KlvValue };
      if (err !== undefined) out.error = err;
      return out;
    },
    (w, value, ctx) => {
      const v = objectInput(value, 'VTarget pack');
      w.bytes(encodeBerOid(num(v.targetId, 'targetId')));
      encodeSet(VTARGET_TABLE, objectInput(v.tags ?? {}, 'VTarget tags'), w, ctx);
    },
  );

/** ST 0903 version tag value in `b[off..end)`, if present. */
function findVersion(b: Uint8Array, off: number, end: number): number | undefined {
  let p = off;
  try {
    while (p < end) {
      const tag = readBerOid(b, p, end);
      const len = readBerLength(b, cursor.pos, end);
      const v = cursor.pos;
      if (v + len > end) return undefined;
      if (tag === 4 && len >= 1 && len <= 2) return readUint(b, v, len);
      p = v + len;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Version 1..3 means the pre-IMAPB encodings; an absent version is taken as current. */
export function isLegacyVmtiVersion(version: number | undefined): boolean {
  return version !== undefined && version < 4;
}

export const ST0903_TABLE: Table = new Table(
  'ST 0903',
  [
    row(1, 'checksum', uint(2)),
    row(2, 'precisionTimeStamp', timestamp(), 'us'),
    row(3, 'vmtiSystemName', string()),
    row(4, 'vmtiLsVersionNumber', uint()),
    row(5, 'totalNumberOfTargetsDetected', uint()),
    row(6, 'numberOfTargetsReported', uint()),
    row(7, 'motionImageryFrameNumber', uint()),
    row(8, 'frameWidth', uint(), 'pixels'),
    row(9, 'frameHeight', uint(), 'pixels'),
    row(10, 'vmtiSourceSensor', string()),
    row(11, 'vmtiHorizontalFieldOfView', versioned(new MappedUintKind(0, 180, 2), imapb(0, 180, 2, undefined, 2)), 'deg'),
    row(12, 'vmtiVerticalFieldOfView', versioned(new MappedUintKind(0, 180, 2), imapb(0, 180, 2, undefined, 2)), 'deg'),
    row(13, 'miisId', miisCoreIdentifier()),
    row(101, 'vTargetSeries', series(vtargetPack())),
    row(102, 'algorithmSeries', series(set(() => ALGORITHM_TABLE))),
    row(103, 'ontologySeries', series(set(() => ONTOLOGY_TABLE))),
  ],
  {
    checksumTag: 1,
    prepareDecode: (b: Uint8Array, off: number, end: number, ctx: DecodeContext) => {
      const saved = ctx.vmtiLegacy;
      ctx.vmtiLegacy = isLegacyVmtiVersion(findVersion(b, off, end));
      return () => {
        ctx.vmtiLegacy = saved;
      };
    },
    prepareEncode: (tags: Record<string, unknown>, ctx: EncodeContext) => {
      const saved = ctx.vmtiLegacy;
      const input = tags['4'] ?? tags.vmtiLsVersionNumber;
      const version = input !== null && typeof input === 'object' && 'value' in input ? (input as { value: unknown }).value : input;
      ctx.vmtiLegacy = isLegacyVmtiVersion(typeof version === 'number' ? version : undefined);
      return () => {
        ctx.vmtiLegacy = saved;
      };
    },
  },
);

