/**
 * KLV extraction from an input: every KLV unit of every KLV data stream, in one demux pass on a
 * native thread, delivered in batches with flow control (the native side waits when the consumer
 * is slow, so memory stays bounded on long or live inputs).
 */
import { track } from './counters.js';
import { MediaError } from './errors.js';
import { decodeKlvUnit, type KlvPacket } from './klv/index.js';
import { loadAddon } from './native.js';
import { checkBoolean, checkInputRoots, checkInteger, checkKnownKeys, checkSignal, checkString, optionsObject } from './validate.js';

export interface RawKlvUnit {
  stream: number;
  /** MPEG-TS PID, null for raw KLV byte streams and non-TS inputs. */
  pid: number | null;
  carriage: 'sync' | 'async' | 'unknown';
  /** Seconds on the input's own clock (PTS × time base, like ffprobe's pts_time); null when no time is known. */
  pts: number | null;
  /** The unit had no PTS and took the time of the latest video frame. */
  ptsInferred: boolean;
  /** Input byte position of the packet the unit started in. */
  byteOffset: number | null;
  /** The whole unit: 16-byte key, BER length, value. */
  data: Buffer;
}

export interface KlvExtractStats {
  units: number;
  packets: number;
  bytes: number;
  garbageBytes: number;
  truncatedUnits: number;
  inferredPts: number;
  rawInput: boolean;
  klvStreams: number;
  /** FFmpeg's text when the input ended in damage (what came before it was still read). */
  damagedTail: string | null;
}

export interface KlvExtractOptions {
  /** Treat the input as a raw KLV byte stream (default: decided from .klv/.bin or the bytes). */
  raw?: boolean;
  /** Units per native batch (default 1024). */
  batchSize?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  format?: string;
  /** Read nothing outside these directories (see ProbeOptions.inputRoots). */
  inputRoots?: string[];
}

/** A native batch: the units back to back in data, and 7 numbers per unit in meta. */
export interface NativeKlvBatch {
  data: Buffer;
  meta: Float64Array;
}

const CARRIAGE = ['unknown', 'async', 'sync'] as const;

/** Turns a native KLV batch into unit objects (their data are views into the batch buffer). */
export function unpackKlvBatch(batch: NativeKlvBatch): RawKlvUnit[] {
  const { data, meta } = batch;
  const units: RawKlvUnit[] = new Array(meta.length / 7);
  let offset = 0;
  for (let i = 0, m = 0; m < meta.length; i++, m += 7) {
    const length = meta[m + 6]!;
    const pid = meta[m + 1]!;
    const pts = meta[m + 3]!;
    const byteOffset = meta[m + 5]!;
    units[i] = {
      stream: meta[m]!,
      pid: pid < 0 ? null : pid,
      carriage: CARRIAGE[meta[m + 2]! + 1]!,
      pts: Number.isNaN(pts) ? null : pts,
      ptsInferred: meta[m + 4] === 1,
      byteOffset: byteOffset < 0 ? null : byteOffset,
      data: data.subarray(offset, offset + length),
    };
    offset += length;
  }
  return units;
}

interface NativeHandle {
  cancel(): void;
  ack(): void;
}

const KNOWN = ['raw', 'batchSize', 'signal', 'timeoutMs', 'format', 'inputRoots'] as const;

export function validateKlvExtractOptions(options: unknown): { native: Record<string, unknown>; signal?: AbortSignal } {
  const o = optionsObject(options, 'KLV extract options');
  checkKnownKeys(o, KNOWN, 'KLV extract options');
  const native: Record<string, unknown> = {};
  if (o.raw !== undefined) native.raw = checkBoolean(o.raw, 'raw');
  if (o.batchSize !== undefined) native.batchSize = checkInteger(o.batchSize, 'batchSize', 1, 65536);
  if (o.timeoutMs !== undefined) native.timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
  if (o.format !== undefined) native.format = checkString(o.format, 'format', { nonEmpty: true });
  if (o.inputRoots !== undefined) native.inputRoots = checkInputRoots(o.inputRoots, 'inputRoots');
  const signal = o.signal === undefined ? undefined : checkSignal(o.signal, 'signal');
  return signal ? { native, signal } : { native };
}

/**
 * Streams the raw KLV units of an input. The returned object is an async iterable of batches;
 * `stats` resolves when the scan ends. The scan waits while unread batches pile up (memory stays
 * bounded), so `stats` settles only once the stream is read to the end, cancelled, or past its
 * `timeoutMs`. Breaking out of the loop cancels the native scan.
 */
