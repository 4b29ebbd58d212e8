/**
 * The filter geometry of a query in ArcGIS JSON (point, polyline, polygon or envelope, WGS 84),
 * checked with errors that name the field, and its intersection test against a footprint.
 */
import { pointInRings, segmentsIntersect, type Pair } from './polygons.js';

export const GEOMETRY_TYPES = ['esriGeometryPoint', 'esriGeometryPolyline', 'esriGeometryPolygon', 'esriGeometryEnvelope'] as const;
export type GeometryType = (typeof GEOMETRY_TYPES)[number];

const SHORT_NAMES: Record<string, GeometryType> = {
  point: 'esriGeometryPoint',
  polyline: 'esriGeometryPolyline',
  polygon: 'esriGeometryPolygon',
  envelope: 'esriGeometryEnvelope',
};

/** A query geometry: its vertices, its edges, and its rings when it has an area. */
export interface QueryGeometry {
  type: GeometryType;
  points: Pair[];
  segments: Array<[Pair, Pair]>;
  rings: Pair[][] | null;
}

export class GeometryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'GeometryError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function coordinate(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new GeometryError(field, `must be a finite number, not ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function pair(v: unknown, field: string): Pair {
  if (!Array.isArray(v) || v.length < 2) throw new GeometryError(field, 'must be an array [x, y]');
  const x = coordinate(v[0], `${field}[0]`);
  const y = coordinate(v[1], `${field}[1]`);
  if (Math.abs(y) > 90) throw new GeometryError(`${field}[1]`, `latitude ${y} is outside -90..90`);
  return [x, y];
}

function paths(v: unknown, field: string, minPoints: number): Pair[][] {
  if (!Array.isArray(v) || v.length === 0) throw new GeometryError(field, 'must be a non-empty array of point arrays');
  return v.map((path, i) => {
    if (!Array.isArray(path) || path.length < minPoints) throw new GeometryError(`${field}[${i}]`, `must hold at least ${minPoints} points`);
    return path.map((p, j) => pair(p, `${field}[${i}][${j}]`));
  });
}

const MAX_VERTICES = 100_000;

/**
 * Parses `geometry` (a JSON string or object; also 'x,y' for a point and 'xmin,ymin,xmax,ymax' for
 * an envelope) of the given or inferred geometryType. Coordinates are WGS 84 longitude/latitude.
 */
