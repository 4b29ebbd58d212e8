/** GET /jobs and GET /jobs/job/:jobId: the job resources, newest first. */
import type { FastifyInstance } from 'fastify';
import { JOB_ID_PATTERN } from '../../jobs/ids.js';
import { arcgisError, one, restRequest, sendJson, type Params, type ServerContext } from '../context.js';

export function jobRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const { manager } = ctx;
  api.get('/jobs', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const { f } = r;
    const start = Number(one(f.start) ?? 1);
    const num = Number(one(f.num) ?? 100);
    if (!Number.isInteger(start) || start < 1 || !Number.isInteger(num) || num < 1 || num > 1000) {
      return sendJson(reply, f, arcgisError(400, 'Invalid paging parameters.', ['start must be an integer from 1, num an integer from 1 to 1000.']));
    }
    const total = manager.store.countJobs();
    const jobs = manager.listJobs({ limit: num, offset: start - 1 });
    const nextStart = start - 1 + jobs.length < total ? start + jobs.length : -1;
    return sendJson(reply, f, { total, start, num: jobs.length, nextStart, jobs });
  });

  api.get('/jobs/job/:jobId', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const jobId = (req.params as Params).jobId ?? '';
    const job = JOB_ID_PATTERN.test(jobId) ? manager.getJob(jobId) : undefined;
    if (!job) return sendJson(reply, r.f, arcgisError(404, 'Job not found.', [`No job with id '${jobId.slice(0, 80)}'.`]));
    return sendJson(reply, r.f, job);
  });
}
