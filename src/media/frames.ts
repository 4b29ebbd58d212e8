/**
 * Pictures and telemetry of a published layer at a time in its video: the segment of a media
 * playlist that holds the time, a JPEG of the frame there (decoding that one segment only, which
 * starts on an IDR), and the KLV packet in force at that time.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FrameTelemetry } from '../geometry/index.js';
import { generatePreviews } from '../previews.js';
import { probe } from '../probe.js';

export interface MediaSegment {
  /** Path relative to the playlist's directory. */
  uri: string;
  /** Seconds from the start of the playlist. */
  start: number;
  duration: number;
}

/** The segments of an HLS media playlist, with their start times. */
export function parseMediaPlaylist(text: string): MediaSegment[] {
  const out: MediaSegment[] = [];
  let start = 0;
  let duration: number | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) duration = Number(m[1]);
    else if (line !== '' && !line.startsWith('#') && duration !== null) {
      out.push({ uri: line, start, duration });
      start += duration;
      duration = null;
    }
  }
  return out;
}

/** The segment holding `seconds`; the last one also holds its own end. */
export function segmentAt(segments: readonly MediaSegment[], seconds: number): MediaSegment | null {
  for (const s of segments) if (seconds >= s.start && seconds < s.start + s.duration) return s;
  const last = segments[segments.length - 1];
  return last && Math.abs(seconds - (last.start + last.duration)) < 1e-6 ? last : null;
}

export interface FrameImage {
  path: string;
  width: number;
  height: number;
  bytes: number;
}

/**
 * Writes the frame at `seconds` (from the start of the video) of a media playlist as a JPEG at
 * `outPath`; null when the time is past the video's end.
 */
export async function frameImageAt(playlistPath: string, seconds: number, outPath: string, options: { maxWidth?: number; quality?: number } = {}): Promise<FrameImage | null> {
  const segments = parseMediaPlaylist(await readFile(playlistPath, 'utf8'));
  const seg = segmentAt(segments, seconds);
  if (!seg || seg.uri.includes('/') || seg.uri.includes('\\')) return null;
  const file = join(dirname(playlistPath), seg.uri);
  // Poster times count from the segment's container start; the video's first frame may come later.
  const info = await probe(file);
  const lead = info.video && info.startTime !== null && info.video.startTime !== null ? Math.max(0, info.video.startTime - info.startTime) : 0;
  const result = await generatePreviews(file, {
    outDir: dirname(outPath),
    posterName: outPath.slice(dirname(outPath).length + 1),
    posterTime: Math.max(0, seconds - seg.start) + lead,
    posterSearchSeconds: 0,
    thumbnails: false,
    ...(options.maxWidth !== undefined ? { posterMaxWidth: options.maxWidth } : {}),
    ...(options.quality !== undefined ? { quality: options.quality } : {}),
  });
  if (!result.poster) return null;
  return { path: result.poster.path, width: result.poster.width, height: result.poster.height, bytes: result.poster.bytes };
}

/**
 * Times of the frames' telemetry in seconds from the video's first frame: from their
 * presentation times when the KLV is timed, else from their precision time stamps counted from
 * the first (asynchronous KLV without PTS arrives all at one time).
 */
export function telemetryClock(frames: readonly FrameTelemetry[], videoStart: number): Array<number | null> {
  const pts = frames.map((f) => f.pts).filter((p): p is number => p !== null);
  const timed = pts.length === frames.length && pts.length > 1 && Math.max(...pts) - Math.min(...pts) > 0;
  if (timed || frames.length === 1) return frames.map((f) => (f.pts === null ? null : f.pts - videoStart));
  const first = frames.find((f) => f.time !== null)?.time ?? null;
  return frames.map((f) => (f.time === null || first === null ? null : (f.time - first) / 1000));
}

/** The telemetry in force at `seconds`: the last packet at or before it (else the first). */
export function telemetryAt(frames: readonly FrameTelemetry[], clock: ReadonlyArray<number | null>, seconds: number): FrameTelemetry | null {
  let best: FrameTelemetry | null = null;
  let bestAt = -Infinity;
  let first: FrameTelemetry | null = null;
  let firstAt = Infinity;
  frames.forEach((f, i) => {
    const at = clock[i];
    if (at === null || at === undefined) return;
    // A millisecond of slack: stamps and frame times are rounded differently.
    if (at <= seconds + 1e-3 && at >= bestAt) {
      best = f;
      bestAt = at;
    }
    if (at < firstAt) {
      first = f;
      firstAt = at;
    }
  });
  return best ?? first;
}
