import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobManager } from '../src/jobs/manager.js';
import { SqliteJobStore } from '../src/jobs/store.js';
import { repoRoot } from './helpers/paths.js';
import { fixtures, flightClip, freshDir } from './jobs-fixtures.js';

/** A child that ingests with a SQLite store and says when the pass is under way. */
const CHILD = `
import { runnerImport } from 'vite';
const [, , repo, data, clip] = process.argv;
const { module: jobs } = await runnerImport(repo + '/src/jobs/index.ts');
const manager = await jobs.JobManager.open({ store: data + '/jobs.sqlite', outDir: data + '/services', tempDir: data + '/tmp', hwaccel: 'cpu' });
const job = manager.ingest(clip, { requestedResolutions: 'sd' });
process.stdout.write('JOB ' + job.id + '\\n');
job.on('progress', (p) => { if (p.frames > 0) process.stdout.write('PROGRESS ' + p.frames + '\\n'); });
job.done.then(() => process.stdout.write('DONE\\n'), (e) => process.stdout.write('FAILED ' + e.code + '\\n'));
`;

describe('a process killed with SIGKILL mid-ingest', () => {
  it('leaves a job that reads FAILED after a restart, no partial service and no temporary directory', async () => {
    const clip = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    const data = freshDir('sigkill');
    const child = join(fixtures, 'sigkill-child.mjs');
    writeFileSync(child, CHILD);
    const proc = spawn(process.execPath, [child, repoRoot, data, clip], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const jobId = await new Promise<string>((resolve, reject) => {
      let id = '';
      proc.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        id ||= /JOB (\S+)/.exec(stdout)?.[1] ?? '';
        // Killed in the middle of the native pass, with segments already written to its temp dir.
        if (id && /PROGRESS \d+/.test(stdout)) {
          proc.kill('SIGKILL');
          resolve(id);
        }
      });
      proc.on('exit', () => reject(new Error(`the child ended before the pass started:\n${stdout}\n${stderr}`)));
    });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.signalCode);
      else proc.once('exit', (_code, signal) => resolve(signal));
    });
    expect(exit).toBe('SIGKILL');
    expect(stdout).not.toMatch(/DONE|FAILED/);

    // What the dead process left: a running job and its temporary directory.
    const before = new SqliteJobStore(join(data, 'jobs.sqlite'));
    const stale = before.getJob(jobId)!;
    before.close();
    expect(stale.status).toBe('IN PROGRESS');
    expect(stale.tempDir).toBe(join(data, 'tmp', jobId));
    expect(existsSync(stale.tempDir!)).toBe(true);

    // The restart.
    const manager = await JobManager.open({ store: join(data, 'jobs.sqlite'), outDir: join(data, 'services'), tempDir: join(data, 'tmp') });
    const job = manager.getJob(jobId)!;
    expect(job.status).toBe('FAILED');
    expect(job.messages.slice(0, 6)).toEqual(['Starting Ingest', 'Probing Video Codec', 'Probing Audio', 'Probing Video Klv', 'Generating Video Stream Info', 'Generating Video Info']);
    expect(job.messages.at(-1)).toMatch(/failed: the process running the ingest stopped before the job finished/);
    expect(job.customAttributes.messageCodes.at(-1)).toBeGreaterThan(2000);
    expect(job.customAttributes.error?.code).toBe('ERR_INTERRUPTED');
    expect(Object.keys(job)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
    expect(existsSync(join(data, 'tmp', jobId))).toBe(false);
    const services = existsSync(join(data, 'services')) ? readdirSync(join(data, 'services')) : [];
    expect(services.filter((n) => n !== '.staging')).toEqual([]);
    expect(existsSync(join(data, 'services', '.staging', jobId))).toBe(false);
    await manager.close();

    // A second restart finds nothing left to recover.
    const again = await JobManager.open({ store: join(data, 'jobs.sqlite'), outDir: join(data, 'services') });
    expect(await again.recover()).toEqual([]);
    expect(again.getJob(jobId)?.messages).toEqual(job.messages);
    await again.close();
  });
});
