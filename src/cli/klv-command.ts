import type { Command } from 'commander';
import { createWriteStream, existsSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { CsvWriter, GeoJsonBuilder, toNdjsonLine } from '../klv/index.js';
import { KlvUnitStream, decodeRawUnit } from '../klv-extract.js';
import { MediaError } from '../errors.js';
import { parseMilliseconds } from './output.js';

type Format = 'ndjson' | 'csv' | 'geojson';
const FORMATS: readonly Format[] = ['ndjson', 'csv', 'geojson'];

interface Sink {
  write(data: string | Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

/**
 * stdout, or a regular file written beside its final name and renamed into place when complete.
 * An existing target that is not a regular file (/dev/null, a FIFO) is written in place: renaming
 * over it would replace the device.
 */
async function openSink(out: string | undefined): Promise<Sink> {
  let target: string | undefined = out;
  if (target === '-') target = undefined;
  const outputError = (why: string): MediaError =>
    new MediaError(`Cannot write the KLV output ${target}: ${why}`, { code: 'ERR_KLV_OUTPUT', step: 'output' });
  if (target !== undefined && existsSync(target) && statSync(target).isDirectory()) throw outputError('it is a directory');
  const inPlace = target !== undefined && existsSync(target) && !statSync(target).isFile();
  const temp = target !== undefined && !inPlace ? `${target}.partial-${process.pid}` : undefined;
  const stream: WriteStream | NodeJS.WriteStream = target === undefined ? process.stdout : createWriteStream(temp ?? target);
  let failure: MediaError | undefined;
  if (target !== undefined) {
    const file = stream as WriteStream;
    // An error later on (disk full) is kept and raised by the next write or the commit.
    file.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= outputError(err.code === 'ENOENT' ? 'its directory does not exist' : err.message);
    });
    await once(file, 'open').catch(() => undefined);
    if (failure) throw failure;
  }
  return {
    async write(data) {
      if (failure) throw failure;
      if (!stream.write(data)) await drainOrError(stream);
      if (failure) throw failure;
    },
    async commit() {
      if (target === undefined) return;
      await new Promise<void>((res, rej) => (stream as WriteStream).end((err?: Error | null) => (err ? rej(failure ?? outputError(err.message)) : res())));
      if (failure) throw failure;
      if (temp) renameSync(temp, target);
    },
    abort() {
      if (target === undefined) return;
      (stream as WriteStream).destroy();
      if (temp) rmSync(temp, { force: true });
    },
  };
}

/**
 * Resolves on the stream's next 'drain' or 'error', removing both listeners: racing two
 * once() promises left an 'error' listener behind on every full buffer.
 */
function drainOrError(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.removeListener('drain', done);
      stream.removeListener('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

const CHUNK = 4 << 20;

/**
 * Gathers lines UTF-8 encoded into large buffers: encoding each line straight into place beats
 * building one long string per batch and encoding it again on write.
 */
class LineChunker {
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private readonly full: Array<Buffer | string> = [];

  constructor(private readonly sink: Sink) {}

  /** Adds a line; synchronous, so a hot loop pays no promise per line (flush() writes). */
  line(text: string): void {
    const worst = text.length * 3 + 1;
    if (this.used + worst > this.buf.length) this.seal();
    if (worst > this.buf.length) {
      this.full.push(`${text}\n`);
      return;
    }
    this.used += this.buf.write(text, this.used);
    this.buf[this.used++] = 0x0a;
  }

  private seal(): void {
    if (this.used === 0) return;
    // The stream keeps the buffer until written: hand it over and start a new one.
    this.full.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
  }

  /** Writes the sealed chunks; with all, the partly filled one too. */
  async flush(all = false): Promise<void> {
    if (all) this.seal();
    for (const chunk of this.full.splice(0)) await this.sink.write(chunk);
  }
}

export async function writeKlv(
  input: string,
  format: Format,
  out: string | undefined,
  strict: boolean,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const sink = await openSink(out);
  const lines = new LineChunker(sink);
  let stream: KlvUnitStream;
  try {
    stream = new KlvUnitStream(input, options);
  } catch (err) {
    sink.abort();
    throw err;
  }
  const csv = format === 'csv' ? new CsvWriter() : undefined;
  const geo = format === 'geojson' ? new GeoJsonBuilder() : undefined;
  let count = 0;
  try {
    if (csv) await sink.write(csv.header());
    for await (const batch of stream) {
      for (const unit of batch) {
        const packet = decodeRawUnit(unit, strict);
        if (format === 'ndjson') lines.line(toNdjsonLine(packet));
        else if (csv) lines.line(csv.row(packet).slice(0, -1));
        else geo!.add(packet);
      }
      count += batch.length;
      await lines.flush();
    }
    await stream.stats;
    await lines.flush(true);
    if (geo) await sink.write(`${JSON.stringify(geo.toFeatureCollection())}\n`);
    await sink.commit();
  } catch (err) {
    stream.cancel();
    sink.abort();
    throw err;
  }
  return count;
}

export function registerKlvCommand(program: Command): void {
  program
    .command('klv')
    .description('extract and decode the KLV telemetry of an input (MPEG-TS, or a raw .klv/.bin byte stream)')
    .argument('<input>', 'file or URL')
    .option('--format <format>', `output format: ${FORMATS.join(' | ')}`, 'ndjson')
    .option('--out <file>', 'write to a file (atomically) instead of stdout')
    .option('--strict', 'fail on a bad checksum or a malformed packet instead of reporting it')
    .option('--timeout <ms>', 'give up after this many milliseconds', parseMilliseconds('--timeout'))
    .action(async (input: string, opts: { format: string; out?: string; strict?: boolean; timeout?: number }) => {
      if (!FORMATS.includes(opts.format as Format)) {
        throw new MediaError(`Expected one of ${FORMATS.join(', ')} for --format but received '${opts.format}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
      }
      // Ctrl-C stops the scan and removes the partial output file.
      const ac = new AbortController();
      const onInterrupt = (): void => ac.abort();
      process.once('SIGINT', onInterrupt);
      try {
        const count = await writeKlv(input, opts.format as Format, opts.out, opts.strict === true, {
          signal: ac.signal,
          ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {}),
        });
        if (opts.out) process.stderr.write(`fmv-ingest: wrote ${count} KLV packets to ${opts.out}\n`);
      } catch (err) {
        if (ac.signal.aborted) process.exit(130);
        throw err;
      } finally {
        process.removeListener('SIGINT', onInterrupt);
      }
    });
}