export function parseQueryGeometry(geometry: unknown, geometryType?: string): QueryGeometry {
  let type: GeometryType | undefined;
  if (geometryType !== undefined && geometryType !== '') {
    type = (GEOMETRY_TYPES as readonly string[]).includes(geometryType) ? (geometryType as GeometryType) : SHORT_NAMES[geometryType.toLowerCase()];
    if (!type) throw new GeometryError('geometryType', `must be one of ${GEOMETRY_TYPES.join(', ')}, not '${geometryType.slice(0, 40)}'`);
  }
  let g: unknown = geometry;
  if (typeof g === 'string') {
    const text = g.trim();
    if (/^-?[\d.]+(e-?\d+)?(\s*,\s*-?[\d.]+(e-?\d+)?){1,3}$/i.test(text)) {
      const n = text.split(',').map(Number);
      g = n.length === 2 ? { x: n[0], y: n[1] } : n.length === 4 ? { xmin: n[0], ymin: n[1], xmax: n[2], ymax: n[3] } : g;
    } else {
      try {
        g = JSON.parse(text);
      } catch {
        throw new GeometryError('geometry', 'is not valid JSON');
      }
    }
  }
  if (!isObject(g)) throw new GeometryError('geometry', 'must be an ArcGIS geometry object, e.g. {"x": -104.8, "y": 41.1}');
  const sr = g.spatialReference;
  if (sr !== undefined && sr !== null) {
    const wkid = isObject(sr) ? (sr.latestWkid ?? sr.wkid) : undefined;
    if (wkid !== 4326) throw new GeometryError('geometry.spatialReference', `only WGS 84 (wkid 4326) is supported, not ${JSON.stringify(sr).slice(0, 60)}`);
  }
  type ??= 'x' in g ? 'esriGeometryPoint' : 'paths' in g ? 'esriGeometryPolyline' : 'rings' in g ? 'esriGeometryPolygon' : 'xmin' in g ? 'esriGeometryEnvelope' : undefined;
  if (!type) throw new GeometryError('geometry', 'has none of x/y, paths, rings or xmin/ymin/xmax/ymax');
  switch (type) {
    case 'esriGeometryPoint': {
      const p = pair([g.x, g.y], 'geometry');
      return { type, points: [p], segments: [], rings: null };
    }
    case 'esriGeometryEnvelope': {
      const [xmin, ymin, xmax, ymax] = (['xmin', 'ymin', 'xmax', 'ymax'] as const).map((k) => coordinate(g[k], `geometry.${k}`)) as [number, number, number, number];
      if (xmin > xmax) throw new GeometryError('geometry.xmin', 'must not be greater than xmax');
      if (ymin > ymax) throw new GeometryError('geometry.ymin', 'must not be greater than ymax');
      const ring: Pair[] = [[xmin, ymin], [xmin, ymax], [xmax, ymax], [xmax, ymin], [xmin, ymin]];
      return { type, points: ring.slice(0, 4), segments: edges([ring]), rings: [ring] };
    }
    case 'esriGeometryPolyline': {
      const ps = paths(g.paths, 'geometry.paths', 2);
      checkSize(ps);
      return { type, points: ps.flat(), segments: edges(ps, false), rings: null };
    }
    case 'esriGeometryPolygon': {
      const rs = paths(g.rings, 'geometry.rings', 3).map((r) => {
        const last = r[r.length - 1]!;
        return last[0] === r[0]![0] && last[1] === r[0]![1] ? r : [...r, r[0]!];
      });
      checkSize(rs);
      return { type, points: rs.flat(), segments: edges(rs), rings: rs };
    }
  }
}

function checkSize(ps: Pair[][]): void {
  const n = ps.reduce((s, p) => s + p.length, 0);
  if (n > MAX_VERTICES) throw new GeometryError('geometry', `has ${n} vertices; at most ${MAX_VERTICES} are accepted`);
}

function edges(ps: Pair[][], closed = true): Array<[Pair, Pair]> {
  const out: Array<[Pair, Pair]> = [];
  for (const p of ps) {
    for (let i = 0; i + 1 < p.length; i++) out.push([p[i]!, p[i + 1]!]);
    if (!closed && p.length === 1) out.push([p[0]!, p[0]!]);
  }
  return out;
}

function bbox(pts: readonly Pair[]): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of pts) {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

/** A prepared query geometry: its bounding box first, then the exact test. */
export class GeometryFilter {
  private readonly box: [number, number, number, number];
  constructor(readonly geometry: QueryGeometry) {
    this.box = bbox(geometry.points);
  }

  /** Whether the query geometry meets the closed ring `ring` (a footprint) or the point `at`. */
  intersects(ring: readonly Pair[] | null, at?: Pair | null): boolean {
    const g = this.geometry;
    if (ring === null) {
      if (!at) return false;
      if (g.rings !== null) return pointInRings(at[0], at[1], g.rings);
      return g.points.some((p) => p[0] === at[0] && p[1] === at[1]) || g.segments.some(([a, b]) => segmentsIntersect(a, b, at, at));
    }
    const [x0, y0, x1, y1] = bbox(ring);
    const [qx0, qy0, qx1, qy1] = this.box;
    if (x1 < qx0 || x0 > qx1 || y1 < qy0 || y0 > qy1) return false;
    if (g.points.some((p) => pointInRings(p[0], p[1], [ring]))) return true;
    if (g.rings !== null && ring.some((p) => pointInRings(p[0], p[1], g.rings!))) return true;
    for (let i = 0; i + 1 < ring.length; i++) for (const [a, b] of g.segments) if (segmentsIntersect(ring[i]!, ring[i + 1]!, a, b)) return true;
    return false;
  }
}
