/**
 * Clips of a published layer. As MPEG-TS, a clip is the rendition's own segments that cover the
 * time range, joined byte for byte: nothing is re-encoded, the KLV PID is kept, and the cut falls
 * on IDRs (each segment starts with one), so the clip starts at or before the start asked for
 * and ends at or after its end. As MP4 or MOV, that TS clip is encoded once more by the ingest
 * pipeline into fragmented MP4 (the rendition's size, its KLV as emsg boxes), and the init
 * segment and fragments are joined into one file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MediaError } from '../errors.js';
import type { HwAccel } from '../jobs/job.js';
import { startPipeline } from '../pipeline.js';
import { parseMediaPlaylist, type MediaSegment } from './frames.js';

export interface TsClip {
  /** Seconds from the start of the video the clip really covers (segment bounds). */
  start: number;
  end: number;
  segments: number;
}

/** The segments that overlap [start, end] (a zero-length range: the one holding start). */
export function segmentsFor(segments: readonly MediaSegment[], start: number, end: number): MediaSegment[] {
  return segments.filter((s) => (start === end ? start >= s.start && start < s.start + s.duration : s.start < end && s.start + s.duration > start));
}

async function join_(files: readonly string[], outPath: string): Promise<void> {
  const out = createWriteStream(outPath, { flags: 'wx' });
  try {
    for (const file of files) await pipeline(createReadStream(file), out, { end: false });
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** Joins the segments of a media playlist that cover [start, end]; null when none do. */
export async function tsClip(playlistPath: string, start: number, end: number, outPath: string): Promise<TsClip | null> {
  const picked = segmentsFor(parseMediaPlaylist(await readFile(playlistPath, 'utf8')), start, end);
  if (picked.length === 0) return null;
  if (picked.some((s) => s.uri.includes('/') || s.uri.includes('\\') || s.uri.startsWith('.'))) throw new MediaError('The playlist names segments outside its directory', { code: 'ERR_OUTPUT_MISSING', step: 'clip' });
  await join_(picked.map((s) => join(dirname(playlistPath), s.uri)), outPath);
  const last = picked[picked.length - 1]!;
  return { start: picked[0]!.start, end: last.start + last.duration, segments: picked.length };
}

/**
 * Encodes a TS clip into one fragmented MP4 at `outPath` (KLV as emsg boxes), working in
 * `scratchDir` (removed afterwards).
 */
export async function mp4FromTs(tsPath: string, outPath: string, scratchDir: string, rung: { height: number; width?: number }, hwaccel: HwAccel): Promise<{ klvUnits: number }> {
  await mkdir(scratchDir, { recursive: true });
  try {
    const run = startPipeline(tsPath, {
      outDir: scratchDir,
      ladder: [{ name: 'clip', height: rung.height, ...(rung.width !== undefined ? { width: rung.width } : {}) }],
      segmentFormat: 'fmp4',
      // Few fragments: the file is joined, not streamed.
      segmentSeconds: 60,
      previews: false,
      hwaccel,
    });
    const result = await run.done;
    const r = result.renditions[0];
    if (!r) throw new MediaError('The clip encode made no rendition', { code: 'ERR_OUTPUT_MISSING', step: 'clip' });
    const text = await readFile(join(scratchDir, 'clip', 'clip.m3u8'), 'utf8');
    const init = /#EXT-X-MAP:URI="([^"/\\]+)"/.exec(text)?.[1];
    if (!init) throw new MediaError('The clip encode wrote no init segment', { code: 'ERR_OUTPUT_MISSING', step: 'clip' });
    await join_([join(scratchDir, 'clip', init), ...parseMediaPlaylist(text).map((s) => join(scratchDir, 'clip', s.uri))], outPath);
    return { klvUnits: r.klvUnits };
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}
