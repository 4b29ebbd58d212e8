/**
 * Inputs named over HTTP: local files only, resolved with realpath and required to lie inside a
 * configured input root. URLs and FFmpeg protocol prefixes (http:, concat:, subfile, pipe:, ...)
 * are refused; HLS playlists are read and every URI in them must resolve inside the roots too;
 * ffconcat and SDP files, which open further inputs, are refused.
 */
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MediaError } from '../errors.js';
import { isInside } from '../jobs/storage.js';

export class InputRejected extends MediaError {
  /** ArcGIS-style error code for the response (400 bad request, 403 outside the roots). */
  readonly httpCode: number;
  constructor(message: string, httpCode = 400) {
    super(message, { code: 'ERR_INPUT_REJECTED', step: 'input' });
    this.name = 'InputRejected';
    this.httpCode = httpCode;
  }
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const MAX_PLAYLIST_BYTES = 16 * 1024 * 1024;
const MAX_PLAYLIST_DEPTH = 4;

/** Resolves the input roots once (they may themselves be symbolic links). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      out.push(await realpath(r));
    } catch (err) {
      throw new MediaError(`The input root ${r} cannot be used: ${(err as Error).message}`, { code: 'ERR_INVALID_OPTION', step: 'config' });
    }
  }
  return out;
}

function insideAny(roots: readonly string[], path: string): boolean {
  return roots.some((r) => isInside(r, path));
}

function refuseProtocols(path: string, what: string): void {
  // "subfile,,start,0,end,0,,:/x" and friends: a comma-separated option list before the colon.
  const firstSegment = path.split('/')[0]!;
  if (SCHEME.test(path) || (!isAbsolute(path) && firstSegment.includes(':'))) {
    throw new InputRejected(`${what} must be a local file path; URLs and protocol prefixes such as '${path.slice(0, path.indexOf(':') + 1)}' are not accepted`);
  }
}

async function sniff(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}

/** Resolves `raw` to the real path of a regular file inside one of `roots` (real paths). */
export async function resolveInput(raw: unknown, roots: readonly string[]): Promise<string> {
  if (typeof raw !== 'string' || raw.trim().length === 0) throw new InputRejected("source.path must be a non-empty string");
  if (raw.length > 4096 || raw.includes('\0')) throw new InputRejected('source.path is not a usable path');
  refuseProtocols(raw, 'source.path');
  const candidates = isAbsolute(raw) ? [resolve(raw)] : roots.map((r) => resolve(r, raw));
  // Judge the path as written first, so nothing outside the roots is even looked at.
  const lexical = candidates.filter((c) => insideAny(roots, c));
  if (lexical.length === 0) throw new InputRejected('source.path is outside the configured input roots', 403);
  let real: string | undefined;
  for (const c of lexical) {
    try {
      real = await realpath(c);
      break;
    } catch {
      // Try the next root.
    }
  }
  if (real === undefined) throw new InputRejected(`source.path '${raw}' does not exist in the input roots`, 404);
  if (!insideAny(roots, real)) throw new InputRejected('source.path leads outside the configured input roots', 403);
  const info = await stat(real);
  if (!info.isFile()) throw new InputRejected(`source.path '${raw}' is not a regular file`);
  await checkContainer(real, roots, 0);
  return real;
}

/** Playlist entries checked per input at most (nested playlists included). */
const MAX_PLAYLIST_ENTRIES = 100_000;

interface PlaylistWalk {
  /** Real paths of the playlists already checked: each is read once, however often it is named. */
  seen: Set<string>;
  entries: number;
}

async function checkContainer(path: string, roots: readonly string[], depth: number, walk: PlaylistWalk = { seen: new Set(), entries: 0 }): Promise<void> {
  const head = await sniff(path);
  const text = head.replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (text.startsWith('#EXTM3U')) return checkPlaylist(path, roots, depth, walk);
  if (/^ffconcat\b/i.test(text)) throw new InputRejected('ffconcat lists are not accepted as inputs over HTTP');
  if (/^v=0\r?\n/.test(text)) throw new InputRejected('SDP files are not accepted as inputs over HTTP');
}

/**
 * Every URI of an HLS playlist must be a local file inside the roots (nested playlists too). An
 * early answer for the client: the native layer enforces the same rule again where FFmpeg opens
 * each file (inputRoots), so this reading need not match FFmpeg's parser in every detail; it
 * errs on the side of refusing (lines end at CR, LF or NUL as FFmpeg ends them; attribute URIs
 * quoted or not; the path taken literally, as the file protocol takes it).
 */
async function checkPlaylist(path: string, roots: readonly string[], depth: number, walk: PlaylistWalk): Promise<void> {
  if (depth >= MAX_PLAYLIST_DEPTH) throw new InputRejected('playlists are nested too deeply');
  if (walk.seen.has(path)) return;
  walk.seen.add(path);
  const info = await stat(path);
  if (info.size > MAX_PLAYLIST_BYTES) throw new InputRejected('the playlist is too large');
  const lines = (await readFile(path, 'utf8')).split(/\r\n|[\r\n\0]/);
  const uris: string[] = [];
  for (const line of lines) {
    const l = line.trim();
    if (l.length === 0) continue;
    if (l.startsWith('#')) {
      for (const m of l.matchAll(/URI=(?:"([^"]*)"|([^,\s]*))/gi)) uris.push(m[1] ?? m[2]!);
      continue;
    }
    uris.push(l);
  }
  walk.entries += uris.length;
  if (walk.entries > MAX_PLAYLIST_ENTRIES) throw new InputRejected(`the playlists name more than ${MAX_PLAYLIST_ENTRIES} entries`);
  for (const uri of uris) {
    refuseProtocols(uri, 'a playlist entry');
    const target = resolve(dirname(path), uri);
    if (!insideAny(roots, target)) throw new InputRejected(`the playlist refers to '${uri}', outside the configured input roots`, 403);
    let real: string;
    try {
      real = await realpath(target);
    } catch {
      throw new InputRejected(`the playlist refers to '${uri}', which does not exist`);
    }
    if (!insideAny(roots, real)) throw new InputRejected(`the playlist refers to '${uri}', which leads outside the configured input roots`, 403);
    if (/\.m3u8?$/i.test(real) || (await sniff(real)).trimStart().startsWith('#EXTM3U')) await checkPlaylist(real, roots, depth + 1, walk);
  }
}
