/**
 * What a layer's telemetry covers, in ArcGIS geometry JSON (WGS 84): the extent, the time span,
 * the coverage area (union of the frames' footprints), the sensor track with time as m, the
 * first frame's telemetry, and the frames that meet a spatial and temporal filter.
 */
import { quadPolygon, simplifyOutward, toArcgisPolygon, unionAll, WGS84, type ArcgisPolygon, type Pair, type Polygon } from './polygons.js';
import type { GeometryFilter } from './query-geometry.js';
import type { FootprintSource, FrameTelemetry } from './telemetry.js';

export interface Extent {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  spatialReference: typeof WGS84;
}

export interface PointJson {
  x: number;
  y: number;
  z?: number;
  spatialReference: typeof WGS84;
}

/** How many frames had their footprint from each source. */
export type SourceCounts = Record<FootprintSource, number>;

export interface GeometrySummary {
  frames: number;
  footprints: SourceCounts;
  /** What the footprints were computed from, the most used source first. */
  computedFrom: FootprintSource[];
}

/** How far (metres) the coverage outline may move outward when simplified. */
export const COVERAGE_TOLERANCE_METRES = 2;

export function sourceCounts(frames: readonly FrameTelemetry[]): SourceCounts {
  const counts: SourceCounts = { corners: 0, offsetCorners: 0, sensorModel: 0 };
  for (const f of frames) if (f.footprintSource) counts[f.footprintSource]++;
  return counts;
}

export function geometrySummary(frames: readonly FrameTelemetry[]): GeometrySummary {
  const footprints = sourceCounts(frames);
  const computedFrom = (Object.keys(footprints) as FootprintSource[]).filter((k) => footprints[k] > 0).sort((a, b) => footprints[b] - footprints[a]);
  return { frames: frames.length, footprints, computedFrom };
}

/** The extent of the footprints, frame centres and sensor positions; null without any. */
export function telemetryExtent(frames: readonly FrameTelemetry[]): Extent | null {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  const add = (x: number, y: number): void => {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  };
  for (const f of frames) {
    if (f.corners) for (const [x, y] of f.corners) add(x, y);
    if (f.center) add(f.center[0], f.center[1]);
    if (f.sensor) add(f.sensor[0], f.sensor[1]);
  }
  return Number.isFinite(x0) ? { xmin: x0, ymin: y0, xmax: x1, ymax: y1, spatialReference: WGS84 } : null;
}

/** First and last precision time stamps (ms since 1970); null when the telemetry has none. */
export function timeSpan(frames: readonly FrameTelemetry[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const f of frames) {
    if (f.time === null) continue;
    lo = Math.min(lo, f.time);
    hi = Math.max(hi, f.time);
  }
  return Number.isFinite(lo) ? [lo, hi] : null;
}

function point(p: readonly [number, number, number | null]): PointJson {
  return p[2] === null ? { x: p[0], y: p[1], spatialReference: WGS84 } : { x: p[0], y: p[1], z: p[2], spatialReference: WGS84 };
}

function outline(corners: ReadonlyArray<readonly [number, number]>): ArcgisPolygon {
  const poly = quadPolygon(corners);
  return poly ? toArcgisPolygon([poly]) : { rings: [[...corners.map(([x, y]) => [x, y]), [corners[0]![0], corners[0]![1]]]], spatialReference: WGS84 };
}

/** The frame's time as m: the precision time stamp in ms, else its presentation time in ms. */
function measure(f: FrameTelemetry): number | null {
  return f.time ?? (f.pts === null ? null : Math.round(f.pts * 1000));
}

export function sensorPoints(frames: readonly FrameTelemetry[]): { hasZ: true; hasM: true; spatialReference: typeof WGS84; points: number[][] } {
  const points: number[][] = [];
  let last: number[] | undefined;
  for (const f of frames) {
    if (!f.sensor) continue;
    const p = [f.sensor[0], f.sensor[1], f.sensor[2] ?? 0, measure(f) ?? 0];
    // A sensor standing still adds nothing to the track.
    if (last && last[0] === p[0] && last[1] === p[1] && last[2] === p[2]) continue;
    points.push(p);
    last = p;
  }
  return { hasZ: true, hasM: true, spatialReference: WGS84, points };
}

