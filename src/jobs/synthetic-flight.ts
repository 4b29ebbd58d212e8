/**
 * A simulated flight: MISB ST 0601 packets (encoded with encodeKlv) for an aircraft flying a
 * gentle turn, its sensor looking down to the right, at about 10 Hz. Each packet carries the
 * precision time stamp, platform heading/pitch/roll, sensor position, fields of view and look
 * angles, slant range, frame centre and the four full-precision corner points (tags 82-89), so
 * the decoded track and footprints make sense on a map. Deterministic for given options.
 */
import { encodeKlv } from '../klv/index.js';
import { synthesizeClip, type SynthesizeOptions, type SynthesizeResult, type SyntheticKlvUnit } from '../synthetic.js';
import { checkInteger, checkKnownKeys, checkNumber, checkString, invalid, optionsObject } from '../validate.js';

export interface SyntheticFlightOptions {
  /** Seconds of telemetry (default 10). */
  durationSeconds?: number;
  /** Packets per second (default 10). */
  rate?: number;
  /** Start position of the aircraft (default near Cheyenne, Wyoming). */
  start?: { latitude: number; longitude: number };
  /** Height above sea level in metres (default 2600; the ground is at 1850). */
  altitude?: number;
  /** Ground speed in m/s (default 40). */
  speed?: number;
  /** Initial heading in degrees (default 45). */
  heading?: number;
  /** Turn rate in degrees per second (default 1.5). */
  turnRate?: number;
  /** UTC start time (default 2024-06-01T16:00:00Z). */
  startTime?: Date;
  missionId?: string;
}

const KNOWN = ['durationSeconds', 'rate', 'start', 'altitude', 'speed', 'heading', 'turnRate', 'startTime', 'missionId'] as const;
const METRES_PER_DEGREE = 111_320;
const GROUND_ELEVATION = 1850;

function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

/** Moves (lat, lon) by metres north and east (flat-earth, fine over a few kilometres). */
function offset(lat: number, lon: number, north: number, east: number): [number, number] {
  const dLat = north / METRES_PER_DEGREE;
  const dLon = east / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
  return [lat + dLat, lon + dLon];
}

function toRad(d: number): number {
  return (d * Math.PI) / 180;
}

