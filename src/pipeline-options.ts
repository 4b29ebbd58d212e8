/**
 * Options of the single-pass ingest pipeline and their validation. Every message names the option
 * path and the value it received; unknown option names are rejected with the nearest known name.
 * What passes is converted into the plain object the native layer reads.
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { IMAGE_OPTIONS, validateImageOptions, type PreviewOptions } from './previews.js';
import { checkBoolean, checkEnum, checkEvenInteger, checkInputOptions, checkInputRoots, checkInteger, checkKnownKeys, checkNumber, checkSignal, checkString, invalid, optionsObject } from './validate.js';

/** Ladder tiers; a request includes the named tier and every lower one (never above the source). */
export const TIERS = ['sd', 'hd', 'fhd', 'uhd'] as const;
export type Tier = (typeof TIERS)[number];

export const HWACCELS = ['auto', 'cpu', 'cuda', 'vaapi'] as const;
/**
 * - `auto`: measured choice: CPU below 2160p (where the NVDEC + scale_cuda ladder measured slower),
 *   CUDA from 2160p when it works, CPU otherwise; the reason is recorded.
 * - `cpu`: software decode, swscale, libx264/libx265.
 * - `cuda`: NVDEC decode and scale_cuda; NVENC where the GPU has it, else libx264 (recorded).
 * - `vaapi`: VAAPI decode, scale and encode.
 */
export type HwAccel = (typeof HWACCELS)[number];

export const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;
/** libx264/libx265 preset; NVENC gets the nearest p1..p7. */
export type Preset = (typeof PRESETS)[number];

export const CODECS = ['h264', 'hevc'] as const;
export type VideoCodec = (typeof CODECS)[number];

export const SEGMENT_FORMATS = ['ts', 'fmp4'] as const;
/** `ts` keeps the KLV PIDs in the segments; `fmp4` carries each KLV unit as an `emsg` box (scheme urn:misb:KLV:bin:1910.1). */
export type SegmentFormat = (typeof SEGMENT_FORMATS)[number];

/** Default rungs (README): sd 480p ~1.2 Mb/s, hd 720p ~3 Mb/s, fhd 1080p ~6 Mb/s, uhd 2160p ~16 Mb/s. */
export const TIER_DEFAULTS: Readonly<Record<Tier, { height: number; videoBitrate: number }>> = {
  sd: { height: 480, videoBitrate: 1_200_000 },
  hd: { height: 720, videoBitrate: 3_000_000 },
  fhd: { height: 1080, videoBitrate: 6_000_000 },
  uhd: { height: 2160, videoBitrate: 16_000_000 },
};

/** A custom rung. Rungs taller than the source are left out (no upscaling), with a warning. */
export interface LadderRung {
  /** Rendition name, also its directory name (letters, digits, `_`, `-`); default `<height>p`. */
  name?: string;
  /** Output height in lines, even. */
  height: number;
  /** Output width, even; default: the source display aspect ratio at this height. */
  width?: number;
  /** Target video bit rate in bits/s; default scaled from the nearest tier by pixel count. */
  videoBitrate?: number;
  /** VBV peak in bits/s; default 1.5 × videoBitrate. */
  maxBitrate?: number;
}

/** Poster and preview images made from the decoded frames of the same pass: the poster and
 * thumbnail settings of generatePreviews() (the thumbnail interval is previewIntervalSeconds). */
export type PipelinePreviewOptions = Pick<PreviewOptions, (typeof IMAGE_OPTIONS)[number]>;

