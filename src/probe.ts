/** probe(): what an input holds, read on the libuv pool without blocking the event loop. */
import { track } from './counters.js';
import { withCallerStack } from './errors.js';
import { loadAddon } from './native.js';
import { checkBoolean, checkInputRoots, checkInteger, checkKnownKeys, checkString, optionsObject } from './validate.js';

export interface Rational {
  num: number;
  den: number;
}

export interface VideoStream {
  index: number;
  /** MPEG-TS PID, null outside a transport stream. */
  pid: number | null;
  codec: string;
  codecLongName: string;
  profile: string | null;
  level: number | null;
  width: number;
  height: number;
  pixelFormat: string;
  frameRate: Rational;
  realFrameRate: Rational;
  sampleAspectRatio: Rational;
  displayAspectRatio: Rational;
  fieldOrder: 'progressive' | 'tt' | 'bb' | 'tb' | 'bt' | 'unknown';
  bitRate: number | null;
  duration: number | null;
  startTime: number;
  frames: number | null;
  timeBase: Rational;
}

export interface AudioStream {
  index: number;
  pid: number | null;
  codec: string;
  profile: string | null;
  channels: number;
  channelLayout: string;
  sampleRate: number;
  sampleFormat: string;
  bitRate: number | null;
  language: string | null;
}

export interface KlvStream {
  index: number;
  pid: number | null;
  /** From the PMT stream_type: 0x15 sync, 0x06 (KLVA registration) async; unknown outside TS. */
  carriage: 'sync' | 'async' | 'unknown';
  streamType: number | null;
  registration: string | null;
  /** PES stream id of the first packet (0xBD private stream 1, 0xFC metadata), null if none was seen. */
  pesStreamId: number | null;
  /** Whether the packets seen carry a PTS; 'unknown' when the PID sent nothing within the probe limit. */
  pts: 'present' | 'absent' | 'mixed' | 'unknown';
  packets: number;
  bytes: number;
  /** 0x06 private data carried with PES stream id 0xFC (written by older FFmpeg muxers). */
  hybrid: boolean;
}

export interface ProbeResult {
  url: string;
  format: string;
  formatLongName: string;
  duration: number | null;
  startTime: number;
  bitRate: number | null;
  size: number | null;
  video: VideoStream | null;
  otherVideo: VideoStream[];
  audio: AudioStream[];
  klv: KlvStream[];
}

export interface ProbeOptions {
  /** Bytes of input to read looking at KLV packets (default 8 MiB). */
  klvScanBytes?: number;
  /** libavformat probesize in bytes. */
  probeSize?: number;
  /** libavformat analyzeduration in microseconds. */
  analyzeDurationUs?: number;
  /** Force an input format (e.g. 'mpegts'). */
  format?: string;
  /** Fail with ERR_NO_VIDEO_STREAM when the input has no video (default true). */
  requireVideo?: boolean;
  /** Give up after this many milliseconds (ERR_TIMEOUT); reaches blocking network reads too. */
  timeoutMs?: number;
  /**
   * Read nothing outside these directories: the input and every file it refers to (HLS
   * segments, keys, nested playlists) must lie inside one, and network protocols are refused
   * (ERR_INPUT_REJECTED). Checked where FFmpeg opens each file. For inputs named by untrusted users.
   */
  inputRoots?: string[];
}

const PROBE_OPTIONS = ['klvScanBytes', 'probeSize', 'analyzeDurationUs', 'format', 'requireVideo', 'timeoutMs', 'inputRoots'] as const;

export function validateProbeOptions(value: unknown): Record<string, unknown> {
  const o = optionsObject(value, 'probe options');
  checkKnownKeys(o, PROBE_OPTIONS, 'probe options');
  const out: Record<string, unknown> = {};
  if (o.klvScanBytes !== undefined) out.klvScanBytes = checkInteger(o.klvScanBytes, 'klvScanBytes', 0, Number.MAX_SAFE_INTEGER);
  if (o.probeSize !== undefined) out.probeSize = checkInteger(o.probeSize, 'probeSize', 32, Number.MAX_SAFE_INTEGER);
  if (o.analyzeDurationUs !== undefined) out.analyzeDurationUs = checkInteger(o.analyzeDurationUs, 'analyzeDurationUs', 0, Number.MAX_SAFE_INTEGER);
  if (o.format !== undefined) out.format = checkString(o.format, 'format', { nonEmpty: true });
  if (o.requireVideo !== undefined) out.requireVideo = checkBoolean(o.requireVideo, 'requireVideo');
  if (o.timeoutMs !== undefined) out.timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
  if (o.inputRoots !== undefined) out.inputRoots = checkInputRoots(o.inputRoots, 'inputRoots');
  return out;
}

/** Describes an input: container, video, audio and KLV streams (with their MPEG-TS carriage). */
export function probe(input: string, options?: ProbeOptions): Promise<ProbeResult> {
  const stack = new Error().stack;
  try {
    const url = checkString(input, 'input', { nonEmpty: true });
    const native = loadAddon();
    return withCallerStack(track('probe', native.probe(url, validateProbeOptions(options)) as Promise<ProbeResult>), stack);
  } catch (err) {
    return Promise.reject(err);
  }
}
