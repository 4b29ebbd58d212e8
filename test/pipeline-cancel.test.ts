// Cancellation and timeouts reach the native loop: a cancelled job stops within a second and
// leaves nothing in its scratch directory.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/pipeline.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';

describe('cancel and timeout', () => {
  let clip: { path: string; klvUnits: number };
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

  it('a handler that throws on the last step, when the pass has already finished, still leaves nothing', async () => {
    const out = scratchDir('cancel-handler-late');
    writeFileSync(join(out, 'notes.txt'), 'kept');
    const boom = new Error('late handler failure');
    const run = startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', previews: false }, {
      onStep: (step) => {
        if (step === 'abr') throw boom;
      },
    });
    await expect(run.done).rejects.toBe(boom);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('a KLV handler that holds up the event loop slows the pass instead of losing or piling up units', async () => {
    const out = scratchDir('klv-backpressure');
    let units = 0;
    let batches = 0;
    const result = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', previews: false }, {
      onKlv: (batch) => {
        units += batch.length;
        // The first batches each block the JS thread: the native side runs out of credit and waits.
        if (batches++ < 3) {
          const until = Date.now() + 300;
          while (Date.now() < until);
        }
      },
    }).done;
    expect(units).toBe(clip.klvUnits);
    expect(result.counts.klvUnits).toBe(clip.klvUnits);
  });

  it('the caller stack is grafted onto native errors', async () => {
    const out = scratchDir('cancel-stack');
    const err = await startPipeline('/no/such/file.ts', { outDir: out }).done.catch((e: Error) => e);
    expect(err.stack).toMatch(/pipeline-cancel\.test\.ts/);
  });

  it('an output directory that already holds an ingest is refused and left exactly as it was', async () => {
    const out = scratchDir('outputs-taken');
    writeFileSync(join(out, 'notes.txt'), 'kept');
    const first = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast' }).done;
    // Only what the ingest wrote is listed: the file that was there stays out of it.
    expect(first.files).not.toContain('notes.txt');
    expect(first.files).toContain('ABR.m3u8');
    const before = new Map(readdirSync(out, { recursive: true, encoding: 'utf8' }).map((f) => [f, safeRead(join(out, f))]));
    const err = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast' }).done.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'MediaError', code: 'ERR_OUTPUT_EXISTS', step: 'output' });
    expect((err as Error).message).toMatch(/480p already exists/);
    const after = new Map(readdirSync(out, { recursive: true, encoding: 'utf8' }).map((f) => [f, safeRead(join(out, f))]));
    expect(after).toEqual(before);
  });

  it('a cancelled job removes only what it wrote, not what was in its directory', async () => {
    const out = scratchDir('outputs-shared');
    writeFileSync(join(out, 'notes.txt'), 'kept');
    const ac = new AbortController();
    const run = startPipeline(clip.path, { outDir: out, signal: ac.signal, requestedResolutions: 'sd', preset: 'ultrafast' }, {
      onProgress: (p) => {
        if (p.outTime > 1.2) ac.abort();
      },
    });
    await expect(run.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path).toString('base64');
  } catch {
    return '<dir>';
  }
}