export interface PipelineOptions {
  /**
   * Existing scratch directory owned by the caller (its path must not contain '%'). On failure or
   * cancel everything written there is removed.
   */
  outDir: string;
  /** Highest tier of the ladder (default 'fhd'). */
  requestedResolutions?: Tier;
  /** Custom rungs replacing the tier ladder. */
  ladder?: LadderRung[];
  /** Hardware path (default 'auto'). */
  hwaccel?: HwAccel;
  /** Device to open: CUDA device index ('0') or DRM render node ('/dev/dri/renderD128'). */
  hwDevice?: string;
  /** Encoder preset (default 'veryfast'). */
  preset?: Preset;
  /** Video codec (default 'h264', High profile; 'hevc' is Main). */
  codec?: VideoCodec;
  /** Segment length in seconds; every segment starts with an IDR in every rung (default 4; 2 for live). */
  segmentSeconds?: number;
  /** Segment container (default 'ts'). */
  segmentFormat?: SegmentFormat;
  /** Seconds between preview thumbnails (default 10). */
  previewIntervalSeconds?: number;
  /** Poster and previews: options, true for the defaults, or false for none (default: poster + thumbnails). */
  previews?: PipelinePreviewOptions | boolean;
  /** Keep the audio (default true): AAC is copied, anything else is encoded to AAC once. */
  audio?: boolean;
  /** AAC bit rate in bits/s when audio is encoded (default 128000). */
  audioBitrate?: number;
  /** Deliver KLV unit batches to `onKlv` (default true). KLV is muxed into TS segments either way. */
  klv?: boolean;
  /**
   * A live input (udp://, srt://, rtmp://, rtsp://, a pipe): outputs are written into outDir as they
   * are produced (created if missing), playlists carry EXT-X-PROGRAM-DATE-TIME, the encoders run
   * with low delay, segments default to 2 s, and the input is watched for silence. `true` takes the
   * defaults of LiveOptions.
   */
  live?: boolean | LiveOptions;
  /** Shorthand for `live: { windowSegments }`. */
  liveWindowSegments?: number;
  /** Cancels the job (rejects with ERR_CANCELLED within a second; outputs removed). */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds (ERR_TIMEOUT). */
  timeoutMs?: number;
  /** Milliseconds between progress events (default 100, at most 10 per second). */
  progressIntervalMs?: number;
  /** libavformat probesize in bytes. */
  probeSize?: number;
  /** libavformat analyzeduration in microseconds. */
  analyzeDurationUs?: number;
  /** Force an input format (e.g. 'mpegts'). */
  format?: string;
  /** Read nothing outside these directories (see ProbeOptions.inputRoots). */
  inputRoots?: string[];
  /**
   * Protocol and demuxer options by name, as the ffmpeg CLI takes them before `-i`: `{ listen: 1 }`
   * (RTMP: wait for a publisher), `{ rtsp_flags: 'listen' }` (RTSP: a camera pushes to us),
   * `{ passphrase, latency }` for SRT (also accepted in its URL). An option that neither the
   * protocol nor the demuxer takes fails the open with ERR_INVALID_OPTION.
   */
  inputOptions?: Record<string, string | number | boolean>;
}

/** How a live run keeps its segments and watches its input. */
export interface LiveOptions {
  /** Sliding-window playlists listing this many segments (default 6); older segments are deleted. */
  windowSegments?: number;
  /**
   * Keep every segment (an EVENT playlist, DVR), or at most `maxSeconds` / `maxBytes` of them per
   * rendition (the oldest go first). Replaces the window.
   */
  dvr?: boolean | { maxSeconds?: number; maxBytes?: number };
  /** Silence after which the input counts as stalled (INPUT_STALLED) and, before anything arrived, the open fails with ERR_INPUT_TIMEOUT (default 5000). */
  inputTimeoutMs?: number;
  /** How much longer a stalled input may stay silent before the run ends gracefully (INPUT_LOST; default 60000). */
  reconnectWindowMs?: number;
  /**
   * LL-HLS: fMP4 parts of at most `partSeconds` (default 0.5, at most half a segment) listed as
   * they are written (EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL with CAN-BLOCK-RELOAD).
   * Segments become fMP4 (segmentFormat 'ts' is refused). The server answers blocking reloads.
   */
  lowLatency?: boolean | { partSeconds?: number };
  /**
   * When frames of a real-time input wait longer than this between their arrival and their
   * encoding (the machine cannot keep up with the ladder), every other frame is left out until the
   * wait is under a third of it (FRAMES_SHED, counts.framesShed). Default 1; 0 never sheds.
   */
  maxLagSeconds?: number;
}

export const LIVE_OPTIONS = ['windowSegments', 'dvr', 'inputTimeoutMs', 'reconnectWindowMs', 'lowLatency', 'maxLagSeconds'] as const;

/** Default LL-HLS part length, in seconds. */
export const DEFAULT_PART_SECONDS = 0.5;

export const PIPELINE_OPTIONS = [
  'outDir',
  'requestedResolutions',
  'ladder',
  'hwaccel',
  'hwDevice',
  'preset',
  'codec',
  'segmentSeconds',
  'segmentFormat',
  'previewIntervalSeconds',
  'previews',
  'audio',
  'audioBitrate',
  'klv',
  'live',
  'liveWindowSegments',
  'signal',
  'timeoutMs',
  'progressIntervalMs',
  'probeSize',
  'analyzeDurationUs',
  'format',
  'inputRoots',
  'inputOptions',
] as const;


const RUNG_OPTIONS = ['name', 'height', 'width', 'videoBitrate', 'maxBitrate'] as const;
const RUNG_NAME = /^[A-Za-z0-9_-]{1,32}$/;


