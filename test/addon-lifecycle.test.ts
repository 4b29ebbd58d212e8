import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { kwiver, repoRoot, scratch } from './helpers/paths.js';

/** A FIFO that nobody writes to: opening it for reading would block forever in open(2). */
function fifo(name: string): string {
  const path = join(scratch('lifecycle'), name);
  rmSync(path, { force: true });
  execFileSync('mkfifo', [path]);
  return path;
}

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

  it('a probe stalled on an input that never delivers ends at its timeout, and does not hold up exit', async () => {
    const { probe } = await import('../src/index.js');
    const path = fifo('no-writer-timeout');
    const started = performance.now();
    await expect(probe(path, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'MediaError', code: 'ERR_TIMEOUT', step: 'open' });
    expect(performance.now() - started).toBeLessThan(2000);
    // Without a timeout, process.exit() still exits at once: the stalled job is cancelled and joined.
    const script = `
      import(${JSON.stringify(dist('index.js'))}).then((m) => {
        m.probe(${JSON.stringify(fifo('no-writer-exit'))}).catch(() => {});
        m.generatePreviews(${JSON.stringify(fifo('no-writer-exit-2'))}, { outDir: ${JSON.stringify(scratch('lifecycle-previews'))} }).catch(() => {});
        setTimeout(() => process.exit(0), 100);
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });

  it('a FIFO input is read once a writer connects', async () => {
    const { probe } = await import('../src/index.js');
    const path = fifo('with-writer');
    const writer = spawn('sh', ['-c', `sleep 0.3; cat ${JSON.stringify(kwiver('h264_klv.ts'))} > ${JSON.stringify(path)}`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const info = await probe(path, { timeoutMs: 10_000 });
    expect(info.klv).toHaveLength(1);
    expect(await written).toBe(0);
  });

  it('a worker terminated while its probe waits on a stalled input ends promptly', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(dist('index.js'))}).then((m) => {
        m.probe(${JSON.stringify(fifo('no-writer-worker'))}).catch(() => {});
        parentPort.postMessage('running');
      });`;
    const worker = new Worker(code, { eval: true });
    await new Promise<void>((resolve, reject) => {
      worker.on('message', () => resolve());
      worker.on('error', reject);
    });
    const started = performance.now();
    await worker.terminate();
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('a KLV stream nobody reads still ends at its timeout', async () => {
    const { KlvUnitStream } = await import('../src/index.js');
    const stream = new KlvUnitStream(kwiver('aphill_short.ts'), { batchSize: 1, timeoutMs: 500 });
    await expect(stream.stats).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
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
