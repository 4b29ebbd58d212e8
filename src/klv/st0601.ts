/**
 * MISB ST 0601.19 UAS Datalink Local Set: tags 1-143 (BER-OID tags from
 * 128) with every nested set, list and pack.
 */
import { encodeBerLength, encodeBerOid } from './ber.js';
import { ByteWriter, uintSize } from './bytes.js';
import { KlvError, itemError } from './errors.js';
import {
  FieldReader,
  ImapbKind,
  Kind,
  MappedIntKind,
  arrayInput,
  bytes,
  enumeration,
  flagNames,
  flags,
  imapb,
  int,
  mappedInt,
  mappedUint,
  num,
  objectInput,
  oidList,
  pack,
  readImapb,
  series,
  string,
  timestamp,
  uint,
  uuidText,
  hexInput,
  writeImapb,
} from './kinds.js';
import { Table, row, set } from './localset.js';
import { ST0102_TABLE, COUNTRY_CODING_METHOD } from './st0102.js';
import { ST0806_TABLE } from './st0806.js';
import { ST0903_TABLE } from './st0903.js';
import { ST1002_TABLE } from './st1002.js';
import { sdccFlp } from './st1010.js';
import { miisCoreIdentifier } from './st1204.js';
import { ST1206_TABLE } from './st1206.js';
import { ST1601_TABLE } from './st1601.js';
import { ST1602_TABLE } from './st1602.js';
import type { KlvValue } from './types.js';

export const ST0601_KEY = '060e2b34020b01010e01030101000000';

export const ICING_DETECTED = ['Detector Off', 'No Icing Detected', 'Icing Detected'] as const;
export const SENSOR_FIELD_OF_VIEW_NAME = [
  'Ultranarrow',
  'Narrow',
  'Medium',
  'Wide',
  'Ultrawide',
  'Narrow Medium',
  '2x Ultranarrow',
  '4x Ultranarrow',
  'Continuous Zoom',
] as const;
export const OPERATIONAL_MODE = ['Other', 'Operational', 'Training', 'Exercise', 'Maintenance', 'Test'] as const;
export const PLATFORM_STATUS = [
  'Active',
  'Preflight',
  'Preflight - Taxiing',
  'Run-up',
  'Take-off',
  'Ingress',
  'Manual Operation',
  'Automated Orbit',
  'Transitioning',
  'Egress',
  'Landing',
  'Landing - Taxiing',
  'Landed - Parked',
] as const;
export const SENSOR_CONTROL_MODE = [
  'Off',
  'Home Position',
  'Uncontrolled',
  'Manual Control',
  'Calibrating',
  'Auto - Holding Position',
  'Auto - Tracking',
] as const;
export const GENERIC_FLAG_DATA = ['Laser Range', 'Auto-Track', 'IR Polarity', 'Icing Status', 'Slant Range', 'Image Invalid'] as const;
export const POSITIONING_METHOD_SOURCE = ['On-board INS', 'GPS', 'Galileo', 'QZSS', 'NAVIC', 'GLONASS', 'BeiDou-1', 'BeiDou-2'] as const;
export const PAYLOAD_TYPE = ['Electro Optical MI Sensor', 'LIDAR', 'RADAR', 'SIGINT', 'SAR'] as const;
export const WEAPON_GENERAL_STATUS = [
  'Off',
  'Initialization',
  'Ready/Degraded',
  'Ready/All Up Round',
  'Launch',
  'Free Flight',
  'Abort',
  'Miss Fire',
  'Hang Fire',
  'Jettisoned',
  'Stepped Over',
  'No Status Available',
] as const;
export const WEAPON_ENGAGEMENT_STATUS = ['Fuze Enabled', 'Laser Enabled', 'Target Enabled', 'Weapon Armed'] as const;
export const WAYPOINT_INFO = ['Mode', 'Source'] as const;

function nullable(v: unknown): boolean {
  return v === null || v === undefined;
}

