// Environment teardown: a worker terminated mid-ingest and a process that exits mid-ingest cancel
// the job, join its thread and leave no files; nothing crashes and no JS runs after teardown.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipsDir, makeClip, repoRoot, scratchDir } from './pipeline-fixtures.mjs';

const addonPath = process.env.FMV_INGEST_ADDON ?? join(repoRoot, 'build', 'Release', 'fmv_ingest.node');

// Runs in a worker or a child process: starts an ingest and reports its first progress event.
const script = (exitMode: 'worker' | 'exit') => `
  const { createRequire } = require('node:module');
  const addon = createRequire(${JSON.stringify(join(repoRoot, 'package.json'))})(${JSON.stringify(addonPath)});
  const [input, outDir] = ${exitMode === 'worker' ? "require('node:worker_threads').workerData" : 'process.argv.slice(1)'};
  let reported = false;
  addon.ingest(input, { outDir, preset: 'veryfast' }, (ev) => {
    if (ev.type !== 'progress' || reported || ev.outTime < 0.5) return;
    reported = true;
    ${exitMode === 'worker' ? "require('node:worker_threads').parentPort.postMessage('running');" : 'process.exit(0);'}
  });
`;

describe('teardown', () => {
  let clip: { path: string };
  beforeAll(() => {
    clip = makeClip(clipsDir, 'fhd-6s', { seconds: 6 });
  });

  it('terminating a worker mid-ingest cancels and joins the job', async () => {
    const out = scratchDir('teardown-worker');
    const worker = new Worker(script('worker'), { eval: true, workerData: [clip.path, out] });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    expect(readdirSync(out).length).toBeGreaterThan(0);
    const started = performance.now();
    await worker.terminate();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(readdirSync(out)).toEqual([]);
  });

  it('process.exit() mid-ingest exits cleanly and leaves no files', () => {
    const out = scratchDir('teardown-exit');
    const r = spawnSync(process.execPath, ['-e', script('exit'), clip.path, out], { timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toBe('');
    expect(readdirSync(out)).toEqual([]);
  });
});
