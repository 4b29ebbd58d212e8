/**
 * Option validation in the style of sharp: every message names the option path and the value.
 * The native layer trusts what passes these checks.
 */
import { realpathSync, statSync } from 'node:fs';
import { MediaError } from './errors.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}' of type string`;
  if (typeof value === 'object') return `${Array.isArray(value) ? 'array' : 'object'}`;
  return `${String(value)} of type ${typeof value}`;
}

export function invalid(expected: string, path: string, value: unknown, step = 'options'): MediaError {
  return new MediaError(`Expected ${expected} for ${path} but received ${describe(value)}`, { code: 'ERR_INVALID_OPTION', step });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === null);
}

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= n; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[n]!;
}

/** Rejects option names we do not know, suggesting the nearest known one (a likely misspelling). */
export function checkKnownKeys(options: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
      const dist = editDistance(key, k);
      if (dist < bestDistance) {
        bestDistance = dist;
        best = k;
      }
    }
    const hint = best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean '${best}'?)` : '';
    throw new MediaError(`Unknown option '${key}' in ${path}${hint}; known options: ${known.join(', ')}`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  }
}

export function optionsObject(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid('an object', path, value);
  return value;
}

export function checkString(value: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string' || (opts.nonEmpty && value.length === 0)) throw invalid(opts.nonEmpty ? 'a non-empty string' : 'a string', path, value);
  if (value.includes('\0')) throw invalid('a string without NUL characters', path, value);
  return value;
}

export function checkInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`an integer between ${min} and ${max}`, path, value);
  }
  return value;
}

export function checkNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`a number between ${min} and ${max}`, path, value);
  }
  return value;
}

export function checkEvenInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max || value % 2 !== 0) {
    throw invalid(`an even integer between ${min} and ${max}`, path, value);
  }
  return value;
}

export function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw invalid('a boolean', path, value);
  return value;
}

export function checkEnum<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, path, value);
  }
  return value as T;
}

export function checkSignal(value: unknown, path: string): AbortSignal {
  if (!(value instanceof AbortSignal)) throw invalid('an AbortSignal', path, value);
  return value;
}

/**
 * `inputRoots`: directories the input, and every file it leads the demuxer to (HLS segments,
 * keys, nested playlists), must lie in. Returned as real paths, for the native check.
 */
export function checkInputRoots(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('a non-empty array of directory paths', path, value);
  return value.map((root, i) => {
    const p = checkString(root, `${path}[${i}]`, { nonEmpty: true });
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      throw invalid('an existing directory', `${path}[${i}]`, root);
    }
    if (!statSync(real).isDirectory()) throw invalid('a directory', `${path}[${i}]`, root);
    return real;
  });
}

/** Options that decide what an input may open: set only by the library (see inputRoots). */
const RESERVED_INPUT_OPTIONS = new Set(['protocol_whitelist', 'protocol_blacklist', 'probesize', 'analyzeduration']);

/**
 * `inputOptions`: protocol and demuxer options by name, as the ffmpeg CLI takes them before `-i`
 * (`{ listen: 1 }` for RTMP, `{ rtsp_flags: 'listen' }`, `{ timeout: 5000000 }`). Values become
 * strings (booleans 1/0); an option neither the protocol nor the demuxer takes fails at open.
 */
export function checkInputOptions(value: unknown, path: string): Record<string, string> {
  const o = optionsObject(value, path);
  const out: Record<string, string> = {};
  const entries = Object.entries(o);
  if (entries.length > 64) throw invalid('at most 64 options', path, `${entries.length} options`);
  for (const [key, v] of entries) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(key)) throw invalid('an FFmpeg option name (lower-case letters, digits, _)', `${path} key`, key);
    if (RESERVED_INPUT_OPTIONS.has(key)) throw invalid(`an option other than ${key} (set by the library; see probeSize, analyzeDurationUs, inputRoots)`, `${path}.${key}`, v);
    if (typeof v === 'boolean') out[key] = v ? '1' : '0';
    else if (typeof v === 'number' && Number.isFinite(v)) out[key] = String(v);
    else if (typeof v === 'string' && !v.includes('\0') && v.length <= 4096) out[key] = v;
    else throw invalid('a string, a finite number or a boolean', `${path}.${key}`, v);
  }
  return out;
}