function lvString(r: FieldReader, what: string): string | null {
  const l = r.ber();
  return l === 0 ? null : r.string(l, what);
}

function writeLvString(w: ByteWriter, s: unknown): void {
  if (nullable(s)) {
    w.u8(0);
    return;
  }
  if (typeof s !== 'string') throw new KlvError('ERR_KLV_ENCODE', `expected text, got ${typeof s}`);
  const sub = new ByteWriter().utf8(s);
  w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
}

// --- Tag 81: image horizon pixel pack --------------------------------------

const LAT4 = new MappedIntKind(-90, 90, 4);
const LON4 = new MappedIntKind(-180, 180, 4);

const imageHorizonPixelPack = (): Kind =>
  pack(
    'imageHorizonPixelPack',
    (b, off, len) => {
      if (len !== 4 && len !== 20) throw itemError(`image horizon pixel pack must be 4 or 20 bytes, got ${len}`);
      const out: Record<string, KlvValue> = { x0: b[off]!, y0: b[off + 1]!, x1: b[off + 2]!, y1: b[off + 3]! };
      if (len === 20) {
        out.lat0 = LAT4.decode(b, off + 4, 4);
        out.lon0 = LON4.decode(b, off + 8, 4);
        out.lat1 = LAT4.decode(b, off + 12, 4);
        out.lon1 = LON4.decode(b, off + 16, 4);
      }
      return out;
    },
    (w, value) => {
      const v = objectInput(value, 'image horizon pixel pack');
      for (const k of ['x0', 'y0', 'x1', 'y1']) w.uint(num(v[k], k), 1);
      if (!nullable(v.lat0) || !nullable(v.lon0) || !nullable(v.lat1) || !nullable(v.lon1)) {
        LAT4.write(w, v.lat0 ?? NaN);
        LON4.write(w, v.lon0 ?? NaN);
        LAT4.write(w, v.lat1 ?? NaN);
        LON4.write(w, v.lon1 ?? NaN);
      }
    },
  );

// --- Tag 115: control command ----------------------------------------------

const controlCommand = (): Kind =>
  pack(
    'controlCommand',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const id = r.oid();
      const command = r.string(r.ber(), 'command');
      let timestamp: number | null = null;
      if (r.remaining > 0) timestamp = r.uint(8, 'command timestamp');
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the control command`);
      return { id, command, timestamp };
    },
    (w, value) => {
      const v = objectInput(value, 'control command');
      w.bytes(encodeBerOid(num(v.id, 'id')));
      writeLvString(w, v.command ?? '');
      if (!nullable(v.timestamp)) w.uint(num(v.timestamp, 'timestamp'), 8);
    },
  );

// --- Tag 122: country codes --------------------------------------------------

const countryCodes = (): Kind =>
  pack(
    'countryCodes',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const cl = r.ber();
      const codingMethod = cl === 0 ? null : r.uint(cl, 'coding method');
      const overflightCountry = lvString(r, 'overflight country');
      const operatorCountry = r.remaining > 0 ? lvString(r, 'operator country') : null;
      const countryOfManufacture = r.remaining > 0 ? lvString(r, 'country of manufacture') : null;
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the country codes`);
      return {
        codingMethod,
        codingMethodText: codingMethod === null ? null : (COUNTRY_CODING_METHOD[codingMethod] ?? null),
        overflightCountry,
        operatorCountry,
        countryOfManufacture,
      };
    },
    (w, value) => {
      const v = objectInput(value, 'country codes');
      const method = num(v.codingMethod ?? 14, 'codingMethod');
      w.u8(uintSize(method)).uint(method, uintSize(method));
      writeLvString(w, v.overflightCountry);
      if (!nullable(v.operatorCountry) || !nullable(v.countryOfManufacture)) writeLvString(w, v.operatorCountry);
      if (!nullable(v.countryOfManufacture)) writeLvString(w, v.countryOfManufacture);
    },
  );

// --- Tag 127: sensor frame rate pack ----------------------------------------

