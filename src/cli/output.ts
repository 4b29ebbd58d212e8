/** Shared CLI output helpers: tables for people, exit codes, and errors on stderr. */
import { CommanderError } from 'commander';
import { MediaError } from '../errors.js';
import { KlvError } from '../klv/index.js';

/** Exit codes: 1 for a failure of the work, 2 for bad arguments (as the README says). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function reportAndExit(err: unknown): never {
  // commander has already printed its message (and the help) to stderr.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  if (err instanceof MediaError) {
    process.stderr.write(`fmv-ingest: ${err.message}\n  code: ${err.code}  step: ${err.step}${err.averrorText ? `  ffmpeg: ${err.averrorText}` : ''}\n`);
    process.exit(err.code === 'ERR_INVALID_OPTION' ? EXIT_USAGE : EXIT_FAILED);
  }
  if (err instanceof KlvError) {
    process.stderr.write(`fmv-ingest: ${err.message}\n  code: ${err.code}\n`);
    process.exit(EXIT_FAILED);
  }
  // A file the command could not write or read: the message says which and why, no stack needed.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    process.stderr.write(`fmv-ingest: ${err.message}\n  code: ${code}\n`);
    process.exit(EXIT_FAILED);
  }
  process.stderr.write(`fmv-ingest: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(EXIT_FAILED);
}

/** A --timeout value: whole milliseconds, digits only ("10abc" is refused, not read as 10). */
export function parseMilliseconds(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 2 ** 31 - 1) {
      throw new MediaError(`Expected a whole number of milliseconds (1 to 2147483647) for ${flag} but received '${value}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
    }
    return Number(value);
  };
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
