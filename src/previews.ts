/**
 * generatePreviews(): the poster and preview images of an input (poster JPEG, thumbnails every N
 * seconds tiled into sprite sheets, and a WebVTT thumbnails track), decoded on the libuv pool.
 */
import { track } from './counters.js';
import { resolve } from 'node:path';
import { MediaError, withCallerStack } from './errors.js';
import { loadAddon } from './native.js';
import { checkBoolean, checkEvenInteger, checkInputRoots, checkInteger, checkKnownKeys, checkNumber, checkSignal, checkString, invalid, optionsObject } from './validate.js';

export interface PreviewOptions {
  /** Directory the images are written to; created when missing. Required. */
  outDir: string;
  /** Write the poster (default true). */
  poster?: boolean;
  /** File name of the poster inside outDir (default 'poster.jpg'). */
  posterName?: string;
  /** Largest poster width in pixels (default: the source display width, at most 1920). Never upscales past the display width. */
  posterMaxWidth?: number;
  /** Seconds from the start to take the poster from (default: 10% of the duration, or the start when it is unknown). */
  posterTime?: number;
  /** How many seconds past posterTime to look for a frame that is neither black nor flat (default 30). */
  posterSearchSeconds?: number;
  /** Write thumbnails, sprite sheets and the WebVTT track (default true). */
  thumbnails?: boolean;
  /** Seconds between thumbnails; the first is at the start (default 10). */
  thumbnailInterval?: number;
  /** Thumbnail width in pixels, even (default 160); the height follows the display aspect ratio. */
  thumbnailWidth?: number;
  /** Tiles per sprite-sheet row (default 10). */
  spriteColumns?: number;
  /**
   * Tiles per sprite sheet (default 100). While every thumbnail fits one sheet it is `sprite.jpg`;
   * beyond that the sheets are `sprite_0.jpg`, `sprite_1.jpg`, ... written as each fills up, so a
   * long or live input keeps one sheet in memory.
   */
  spriteMaxTiles?: number;
  /** Also write each thumbnail as `thumbs/thumb_00001.jpg`, ... (default false). */
  writeThumbnails?: boolean;
  /** JPEG quality 1..100 (default 80). */
  quality?: number;
  /** Display aspect ratio to use instead of the one the input declares (e.g. {num: 16, den: 9}). */
  displayAspectRatio?: { num: number; den: number };
  /** Stop after this many seconds of video (for live inputs). */
  durationLimit?: number;
  /** libavformat probesize in bytes. */
  probeSize?: number;
  /** libavformat analyzeduration in microseconds. */
  analyzeDurationUs?: number;
  /** Force an input format (e.g. 'mpegts'). */
  format?: string;
  /** Give up after this many milliseconds (ERR_TIMEOUT). */
  timeoutMs?: number;
  /** Cancels the run (ERR_CANCELLED); files written so far are removed. */
  signal?: AbortSignal;
  /** Read nothing outside these directories (see ProbeOptions.inputRoots). */
  inputRoots?: string[];
}

export interface PosterInfo {
  /** Absolute path of the poster JPEG. */
  path: string;
  /** Square-pixel size: anamorphic sources are shown at their display aspect ratio. */
  width: number;
  height: number;
  bytes: number;
  /** Seconds from the start of the frame chosen. */
  time: number;
  /** False when every frame looked at was black or flat and the least flat one was used. */
  interesting: boolean;
}

export interface SpriteSheet {
  /** Absolute path of the sheet JPEG. */
  path: string;
  tiles: number;
  /** Index of the sheet's first tile in the whole track. */
  firstTile: number;
  columns: number;
  rows: number;
  width: number;
  height: number;
}

export interface PreviewResult {
  poster: PosterInfo | null;
  thumbnails: {
    count: number;
    width: number;
    height: number;
    /** Directory of the individual thumbnails, null unless writeThumbnails was set. */
    directory: string | null;
  };
  sprites: SpriteSheet[];
  /** Absolute path of thumbnails.vtt (cues `sprite.jpg#xywh=x,y,w,h`), null without thumbnails. */
  vtt: string | null;
  /** Frames looked at for the poster and passed over as black or flat. */
  skippedDarkFrames: number;
  /** Input clock time that WebVTT time 0 stands for (the input's start time). */
  startTime: number;
  /** Seconds from the start to the end of the last frame. */
  duration: number;
  /** Frames handed to the image makers (after deinterlacing). */
  frames: number;
  framesDecoded: number;
  /** Packets or frames the decoder rejected; the run carries on past them. */
  decodeErrors: number;
  /** Frames the decoder had to conceal errors in (still used). */
  damagedFrames: number;
  /** The last decode problem, as FFmpeg words it. */
  lastDecodeError: string | null;
  /** Whether frames went through the deinterlacer (the stream declares interlaced fields). */
  deinterlaced: boolean;
  /** Whether the run stopped at durationLimit. */
  stoppedAtLimit: boolean;
}

