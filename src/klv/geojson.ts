/**
 * GeoJSON (RFC 7946) of decoded telemetry: the sensor track as a
 * LineString, one footprint Polygon per packet that has corner data, and
 * frame centres as Points. Coordinates are [lon, lat(, alt)] at full
 * precision. Packets with bad checksums are included; `checksumValid` is a
 * property of every feature derived from them.
 */
import { isoFromMicros } from './kinds.js';
import { packetNumber, packetTags } from './packet.js';
import type { KlvPacket, KlvTags } from './types.js';

export type Position = number[];

export interface GeoJsonGeometry {
  type: 'Point' | 'LineString' | 'Polygon' | 'MultiPolygon';
  coordinates: Position | Position[] | Position[][] | Position[][][];
}

export interface GeoJsonFeature {
  type: 'Feature';
  geometry: GeoJsonGeometry;
  properties: Record<string, unknown>;
}

export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection';
  features: GeoJsonFeature[];
}

/** The geometry-relevant values of one packet, whatever its standard. */
/** What an altitude is measured from: GeoJSON (RFC 7946) means the WGS 84 ellipsoid. */
type Datum = 'ellipsoid' | 'mean sea level';

interface Geo {
  time: number | null;
  sensor: [number | null, number | null, number | null];
  sensorDatum: Datum | null;
  center: [number | null, number | null, number | null];
  centerDatum: Datum | null;
  corners: (number | null)[] | null;
  offsets: (number | null)[] | null;
}

function numberOf(tags: KlvTags, key: string | number): number | null {
  const t = tags[key];
  return t !== undefined && t.error === undefined && typeof t.value === 'number' && Number.isFinite(t.value) ? t.value : null;
}

function first(...vals: (number | null)[]): number | null {
  for (const v of vals) if (v !== null) return v;
  return null;
}

function fromSt0601(packet: KlvPacket): Geo {
  const n = (k: number): number | null => packetNumber(packet, k) ?? null;
  const corners: (number | null)[] = [];
  for (let k = 82; k <= 89; k++) corners.push(n(k));
  const offsets: (number | null)[] = [];
  for (let k = 26; k <= 33; k++) offsets.push(n(k));
  // Heights above the ellipsoid first (RFC 7946's datum; tag 104 is the finer of the two), then MSL.
  const sensorHae = first(n(104), n(75));
  const centerHae = n(78);
  return {
    time: n(2),
    sensor: [n(13), n(14), first(sensorHae, n(15))],
    sensorDatum: sensorHae !== null ? 'ellipsoid' : n(15) !== null ? 'mean sea level' : null,
    center: [n(23), n(24), first(centerHae, n(25))],
    centerDatum: centerHae !== null ? 'ellipsoid' : n(25) !== null ? 'mean sea level' : null,
    corners,
    offsets,
  };
}

function fromEg0104(tags: KlvTags): Geo {
  const byName: Record<string, number | null> = {};
  for (const key of Object.keys(tags)) byName[tags[key]!.name] = numberOf(tags, key);
  const g = (name: string): number | null => byName[name] ?? null;
  const corners: (number | null)[] = [];
  for (let i = 1; i <= 4; i++) corners.push(g(`cornerLatitudePoint${i}`), g(`cornerLongitudePoint${i}`));
  return {
    time: g('userDefinedTimeStamp'),
    sensor: [g('deviceLatitude'), g('deviceLongitude'), g('deviceAltitude')],
    // EG 0104 altitudes are above mean sea level.
    sensorDatum: g('deviceAltitude') !== null ? 'mean sea level' : null,
    center: [g('frameCenterLatitude'), g('frameCenterLongitude'), g('frameCenterElevation')],
    centerDatum: g('frameCenterElevation') !== null ? 'mean sea level' : null,
    corners,
    offsets: null,
  };
}

function validLatLon(lat: number | null, lon: number | null): boolean {
  return lat !== null && lon !== null && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
}

/** Closes a ring [lon, lat], counter-clockwise as RFC 7946 asks. */
function closeCounterClockwise(pts: Position[]): Position[] {
  let area = 0;
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[(i + 1) % pts.length]!;
    area += a[0]! * b[1]! - b[0]! * a[1]!;
  }
  if (area < 0) pts.reverse();
  pts.push([...pts[0]!]);
  return pts;
}

/** The part of a polygon (open, [lon, lat]) on one side of the meridian x (Sutherland–Hodgman). */
function clipAt(pts: Position[], x: number, keepWest: boolean): Position[] {
  const inside = (p: Position) => (keepWest ? p[0]! <= x : p[0]! >= x);
  const out: Position[] = [];
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[(i + 1) % pts.length]!;
    if (inside(a)) out.push(a);
    if (inside(a) !== inside(b)) {
      const t = (x - a[0]!) / (b[0]! - a[0]!);
      out.push([x, a[1]! + t * (b[1]! - a[1]!)]);
    }
  }
  return out;
}

/**
 * A footprint from (lat, lon) corners: a Polygon, or — when it crosses the antimeridian (its
 * longitudes spread over more than 180°, or leave ±180 as offsets from a centre near it) — a
 * MultiPolygon cut at ±180°, as RFC 7946 §3.1.9 asks.
 */
