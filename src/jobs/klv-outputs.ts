/**
 * Decoded KLV outputs of an ingest: klv.ndjson (one decoded unit per line, streamed to disk as
 * batches arrive) and klv.geojson (sensor track, footprints, frame centres), each written under a
 * temporary name and renamed when complete.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from '../errors.js';
import type { RawKlvUnit } from '../klv-extract.js';
import { GeoJsonBuilder, decodeKlv, toNdjsonLine } from '../klv/index.js';
import type { JobKlvSummary } from './job.js';

export const KLV_NDJSON = 'klv.ndjson';
export const KLV_GEOJSON = 'klv.geojson';

export class KlvOutputs {
  private readonly ndjsonPath: string;
  private readonly geojsonPath: string;
  private readonly out: WriteStream;
  private readonly geo = new GeoJsonBuilder();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private finished = false;
  private readonly summary: JobKlvSummary = { units: 0, packets: 0, standards: {}, checksumFailures: 0, decodeErrors: 0, features: 0 };

  constructor(private readonly dir: string) {
    this.ndjsonPath = join(dir, KLV_NDJSON);
    this.geojsonPath = join(dir, KLV_GEOJSON);
    this.out = createWriteStream(`${this.ndjsonPath}.part`, { flags: 'wx' });
    this.out.on('error', (err) => {
      this.failure ??= err;
    });
  }

  /** Decodes a batch of raw units and queues their lines; writes keep arrival order. */
  write(units: readonly RawKlvUnit[]): void {
    if (this.finished || this.failure) return;
    let text = '';
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
      }
    }
    if (text.length === 0) return;
    this.chain = this.chain.then(() => this.append(text));
  }

  private append(text: string): Promise<void> {
    if (this.failure) return Promise.resolve();
    if (this.out.write(text)) return Promise.resolve();
    // Wait for the stream to drain so a fast pass cannot pile up memory in the write buffer.
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('error', done);
    });
  }

  /** Flushes klv.ndjson, writes klv.geojson, and returns what was decoded. */
  async finish(): Promise<JobKlvSummary> {
    if (this.finished) return { ...this.summary };
    this.finished = true;
    await this.chain;
    await new Promise<void>((resolve) => {
      if (this.out.closed) resolve();
      else this.out.end(() => resolve());
    });
    if (this.failure) {
      await this.abort();
      const err = this.failure;
      throw new MediaError(`Could not write ${KLV_NDJSON}: ${err instanceof Error ? err.message : String(err)}`, { code: 'ERR_KLV_OUTPUT', step: 'klv' });
    }
    await rename(`${this.ndjsonPath}.part`, this.ndjsonPath);
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
    await Promise.all(
      [`${this.ndjsonPath}.part`, this.ndjsonPath, `${this.geojsonPath}.part`, this.geojsonPath].map((p) => rm(p, { force: true })),
    );
  }

  get dirPath(): string {
    return this.dir;
  }
}
