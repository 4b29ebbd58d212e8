/**
 * GET /jobs and GET /jobs/job/:jobId: the job resources, newest first; POST /jobs/job/:jobId/cancel
 * (and DELETE /jobs/job/:jobId) cancels one. With Redis, every node answers for every job.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MediaError } from '../../errors.js';
import { JOB_ID_PATTERN } from '../../jobs/ids.js';
import type { JobResource } from '../../jobs/job.js';
import { arcgisError, one, restRequest, sendJson, type Fields, type Params, type ServerContext } from '../context.js';
import { exportJobResource, exportOfJob } from './export-jobs.js';
import type { ExportManifest } from './exports.js';

/** Redis unreachable: 503 with the code and the message naming the URL; true when answered. */
export function sendQueueUnavailable(reply: FastifyReply, f: Fields, err: unknown, message: string): boolean {
  if (!(err instanceof MediaError) || err.code !== 'ERR_QUEUE_UNAVAILABLE') return false;
  sendJson(reply, f, arcgisError(503, message, [err.code, err.message]));
  return true;
}

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
    try {
      const { total, jobs } = await manager.findJobs({ limit: num, offset: start - 1 });
      const nextStart = start - 1 + jobs.length < total ? start + jobs.length : -1;
      return sendJson(reply, f, { total, start, num: jobs.length, nextStart, jobs });
    } catch (err) {
      if (sendQueueUnavailable(reply, f, err, 'Unable to list jobs.')) return reply;
      throw err;
    }
  });

  /**
   * One job's route: the token checked, the job found (else 404), Redis errors as 503. A job id
   * that names an async export goes to `exported` (the job store does not hold exports).
   */
  const withJob =
    (unavailable: string, answer: (reply: FastifyReply, f: Fields, job: JobResource) => Promise<FastifyReply>, exported: (reply: FastifyReply, f: Fields, m: ExportManifest) => FastifyReply) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const r = restRequest(ctx, req, reply);
      if (!r) return reply;
      const jobId = (req.params as Params).jobId ?? '';
      try {
        const job = JOB_ID_PATTERN.test(jobId) ? await manager.findJob(jobId) : undefined;
        const m = job ? null : await exportOfJob(ctx, jobId);
        if (m) return exported(reply, r.f, m);
        if (!job) return sendJson(reply, r.f, arcgisError(404, 'Job not found.', [`No job with id '${jobId.slice(0, 80)}'.`]));
        return await answer(reply, r.f, job);
      } catch (err) {
        if (sendQueueUnavailable(reply, r.f, err, unavailable)) return reply;
        throw err;
      }
    };

  api.get(
    '/jobs/job/:jobId',
    withJob('Unable to read the job.', async (reply, f, job) => sendJson(reply, f, job), (reply, f, m) => sendJson(reply, f, exportJobResource(ctx, m))),
  );

  const cancel = withJob('Unable to cancel the job.', async (reply, f, job) => {
    if (!(await manager.cancelJob(job.jobId))) return sendJson(reply, f, arcgisError(409, 'Unable to cancel the job.', [`The job is ${job.status} and can no longer be cancelled.`]));
    return sendJson(reply, f, { jobId: job.jobId, success: true });
  }, (reply, f, m) => sendJson(reply, f, arcgisError(409, 'Unable to cancel the job.', [`The job is an export (${m.id}); exports cannot be cancelled, they are removed when they expire.`])));
  api.post('/jobs/job/:jobId/cancel', cancel);
  api.delete('/jobs/job/:jobId', cancel);
}