function footprint(latLon: number[]): GeoJsonGeometry | null {
  const pts: Position[] = [];
  for (let i = 0; i < latLon.length; i += 2) {
    const lat = latLon[i]!;
    const lon = latLon[i + 1]!;
    if (!(lat >= -90 && lat <= 90) || !(lon >= -540 && lon <= 540)) return null;
    pts.push([lon, lat]);
  }
  // Unwrap onto one continuous span of longitudes, starting from the first corner.
  for (const p of pts) while (p[0]! - pts[0]![0]! > 180) p[0] = p[0]! - 360;
  for (const p of pts) while (pts[0]![0]! - p[0]! > 180) p[0] = p[0]! + 360;
  if (Math.min(...pts.map((p) => p[0]!)) < -180) for (const p of pts) p[0] = p[0]! + 360;
  if (Math.max(...pts.map((p) => p[0]!)) <= 180) return { type: 'Polygon', coordinates: [closeCounterClockwise(pts)] };
  // Now across +180: the western part stays, the eastern part moves to the other side of the map.
  const west = clipAt(pts, 180, true);
  const east = clipAt(pts, 180, false).map((p) => [p[0]! - 360, p[1]!]);
  const parts = [west, east].filter((r) => r.length >= 3);
  return { type: 'MultiPolygon', coordinates: parts.map((r) => [closeCounterClockwise(r)]) };
}

/** Where a builder that keeps no features sends them: footprints and frame centres, in order. */
export interface GeoJsonFeatureSink {
  footprint(feature: GeoJsonFeature): void;
  center(feature: GeoJsonFeature): void;
}

export class GeoJsonBuilder {
  /**
   * With a sink, footprints and frame centres go to it as they are made and only the sensor track
   * is kept (a live run that lasts for hours must not hold every feature): toFeatureCollection()
   * then returns the track alone, and the caller joins the rest.
   */
  constructor(private readonly sink?: GeoJsonFeatureSink) {}

  private readonly trackCoords: Position[] = [];
  private readonly trackTimes: (string | null)[] = [];
  private readonly trackDatums: (Datum | null)[] = [];
  private readonly trackPts: (number | null)[] = [];
  private readonly footprints: GeoJsonFeature[] = [];
  private readonly centers: GeoJsonFeature[] = [];
  private packets = 0;

  /** Adds one decoded packet (ST 0601 or EG 0104; others are counted but carry no geometry). */
  add(packet: KlvPacket): this {
    const index = this.packets++;
    let geo: Geo;
    if (packet.standard === 'ST0601') geo = fromSt0601(packet);
    else if (packet.standard === 'EG0104') geo = fromEg0104(packetTags(packet));
    else return this;
    const time = geo.time === null ? null : (isoFromMicros(geo.time) ?? null);
    const common = {
      index,
      time,
      timestampUs: geo.time,
      pts: packet.pts,
      stream: packet.stream,
      pid: packet.pid,
      checksumValid: packet.checksumValid,
    };

    const [slat, slon, salt] = geo.sensor;
    if (validLatLon(slat, slon)) {
      this.trackCoords.push(salt === null ? [slon!, slat!] : [slon!, slat!, salt]);
      this.trackDatums.push(geo.sensorDatum);
      this.trackTimes.push(time);
      this.trackPts.push(packet.pts);
    }

    const [clat, clon, calt] = geo.center;
    if (validLatLon(clat, clon)) {
      const center: GeoJsonFeature = {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: calt === null ? [clon!, clat!] : [clon!, clat!, calt] },
        properties: { kind: 'frameCenter', ...common, ...(calt !== null ? { altitude: geo.centerDatum } : {}) },
      };
      if (this.sink) this.sink.center(center);
      else this.centers.push(center);
    }

    let corners: number[] | null = null;
    let source = '';
    if (geo.corners !== null && geo.corners.every((v) => v !== null)) {
      corners = geo.corners as number[];
      source = 'corners';
    } else if (geo.offsets !== null && geo.offsets.every((v) => v !== null) && clat !== null && clon !== null) {
      corners = (geo.offsets as number[]).map((d, i) => d + (i % 2 === 0 ? clat : clon));
      source = 'offsets';
    }
    const geometry = corners === null ? null : footprint(corners);
    if (geometry !== null) {
      const feature: GeoJsonFeature = { type: 'Feature', geometry, properties: { kind: 'footprint', source, ...common } };
      if (this.sink) this.sink.footprint(feature);
      else this.footprints.push(feature);
    }
    return this;
  }

  /** Number of packets added. */
  get count(): number {
    return this.packets;
  }

  toFeatureCollection(): GeoJsonFeatureCollection {
    const features: GeoJsonFeature[] = [];
    const coords = this.trackCoords;
    if (coords.length > 0) {
      // Mixed 2D/3D positions, or heights from different datums, confuse readers: drop altitude
      // unless every point has one, measured the same way.
      const datum = this.trackDatums[0] ?? null;
      const threeD = coords.every((c) => c.length === 3) && this.trackDatums.every((d) => d === datum);
      const positions = threeD ? coords.map((c) => [...c]) : coords.map((c) => [c[0]!, c[1]!]);
      features.push({
        type: 'Feature',
        geometry: positions.length >= 2 ? { type: 'LineString', coordinates: positions } : { type: 'Point', coordinates: positions[0]! },
        properties: { kind: 'sensorTrack', times: [...this.trackTimes], pts: [...this.trackPts], points: positions.length, ...(threeD ? { altitude: datum } : {}) },
      });
    }
    features.push(...this.footprints, ...this.centers);
    return { type: 'FeatureCollection', features };
  }
}