function validateLadder(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 8) throw invalid('an array of 1 to 8 rungs', 'ladder', value);
  const names = new Set<string>();
  return value.map((entry: unknown, i: number) => {
    const path = `ladder[${i}]`;
    const r = optionsObject(entry, path);
    checkKnownKeys(r, RUNG_OPTIONS, path);
    if (r.height === undefined) throw invalid('an even integer between 16 and 4320', `${path}.height`, r.height);
    const out: Record<string, unknown> = { height: checkEvenInteger(r.height, `${path}.height`, 16, 4320) };
    if (r.width !== undefined) out.width = checkEvenInteger(r.width, `${path}.width`, 16, 7680);
    if (r.videoBitrate !== undefined) out.videoBitrate = checkInteger(r.videoBitrate, `${path}.videoBitrate`, 50_000, 200_000_000);
    if (r.maxBitrate !== undefined) {
      const min = (out.videoBitrate as number | undefined) ?? 50_000;
      out.maxBitrate = checkInteger(r.maxBitrate, `${path}.maxBitrate`, min, 400_000_000);
    }
    const name = r.name === undefined ? `${out.height as number}p` : checkString(r.name, `${path}.name`, { nonEmpty: true });
    if (!RUNG_NAME.test(name)) throw invalid('a name of 1 to 32 letters, digits, _ or -', `${path}.name`, name);
    if (names.has(name)) throw invalid('a name no other rung uses', `${path}.name`, name);
    names.add(name);
    out.name = name;
    return out;
  });
}

function validatePreviews(value: unknown, intervalSeconds: number | undefined): Record<string, unknown> {
  const p = optionsObject(value, 'previews');
  checkKnownKeys(p, IMAGE_OPTIONS, 'previews');
  const out = validateImageOptions(p, 'previews.');
  if (intervalSeconds !== undefined) out.thumbnailInterval = intervalSeconds;
  return out;
}

function validateLive(value: unknown, windowShorthand: unknown): Record<string, unknown> | undefined {
  if (value === undefined && windowShorthand === undefined) return undefined;
  if (value === false) {
    if (windowShorthand !== undefined) throw invalid('live left on when liveWindowSegments is given', 'live', value);
    return undefined;
  }
  const o = value === true || value === undefined ? {} : optionsObject(value, 'live');
  checkKnownKeys(o, LIVE_OPTIONS, 'live');
  const out: Record<string, unknown> = { windowSegments: 6, dvr: false, inputTimeoutMs: 5000, reconnectWindowMs: 60_000 };
  if (windowShorthand !== undefined) {
    if (o.windowSegments !== undefined) throw invalid('either liveWindowSegments or live.windowSegments, not both', 'liveWindowSegments', windowShorthand);
    out.windowSegments = checkInteger(windowShorthand, 'liveWindowSegments', 1, 1000);
  }
  if (o.windowSegments !== undefined) out.windowSegments = checkInteger(o.windowSegments, 'live.windowSegments', 1, 1000);
  if (o.dvr !== undefined && o.dvr !== false) {
    if (o.windowSegments !== undefined || windowShorthand !== undefined) throw invalid('either a window or dvr, not both', 'live.dvr', o.dvr);
    out.dvr = true;
    if (o.dvr !== true) {
      const d = optionsObject(o.dvr, 'live.dvr');
      checkKnownKeys(d, ['maxSeconds', 'maxBytes'], 'live.dvr');
      if (d.maxSeconds !== undefined) out.maxSeconds = checkNumber(d.maxSeconds, 'live.dvr.maxSeconds', 10, 366 * 86_400);
      if (d.maxBytes !== undefined) out.maxBytes = checkInteger(d.maxBytes, 'live.dvr.maxBytes', 1_000_000, Number.MAX_SAFE_INTEGER);
    }
  }
  if (o.inputTimeoutMs !== undefined) out.inputTimeoutMs = checkInteger(o.inputTimeoutMs, 'live.inputTimeoutMs', 100, 3_600_000);
  if (o.reconnectWindowMs !== undefined) out.reconnectWindowMs = checkInteger(o.reconnectWindowMs, 'live.reconnectWindowMs', 0, 86_400_000);
  if (o.maxLagSeconds !== undefined) out.maxLagSeconds = o.maxLagSeconds === 0 ? 0 : checkNumber(o.maxLagSeconds, 'live.maxLagSeconds', 0.1, 600);
  if (o.lowLatency !== undefined && o.lowLatency !== false) {
    out.partSeconds = DEFAULT_PART_SECONDS;
    if (o.lowLatency !== true) {
      const l = optionsObject(o.lowLatency, 'live.lowLatency');
      checkKnownKeys(l, ['partSeconds'], 'live.lowLatency');
      if (l.partSeconds !== undefined) out.partSeconds = checkNumber(l.partSeconds, 'live.lowLatency.partSeconds', 0.1, 30);
    }
  }
  return out;
}