const frameRate = (): Kind =>
  pack(
    'frameRate',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const numerator = r.oid();
      const denominator = r.remaining > 0 ? r.oid() : 1;
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the frame rate`);
      return { numerator, denominator, fps: denominator === 0 ? null : numerator / denominator };
    },
    (w, value) => {
      const v = objectInput(value, 'frame rate');
      const den = num(v.denominator ?? 1, 'denominator');
      w.bytes(encodeBerOid(num(v.numerator, 'numerator')));
      if (den !== 1) w.bytes(encodeBerOid(den));
    },
  );

// --- Tag 128: wavelengths list ----------------------------------------------

const wavelengthRecord = (): Kind =>
  pack(
    'wavelength',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const id = r.oid();
      const min = readImapb(r, 0, 1e9, 4);
      const max = readImapb(r, 0, 1e9, 4);
      const name = r.string(r.remaining, 'wavelength name');
      return { id, min, max, name };
    },
    (w, value) => {
      const v = objectInput(value, 'wavelength record');
      w.bytes(encodeBerOid(num(v.id, 'id')));
      writeImapb(w, 0, 1e9, 4, v.min);
      writeImapb(w, 0, 1e9, 4, v.max);
      if (!nullable(v.name)) w.utf8(String(v.name));
    },
  );

// --- Tags 130, 141: location DLP ------------------------------------------------

function readLocationDlp(r: FieldReader, len: number): KlvValue {
  if (len !== 8 && len !== 11) throw itemError(`location must be 8 or 11 bytes, got ${len}`);
  const lat = readImapb(r, -90, 90, 4);
  const lon = readImapb(r, -180, 180, 4);
  const hae = len === 11 ? readImapb(r, -900, 9000, 3) : null;
  return { lat, lon, hae };
}

function writeLocationDlp(w: ByteWriter, value: unknown): void {
  const v = objectInput(value, 'location');
  writeImapb(w, -90, 90, 4, v.lat);
  writeImapb(w, -180, 180, 4, v.lon);
  if (!nullable(v.hae)) writeImapb(w, -900, 9000, 3, v.hae);
}

function locationLength(value: unknown): number {
  return nullable((value as Record<string, unknown>).hae) ? 8 : 11;
}

const airbaseLocations = (): Kind =>
  pack(
    'airbaseLocations',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const tl = r.ber();
      const takeoff = tl === 0 ? null : readLocationDlp(r, tl);
      let recovery: KlvValue = takeoff;
      if (r.remaining > 0) {
        const rl = r.ber();
        recovery = rl === 0 ? null : readLocationDlp(r, rl);
      }
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the airbase locations`);
      return { takeoff, recovery };
    },
    (w, value) => {
      const v = objectInput(value, 'airbase locations');
      for (const k of ['takeoff', 'recovery']) {
        const loc = v[k];
        if (nullable(loc)) w.u8(0);
        else {
          w.u8(locationLength(loc));
          writeLocationDlp(w, loc);
        }
      }
    },
  );

// --- Tag 138: payload list --------------------------------------------------

const payloadList = (): Kind =>
  pack(
    'payloadList',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      r.oid(); // payload count; the records themselves are authoritative
      const out: KlvValue[] = [];
      while (r.remaining > 0) {
        const l = r.ber();
        const rr = new FieldReader(b, r.p, r.p + l);
        r.p += l;
        const id = rr.oid();
        const type = rr.oid();
        const name = rr.string(rr.ber(), 'payload name');
        out.push({ id, type, typeText: PAYLOAD_TYPE[type] ?? null, name });
      }
      return out;
    },
    (w, value) => {
      const list = arrayInput(value, 'payload list');
      w.bytes(encodeBerOid(list.length));
      for (const item of list) {
        const v = objectInput(item, 'payload record');
        const sub = new ByteWriter();
        sub.bytes(encodeBerOid(num(v.id, 'id'))).bytes(encodeBerOid(num(v.type ?? 0, 'type')));
        writeLvString(sub, v.name ?? '');
        w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
      }
    },
    () => [],
  );

