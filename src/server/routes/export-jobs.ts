/**
 * An async frameset or clip as a job resource, so that clients that poll GET <root>/jobs/job/:jobId
 * for ingests can poll exports the same way. The job id is the export's id in UUID form (see
 * exportJobId); the resource is made from the export's manifest on each request, with the job
 * resource's top-level keys in their order. Exports are not in the job store: GET /jobs does not
 * list them, and they cannot be cancelled (they expire).
 */
import { JOB_ID_PATTERN } from '../../jobs/ids.js';
import type { ServerContext } from '../context.js';
import { exportJobId, readManifest, type ExportManifest } from './exports.js';

const TYPES = { frameset: 'Export Frameset', clip: 'Export Clip' } as const;
const STATUS = { processing: 'IN PROGRESS', completed: 'COMPLETED', failed: 'FAILED' } as const;

/** The manifest of the export a job id names, if that export exists and has not expired. */
export async function exportOfJob(ctx: ServerContext, jobId: string): Promise<ExportManifest | null> {
  if (!JOB_ID_PATTERN.test(jobId)) return null;
  const hex = jobId.slice(1).replace(/-/g, '');
  for (const prefix of ['f', 'c']) {
    const m = await readManifest(ctx, `${prefix}${hex}`);
    if (m && m.expires > Date.now()) return m;
  }
  return null;
}

/** The export's state in the shape of an ingest job's resource. */
export function exportJobResource(ctx: ServerContext, m: ExportManifest): Record<string, unknown> {
  const serviceUrl = `${ctx.restUrl}/services/${m.serviceName}/VideoServer`;
  const statusUrl = `${serviceUrl}/${m.layerId}/exports/${m.id}`;
  const what = m.kind === 'frameset' ? 'Frameset' : 'Clip';
  const messages = [`Starting ${what} Export`];
  if (m.status === 'completed') messages.push(`${what} Export Complete`);
  if (m.status === 'failed') messages.push(`${what} Export Failed`);
  const p = m.progress;
  // Done: 100 whatever the planned units were (a frameset leaves out times past the video).
  const percent = m.status === 'completed' ? 100 : p && p.total > 0 ? Math.floor((100 * p.done) / p.total) : 0;
  return {
    jobId: exportJobId(m.id),
    inputs: { serviceItemId: m.serviceItemId ?? null, exportId: m.id, serviceUrl },
    messages,
    type: TYPES[m.kind],
    results: { layerId: m.layerId, layerName: m.layerName ?? null, serviceName: m.serviceName, statusUrl, ...(m.result ? { export: m.result } : {}) },
    status: STATUS[m.status],
    username: m.username ?? null,
    customAttributes: {
      progress: { percent, done: p?.done ?? 0, total: p?.total ?? null },
      timings: { submitted: new Date(m.created).toISOString(), expires: new Date(m.expires).toISOString() },
      error: m.error,
    },
  };
}
