/** Shared CLI output helpers: tables for people, exit codes, and errors on stderr. */
import { MediaError } from '../errors.js';

export function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function reportAndExit(err: unknown): never {
  if (err instanceof MediaError) {
    process.stderr.write(`fmv-ingest: ${err.message}\n  code: ${err.code}  step: ${err.step}${err.averrorText ? `  ffmpeg: ${err.averrorText}` : ''}\n`);
    process.exit(2);
  }
  process.stderr.write(`fmv-ingest: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
}

export function fmtSeconds(s: number | null): string {
  return s === null ? 'unknown' : `${s.toFixed(3)} s`;
}

export function fmtBitRate(b: number | null): string {
  return b === null ? 'unknown' : `${(b / 1000).toFixed(0)} kb/s`;
}

export function hex(n: number | null, width = 4): string {
  return n === null ? '-' : `0x${n.toString(16).padStart(width, '0')}`;
}
