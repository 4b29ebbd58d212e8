/**
 * Geometry from a layer's KLV: GET …/coverage (the union of the footprints, the sensor track with
 * time as m, the first frame's telemetry; ?type=telemetry|sensorPoints for one part) and
 * GET/POST …/query (frames whose footprint meets a geometry, within a time span). Every answer
 * says what the footprints were computed from.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  GeometryError,
  GeometryFilter,
  coverageArea,
  geometrySummary,
  parseQueryGeometry,
  queryFrames,
  sensorPoints,
  startTelemetry,
  type ArcgisPolygon,
  type FrameTelemetry,
} from '../../geometry/index.js';
import { arcgisError, one, sendJson, type Fields } from '../context.js';
import type { ServerContext } from '../context.js';
import { layerFrames } from './layer-data.js';
import { layerRequest } from './layers.js';
import { sendTaggedJson } from './tagged-json.js';

/** Coverage areas of the frame lists in the cache (a new list for each new version of klv.ndjson). */
const areas = new WeakMap<readonly FrameTelemetry[], Promise<ArcgisPolygon | null>>();

function areaOf(frames: readonly FrameTelemetry[]): Promise<ArcgisPolygon | null> {
  let p = areas.get(frames);
  if (!p) {
    p = coverageArea(frames);
    areas.set(frames, p);
  }
  return p;
}

const DEFAULT_MAX_FRAMES = 1000;
const MAX_FRAMES = 10_000;

/** A field that may come as JSON text or as a parsed value (a JSON body). */
function jsonField(f: Fields, name: string): unknown {
  const v = f[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `time`: "start,end" in ms since 1970 ('null' or empty for an open end), or one instant. */
export function parseTime(value: unknown): [number | null, number | null] | null {
  if (value === undefined || value === null || value === '') return null;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new GeometryError('time', 'must be "start,end" in milliseconds since 1970');
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 2) throw new GeometryError('time', `must be "start,end" in milliseconds since 1970, not '${text.slice(0, 60)}'`);
  const end = (s: string, which: string): number | null => {
    if (s === '' || s.toLowerCase() === 'null') return null;
    const n = Number(s);
    if (!Number.isFinite(n)) throw new GeometryError('time', `${which} '${s.slice(0, 40)}' is not a number of milliseconds`);
    return n;
  };
  const start = end(parts[0]!, 'start');
  const stop = parts.length === 2 ? end(parts[1]!, 'end') : start;
  if (start !== null && stop !== null && start > stop) throw new GeometryError('time', 'start is after end');
  return [start, stop];
}

export function coverageRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/services/:serviceName/VideoServer/:layerId/coverage', async (req, reply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const type = one(r.f.type);
    if (type !== undefined && type !== '' && type !== 'telemetry' && type !== 'sensorPoints') {
      return sendJson(reply, r.f, arcgisError(400, 'Unable to compute the coverage.', [`type must be telemetry or sensorPoints, not '${type.slice(0, 40)}'.`]));
    }
    const frames = await layerFrames(r.layer);
    const { computedFrom, footprints } = geometrySummary(frames);
    const about = { computedFrom, footprints, frames: frames.length };
    if (type === 'telemetry') return sendTaggedJson(req, reply, r.f, { telemetry: startTelemetry(frames), ...about });
    if (type === 'sensorPoints') return sendTaggedJson(req, reply, r.f, { sensorPoints: sensorPoints(frames), ...about });
    return sendTaggedJson(req, reply, r.f, { area: await areaOf(frames), sensorPoints: sensorPoints(frames), telemetry: startTelemetry(frames), ...about });
  });

  const query = async (req: FastifyRequest, reply: FastifyReply) => {
    const r = await layerRequest(ctx, req, reply);
    if (!r) return reply;
    const { f } = r;
    const fail = (...details: string[]) => sendJson(reply, f, arcgisError(400, 'Unable to perform query.', details));
    let filter: GeometryFilter | null = null;
    let time: [number | null, number | null] | null;
    let maxFrames = DEFAULT_MAX_FRAMES;
    try {
      const geometry = jsonField(f, 'geometry');
      const geometryType = one(f.geometryType);
      if (geometry !== undefined && geometry !== '') filter = new GeometryFilter(parseQueryGeometry(geometry, geometryType));
      else if (geometryType) throw new GeometryError('geometry', 'is required with geometryType');
      const rel = one(f.spatialRel);
      if (rel !== undefined && rel !== '' && rel !== 'esriSpatialRelIntersects') throw new GeometryError('spatialRel', `only esriSpatialRelIntersects is supported, not '${rel.slice(0, 60)}'`);
      time = parseTime(jsonField(f, 'time'));
      const max = one(f.maxFrames) ?? (typeof f.maxFrames === 'number' ? String(f.maxFrames) : undefined);
      if (max !== undefined) {
        maxFrames = Number(max);
        if (!Number.isInteger(maxFrames) || maxFrames < 0 || maxFrames > MAX_FRAMES) throw new GeometryError('maxFrames', `must be an integer from 0 to ${MAX_FRAMES}`);
      }
    } catch (err) {
      if (err instanceof GeometryError) return fail(err.message);
      throw err;
    }
    const frames = await layerFrames(r.layer);
    const answer = queryFrames(frames, { filter, time, maxFrames });
    const { computedFrom } = geometrySummary(frames);
    return sendJson(reply, f, { ...answer, computedFrom, spatialReference: { wkid: 4326 } });
  };
  api.post('/services/:serviceName/VideoServer/:layerId/query', query);
  api.get('/services/:serviceName/VideoServer/:layerId/query', query);
}
