/**
 * `fmv-ingest live <url> --out ROOT --service-name NAME`: the feed becomes a live layer of a
 * service under the storage root (ROOT/NAME/<layerId>/), with a job resource like the server's,
 * instead of a bare output directory.
 */
import { MediaError } from '../errors.js';
import type { IngestJob } from '../jobs/job.js';
import { JobManager } from '../jobs/manager.js';
import { MemoryJobStore } from '../jobs/store.js';
import type { LiveStatus } from '../live/index.js';
import type { HwAccel, LiveOptions, Tier } from '../pipeline-options.js';

export interface LiveServiceRequest {
  input: string;
  root: string;
  serviceName: string;
  layerName?: string;
  username?: string;
  requestedResolutions?: Tier;
  hwaccel?: HwAccel;
  live: LiveOptions;
  /** Flags that only a bare output directory takes; refused here, by name. */
  unsupported: string[];
}

export interface LiveServiceHooks {
  onJob(job: IngestJob, status: () => LiveStatus | undefined): void;
}

/** Whether the address is one we listen on rather than dial. */
export function listensOn(input: string): boolean {
  return input === '-' || input.startsWith('udp://') || input.startsWith('rist://@') || /[?&](mode=listener|listen=1)\b/.test(input);
}

export async function liveIntoService(r: LiveServiceRequest, hooks: LiveServiceHooks): Promise<IngestJob> {
  if (r.unsupported.length > 0)
    throw new MediaError(`${r.unsupported.join(', ')} cannot be used with --service-name (a live layer takes the service's settings)`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  const manager = new JobManager({ store: new MemoryJobStore(), outDir: r.root });
  try {
    const job = manager.startLive(r.input === '-' ? 'pipe:0' : r.input, {
      serviceName: r.serviceName,
      mode: listensOn(r.input) ? 'server' : 'client',
      live: r.live,
      ...(r.layerName !== undefined ? { layerName: r.layerName } : {}),
      ...(r.username !== undefined ? { username: r.username } : {}),
      ...(r.requestedResolutions !== undefined ? { requestedResolutions: r.requestedResolutions } : {}),
      ...(r.hwaccel !== undefined ? { hwaccel: r.hwaccel } : {}),
    });
    hooks.onJob(job, () => manager.liveRun(job.id)?.status());
    await job.done.catch(() => undefined);
    return job;
  } finally {
    await manager.close();
  }
}