export interface ValidatedPipelineOptions {
  /** The plain object the native layer reads. */
  native: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Validates pipeline options; throws MediaError ERR_INVALID_OPTION naming the option and value. */
export function validatePipelineOptions(value: unknown): ValidatedPipelineOptions {
  if (value === undefined) throw invalid('an options object with outDir', 'pipeline options', value);
  const o = optionsObject(value, 'pipeline options');
  checkKnownKeys(o, PIPELINE_OPTIONS, 'pipeline options');
  const outDir = resolve(checkString(o.outDir, 'outDir', { nonEmpty: true }));
  const live = validateLive(o.live, o.liveWindowSegments);
  // A live layer is read while it is written, straight from its directory.
  if (live) {
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (err) {
      throw invalid(`a directory that can be created (${(err as Error).message})`, 'outDir', o.outDir);
    }
  }
  let isDir = false;
  try {
    isDir = statSync(outDir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw invalid('an existing directory', 'outDir', o.outDir);
  // FFmpeg's hls muxer expands '%' sequences anywhere in the segment path and cannot escape them.
  if (outDir.includes('%')) throw invalid("a directory path without '%'", 'outDir', o.outDir);
  const native: Record<string, unknown> = { outDir };
  if (o.requestedResolutions !== undefined) native.tier = checkEnum(o.requestedResolutions, 'requestedResolutions', TIERS);
  if (o.ladder !== undefined) native.ladder = validateLadder(o.ladder);
  if (o.hwaccel !== undefined) native.hwaccel = checkEnum(o.hwaccel, 'hwaccel', HWACCELS);
  if (o.hwDevice !== undefined) native.hwDevice = checkString(o.hwDevice, 'hwDevice', { nonEmpty: true });
  if (o.preset !== undefined) native.preset = checkEnum(o.preset, 'preset', PRESETS);
  if (o.codec !== undefined) native.codec = checkEnum(o.codec, 'codec', CODECS);
  if (o.segmentSeconds !== undefined) native.segmentSeconds = checkNumber(o.segmentSeconds, 'segmentSeconds', 1, 60);
  if (o.segmentFormat !== undefined) native.segmentFormat = checkEnum(o.segmentFormat, 'segmentFormat', SEGMENT_FORMATS);
  const interval = o.previewIntervalSeconds === undefined ? undefined : checkNumber(o.previewIntervalSeconds, 'previewIntervalSeconds', 0.1, 3600);
  if (o.previews === false) {
    native.previews = false;
  } else {
    native.previews = true;
    // true asks for the defaults, as leaving the option out does.
    native.previewOptions = validatePreviews(o.previews === true ? undefined : o.previews, interval);
  }
  if (o.audio !== undefined) native.audio = checkBoolean(o.audio, 'audio');
  if (o.audioBitrate !== undefined) native.audioBitrate = checkInteger(o.audioBitrate, 'audioBitrate', 16_000, 512_000);
  if (o.klv !== undefined) native.klv = checkBoolean(o.klv, 'klv');
  if (live) {
    native.live = live;
    native.segmentSeconds ??= 2;
    // Telemetry as it arrives: each unit is handed over as soon as it is framed.
    native.klvBatchUnits = 16;
    native.klvBatchMs = 0;
    if (live.partSeconds !== undefined) {
      if (native.segmentFormat === 'ts') throw invalid("segmentFormat 'fmp4' (LL-HLS parts are fMP4) or no segmentFormat", 'segmentFormat', o.segmentFormat);
      native.segmentFormat = 'fmp4';
      // A segment holds at least two parts.
      if ((live.partSeconds as number) > (native.segmentSeconds as number) / 2)
        throw invalid(`at most half of segmentSeconds (${String(native.segmentSeconds)})`, 'live.lowLatency.partSeconds', live.partSeconds);
    }
  }
  if (o.timeoutMs !== undefined) native.timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
  if (o.progressIntervalMs !== undefined) native.progressIntervalMs = checkInteger(o.progressIntervalMs, 'progressIntervalMs', 100, 60_000);
  if (o.probeSize !== undefined) native.probeSize = checkInteger(o.probeSize, 'probeSize', 32, Number.MAX_SAFE_INTEGER);
  if (o.analyzeDurationUs !== undefined) native.analyzeDurationUs = checkInteger(o.analyzeDurationUs, 'analyzeDurationUs', 0, Number.MAX_SAFE_INTEGER);
  if (o.format !== undefined) native.format = checkString(o.format, 'format', { nonEmpty: true });
  if (o.inputRoots !== undefined) native.inputRoots = checkInputRoots(o.inputRoots, 'inputRoots');
  if (o.inputOptions !== undefined) native.inputOptions = checkInputOptions(o.inputOptions, 'inputOptions');
  const out: ValidatedPipelineOptions = { native };
  if (o.signal !== undefined) out.signal = checkSignal(o.signal, 'signal');
  return out;
}
