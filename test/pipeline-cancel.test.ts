// Cancellation and timeouts reach the native loop: a cancelled job stops within a second and
// leaves nothing in its scratch directory.
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/pipeline.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';

describe('cancel and timeout', () => {
  let clip: { path: string };
  beforeAll(() => {
    clip = makeClip(clipsDir, 'fhd-6s', { seconds: 6 });
  });

  it('AbortSignal stops the job within a second and removes its files', async () => {
    const out = scratchDir('cancel-signal');
    const ac = new AbortController();
    let abortedAt = 0;
    const run = startPipeline(clip.path, { outDir: out, signal: ac.signal, preset: 'veryfast' }, {
      onProgress: (p) => {
        // Abort once segments are on disk, so there is something to clean up.
        if (p.outTime > 1.2 && !abortedAt) {
          abortedAt = performance.now();
          ac.abort();
        }
      },
    });
    await expect(run.done).rejects.toMatchObject({ name: 'MediaError', code: 'ERR_CANCELLED' });
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(readdirSync(out)).toEqual([]);
  });

  it('cancel() on the run does the same', async () => {
    const out = scratchDir('cancel-method');
    const run = startPipeline(clip.path, { outDir: out }, {
      onStep: (s) => {
        if (s === 'videoInfo') run.cancel();
      },
    });
    await expect(run.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(readdirSync(out)).toEqual([]);
  });

  it('timeoutMs fails the job with ERR_TIMEOUT and removes its files', async () => {
    const out = scratchDir('cancel-timeout');
    const started = performance.now();
    await expect(startPipeline(clip.path, { outDir: out, timeoutMs: 700 }).done).rejects.toMatchObject({ code: 'ERR_TIMEOUT', step: 'transcode' });
    expect(performance.now() - started).toBeLessThan(2500);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a handler that throws cancels the job and rejects with its error', async () => {
    const out = scratchDir('cancel-handler');
    const boom = new Error('handler failed');
    const run = startPipeline(clip.path, { outDir: out }, {
      onPlan: () => {
        throw boom;
      },
    });
    await expect(run.done).rejects.toBe(boom);
    expect(readdirSync(out)).toEqual([]);
  });

  it('the caller stack is grafted onto native errors', async () => {
    const out = scratchDir('cancel-stack');
    const err = await startPipeline('/no/such/file.ts', { outDir: out }).done.catch((e: Error) => e);
    expect(err.stack).toMatch(/pipeline-cancel\.test\.ts/);
  });
});