/** The first frame's telemetry, as the JS SDK's VideoLayer reads it (telemetry.start). */
export function startTelemetry(frames: readonly FrameTelemetry[]): { start: { frameCenter: PointJson | null; frameOutline: ArcgisPolygon | null; sensor: PointJson | null; time: number | null } } {
  const first = frames.find((f) => f.corners || f.center) ?? frames[0];
  return {
    start: {
      frameCenter: first?.center ? point(first.center) : null,
      frameOutline: first?.corners ? outline(first.corners) : null,
      sensor: first?.sensor ? point(first.sensor) : null,
      time: first ? measure(first) : null,
    },
  };
}

/** The union of every footprint, simplified outward (it still covers each footprint); null without footprints. */
export async function coverageArea(frames: readonly FrameTelemetry[], toleranceMetres = COVERAGE_TOLERANCE_METRES): Promise<ArcgisPolygon | null> {
  const polygons: Polygon[] = [];
  for (const f of frames) {
    const p = f.corners ? quadPolygon(f.corners) : null;
    if (p) polygons.push(p);
  }
  if (polygons.length === 0) return null;
  const union = await unionAll(polygons);
  return toArcgisPolygon(simplifyOutward(union, toleranceMetres));
}

export interface FrameQuery {
  filter: GeometryFilter | null;
  /** Inclusive [start, end] in ms since 1970; null ends are open. */
  time: [number | null, number | null] | null;
  /** Frames returned at most (time ranges always cover every match). */
  maxFrames: number;
}

export interface FrameMatch {
  time: number | null;
  pts: number | null;
  footprintSource: FootprintSource | null;
  footprint: ArcgisPolygon | null;
  frameCenter: PointJson | null;
  sensor: PointJson | null;
}

export interface QueryAnswer {
  count: number;
  exceededTransferLimit: boolean;
  /** Runs of consecutive matching frames: [start, end] in ms since 1970 (presentation time when the telemetry has no time stamps). */
  timeRanges: Array<[number, number]>;
  frames: FrameMatch[];
}

/** The frames that meet the filter and lie in the time span, with the time ranges they make up. */
export function queryFrames(frames: readonly FrameTelemetry[], q: FrameQuery): QueryAnswer {
  const answer: QueryAnswer = { count: 0, exceededTransferLimit: false, timeRanges: [], frames: [] };
  let run: [number, number] | null = null;
  const close = (): void => {
    if (run) answer.timeRanges.push(run);
    run = null;
  };
  for (const f of frames) {
    let ok = true;
    if (q.time) {
      const [s, e] = q.time;
      ok = f.time !== null && (s === null || f.time >= s) && (e === null || f.time <= e);
    }
    if (ok && q.filter) {
      const ring: Pair[] | null = f.corners ? [...f.corners.map(([x, y]) => [x, y] as Pair), [f.corners[0]![0], f.corners[0]![1]]] : null;
      ok = q.filter.intersects(ring, f.center ? [f.center[0], f.center[1]] : null);
    }
    if (!ok) {
      close();
      continue;
    }
    answer.count++;
    const m = measure(f);
    if (m !== null) run = run ? [run[0], m] : [m, m];
    if (answer.frames.length < q.maxFrames) {
      answer.frames.push({
        time: f.time,
        pts: f.pts,
        footprintSource: f.footprintSource,
        footprint: f.corners ? outline(f.corners) : null,
        frameCenter: f.center ? point(f.center) : null,
        sensor: f.sensor ? point(f.sensor) : null,
      });
    } else answer.exceededTransferLimit = true;
  }
  close();
  return answer;
}
