import type { Command } from 'commander';
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { CsvWriter, GeoJsonBuilder, toNdjsonLine } from '../klv/index.js';
import { KlvUnitStream, decodeRawUnit } from '../klv-extract.js';
import { MediaError } from '../errors.js';

type Format = 'ndjson' | 'csv' | 'geojson';
const FORMATS: readonly Format[] = ['ndjson', 'csv', 'geojson'];

interface Sink {
  write(text: string): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

/** stdout, or a file written beside its final name and renamed into place when complete. */
function openSink(out: string | undefined): Sink {
  const target = out ?? '-';
  const temp = target === '-' ? undefined : `${target}.partial-${process.pid}`;
  const stream: WriteStream | NodeJS.WriteStream = temp ? createWriteStream(temp) : process.stdout;
  return {
    async write(text) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async commit() {
      if (!temp) return;
      await new Promise<void>((res, rej) => (stream as WriteStream).end((err?: Error | null) => (err ? rej(err) : res())));
      renameSync(temp, target);
    },
    abort() {
      if (!temp) return;
      (stream as WriteStream).destroy();
      rmSync(temp, { force: true });
    },
  };
}

export async function writeKlv(input: string, format: Format, out: string | undefined, strict: boolean): Promise<number> {
  const sink = openSink(out);
  const stream = new KlvUnitStream(input);
  const csv = format === 'csv' ? new CsvWriter() : undefined;
  const geo = format === 'geojson' ? new GeoJsonBuilder() : undefined;
  let count = 0;
  try {
    if (csv) await sink.write(csv.header());
    for await (const batch of stream) {
      let text = '';
      for (const unit of batch) {
        const packet = decodeRawUnit(unit, strict);
        if (format === 'ndjson') text += toNdjsonLine(packet) + '\n';
        else if (csv) text += csv.row(packet);
        else geo!.add(packet);
      }
      count += batch.length;
      if (text) await sink.write(text);
    }
    await stream.stats;
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
    .action(async (input: string, opts: { format: string; out?: string; strict?: boolean }) => {
      if (!FORMATS.includes(opts.format as Format)) {
        throw new MediaError(`Expected one of ${FORMATS.join(', ')} for --format but received '${opts.format}'`, { code: 'ERR_INVALID_OPTION', step: 'options' });
      }
      const count = await writeKlv(input, opts.format as Format, opts.out, opts.strict === true);
      if (opts.out) process.stderr.write(`fmv-ingest: wrote ${count} KLV packets to ${opts.out}\n`);
    });
}