/** The packets of a simulated flight, each with its time in seconds from the start. */
export function syntheticFlight(options?: SyntheticFlightOptions): SyntheticKlvUnit[] {
  const o = optionsObject(options, 'synthetic flight options');
  checkKnownKeys(o, KNOWN, 'synthetic flight options');
  const duration = o.durationSeconds !== undefined ? checkNumber(o.durationSeconds, 'durationSeconds', 0.1, 24 * 3600) : 10;
  const rate = o.rate !== undefined ? checkNumber(o.rate, 'rate', 0.1, 1000) : 10;
  const start = o.start !== undefined ? optionsObject(o.start, 'start') : { latitude: 41.1398, longitude: -104.8202 };
  let lat = checkNumber(start.latitude, 'start.latitude', -80, 80);
  let lon = checkNumber(start.longitude, 'start.longitude', -180, 180);
  const altitude = o.altitude !== undefined ? checkNumber(o.altitude, 'altitude', GROUND_ELEVATION + 100, 19000) : 2600;
  const speed = o.speed !== undefined ? checkNumber(o.speed, 'speed', 0, 255) : 40;
  let heading = o.heading !== undefined ? checkNumber(o.heading, 'heading', 0, 360) : 45;
  const turnRate = o.turnRate !== undefined ? checkNumber(o.turnRate, 'turnRate', -20, 20) : 1.5;
  if (o.startTime !== undefined && !(o.startTime instanceof Date && Number.isFinite(o.startTime.getTime()))) throw invalid('a valid Date', 'startTime', o.startTime);
  const t0 = o.startTime instanceof Date ? o.startTime.getTime() : Date.UTC(2024, 5, 1, 16, 0, 0);
  const missionId = o.missionId !== undefined ? checkString(o.missionId, 'missionId', { nonEmpty: true }) : 'FMV-INGEST SYNTHETIC';
  const count = checkInteger(Math.max(1, Math.floor(duration * rate)), 'durationSeconds × rate', 1, 10_000_000);

  // A fixed sensor geometry: looking 90° right of the nose, 35° below the horizon.
  const relativeAzimuth = 90;
  const depression = 35;
  const hfov = 18;
  const vfov = 10.2;
  const bank = (Math.atan((speed * toRad(turnRate)) / 9.81) * 180) / Math.PI;
  const units: SyntheticKlvUnit[] = [];
  const dt = 1 / rate;
  for (let i = 0; i < count; i++) {
    const seconds = i * dt;
    const height = altitude - GROUND_ELEVATION;
    const look = wrap360(heading + relativeAzimuth);
    // Distances on the ground to the near edge, centre and far edge of the view.
    const ground = (dep: number): number => height / Math.tan(toRad(Math.max(1, dep)));
    const centreRange = ground(depression);
    const near = ground(depression + vfov / 2);
    const far = ground(depression - vfov / 2);
    const halfWidth = (d: number): number => Math.hypot(d, height) * Math.tan(toRad(hfov / 2));
    const along = (d: number, across: number): [number, number] => {
      const n = d * Math.cos(toRad(look)) - across * Math.sin(toRad(look));
      const e = d * Math.sin(toRad(look)) + across * Math.cos(toRad(look));
      return offset(lat, lon, n, e);
    };
    const [clat, clon] = along(centreRange, 0);
    // Corners 1-4: far-left, far-right, near-right, near-left as seen by the sensor.
    const c1 = along(far, -halfWidth(far));
    const c2 = along(far, halfWidth(far));
    const c3 = along(near, halfWidth(near));
    const c4 = along(near, -halfWidth(near));
    const tags: Record<string, unknown> = {
      precisionTimeStamp: (t0 + seconds * 1000) * 1000,
      missionId,
      platformHeadingAngle: heading,
      platformPitchAngle: 1.5,
      platformRollAngle: Math.max(-50, Math.min(50, bank)),
      platformTrueAirspeed: Math.round(Math.min(255, speed)),
      sensorLatitude: lat,
      sensorLongitude: lon,
      sensorTrueAltitude: altitude,
      sensorHorizontalFieldOfView: hfov,
      sensorVerticalFieldOfView: vfov,
      sensorRelativeAzimuthAngle: relativeAzimuth,
      sensorRelativeElevationAngle: -depression,
      sensorRelativeRollAngle: 0,
      slantRange: Math.hypot(centreRange, height),
      frameCenterLatitude: clat,
      frameCenterLongitude: clon,
      frameCenterElevation: GROUND_ELEVATION,
      uasDatalinkLsVersionNumber: 17,
      cornerLatitudePoint1Full: c1[0],
      cornerLongitudePoint1Full: c1[1],
      cornerLatitudePoint2Full: c2[0],
      cornerLongitudePoint2Full: c2[1],
      cornerLatitudePoint3Full: c3[0],
      cornerLongitudePoint3Full: c3[1],
      cornerLatitudePoint4Full: c4[0],
      cornerLongitudePoint4Full: c4[1],
    };
    units.push({ seconds, data: encodeKlv({ standard: 'ST0601', tags }) });
    // Advance the aircraft along its turn.
    const [nlat, nlon] = offset(lat, lon, speed * dt * Math.cos(toRad(heading)), speed * dt * Math.sin(toRad(heading)));
    lat = nlat;
    lon = nlon;
    heading = wrap360(heading + turnRate * dt);
  }
  return units;
}

export interface SyntheticFlightClipOptions extends Omit<SynthesizeOptions, 'klv' | 'durationSeconds'> {
  durationSeconds?: number;
  /** Options of the simulated flight (its duration follows the clip's). */
  flight?: Omit<SyntheticFlightOptions, 'durationSeconds'>;
}

/** Writes an MPEG-TS clip (test pattern, optional tone) carrying a simulated flight's KLV. */
export function synthesizeFlightClip(path: string, options: SyntheticFlightClipOptions = {}): Promise<SynthesizeResult> {
  try {
    const { flight, ...clip } = optionsObject(options, 'synthetic flight clip options') as SyntheticFlightClipOptions;
    const durationSeconds = clip.durationSeconds ?? 10;
    const klv = syntheticFlight({ ...(flight ?? {}), durationSeconds });
    return synthesizeClip(path, { ...clip, durationSeconds, klv });
  } catch (err) {
    return Promise.reject(err);
  }
}