const PREVIEW_OPTIONS = [
  'outDir',
  'poster',
  'posterName',
  'posterMaxWidth',
  'posterTime',
  'posterSearchSeconds',
  'thumbnails',
  'thumbnailInterval',
  'thumbnailWidth',
  'spriteColumns',
  'spriteMaxTiles',
  'writeThumbnails',
  'quality',
  'displayAspectRatio',
  'durationLimit',
  'probeSize',
  'analyzeDurationUs',
  'format',
  'timeoutMs',
  'signal',
  'inputRoots',
] as const;

// Baseline JPEG stores each side in 16 bits.
const MAX_JPEG_SIDE = 65535;

function checkFileName(value: unknown, path: string): string {
  const name = checkString(value, path, { nonEmpty: true });
  if (/[/\\]/.test(name) || name === '.' || name === '..' || !/\.jpe?g$/i.test(name)) {
    throw invalid('a file name ending in .jpg or .jpeg, without a directory', path, value);
  }
  return name;
}

/** The poster and thumbnail settings of PreviewOptions, shared with the ingest pipeline's `previews`. */
export const IMAGE_OPTIONS = [
  'poster',
  'posterName',
  'posterMaxWidth',
  'posterTime',
  'posterSearchSeconds',
  'thumbnails',
  'thumbnailWidth',
  'spriteColumns',
  'spriteMaxTiles',
  'writeThumbnails',
  'quality',
] as const;

/**
 * Validates the poster and thumbnail settings of o (the keys of IMAGE_OPTIONS; others are left to
 * the caller); prefix goes before each option name in messages ('previews.' for the pipeline).
 */
export function validateImageOptions(o: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const at = (name: string) => `${prefix}${name}`;
  if (o.poster !== undefined) out.poster = checkBoolean(o.poster, at('poster'));
  if (o.posterName !== undefined) out.posterName = checkFileName(o.posterName, at('posterName'));
  if (o.posterMaxWidth !== undefined) out.posterMaxWidth = checkEvenInteger(o.posterMaxWidth, at('posterMaxWidth'), 16, 16384);
  if (o.posterTime !== undefined) out.posterTime = checkNumber(o.posterTime, at('posterTime'), 0, 1e9);
  if (o.posterSearchSeconds !== undefined) out.posterSearchSeconds = checkNumber(o.posterSearchSeconds, at('posterSearchSeconds'), 0, 86400);
  if (o.thumbnails !== undefined) out.thumbnails = checkBoolean(o.thumbnails, at('thumbnails'));
  if (o.thumbnailWidth !== undefined) out.thumbnailWidth = checkEvenInteger(o.thumbnailWidth, at('thumbnailWidth'), 16, 1920);
  if (o.spriteColumns !== undefined) out.spriteColumns = checkInteger(o.spriteColumns, at('spriteColumns'), 1, 100);
  if (o.spriteMaxTiles !== undefined) out.spriteMaxTiles = checkInteger(o.spriteMaxTiles, at('spriteMaxTiles'), 1, 10000);
  if (o.writeThumbnails !== undefined) out.writeThumbnails = checkBoolean(o.writeThumbnails, at('writeThumbnails'));
  if (o.quality !== undefined) out.quality = checkInteger(o.quality, at('quality'), 1, 100);
  if (out.poster === false && out.thumbnails === false) {
    throw new MediaError(`Expected ${at('poster')} or ${at('thumbnails')} to be enabled but both are false`, { code: 'ERR_INVALID_OPTION', step: 'options' });
  }
  const columns = Math.min((out.spriteColumns as number | undefined) ?? 10, (out.spriteMaxTiles as number | undefined) ?? 100);
  const width = (out.thumbnailWidth as number | undefined) ?? 160;
  if (columns * width > MAX_JPEG_SIDE) {
    throw invalid(`at most ${Math.floor(MAX_JPEG_SIDE / width)} columns of ${width}-pixel thumbnails (a sprite sheet is at most ${MAX_JPEG_SIDE} pixels wide)`, at('spriteColumns'), columns);
  }
  return out;
}