export class KlvUnitStream implements AsyncIterable<RawKlvUnit[]> {
  readonly stats: Promise<KlvExtractStats>;
  private readonly queue: RawKlvUnit[][] = [];
  private waiting: ((r: IteratorResult<RawKlvUnit[]>) => void) | undefined;
  private failWaiting: ((e: unknown) => void) | undefined;
  private finished = false;
  private error: unknown;
  private handle: NativeHandle | undefined;
  private resolveStats!: (s: KlvExtractStats) => void;
  private rejectStats!: (e: unknown) => void;

  constructor(input: string, options?: KlvExtractOptions) {
    this.stats = new Promise((res, rej) => {
      this.resolveStats = res;
      this.rejectStats = rej;
    });
    // Callers that only iterate must not get an unhandled rejection from stats.
    this.stats.catch(() => undefined);
    const url = checkString(input, 'input', { nonEmpty: true });
    const { native, signal } = validateKlvExtractOptions(options);
    if (signal?.aborted) throw new MediaError('KLV extraction was aborted before it started', { code: 'ERR_CANCELLED', step: 'klv' });
    const addon = loadAddon() as unknown as { extractKlv(u: string, o: Record<string, unknown>, cb: (ev: string, payload: unknown) => void): NativeHandle };
    const onAbort = () => this.handle?.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    track('klv', this.stats);
    this.handle = addon.extractKlv(url, native, (event, payload) => {
      if (event === 'klv') {
        this.push(unpackKlvBatch(payload as NativeKlvBatch));
        return;
      }
      signal?.removeEventListener('abort', onAbort);
      this.finished = true;
      if (event === 'done') this.resolveStats(payload as KlvExtractStats);
      else {
        this.error = payload;
        this.rejectStats(payload);
      }
      this.wake();
    });
  }

  private push(batch: RawKlvUnit[]): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failWaiting = undefined;
      this.handle?.ack();
      w({ value: batch, done: false });
    } else {
      this.queue.push(batch);
    }
  }

  private wake(): void {
    if (!this.waiting || this.queue.length) return;
    const w = this.waiting;
    const f = this.failWaiting;
    this.waiting = this.failWaiting = undefined;
    if (this.error !== undefined) f?.(this.error);
    else w({ value: undefined, done: true });
  }

  /** Stops the native scan; iteration then ends with ERR_CANCELLED. */
  cancel(): void {
    this.handle?.cancel();
  }

  [Symbol.asyncIterator](): AsyncIterator<RawKlvUnit[]> {
    return {
      next: () => {
        const batch = this.queue.shift();
        if (batch) {
          this.handle?.ack();
          return Promise.resolve({ value: batch, done: false });
        }
        if (this.finished) return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
      return: () => {
        if (!this.finished) this.handle?.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Async iterable of the raw KLV units of an input (see KlvUnitStream for batches and stats). */
export async function* extractKlvUnits(input: string, options?: KlvExtractOptions): AsyncGenerator<RawKlvUnit> {
  const stream = new KlvUnitStream(input, options);
  for await (const batch of stream) yield* batch;
}

/** Options of extractKlv: the extraction options plus decoding strictness. */
export interface ExtractKlvOptions extends KlvExtractOptions {
  /** Reject a unit with a bad checksum or broken structure (KlvError) instead of reporting it. */
  strict?: boolean;
}

/** Fills the per-unit stream fields of a decoded packet from the raw unit it came from. */
export function decodeRawUnit(unit: RawKlvUnit, strict = false): KlvPacket {
  const packet = decodeKlvUnit(unit.data, { strict });
  packet.pts = unit.pts;
  packet.stream = unit.stream;
  packet.pid = unit.pid;
  packet.carriage = unit.carriage === 'unknown' ? null : unit.carriage;
  return packet;
}

/**
 * Async iterable of decoded KLV packets of an input, in stream order, each with pts (seconds on
 * the input's own clock), stream, pid and carriage. Decoding is lenient by default: a bad checksum
 * is reported in `checksumValid` and values are still decoded.
 */
export async function* extractKlv(input: string, options: ExtractKlvOptions = {}): AsyncGenerator<KlvPacket> {
  const { strict, ...rest } = optionsObject(options, 'KLV extract options');
  const strictMode = strict === undefined ? false : checkBoolean(strict, 'strict');
  for await (const batch of new KlvUnitStream(input, rest as KlvExtractOptions)) {
    for (const unit of batch) yield decodeRawUnit(unit, strictMode);
  }
}