// --- Tag 139: active payloads ------------------------------------------------

const activePayloads = (): Kind =>
  pack(
    'activePayloads',
    (b, off, len) => {
      const out: number[] = [];
      for (let bit = 0; bit < len * 8; bit++) {
        const byte = b[off + len - 1 - (bit >> 3)]!;
        if (byte & (1 << (bit & 7))) out.push(bit);
      }
      return out;
    },
    (w, value) => {
      const ids = arrayInput(value, 'active payloads').map((x) => num(x, 'payload id'));
      const size = Math.max(1, Math.ceil((Math.max(-1, ...ids) + 1) / 8));
      const out = new Uint8Array(size);
      for (const id of ids) out[size - 1 - (id >> 3)] = out[size - 1 - (id >> 3)]! | (1 << (id & 7));
      w.bytes(out);
    },
    () => [],
  );

// --- Tag 140: weapons stores --------------------------------------------------

const weaponsStores = (): Kind =>
  pack(
    'weaponsStores',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const out: KlvValue[] = [];
      while (r.remaining > 0) {
        const l = r.ber();
        const rr = new FieldReader(b, r.p, r.p + l);
        r.p += l;
        const stationId = rr.oid();
        const hardpointId = rr.oid();
        const carriageId = rr.oid();
        const storeId = rr.oid();
        const status = rr.oid();
        const generalStatus = status & 0xff;
        const engagementStatus = Math.floor(status / 256) & 0x0f;
        const weaponType = rr.string(rr.ber(), 'weapon type');
        out.push({
          stationId,
          hardpointId,
          carriageId,
          storeId,
          generalStatus,
          generalStatusText: WEAPON_GENERAL_STATUS[generalStatus] ?? null,
          engagementStatus,
          engagementFlags: flagNames(WEAPON_ENGAGEMENT_STATUS, engagementStatus),
          weaponType,
        });
      }
      return out;
    },
    (w, value) => {
      for (const item of arrayInput(value, 'weapons stores')) {
        const v = objectInput(item, 'weapons store');
        const sub = new ByteWriter();
        for (const k of ['stationId', 'hardpointId', 'carriageId', 'storeId']) sub.bytes(encodeBerOid(num(v[k] ?? 0, k)));
        const status = (num(v.engagementStatus ?? 0, 'engagementStatus') & 0x0f) * 256 + (num(v.generalStatus ?? 0, 'generalStatus') & 0xff);
        sub.bytes(encodeBerOid(status));
        writeLvString(sub, v.weaponType ?? '');
        w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
      }
    },
    () => [],
  );

// --- Tag 141: waypoint list -------------------------------------------------------

const waypointList = (): Kind =>
  pack(
    'waypointList',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const out: KlvValue[] = [];
      while (r.remaining > 0) {
        const l = r.ber();
        const rr = new FieldReader(b, r.p, r.p + l);
        r.p += l;
        const id = rr.oid();
        const order = rr.int(2, 'waypoint order');
        const info = rr.remaining > 0 ? rr.uint(1, 'waypoint info') : null;
        const location = rr.remaining > 0 ? readLocationDlp(rr, rr.remaining) : null;
        out.push({ id, order, info, infoFlags: info === null ? [] : flagNames(WAYPOINT_INFO, info), location });
      }
      return out;
    },
    (w, value) => {
      for (const item of arrayInput(value, 'waypoint list')) {
        const v = objectInput(item, 'waypoint');
        const sub = new ByteWriter();
        sub.bytes(encodeBerOid(num(v.id, 'id'))).int(num(v.order ?? 0, 'order'), 2);
        if (!nullable(v.info) || !nullable(v.location)) sub.uint(num(v.info ?? 0, 'info'), 1);
        if (!nullable(v.location)) writeLocationDlp(sub, v.location);
        w.bytes(encodeBerLength(sub.length)).bytes(sub.view());
      }
    },
    () => [],
  );

