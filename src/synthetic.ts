/**
 * Synthetic FMV clips made in-process (libavfilter testsrc2 → H.264, a sine tone → AAC, and KLV
 * units muxed as async KLV), so demos and tests need no media files.
 */
import { withCallerStack } from './errors.js';
import { loadAddon } from './native.js';
import { checkBoolean, checkEnum, checkInteger, checkKnownKeys, checkNumber, checkString, invalid, optionsObject } from './validate.js';

export interface SyntheticKlvUnit {
  /** Presentation time in seconds from the start of the clip. */
  seconds: number;
  /** One whole KLV unit (key, BER length, value). */
  data: Uint8Array;
}

export interface SynthesizeOptions {
  width?: number;
  height?: number;
  /** Frame rate as a number (29.97 becomes 30000/1001) or [num, den]. */
  fps?: number | [number, number];
  durationSeconds?: number;
  /** Sample aspect ratio [num, den] for anamorphic clips. */
  sampleAspectRatio?: [number, number];
  audio?: boolean;
  interlaced?: boolean;
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  videoBitRate?: number;
  gopFrames?: number;
  klv?: SyntheticKlvUnit[];
  /** Write the KLV PID as sync metadata (PMT stream_type 0x15) instead of async (0x06). */
  klvSync?: boolean;
}

export interface SynthesizeResult {
  videoFrames: number;
  audioFrames: number;
  klvUnits: number;
  bytes: number;
}

const KNOWN = ['width', 'height', 'fps', 'durationSeconds', 'sampleAspectRatio', 'audio', 'interlaced', 'preset', 'videoBitRate', 'gopFrames', 'klv', 'klvSync'] as const;
const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] as const;

function frameRate(v: unknown): [number, number] {
  if (Array.isArray(v) && v.length === 2) return [checkInteger(v[0], 'fps[0]', 1, 1_000_000), checkInteger(v[1], 'fps[1]', 1, 1_000_000)];
  const fps = checkNumber(v, 'fps', 1, 240);
  if (Math.abs(fps * 1001 - Math.round(fps * 1.001) * 1000) < 1 && !Number.isInteger(fps)) return [Math.round(fps * 1.001) * 1000, 1001];
  return Number.isInteger(fps) ? [fps, 1] : [Math.round(fps * 1000), 1000];
}

/** Writes a synthetic MPEG-TS clip to path (atomically: nothing is left behind on failure). */
export function synthesizeClip(path: string, options?: SynthesizeOptions): Promise<SynthesizeResult> {
  const stack = new Error().stack;
  try {
    const o = optionsObject(options, 'synthesize options');
    checkKnownKeys(o, KNOWN, 'synthesize options');
    const native: Record<string, unknown> = { path: checkString(path, 'path', { nonEmpty: true }) };
    if (o.width !== undefined) native.width = checkInteger(o.width, 'width', 16, 7680);
    if (o.height !== undefined) native.height = checkInteger(o.height, 'height', 16, 4320);
    for (const k of ['width', 'height'] as const) {
      if (typeof native[k] === 'number' && (native[k] as number) % 2 !== 0) throw invalid('an even integer', k, native[k]);
    }
    if (o.fps !== undefined) [native.fpsNum, native.fpsDen] = frameRate(o.fps);
    if (o.durationSeconds !== undefined) native.durationSeconds = checkNumber(o.durationSeconds, 'durationSeconds', 0.04, 24 * 3600);
    if (o.sampleAspectRatio !== undefined) {
      if (!Array.isArray(o.sampleAspectRatio) || o.sampleAspectRatio.length !== 2) throw invalid('[num, den]', 'sampleAspectRatio', o.sampleAspectRatio);
      native.sarNum = checkInteger(o.sampleAspectRatio[0], 'sampleAspectRatio[0]', 1, 1000);
      native.sarDen = checkInteger(o.sampleAspectRatio[1], 'sampleAspectRatio[1]', 1, 1000);
    }
    if (o.audio !== undefined) native.audio = checkBoolean(o.audio, 'audio');
    if (o.interlaced !== undefined) native.interlaced = checkBoolean(o.interlaced, 'interlaced');
    if (o.preset !== undefined) native.preset = checkEnum(o.preset, 'preset', PRESETS);
    if (o.videoBitRate !== undefined) native.videoBitRate = checkInteger(o.videoBitRate, 'videoBitRate', 10_000, 500_000_000);
    if (o.gopFrames !== undefined) native.gopFrames = checkInteger(o.gopFrames, 'gopFrames', 1, 10_000);
    if (o.klvSync !== undefined) native.klvSync = checkBoolean(o.klvSync, 'klvSync');
    if (o.klv !== undefined) {
      if (!Array.isArray(o.klv)) throw invalid('an array of {seconds, data}', 'klv', o.klv);
      let last = -Infinity;
      native.klv = o.klv.map((u: unknown, i: number) => {
        const unit = optionsObject(u, `klv[${i}]`);
        const seconds = checkNumber(unit.seconds, `klv[${i}].seconds`, 0, 24 * 3600);
        if (seconds < last) throw invalid('times in increasing order', `klv[${i}].seconds`, seconds);
        last = seconds;
        if (!(unit.data instanceof Uint8Array) || unit.data.length === 0) throw invalid('a non-empty Uint8Array', `klv[${i}].data`, unit.data);
        return { seconds, data: Buffer.from(unit.data.buffer, unit.data.byteOffset, unit.data.byteLength) };
      });
    }
    const addon = loadAddon() as unknown as { synthesize(o: Record<string, unknown>): Promise<SynthesizeResult> };
    return withCallerStack(addon.synthesize(native), stack);
  } catch (err) {
    return Promise.reject(err);
  }
}
