import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { kwiver, repoRoot } from './helpers/paths.js';

const dist = (name: string) => join(repoRoot, 'dist', name);

describe('the addon across environments', () => {
  it('loads and works in worker threads, and a worker terminated mid-job does not take the process down', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(dist('index.js'))}).then(async (m) => {
        const info = await m.probe(${JSON.stringify(kwiver('aphill_short.ts'))});
        parentPort.postMessage({ klv: info.klv.length });
        // Leave an extraction running with a consumer that never reads: the native thread waits for credit.
        const stream = new m.KlvUnitStream(${JSON.stringify(kwiver('aphill_short.ts'))}, { batchSize: 1 });
        stream.stats.catch(() => {});
        parentPort.postMessage('running');
      });`;
    for (let i = 0; i < 3; i++) {
      const worker = new Worker(code, { eval: true });
      const messages: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m) => {
          messages.push(m);
          if (m === 'running') resolve();
        });
        worker.on('error', reject);
      });
      expect(messages[0]).toEqual({ klv: 1 });
      await worker.terminate();
    }
  });

  it('the process exits cleanly while native jobs are still running', () => {
    const script = `
      import(${JSON.stringify(dist('index.js'))}).then((m) => {
        const stream = new m.KlvUnitStream(${JSON.stringify(kwiver('aphill_short.ts'))}, { batchSize: 1 });
        stream.stats.catch(() => {});
        setTimeout(() => process.exit(0), 50);
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });

  it('an addon that cannot be loaded explains which file and how to fix it', () => {
    const script = `import(${JSON.stringify(dist('index.js'))}).then((m) => { try { m.versions(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, FMV_INGEST_ADDON: '/nonexistent/fmv_ingest.node' } });
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    expect(out.code).toBe('ERR_ADDON_LOAD');
    expect(out.message).toContain('/nonexistent/fmv_ingest.node');
    expect(out.message).toMatch(/Fix: npm run bootstrap/);
  });

  it('counters() shows native operations in flight, started and failed', async () => {
    const { counters, probe, KlvUnitStream } = await import('../src/index.js');
    const before = counters();
    const running = probe(kwiver('aphill_short.ts'));
    expect(counters().probe.running).toBe(before.probe.running + 1);
    await running;
    await probe('/no/such/file.ts').catch(() => undefined);
    const stream = new KlvUnitStream(kwiver('h264_klv.ts'));
    expect(counters().klv.running).toBe(before.klv.running + 1);
    for await (const batch of stream) void batch;
    await stream.stats;
    await new Promise((r) => setImmediate(r));
    const after = counters();
    expect(after.probe).toEqual({ running: before.probe.running, started: before.probe.started + 2, failed: before.probe.failed + 1 });
    expect(after.klv).toEqual({ running: before.klv.running, started: before.klv.started + 1, failed: before.klv.failed });
  });

  it('reports the FFmpeg versions it runs against (5.1 or newer)', async () => {
    const { versions } = await import('../src/index.js');
    const v = versions();
    expect(Number(v.libavformat!.split('.')[0])).toBeGreaterThanOrEqual(59);
  });
});
