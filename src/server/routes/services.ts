/** POST /services/:serviceName/addLayer: publishes an input file as a new on-demand layer. */
import type { FastifyInstance } from 'fastify';
import { MediaError } from '../../errors.js';
import { SERVICE_NAME_PATTERN } from '../../jobs/ids.js';
import { RESOLUTIONS, type Resolution } from '../../jobs/job.js';
import { arcgisError, one, restRequest, sendJson, type Params, type ServerContext } from '../context.js';
import { InputRejected, resolveInput } from '../inputs.js';
import { sendQueueUnavailable } from './jobs.js';
import { addLiveLayer } from './live.js';
import { uploadedInput } from './uploads.js';

export function addLayerRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const { manager, roots } = ctx;
  api.post('/services/:serviceName/addLayer', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const { f, username } = r;
    const fail = (code: number, ...details: string[]) => sendJson(reply, f, arcgisError(code, 'Unable to add layer.', details));
    const serviceName = (req.params as Params).serviceName ?? '';
    if (!SERVICE_NAME_PATTERN.test(serviceName)) return fail(400, 'The service name must be letters, digits and underscores (at most 120).');
    let params: unknown = f.createParameters;
    if (typeof params === 'string') {
      try {
        params = JSON.parse(params);
      } catch {
        return fail(400, 'createParameters is not valid JSON.');
      }
    }
    if (!params || typeof params !== 'object' || Array.isArray(params)) return fail(400, 'createParameters is required: {"type": "ondemand", "source": {"path": "..."}}.');
    const cp = params as Record<string, unknown>;
    if (cp.type === 'livestream') return addLiveLayer(ctx, reply, f, username, serviceName, cp);
    if (cp.type !== 'ondemand') return fail(400, "createParameters.type must be 'ondemand' or 'livestream'.");
    const source = cp.source;
    if (!source || typeof source !== 'object' || Array.isArray(source)) return fail(400, 'createParameters.source must be an object with a path or a fileId.');
    if (cp.name !== undefined && (typeof cp.name !== 'string' || cp.name.trim().length === 0 || cp.name.length > 256)) return fail(400, 'createParameters.name must be a non-empty string.');
    const res = one(f.requestedResolutions) ?? 'fhd';
    if (!(RESOLUTIONS as readonly string[]).includes(res)) return fail(400, `requestedResolutions must be one of ${RESOLUTIONS.join(', ')}.`);
    let input: string;
    let inputRoots = roots;
    let uploadedId: string | undefined;
    // An uploaded or registered item (fileId, or fileIds as the job resource shows it), else a path.
    const src = source as Record<string, unknown>;
    const fileId = src.fileId ?? src.fileIds ?? one(f.fileIds);
    try {
      if (fileId !== undefined) {
        const uploaded = await uploadedInput(ctx, fileId);
        input = uploaded.path;
        inputRoots = [...roots, uploaded.root];
        uploadedId = uploaded.fileId;
      } else input = await resolveInput(src.path, roots);
    } catch (err) {
      if (err instanceof InputRejected) return fail(err.httpCode, err.message);
      throw err;
    }
    try {
      const job = await manager.submit(input, {
        // Enforced again where FFmpeg opens each file: a playlist cannot lead outside.
        inputRoots,
        // The path or fileId as the client gave it: the server's own directory layout stays private.
        sourceName: String(fileId ?? src.path),
        // The job resource's inputs.fileIds is the uploaded item's id, as the seed's job shows it.
        ...(uploadedId !== undefined ? { fileId: uploadedId } : {}),
        serviceName,
        requestedResolutions: res as Resolution,
        username,
        restUrl: ctx.restUrl,
        ...(typeof cp.name === 'string' ? { layerName: cp.name.trim() } : {}),
      });
      return sendJson(reply, f, { jobId: job.id, success: true });
    } catch (err) {
      if (sendQueueUnavailable(reply, f, err, 'Unable to add layer.')) return reply;
      if (err instanceof MediaError) return fail(400, err.message);
      throw err;
    }
  });
}