/** Validates generatePreviews options into the plain object the addon reads (signal excluded). */
export function validatePreviewOptions(value: unknown): { native: Record<string, unknown>; signal?: AbortSignal } {
  if (value === undefined) throw invalid('an object with outDir', 'previews options', value);
  const o = optionsObject(value, 'previews options');
  checkKnownKeys(o, PREVIEW_OPTIONS, 'previews options');
  const out: Record<string, unknown> = {};
  if (o.outDir === undefined) throw invalid('a non-empty string', 'outDir', o.outDir);
  out.outDir = resolve(checkString(o.outDir, 'outDir', { nonEmpty: true }));
  Object.assign(out, validateImageOptions(o, ''));
  if (o.thumbnailInterval !== undefined) out.thumbnailInterval = checkNumber(o.thumbnailInterval, 'thumbnailInterval', 0.1, 86400);
  if (o.displayAspectRatio !== undefined) {
    const dar = optionsObject(o.displayAspectRatio, 'displayAspectRatio');
    checkKnownKeys(dar, ['num', 'den'], 'displayAspectRatio');
    out.displayAspectRatio = {
      num: checkInteger(dar.num, 'displayAspectRatio.num', 1, 65535),
      den: checkInteger(dar.den, 'displayAspectRatio.den', 1, 65535),
    };
  }
  if (o.durationLimit !== undefined) out.durationLimit = checkNumber(o.durationLimit, 'durationLimit', 0.001, 1e9);
  if (o.probeSize !== undefined) out.probeSize = checkInteger(o.probeSize, 'probeSize', 32, Number.MAX_SAFE_INTEGER);
  if (o.analyzeDurationUs !== undefined) out.analyzeDurationUs = checkInteger(o.analyzeDurationUs, 'analyzeDurationUs', 0, Number.MAX_SAFE_INTEGER);
  if (o.format !== undefined) out.format = checkString(o.format, 'format', { nonEmpty: true });
  if (o.timeoutMs !== undefined) out.timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
  if (o.inputRoots !== undefined) out.inputRoots = checkInputRoots(o.inputRoots, 'inputRoots');

  const result: { native: Record<string, unknown>; signal?: AbortSignal } = { native: out };
  if (o.signal !== undefined) result.signal = checkSignal(o.signal, 'signal');
  return result;
}

interface NativePreviewHandle {
  promise: Promise<PreviewResult>;
  cancel(): void;
}

/**
 * Makes the poster and preview images of an input: `poster.jpg` (a frame about 10% in that is
 * neither black nor flat, at square pixels), a thumbnail every `thumbnailInterval` seconds tiled
 * into `sprite.jpg` (or pages `sprite_<n>.jpg`), and `thumbnails.vtt` whose cues point at each tile.
 * Interlaced streams are deinterlaced first. Decode errors are counted, not fatal, unless no frame
 * decodes at all.
 *
 * @throws MediaError (as a rejected Promise): ERR_INVALID_OPTION (step 'options'), input errors
 * (step 'open' / 'probe'), ERR_NO_VIDEO_STREAM, ERR_DECODE (step 'decode'), ERR_POSTER (step
 * 'poster'), ERR_PREVIEWS (step 'previews'), ERR_CANCELLED / ERR_TIMEOUT.
 */
export function generatePreviews(input: string, options: PreviewOptions): Promise<PreviewResult> {
  const stack = new Error().stack;
  try {
    const url = checkString(input, 'input', { nonEmpty: true });
    const { native: nativeOptions, signal } = validatePreviewOptions(options);
    if (signal?.aborted) throw new MediaError('cancelled before previews started', { code: 'ERR_CANCELLED', step: 'previews' });
    const addon = loadAddon();
    if (typeof addon.previews !== 'function') {
      throw new MediaError('the loaded native addon has no previews(); it is older than this package. Fix: npm run build:addon', { code: 'ERR_ADDON_LOAD', step: 'load' });
    }
    const handle = (addon.previews as (url: string, options: Record<string, unknown>) => NativePreviewHandle)(url, nativeOptions);
    track('previews', handle.promise);
    if (!signal) return withCallerStack(handle.promise, stack);
    const onAbort = (): void => handle.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    return withCallerStack(
      handle.promise.finally(() => signal.removeEventListener('abort', onAbort)),
      stack,
    );
  } catch (err) {
    return Promise.reject(err);
  }
}
