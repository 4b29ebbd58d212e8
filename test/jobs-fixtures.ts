/** Inputs for the jobs and server tests, made in-process and cached under test/.tmp/jobs-fixtures. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeFlightClip, syntheticFlight } from '../src/jobs/synthetic-flight.js';
import { writeKlvTransportStream } from './helpers/ts-writer.js';
import { scratch } from './helpers/paths.js';

export const fixtures = scratch('jobs-fixtures');

const pending = new Map<string, Promise<string>>();

/** A clip with the simulated flight's KLV (cached by name; written atomically, so parallel files may race safely). */
export function flightClip(name: string, options: { width?: number; height?: number; durationSeconds?: number; audio?: boolean } = {}): Promise<string> {
  const path = join(fixtures, name);
  if (existsSync(path)) return Promise.resolve(path);
  let p = pending.get(path);
  if (!p) {
    p = synthesizeFlightClip(path, { width: options.width ?? 320, height: options.height ?? 240, fps: 25, durationSeconds: options.durationSeconds ?? 3, audio: options.audio ?? true }).then(() => path);
    pending.set(path, p);
  }
  return p;
}

/** A transport stream with KLV and no video at all. */
export function klvOnlyStream(): string {
  const path = join(fixtures, 'klv-only.ts');
  if (!existsSync(path)) {
    const units = syntheticFlight({ durationSeconds: 1 }).map((u) => u.data);
    writeFileSync(path, writeKlvTransportStream([{ pid: 0x101, sync: false, pes: units.map((u, i) => ({ pts: i * 0.1, units: [u] })) }]));
  }
  return path;
}

/** A text file with a video extension. */
export function textFile(): string {
  const path = join(fixtures, 'notes.ts');
  if (!existsSync(path)) writeFileSync(path, 'These are notes about a flight, not a video.\n'.repeat(50));
  return path;
}

/** A fresh directory for one test. */
export function freshDir(name: string): string {
  const dir = join(scratch('jobs-runs'), `${name}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A script that runs a TypeScript entry point of ours in a plain child process (through Vite's
 * module runner, as the tests themselves run): `node <runner> src/cli.ts ingest ...`.
 */
export function tsRunner(): string {
  const path = join(fixtures, 'run-ts.mjs');
  const text = [
    "import { runnerImport } from 'vite';",
    'const [node, , entry, ...rest] = process.argv;',
    'process.argv = [node, entry, ...rest];',
    'await runnerImport(entry);',
    '',
  ].join('\n');
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
  return path;
}

/** The seed example's message sequence (Video Server's success path), with our CPU wording at 159. */
export const SEED_MESSAGES = [
  'Starting Ingest',
  'Probing Video Codec',
  'Probing Audio',
  'Probing Video Klv',
  'Generating Video Stream Info',
  'Generating Video Info',
  'Transcoding with GPU',
  'Extracting KLV Metadata',
  'Generating HLS Service Files',
  'Generating Poster Image',
  'Generating Preview Images',
  'Generating ABR Info Files',
  'Removing Temporary Files',
  'Video Files Created',
  'Saving To Storage',
  'Ingest Complete',
];
export const SEED_CODES = [117, 154, 155, 156, 157, 158, 159, 160, 161, 174, 182, 162, 163, 205, 206, 118];
