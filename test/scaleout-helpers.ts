/**
 * Real parts for the scale-out tests: a private redis-server on a free loopback port in a temp
 * directory (AOF on, no RDB snapshots), and fmv-ingest CLI processes (serve, worker) started as
 * children through the TypeScript runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './helpers/paths.js';
import { freshDir, tsRunner } from './jobs-fixtures.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function waitForLine(proc: ChildProcess, pattern: RegExp, what: string, ms = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => done(new Error(`${what} did not start within ${ms} ms:\n${out}`)), ms);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) done(undefined, m);
    };
    const onExit = (code: number | null): void => done(new Error(`${what} exited (${code}) before it was ready:\n${out}`));
    const done = (err?: Error, m?: RegExpExecArray): void => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.stderr?.off('data', onData);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', onExit);
  });
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** Stops it (SIGKILL when `crash`); start() brings it back on the same port and directory. */
  stop(crash?: boolean): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(name: string): Promise<RedisServer> {
  const dir = freshDir(`redis-${name}`);
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(proc, /Ready to accept connections/, 'redis-server', 20_000);
  };
  const stop = async (crash = false): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(crash ? 'SIGKILL' : 'SIGTERM');
    });
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}/0`, dir, stop, start };
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function cli(args: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [tsRunner(), join(repoRoot, 'src', 'cli.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

function child(proc: ChildProcess, output: () => string): Child {
  return {
    proc,
    pid: proc.pid!,
    output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

/** `fmv-ingest worker`, ready once it says it takes jobs. */
export async function startWorker(redis: string, data: string, extra: string[] = []): Promise<Child> {
  const { proc, output } = cli(['worker', '--redis', redis, '--data', data, '--hwaccel', 'cpu', ...extra]);
  await waitForLine(proc, /taking jobs/, 'fmv-ingest worker');
  return child(proc, output);
}

/** `fmv-ingest serve --redis`, with its REST root URL. */
export async function startServerNode(redis: string, data: string, extra: string[] = []): Promise<Child & { restUrl: string }> {
  mkdirSync(data, { recursive: true });
  const { proc, output } = cli(['serve', '--redis', redis, '--data', data, '--port', '0', ...extra]);
  const m = await waitForLine(proc, /listening on (\S+)/, 'fmv-ingest serve');
  return { ...child(proc, output), restUrl: m[1]! };
}

/** Polls `fn` until it returns a value. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every file below dir, relative, sorted. */
export function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}
