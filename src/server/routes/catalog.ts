/**
 * The catalog (GET <root>: versions and how to get a token), the paged service listing, the
 * service resource with its layers, and isServiceNameAvailable. A service is listed while it has
 * a layer in storage or a job writing one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readdir } from 'node:fs/promises';
import { SERVICE_NAME_PATTERN } from '../../jobs/ids.js';
import { LocalDirectoryStorage } from '../../jobs/storage.js';
import { arcgisError, checkFormat, fields, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { activeJobIds, loadLayer, type LayerData } from './layer-data.js';
import { CURRENT_VERSION, FULL_VERSION, createdSeconds, isLiveLayer, layerName } from './layer-json.js';
import { sendTaggedJson } from './tagged-json.js';

/** Service names known to the job store or present in storage, sorted. */
async function serviceNames(ctx: ServerContext): Promise<string[]> {
  const names = new Set(ctx.manager.listServices().map((s) => s.serviceName));
  if (ctx.storage instanceof LocalDirectoryStorage) {
    for (const e of await readdir(ctx.storage.root, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && SERVICE_NAME_PATTERN.test(e.name)) names.add(e.name);
    }
  }
  return [...names].sort();
}

/** The layers of a service, by id; [] when it has none (or does not exist). */
export async function serviceLayers(ctx: ServerContext, serviceName: string): Promise<LayerData[]> {
  if (!SERVICE_NAME_PATTERN.test(serviceName)) return [];
  const ids = new Set(ctx.storage.existingLayerIds(serviceName));
  const layers = await Promise.all([...ids].sort((a, b) => a - b).map((id) => loadLayer(ctx, serviceName, id)));
  return layers.filter((l): l is LayerData => l !== null);
}

/** Whether a name is taken: a service with a layer, or one whose first job is still running. */
async function serviceExists(ctx: ServerContext, serviceName: string): Promise<boolean> {
  if ((await serviceLayers(ctx, serviceName)).length > 0) return true;
  return (await activeJobIds(ctx, serviceName)).length > 0;
}

function layerSummary(layer: LayerData): Record<string, unknown> {
  return { id: layer.layerId, name: layerName(layer), serviceType: isLiveLayer(layer) ? 'livestream' : 'ondemand', created: createdSeconds(layer) };
}

export function serviceUrl(ctx: ServerContext, serviceName: string): string {
  return `${ctx.restUrl}/services/${serviceName}/VideoServer`;
}

async function serviceJson(ctx: ServerContext, serviceName: string, layers: LayerData[]): Promise<Record<string, unknown>> {
  const record = ctx.manager.getService(serviceName);
  return {
    currentVersion: CURRENT_VERSION,
    serviceName,
    type: 'VideoServer',
    serviceType: 'Video Service',
    serviceItemId: record?.serviceItemId ?? null,
    description: '',
    url: serviceUrl(ctx, serviceName),
    created: record?.createdAt ?? (layers.length > 0 ? Math.min(...layers.map((l) => createdSeconds(l) * 1000)) : null),
    supportedQueryFormats: 'json',
    layers: layers.map(layerSummary),
  };
}

export function unknownService(serviceName: string): ReturnType<typeof arcgisError> {
  return arcgisError(404, 'Service not found.', [`No video service named '${serviceName.slice(0, 120)}'.`]);
}

function paging(f: Fields): { start: number; num: number } | null {
  const start = Number(one(f.start) ?? 1);
  const num = Number(one(f.num) ?? 100);
  return Number.isInteger(start) && start >= 1 && Number.isInteger(num) && num >= 1 && num <= 1000 ? { start, num } : null;
}

export function catalogRoutes(api: FastifyInstance, ctx: ServerContext): void {
  // The catalog needs no token: it is where a client learns how to get one.
  const catalog = async (req: FastifyRequest, reply: FastifyReply) => {
    const f = fields(req);
    if (!checkFormat(reply, f)) return reply;
    return sendTaggedJson(req, reply, f, {
      currentVersion: CURRENT_VERSION,
      fullVersion: FULL_VERSION,
      owningSystemUrl: null,
      authInfo: { isTokenBasedSecurity: true, tokenServicesUrl: `${ctx.restUrl}/generateToken`, shortLivedTokenValidity: ctx.config.tokenMinutes },
    });
  };
  // Under the prefix, '/' answers both <root> and <root>/. The JS SDK's IdentityManager asks
  // <root>/info (ArcGIS Server's server-info resource) where tokens come from.
  api.get('/', catalog);
  api.get('/info', catalog);

  api.get('/services', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const page = paging(r.f);
    if (!page) return sendJson(reply, r.f, arcgisError(400, 'Invalid paging parameters.', ['start must be an integer from 1, num an integer from 1 to 1000.']));
    const all: Array<{ name: string; layers: LayerData[] }> = [];
    for (const name of await serviceNames(ctx)) {
      const layers = await serviceLayers(ctx, name);
      if (layers.length > 0) all.push({ name, layers });
    }
    const slice = all.slice(page.start - 1, page.start - 1 + page.num);
    const services = await Promise.all(
      slice.map(async ({ name, layers }) => {
        const s = await serviceJson(ctx, name, layers);
        return { serviceName: name, type: 'VideoServer', serviceType: s.serviceType, description: s.description, url: s.url, frameworkProperties: { serviceItemId: s.serviceItemId, created: s.created, supportedQueryFormats: 'json', layers: s.layers } };
      }),
    );
    const nextStart = page.start - 1 + services.length < all.length ? page.start + services.length : -1;
    return sendTaggedJson(req, reply, r.f, { total: all.length, num: services.length, start: page.start, nextStart, services });
  });

  api.get('/services/isServiceNameAvailable', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const name = one(r.f.serviceName) ?? one(r.f.name);
    if (name === undefined || name === '') return sendJson(reply, r.f, arcgisError(400, 'Unable to check the service name.', ['serviceName is required.']));
    if (!SERVICE_NAME_PATTERN.test(name)) return sendJson(reply, r.f, { available: false, reason: 'A service name is letters, digits and underscores (at most 120).' });
    const taken = await serviceExists(ctx, name);
    return sendJson(reply, r.f, taken ? { available: false, reason: `The service '${name}' exists.` } : { available: true });
  });

  api.get('/services/:serviceName/VideoServer', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const serviceName = (req.params as Params).serviceName ?? '';
    const layers = await serviceLayers(ctx, serviceName);
    if (layers.length === 0) return sendJson(reply, r.f, unknownService(serviceName));
    return sendTaggedJson(req, reply, r.f, await serviceJson(ctx, serviceName, layers));
  });
}
