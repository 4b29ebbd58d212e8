/**
 * Decoded KLV outputs of an ingest: klv.ndjson (one decoded unit per line, streamed to disk as
 * batches arrive) and klv.geojson (sensor track, footprints, frame centres), each written under a
 * temporary name and renamed when complete. A live run writes klv.ndjson under its own name from
 * the start (it is read while it grows) and streams klv.csv too.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from '../errors.js';
import type { RawKlvUnit } from '../klv-extract.js';
import { CsvWriter, GeoJsonBuilder, decodeKlv, toNdjsonLine, type KlvPacket } from '../klv/index.js';
import type { JobKlvSummary } from './job.js';

export const KLV_NDJSON = 'klv.ndjson';
export const KLV_GEOJSON = 'klv.geojson';
export const KLV_CSV = 'klv.csv';

export interface KlvOutputsOptions {
  /** klv.ndjson under its final name as it grows, and klv.csv streamed beside it. */
  live?: boolean;
  /** Sees every decoded packet, in order, with the unit it came from. */
  onPacket?: (packet: KlvPacket, unit: RawKlvUnit) => void;
}

export class KlvOutputs {
  private readonly ndjsonPath: string;
  private readonly geojsonPath: string;
  private readonly csvPath: string;
  private readonly out: WriteStream;
  private readonly csvOut: WriteStream | undefined;
  private readonly csv: CsvWriter | undefined;
  private readonly geo = new GeoJsonBuilder();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private finished = false;
  private readonly summary: JobKlvSummary = { units: 0, packets: 0, standards: {}, checksumFailures: 0, decodeErrors: 0, features: 0 };

  constructor(
    private readonly dir: string,
    private readonly options: KlvOutputsOptions = {},
  ) {
    this.ndjsonPath = join(dir, KLV_NDJSON);
    this.geojsonPath = join(dir, KLV_GEOJSON);
    this.csvPath = join(dir, KLV_CSV);
    this.out = createWriteStream(options.live ? this.ndjsonPath : `${this.ndjsonPath}.part`, { flags: 'wx' });
    this.out.on('error', (err) => {
      this.failure ??= err;
    });
    if (options.live) {
      this.csv = new CsvWriter();
      this.csvOut = createWriteStream(`${this.csvPath}.part`, { flags: 'wx' });
      this.csvOut.on('error', (err) => {
        this.failure ??= err;
      });
      this.csvOut.write(this.csv.header());
    }
  }

  /** Decodes a batch of raw units and queues their lines; writes keep arrival order. */
  write(units: readonly RawKlvUnit[]): void {
    if (this.finished || this.failure) return;
    let text = '';
    let rows = '';
    for (const unit of units) {
      this.summary.units++;
      let packets;
      try {
        packets = decodeKlv(unit.data, {
          pts: unit.pts,
          stream: unit.stream,
          pid: unit.pid,
          carriage: unit.carriage === 'unknown' ? null : unit.carriage,
        });
      } catch {
        // Lenient decoding reports problems inside packets; a throw here is a decoder fault on one unit.
        this.summary.decodeErrors++;
        continue;
      }
      for (const packet of packets) {
        this.summary.packets++;
        this.summary.standards[packet.standard] = (this.summary.standards[packet.standard] ?? 0) + 1;
        if (packet.checksumValid === false) this.summary.checksumFailures++;
        if (packet.error !== undefined) this.summary.decodeErrors++;
        this.geo.add(packet);
        text += toNdjsonLine(packet) + '\n';
        if (this.csv) rows += this.csv.row(packet);
        this.options.onPacket?.(packet, unit);
      }
    }
    if (text.length === 0) return;
    this.chain = this.chain.then(() => Promise.all([this.append(this.out, text), this.csvOut ? this.append(this.csvOut, rows) : undefined]).then(() => undefined));
  }

  private append(out: WriteStream, text: string): Promise<void> {
    if (this.failure) return Promise.resolve();
    if (out.write(text)) return Promise.resolve();
    // Wait for the stream to drain so a fast pass cannot pile up memory in the write buffer.
    return new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('error', done);
        resolve();
      };
      out.once('drain', done);
      out.once('error', done);
    });
  }

  /** Flushes klv.ndjson, writes klv.geojson, and returns what was decoded. */
  async finish(): Promise<JobKlvSummary> {
    if (this.finished) return { ...this.summary };
    this.finished = true;
    await this.chain;
    await Promise.all([this.out, this.csvOut].map((out) => new Promise<void>((resolve) => {
      if (!out || out.closed) resolve();
      else out.end(() => resolve());
    })));
    if (this.failure) {
      await this.abort();
      const err = this.failure;
      throw new MediaError(`Could not write ${KLV_NDJSON}: ${err instanceof Error ? err.message : String(err)}`, { code: 'ERR_KLV_OUTPUT', step: 'klv' });
    }
    if (!this.options.live) await rename(`${this.ndjsonPath}.part`, this.ndjsonPath);
    if (this.csvOut) await rename(`${this.csvPath}.part`, this.csvPath);
    const collection = this.geo.toFeatureCollection();
    this.summary.features = collection.features.length;
    await writeFile(`${this.geojsonPath}.part`, JSON.stringify(collection));
    await rename(`${this.geojsonPath}.part`, this.geojsonPath);
    return { ...this.summary, standards: { ...this.summary.standards } };
  }

  /** Stops writing and removes whatever was written. */
  async abort(): Promise<void> {
    this.finished = true;
    if (!this.out.closed) this.out.destroy();
    if (this.csvOut && !this.csvOut.closed) this.csvOut.destroy();
    await Promise.all(
      [`${this.ndjsonPath}.part`, this.ndjsonPath, `${this.geojsonPath}.part`, this.geojsonPath, `${this.csvPath}.part`, this.csvPath].map((p) => rm(p, { force: true })),
    );
  }

  /** Files this writer produces (relative to its directory). */
  get files(): string[] {
    return this.options.live ? [KLV_NDJSON, KLV_CSV, KLV_GEOJSON] : [KLV_NDJSON, KLV_GEOJSON];
  }

  get dirPath(): string {
    return this.dir;
  }
}
