/**
 * LL-HLS delivery directives (RFC 8216bis §6.2.5.2) for a live layer's directory: a playlist
 * request with `_HLS_msn` (and `_HLS_part`) is held until the playlist holds that segment (or
 * part), and a request for the part a playlist hints at (EXT-X-PRELOAD-HINT) is held until the
 * part is written. Both give up after three target durations, as the RFC asks.
 *
 * Waiting is driven by the directory's change events (playlists and parts are renamed into place),
 * one watcher per directory however many requests wait, with a slow poll behind it in case an
 * event is missed.
 */
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Where a live media playlist stands: the segment being written and its parts so far. */
export interface PlaylistPosition {
  /** Media sequence number of the segment after the last complete one (the one being written). */
  nextMsn: number;
  /** Parts of that segment listed so far. */
  openParts: number;
  targetDuration: number;
  ended: boolean;
  lowLatency: boolean;
}

export function playlistPosition(text: string): PlaylistPosition {
  let mediaSequence = 0;
  let segments = 0;
  let openParts = 0;
  let targetDuration = 6;
  let ended = false;
  let lowLatency = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22)) || 0;
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22)) || targetDuration;
    else if (line.startsWith('#EXT-X-PART-INF:')) lowLatency = true;
    else if (line.startsWith('#EXT-X-PART:')) openParts++;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line !== '' && !line.startsWith('#')) {
      segments++;
      openParts = 0;
    }
  }
  return { nextMsn: mediaSequence + segments, openParts, targetDuration, ended, lowLatency };
}

/** Whether a playlist at `pos` answers a request for segment msn (and part). */
export function satisfies(pos: PlaylistPosition, msn: number, part: number | undefined): boolean {
  if (pos.ended || msn < pos.nextMsn) return true;
  return part !== undefined && msn === pos.nextMsn && part < pos.openParts;
}

export type DirectiveError = { status: 400; message: string };

/** Reads `_HLS_msn` / `_HLS_part` from a query; an error names the bad parameter. */
export function deliveryDirectives(query: Record<string, unknown>): { msn: number; part?: number } | DirectiveError | undefined {
  const text = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
  const msnText = text(query._HLS_msn);
  const partText = text(query._HLS_part);
  if (msnText === undefined) return partText === undefined ? undefined : { status: 400, message: '_HLS_part needs _HLS_msn.' };
  if (!/^\d{1,15}$/.test(msnText)) return { status: 400, message: `_HLS_msn must be a segment number; got '${String(msnText).slice(0, 40)}'.` };
  if (partText !== undefined && !/^\d{1,6}$/.test(partText)) return { status: 400, message: `_HLS_part must be a part number; got '${String(partText).slice(0, 40)}'.` };
  return { msn: Number(msnText), part: partText === undefined ? undefined : Number(partText) };
}

/** Reads a playlist's position; within one pass over the waiters each file is read once. */
type PositionReader = (path: string) => PlaylistPosition | undefined;
type Check = (read: PositionReader) => boolean;

interface Waiter {
  check: Check;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

class DirectoryWatch {
  private readonly waiters = new Set<Waiter>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly onIdle: () => void,
  ) {}

  wait(check: Check, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (check(readPosition)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        check,
        resolve: (ok) => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          this.waiters.delete(waiter);
          if (this.waiters.size === 0) this.stop();
          resolve(ok);
        },
        timer: setTimeout(() => waiter.resolve(false), timeoutMs),
      };
      const onAbort = () => waiter.resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.start();
    });
  }

  private start(): void {
    if (!this.watcher) {
      try {
        this.watcher = watch(this.dir, { persistent: false }, () => this.recheck());
        this.watcher.on('error', () => this.recheck());
      } catch {
        this.watcher = undefined; // the poll below still answers
      }
    }
    this.poll ??= setInterval(() => this.recheck(), 100);
  }

  private stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    this.onIdle();
  }

  private recheck(): void {
    // Many players may wait on one playlist: it is read once per change, not once per player.
    const read = new Map<string, PlaylistPosition | undefined>();
    const memo: PositionReader = (path) => {
      if (!read.has(path)) read.set(path, readPosition(path));
      return read.get(path);
    };
    for (const w of [...this.waiters]) {
      let ok = false;
      try {
        ok = w.check(memo);
      } catch {
        ok = false;
      }
      if (ok) w.resolve(true);
    }
  }
}

const watches = new Map<string, DirectoryWatch>();

function watchOf(dir: string): DirectoryWatch {
  let w = watches.get(dir);
  if (!w) {
    w = new DirectoryWatch(dir, () => watches.delete(dir));
    watches.set(dir, w);
  }
  return w;
}

function readPosition(path: string): PlaylistPosition | undefined {
  try {
    return playlistPosition(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export type PlaylistWait = { status: 200 } | { status: 400 | 503; message: string };

/**
 * Holds until the playlist at `path` holds segment msn (part). 400 for a segment more than two
 * ahead of the live edge (the RFC's rule), 503 after three target durations.
 */
export async function waitForPlaylist(path: string, msn: number, part: number | undefined, signal?: AbortSignal): Promise<PlaylistWait> {
  const pos = readPosition(path);
  if (!pos) return { status: 200 }; // the file route answers 404 itself
  if (satisfies(pos, msn, part)) return { status: 200 };
  if (msn > pos.nextMsn + 2) return { status: 400, message: `_HLS_msn=${msn} is more than two segments ahead of the playlist (next ${pos.nextMsn}).` };
  const timeoutMs = 3 * pos.targetDuration * 1000;
  const ok = await watchOf(dirname(path)).wait(
    (read) => {
      const now = read(path);
      return now !== undefined && satisfies(now, msn, part);
    },
    timeoutMs,
    signal,
  );
  return ok ? { status: 200 } : { status: 503, message: `segment ${msn}${part === undefined ? '' : ` part ${part}`} did not appear within ${timeoutMs} ms.` };
}

/** An LL-HLS part name as the low-latency muxer writes it (name_00012.3.m4s); group 1 is its segment. */
export const PART_NAME = /_(\d{5,})\.\d+\.m4s$/;

/**
 * Holds a request for a part that is not written yet (a preload hint) until it is, at most three
 * target durations of the playlist beside it. Resolves whether it now exists.
 */
export async function waitForPart(path: string, playlistPath: string, signal?: AbortSignal): Promise<boolean> {
  if (existsSync(path)) return true;
  const pos = readPosition(playlistPath);
  if (!pos || !pos.lowLatency || pos.ended) return false;
  // Only the segment being written and the next can have parts still to come.
  const msn = Number(PART_NAME.exec(path)?.[1] ?? -1);
  if (msn < pos.nextMsn || msn > pos.nextMsn + 1) return false;
  return watchOf(dirname(path)).wait(() => existsSync(path), 3 * pos.targetDuration * 1000, signal);
}
