/**
 * Polygon work on [lon, lat] coordinates: the union of many footprints (polygon-clipping, merged
 * in batches that yield to the event loop between them), a simplification that only ever adds
 * area (so the result still covers every footprint), and ArcGIS polygon JSON.
 */
import clipping, { type MultiPolygon, type Pair, type Polygon, type Ring } from 'polygon-clipping';

export type { MultiPolygon, Pair, Polygon, Ring };

export const WGS84 = { wkid: 4326 } as const;

export interface ArcgisPolygon {
  rings: number[][][];
  spatialReference: typeof WGS84;
}

const METRES_PER_DEGREE = 111_320;
const BATCH = 128;

/** Twice the signed area (positive when counter-clockwise). */
export function signedArea2(ring: readonly Pair[]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j]![0] * ring[i]![1] - ring[i]![0] * ring[j]![1];
  return a;
}

/** A closed ring from open corners; null when it has no area. */
export function quadPolygon(corners: ReadonlyArray<readonly [number, number]>): Polygon | null {
  const ring: Ring = corners.map(([x, y]) => [x, y] as Pair);
  if (Math.abs(signedArea2(ring)) < 1e-18) return null;
  ring.push([ring[0]![0], ring[0]![1]]);
  return [ring];
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The union of polygons, merged pairwise as a balanced tree: neighbouring footprints overlap
 * almost entirely, and merging them two by two keeps every outline small, where one sweep over
 * many overlapping polygons meets every pair's crossings. Yields to the event loop as it goes.
 */
export async function unionAll(polygons: readonly Polygon[]): Promise<MultiPolygon> {
  let parts: MultiPolygon[] = polygons.map((p) => [p]);
  let work = 0;
  while (parts.length > 1) {
    const next: MultiPolygon[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const b = parts[i + 1];
      next.push(b === undefined ? parts[i]! : clipping.union(parts[i]!, b));
      if (++work % BATCH === 0) await nextTick();
    }
    parts = next;
  }
  return parts[0] ?? [];
}

/**
 * Drops vertices whose removal moves the boundary outward by less than `toleranceMetres` (a
 * concave notch on an outer ring, a convex bump into a hole), and holes smaller than the
 * tolerance: the result covers everything the input did. Rings follow polygon-clipping's
 * orientation (outer counter-clockwise, holes clockwise).
 */
export function simplifyOutward(mp: MultiPolygon, toleranceMetres: number): MultiPolygon {
  const out: MultiPolygon = [];
  for (const poly of mp) {
    const rings: Ring[] = [];
    poly.forEach((ring, index) => {
      const simplified = simplifyRing(ring, toleranceMetres);
      if (index > 0) {
        // A hole narrower than the tolerance is filled in.
        const lat = ring[0]![1];
        const scale = METRES_PER_DEGREE * METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
        if ((Math.abs(signedArea2(simplified)) / 2) * scale < toleranceMetres * toleranceMetres * 4) return;
      }
      rings.push(simplified);
    });
    out.push(rings);
  }
  return out;
}

function simplifyRing(closed: Ring, toleranceMetres: number): Ring {
  const pts = closed.slice(0, -1).map((p) => [p[0], p[1]] as Pair);
  if (pts.length <= 3) return closed;
  const cosLat = Math.cos((pts[0]![1] * Math.PI) / 180);
  const metres = (a: Pair, b: Pair): number => Math.hypot((b[0] - a[0]) * cosLat, b[1] - a[1]) * METRES_PER_DEGREE;
  let changed = true;
  while (changed && pts.length > 3) {
    changed = false;
    for (let i = 0; i < pts.length && pts.length > 3; ) {
      const a = pts[(i + pts.length - 1) % pts.length]!;
      const b = pts[i]!;
      const c = pts[(i + 1) % pts.length]!;
      const cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
      const base = metres(a, c);
      // Interior on the left: a right turn (cross <= 0) is a notch whose removal adds area.
      const height = base > 0 ? (Math.abs(cross) * cosLat * METRES_PER_DEGREE * METRES_PER_DEGREE) / base : 0;
      if (cross <= 0 && height <= toleranceMetres) {
        pts.splice(i, 1);
        changed = true;
      } else i++;
    }
  }
  pts.push([pts[0]![0], pts[0]![1]]);
  return pts;
}

/** ArcGIS polygon JSON: outer rings clockwise, holes counter-clockwise (the reverse of GeoJSON). */
export function toArcgisPolygon(mp: MultiPolygon): ArcgisPolygon {
  const rings: number[][][] = [];
  for (const poly of mp) {
    poly.forEach((ring, index) => {
      const ccw = signedArea2(ring) > 0;
      const wantCcw = index > 0;
      const r = ring.map((p) => [p[0], p[1]]);
      rings.push(ccw === wantCcw ? r : r.reverse());
    });
  }
  return { rings, spatialReference: WGS84 };
}

/** Whether the point lies inside the rings (even-odd) or on their boundary. */
export function pointInRings(x: number, y: number, rings: readonly (readonly Pair[])[]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]!;
      const [xj, yj] = ring[j]!;
      if (onSegment([x, y], [xi, yi], [xj, yj])) return true;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function orient(a: Pair, b: Pair, c: Pair): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function onSegment(p: Pair, a: Pair, b: Pair): boolean {
  const eps = 1e-12;
  return Math.abs(orient(a, b, p)) <= eps && p[0] >= Math.min(a[0], b[0]) - eps && p[0] <= Math.max(a[0], b[0]) + eps && p[1] >= Math.min(a[1], b[1]) - eps && p[1] <= Math.max(a[1], b[1]) + eps;
}

/** Whether segments ab and cd touch or cross. */
export function segmentsIntersect(a: Pair, b: Pair, c: Pair, d: Pair): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return true;
  return onSegment(c, a, b) || onSegment(d, a, b) || onSegment(a, c, d) || onSegment(b, c, d);
}
