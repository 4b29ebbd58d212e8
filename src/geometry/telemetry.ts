/**
 * Per-frame geometry from decoded KLV (the lines of klv.ndjson, one decoded unit each): time,
 * sensor position, frame centre and the four ground corners. Corners come from ST 0601's full
 * corner points (tags 82-89) when a packet has them, else from the offset corners (tags 26-33,
 * added to the frame centre), else from the sensor model (position, attitude and fields of view);
 * each frame says which.
 */
import { projectFootprint } from './sensor-model.js';

export type FootprintSource = 'corners' | 'offsetCorners' | 'sensorModel';

export interface FrameTelemetry {
  /** Precision time stamp (tag 2) in milliseconds since 1970, null when absent. */
  time: number | null;
  /** Presentation time in the video, seconds. */
  pts: number | null;
  /** [lon, lat, z]: the sensor. */
  sensor: [number, number, number | null] | null;
  /** [lon, lat, z]: the frame centre (tags 23-25, or the sensor model's centre ray). */
  center: [number, number, number | null] | null;
  /** [lon, lat] of corners 1-4: top left, top right, bottom right, bottom left. */
  corners: Array<[number, number]> | null;
  footprintSource: FootprintSource | null;
}

interface DecodedTag {
  value?: unknown;
  error?: unknown;
}

export interface DecodedUnit {
  pts?: number | null;
  standard?: string;
  tags?: Record<string, DecodedTag>;
}

function num(tags: Record<string, DecodedTag>, key: number): number | null {
  const t = tags[String(key)];
  return t !== undefined && t.error === undefined && typeof t.value === 'number' && Number.isFinite(t.value) ? t.value : null;
}

function latLonOk(lat: number | null, lon: number | null): boolean {
  return lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}

function firstOf(...values: (number | null)[]): number | null {
  for (const v of values) if (v !== null) return v;
  return null;
}

/** Longitudes made continuous from corner 1, so a footprint across ±180° stays one quadrilateral. */
function unwrapped(corners: Array<[number, number]>): Array<[number, number]> {
  const ref = corners[0]![0];
  return corners.map(([lon, lat]) => [lon - ref > 180 ? lon - 360 : ref - lon > 180 ? lon + 360 : lon, lat]);
}

/** The geometry of one decoded ST 0601 unit; null for other standards. */
export function frameTelemetry(unit: DecodedUnit): FrameTelemetry | null {
  if (unit.standard !== 'ST0601' || !unit.tags) return null;
  const tags = unit.tags;
  const n = (k: number) => num(tags, k);
  const stamp = n(2);
  const out: FrameTelemetry = {
    time: stamp === null ? null : Math.round(stamp / 1000),
    pts: typeof unit.pts === 'number' && Number.isFinite(unit.pts) ? unit.pts : null,
    sensor: null,
    center: null,
    corners: null,
    footprintSource: null,
  };
  const [slat, slon] = [n(13), n(14)];
  // Mean sea level (tag 15) first: the frame centre's elevation (tag 25) is on that datum too.
  const salt = firstOf(n(15), n(75), n(104));
  if (latLonOk(slat, slon)) out.sensor = [slon!, slat!, salt];
  const [clat, clon] = [n(23), n(24)];
  const celev = firstOf(n(25), n(78));
  if (latLonOk(clat, clon)) out.center = [clon!, clat!, celev];

  const full: number[] = [];
  for (let k = 82; k <= 89; k++) full.push(n(k) ?? NaN);
  const offsets: number[] = [];
  for (let k = 26; k <= 33; k++) offsets.push(n(k) ?? NaN);
  const pairs = (v: number[]): Array<[number, number]> => [0, 2, 4, 6].map((i) => [v[i + 1]!, v[i]!]);
  if (full.every(Number.isFinite) && pairs(full).every(([lon, lat]) => latLonOk(lat, lon))) {
    out.corners = pairs(full);
    out.footprintSource = 'corners';
  } else if (out.center !== null && offsets.every(Number.isFinite)) {
    const abs = offsets.map((d, i) => d + (i % 2 === 0 ? clat! : clon!));
    const corners = pairs(abs).map(([lon, lat]) => [lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon, lat] as [number, number]);
    if (corners.every(([lon, lat]) => latLonOk(lat, lon))) {
      out.corners = corners;
      out.footprintSource = 'offsetCorners';
    }
  }
  if (out.corners !== null) out.corners = unwrapped(out.corners);
  if (out.corners === null && out.sensor !== null && salt !== null) {
    const pose = {
      latitude: out.sensor[1],
      longitude: out.sensor[0],
      altitude: salt,
      // Without a frame centre elevation the ground is taken at sea level.
      groundElevation: celev ?? 0,
      platformHeading: n(5) ?? 0,
      platformPitch: firstOf(n(90), n(6)) ?? 0,
      platformRoll: firstOf(n(91), n(7)) ?? 0,
      relativeAzimuth: n(18),
      relativeElevation: n(19),
      relativeRoll: n(20) ?? 0,
      horizontalFov: n(16),
      verticalFov: n(17),
    };
    if (pose.relativeAzimuth !== null && pose.relativeElevation !== null && pose.horizontalFov !== null && pose.verticalFov !== null) {
      const projected = projectFootprint(pose as Parameters<typeof projectFootprint>[0]);
      if (projected !== null && projected.corners.every(([lon, lat]) => latLonOk(lat, lon))) {
        out.corners = projected.corners;
        out.footprintSource = 'sensorModel';
        out.center ??= [projected.center[0], projected.center[1], pose.groundElevation];
      }
    }
  }
  return out;
}

/** The geometry of one line of klv.ndjson; null for lines without a position (or not JSON). */
export function frameFromLine(line: string): FrameTelemetry | null {
  if (line.trim() === '') return null;
  let unit: DecodedUnit;
  try {
    unit = JSON.parse(line) as DecodedUnit;
  } catch {
    return null;
  }
  const f = frameTelemetry(unit);
  return f && (f.sensor || f.center || f.corners) ? f : null;
}
