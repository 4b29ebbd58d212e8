import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../src/cli/ingest-command.js';
import { newFileId, newJobId, newServiceItemId } from '../src/jobs/ids.js';
import { IngestJob, type JobResource } from '../src/jobs/job.js';
import { STEPS, stepByKey } from '../src/jobs/steps.js';
import { repoRoot } from './helpers/paths.js';
import { flightClip, freshDir, textFile, tsRunner } from './jobs-fixtures.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { until?: RegExp; onMatch?: (m: RegExpExecArray, kill: () => void) => Promise<void> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [tsRunner(), join(repoRoot, 'src', 'cli.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    let matched = false;
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = options.until && !matched ? options.until.exec(stderr) : null;
      if (m && options.onMatch) {
        matched = true;
        options.onMatch(m, () => proc.kill('SIGTERM')).catch(reject);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fmv-ingest ingest', () => {
  it('--json: stdout carries only the job JSON, progress goes to stderr as plain lines, exit 0 when COMPLETED', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const out = join(freshDir('cli-ingest'), 'services');
    const r = await cli(['ingest', clip, '--out', out, '--resolutions', 'sd', '--hwaccel', 'cpu', '--username', 'pilot', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as JobResource;
    expect(job.status).toBe('COMPLETED');
    expect(job.username).toBe('pilot');
    expect(job.customAttributes.messageCodes).toEqual([117, 154, 155, 156, 157, 158, 1159, 160, 161, 174, 182, 162, 163, 205, 206, 118]);
    expect(existsSync(join(out, 'Cheyenne_TS', '0', 'ABR.m3u8'))).toBe(true);
    // Not a terminal: no carriage returns or escape codes, one line per step.
    expect(r.stderr).not.toMatch(/\r|\x1b/);
    for (const s of ['Starting Ingest', 'Transcoding with CPU', 'Saving To Storage', 'Ingest Complete']) expect(r.stderr).toContain(s);
    expect(r.stderr).toMatch(/^ 117  Starting Ingest$/m);
  });

  it('without --json: a summary of where the outputs are', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const out = join(freshDir('cli-ingest-plain'), 'services');
    const r = await cli(['ingest', clip, '--out', out, '--resolutions', 'sd', '--hwaccel', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`outputs   ${join(out, 'Cheyenne_TS', '0')}`);
    expect(r.stdout).toContain(`playlist  ${join(out, 'Cheyenne_TS', '0', 'ABR.m3u8')}`);
  });

  it('a failed ingest exits 1, with the job JSON on stdout and the failing step on stderr', async () => {
    const out = join(freshDir('cli-ingest-fail'), 'services');
    const r = await cli(['ingest', textFile(), '--out', out, '--json']);
    expect(r.code).toBe(1);
    const job = JSON.parse(r.stdout) as JobResource;
    expect(job.status).toBe('FAILED');
    expect(job.customAttributes.messageCodes).toEqual([117, 2154]);
    expect(r.stderr).toMatch(/FAILED: Probing Video Codec failed: .*\n {2}code: ERR_INPUT_FORMAT {2}step: /);
    expect(existsSync(join(out, 'notes_TS'))).toBe(false);
  });

  it('a bad option value is refused before anything starts', async () => {
    const r = await cli(['ingest', 'x.ts', '--out', freshDir('cli-bad'), '--resolutions', '8k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Expected one of 'sd', 'hd', 'fhd', 'uhd' for --resolutions but received '8k'");
    expect(r.stdout).toBe('');
  });
});

describe('progress on a terminal', () => {
  it('redraws one bar line in place and prints each step above it', async () => {
    const out = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
    out.isTTY = true;
    out.columns = 120;
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const job = new IngestJob(
      {
        jobId: newJobId(),
        fileId: newFileId(),
        serviceItemId: newServiceItemId(),
        serviceName: 'S',
        serviceUrl: 'http://localhost/arcgis/rest/services/S/VideoServer',
        layerId: 0,
        layerName: 'S',
        requestedResolutions: 'sd',
        username: 'u',
        source: 's.ts',
      },
      () => undefined,
    );
    new ProgressReporter(out as unknown as NodeJS.WriteStream).attach(job);
    job.markStarted();
    job.appendStep(stepByKey('start'));
    job.setProgress({ step: 'Transcoding with CPU', percent: 42, frames: 100, outTime: 4, fps: 120.4, speed: 4.8, eta: 75 });
    job.appendStep(stepByKey('probeVideo'));
    job.complete({ location: '/x', masterPlaylist: '/x/ABR.m3u8', files: [] });
    expect(text).toContain('\r\x1b[2K[===========>                ]  42%  Transcoding with CPU  120 fps  ETA 1:15');
    // The step printed after the bar was cleared, then the bar drawn again under it.
    expect(text).toContain('\r\x1b[2K 154  Probing Video Codec\n\r\x1b[2K[');
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
    expect(STEPS).toHaveLength(16);
  });
});

describe('fmv-ingest serve', () => {
  it('listens on the port given, issues tokens, and stops on SIGTERM; its request log holds no token', async () => {
    const dir = freshDir('cli-serve');
    let token = '';
    const r = await cli(['serve', '--port', '0', '--log', '--data', join(dir, 'data'), '--input-root', dir, '--user', 'admin:pw', '--user', 'ops:pw2'], {
      until: /listening on (http:\/\/\S+)/,
      onMatch: async (m, stop) => {
        const res = await fetch(`${m[1]}/generateToken`, { method: 'POST', body: new URLSearchParams({ username: 'ops', password: 'pw2', f: 'json' }) });
        const body = (await res.json()) as { token?: string };
        expect(body.token).toEqual(expect.any(String));
        token = body.token!;
        expect((await fetch(`${m[1]}/jobs?f=json&token=${token}`)).status).toBe(200);
        stop();
      },
    });
    expect(r.stderr).toContain('/arcgis/rest');
    expect(r.stderr).toContain('token=<redacted>');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'data', 'jobs.sqlite'))).toBe(true);
  });

  it('refuses to start without users', async () => {
    const dir = freshDir('cli-serve-bad');
    const r = await cli(['serve', '--port', '0', '--data', dir, '--input-root', dir], { });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('At least one user is required');
  });
});