// --- Tag 142: view domain ------------------------------------------------------------

const RANGE_360 = new ImapbKind(0, 360, 3);
const VIEW_DOMAIN_STARTS = [new ImapbKind(0, 360, 3), new ImapbKind(-180, 180, 3), new ImapbKind(0, 360, 3)] as const;
const VIEW_DOMAIN_KEYS = ['azimuth', 'elevation', 'roll'] as const;

const viewDomain = (): Kind =>
  pack(
    'viewDomain',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const out: Record<string, KlvValue> = { azimuth: null, elevation: null, roll: null };
      for (let i = 0; i < 3 && r.remaining > 0; i++) {
        const l = r.ber();
        if (l === 0) continue;
        if (l % 2 !== 0) throw itemError(`view domain interval of odd length ${l}`);
        const semi = l / 2;
        const start = VIEW_DOMAIN_STARTS[i]!.decode(b, r.p, semi);
        const range = RANGE_360.decode(b, r.p + semi, semi);
        r.p += l;
        out[VIEW_DOMAIN_KEYS[i]!] = { start, range };
      }
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the view domain`);
      return out;
    },
    (w, value) => {
      const v = objectInput(value, 'view domain');
      let last = -1;
      VIEW_DOMAIN_KEYS.forEach((k, i) => {
        if (!nullable(v[k])) last = i;
      });
      for (let i = 0; i <= last; i++) {
        const iv = v[VIEW_DOMAIN_KEYS[i]!];
        if (nullable(iv)) {
          w.u8(0);
          continue;
        }
        const o = objectInput(iv, VIEW_DOMAIN_KEYS[i]!);
        const start = num(o.start, 'start');
        const range = num(o.range, 'range');
        const semi = Math.max(VIEW_DOMAIN_STARTS[i]!.lengthFor(start), RANGE_360.lengthFor(range));
        w.u8(semi * 2);
        writeImapb(w, VIEW_DOMAIN_STARTS[i]!.a, VIEW_DOMAIN_STARTS[i]!.b, semi, start);
        writeImapb(w, 0, 360, semi, range);
      }
    },
  );

// --- Tag 143: metadata substream ID pack ----------------------------------------

const metadataSubstreamId = (): Kind =>
  pack(
    'metadataSubstreamId',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const localId = r.oid();
      let universalId: string | null = null;
      if (r.remaining > 0) {
        r.need(16, 'universal ID');
        universalId = uuidText(b, r.p);
        r.p += 16;
      }
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the metadata substream ID`);
      return { localId, universalId };
    },
    (w, value) => {
      const v = objectInput(value, 'metadata substream ID');
      w.bytes(encodeBerOid(num(v.localId, 'localId')));
      if (!nullable(v.universalId)) w.bytes(hexInput(v.universalId, 'universalId'));
    },
  );

// ---------------------------------------------------------------------------------------

/** ST 0601 wants the timestamp first, and an SDCC-FLP right after the items it describes. */
function encodeOrder(tags: number[], values: Map<number, unknown>): number[] {
  let order = tags.filter((t) => t !== 2);
  if (values.has(2)) order.unshift(2);
  for (const sdccTag of [102]) {
    if (!values.has(sdccTag)) continue;
    const input = values.get(sdccTag) as { value?: unknown } | undefined;
    const v = input && typeof input === 'object' && 'value' in input ? input.value : input;
    const members = (v as { members?: unknown })?.members;
    if (!Array.isArray(members) || members.length === 0) continue;
    const ms = members.filter((m): m is number => typeof m === 'number' && values.has(m) && m !== sdccTag);
    order = order.filter((t) => t !== sdccTag && !ms.includes(t));
    order.push(...ms, sdccTag);
  }
  return order;
}

export const ST0601_TABLE: Table = new Table(
  'ST 0601',
  [
    row(1, 'checksum', uint(2)),
    row(2, 'precisionTimeStamp', timestamp(8), 'us'),
    row(3, 'missionId', string()),
    row(4, 'platformTailNumber', string()),
    row(5, 'platformHeadingAngle', mappedUint(0, 360, 2), 'deg'),
    row(6, 'platformPitchAngle', mappedInt(-20, 20, 2), 'deg'),
    row(7, 'platformRollAngle', mappedInt(-50, 50, 2), 'deg'),
    row(8, 'platformTrueAirspeed', uint(1), 'm/s'),
    row(9, 'platformIndicatedAirspeed', uint(1), 'm/s'),
    row(10, 'platformDesignation', string()),
    row(11, 'imageSourceSensor', string()),
    row(12, 'imageCoordinateSystem', string()),
    row(13, 'sensorLatitude', mappedInt(-90, 90, 4), 'deg'),
    row(14, 'sensorLongitude', mappedInt(-180, 180, 4), 'deg'),
    row(15, 'sensorTrueAltitude', mappedUint(-900, 19000, 2), 'm'),
    row(16, 'sensorHorizontalFieldOfView', mappedUint(0, 180, 2), 'deg'),
    row(17, 'sensorVerticalFieldOfView', mappedUint(0, 180, 2), 'deg'),
    row(18, 'sensorRelativeAzimuthAngle', mappedUint(0, 360, 4), 'deg'),
    row(19, 'sensorRelativeElevationAngle', mappedInt(-180, 180, 4), 'deg'),
    row(20, 'sensorRelativeRollAngle', mappedUint(0, 360, 4), 'deg'),
    row(21, 'slantRange', mappedUint(0, 5e6, 4), 'm'),
    row(22, 'targetWidth', mappedUint(0, 10000, 2), 'm'),
    row(23, 'frameCenterLatitude', mappedInt(-90, 90, 4), 'deg'),
    row(24, 'frameCenterLongitude', mappedInt(-180, 180, 4), 'deg'),
    row(25, 'frameCenterElevation', mappedUint(-900, 19000, 2), 'm'),
    row(26, 'offsetCornerLatitudePoint1', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(27, 'offsetCornerLongitudePoint1', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(28, 'offsetCornerLatitudePoint2', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(29, 'offsetCornerLongitudePoint2', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(30, 'offsetCornerLatitudePoint3', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(31, 'offsetCornerLongitudePoint3', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(32, 'offsetCornerLatitudePoint4', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(33, 'offsetCornerLongitudePoint4', mappedInt(-0.075, 0.075, 2), 'deg'),
    row(34, 'icingDetected', enumeration(ICING_DETECTED)),
    row(35, 'windDirection', mappedUint(0, 360, 2), 'deg'),
    row(36, 'windSpeed', mappedUint(0, 100, 1), 'm/s'),
    row(37, 'staticPressure', mappedUint(0, 5000, 2), 'mbar'),
    row(38, 'densityAltitude', mappedUint(-900, 19000, 2), 'm'),
    row(39, 'outsideAirTemperature', int(1), 'degC'),
    row(40, 'targetLocationLatitude', mappedInt(-90, 90, 4), 'deg'),
    row(41, 'targetLocationLongitude', mappedInt(-180, 180, 4), 'deg'),
    row(42, 'targetLocationElevation', mappedUint(-900, 19000, 2), 'm'),
    row(43, 'targetTrackGateWidth', mappedUint(0, 510, 1), 'pixels'),
    row(44, 'targetTrackGateHeight', mappedUint(0, 510, 1), 'pixels'),
    row(45, 'targetErrorEstimateCe90', mappedUint(0, 4095, 2), 'm'),
    row(46, 'targetErrorEstimateLe90', mappedUint(0, 4095, 2), 'm'),
    row(47, 'genericFlagData', flags(GENERIC_FLAG_DATA)),
    row(48, 'securityLocalSet', set(() => ST0102_TABLE)),
    row(49, 'differentialPressure', mappedUint(0, 5000, 2), 'mbar'),
    row(50, 'platformAngleOfAttack', mappedInt(-20, 20, 2), 'deg'),
    row(51, 'platformVerticalSpeed', mappedInt(-180, 180, 2), 'm/s'),
    row(52, 'platformSideslipAngle', mappedInt(-20, 20, 2), 'deg'),
    row(53, 'airfieldBarometricPressure', mappedUint(0, 5000, 2), 'mbar'),
    row(54, 'airfieldElevation', mappedUint(-900, 19000, 2), 'm'),
    row(55, 'relativeHumidity', mappedUint(0, 100, 1), '%'),
    row(56, 'platformGroundSpeed', uint(1), 'm/s'),
    row(57, 'groundRange', mappedUint(0, 5e6, 4), 'm'),
    row(58, 'platformFuelRemaining', mappedUint(0, 10000, 2), 'kg'),
    row(59, 'platformCallSign', string()),
    row(60, 'weaponLoad', uint(2)),
    row(61, 'weaponFired', uint(1)),
    row(62, 'laserPrfCode', uint(2)),
    row(63, 'sensorFieldOfViewName', enumeration(SENSOR_FIELD_OF_VIEW_NAME)),
    row(64, 'platformMagneticHeading', mappedUint(0, 360, 2), 'deg'),
    row(65, 'uasDatalinkLsVersionNumber', uint(1)),
    row(66, 'deprecated', bytes()),
    row(67, 'alternatePlatformLatitude', mappedInt(-90, 90, 4), 'deg'),
    row(68, 'alternatePlatformLongitude', mappedInt(-180, 180, 4), 'deg'),
    row(69, 'alternatePlatformAltitude', mappedUint(-900, 19000, 2), 'm'),
    row(70, 'alternatePlatformName', string()),
    row(71, 'alternatePlatformHeading', mappedUint(0, 360, 2), 'deg'),
    row(72, 'eventStartTimeUtc', timestamp(8), 'us'),
    row(73, 'rvtLocalSet', set(() => ST0806_TABLE)),
    row(74, 'vmtiLocalSet', set(() => ST0903_TABLE)),
    row(75, 'sensorEllipsoidHeight', mappedUint(-900, 19000, 2), 'm'),
    row(76, 'alternatePlatformEllipsoidHeight', mappedUint(-900, 19000, 2), 'm'),
    row(77, 'operationalMode', enumeration(OPERATIONAL_MODE)),
    row(78, 'frameCenterHeightAboveEllipsoid', mappedUint(-900, 19000, 2), 'm'),
    row(79, 'sensorNorthVelocity', mappedInt(-327, 327, 2), 'm/s'),
    row(80, 'sensorEastVelocity', mappedInt(-327, 327, 2), 'm/s'),
    row(81, 'imageHorizonPixelPack', imageHorizonPixelPack()),
    row(82, 'cornerLatitudePoint1Full', mappedInt(-90, 90, 4), 'deg'),
    row(83, 'cornerLongitudePoint1Full', mappedInt(-180, 180, 4), 'deg'),
    row(84, 'cornerLatitudePoint2Full', mappedInt(-90, 90, 4), 'deg'),
    row(85, 'cornerLongitudePoint2Full', mappedInt(-180, 180, 4), 'deg'),
    row(86, 'cornerLatitudePoint3Full', mappedInt(-90, 90, 4), 'deg'),
    row(87, 'cornerLongitudePoint3Full', mappedInt(-180, 180, 4), 'deg'),
    row(88, 'cornerLatitudePoint4Full', mappedInt(-90, 90, 4), 'deg'),
    row(89, 'cornerLongitudePoint4Full', mappedInt(-180, 180, 4), 'deg'),
    row(90, 'platformPitchAngleFull', mappedInt(-90, 90, 4), 'deg'),
    row(91, 'platformRollAngleFull', mappedInt(-90, 90, 4), 'deg'),
    row(92, 'platformAngleOfAttackFull', mappedInt(-90, 90, 4), 'deg'),
    row(93, 'platformSideslipAngleFull', mappedInt(-180, 180, 4), 'deg'),
    row(94, 'miisCoreIdentifier', miisCoreIdentifier()),
    row(95, 'sarMotionImageryLocalSet', set(() => ST1206_TABLE)),
    row(96, 'targetWidthExtended', imapb(0, 1.5e6, 3), 'm'),
    row(97, 'rangeImageLocalSet', set(() => ST1002_TABLE)),
    row(98, 'geoRegistrationLocalSet', set(() => ST1601_TABLE)),
    row(99, 'compositeImagingLocalSet', set(() => ST1602_TABLE)),
    row(100, 'segmentLocalSet', set(() => ST0601_TABLE)),
    row(101, 'amendLocalSet', set(() => ST0601_TABLE)),
    row(102, 'sdccFlp', sdccFlp()),
    row(103, 'densityAltitudeExtended', imapb(-900, 40000, 3), 'm'),
    row(104, 'sensorEllipsoidHeightExtended', imapb(-900, 40000, 3), 'm'),
    row(105, 'alternatePlatformEllipsoidHeightExtended', imapb(-900, 40000, 3), 'm'),
    row(106, 'streamDesignator', string()),
    row(107, 'operationalBase', string()),
    row(108, 'broadcastSource', string()),
    row(109, 'rangeToRecoveryLocation', imapb(0, 21000, 3), 'km'),
    row(110, 'timeAirborne', uint(), 's'),
    row(111, 'propulsionUnitSpeed', uint(), 'RPM'),
    row(112, 'platformCourseAngle', imapb(0, 360, 2), 'deg'),
    row(113, 'altitudeAboveGroundLevel', imapb(-900, 40000, 3), 'm'),
    row(114, 'radarAltimeter', imapb(-900, 40000, 3), 'm'),
    row(115, 'controlCommand', controlCommand()),
    row(116, 'controlCommandVerificationList', oidList()),
    row(117, 'sensorAzimuthRate', imapb(-1000, 1000, 2), 'deg/s'),
    row(118, 'sensorElevationRate', imapb(-1000, 1000, 2), 'deg/s'),
    row(119, 'sensorRollRate', imapb(-1000, 1000, 2), 'deg/s'),
    row(120, 'onBoardMiStoragePercentFull', imapb(0, 100, 2, undefined, 3), '%'),
    row(121, 'activeWavelengthList', oidList()),
    row(122, 'countryCodes', countryCodes()),
    row(123, 'numberOfNavsatsInView', uint(1), 'count'),
    row(124, 'positioningMethodSource', flags(POSITIONING_METHOD_SOURCE)),
    row(125, 'platformStatus', enumeration(PLATFORM_STATUS)),
    row(126, 'sensorControlMode', enumeration(SENSOR_CONTROL_MODE)),
    row(127, 'sensorFrameRatePack', frameRate()),
    row(128, 'wavelengthsList', series(wavelengthRecord()), 'nm'),
    row(129, 'targetId', string()),
    row(130, 'airbaseLocations', airbaseLocations()),
    row(131, 'takeOffTime', timestamp(), 'us'),
    row(132, 'transmissionFrequency', imapb(1, 99999, 3), 'MHz'),
    row(133, 'onBoardMiStorageCapacity', uint(), 'GB'),
    row(134, 'zoomPercentage', imapb(0, 100, 2), '%'),
    row(135, 'communicationsMethod', string()),
    row(136, 'leapSeconds', int(), 's'),
    row(137, 'correctionOffset', int(), 'us'),
    row(138, 'payloadList', payloadList()),
    row(139, 'activePayloads', activePayloads()),
    row(140, 'weaponsStores', weaponsStores()),
    row(141, 'waypointList', waypointList()),
    row(142, 'viewDomain', viewDomain(), 'deg'),
    row(143, 'metadataSubstreamIdPack', metadataSubstreamId()),
  ],
  { checksumTag: 1, encodeOrder },
);
