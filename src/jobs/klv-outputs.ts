/**
 * Decoded KLV outputs of an ingest: klv.ndjson (one decoded unit per line, streamed to disk as
 * batches arrive) and klv.geojson (sensor track, footprints, frame centres), each written under a
 * temporary name and renamed when complete. A live run writes klv.ndjson under its own name from
 * the start (it is read while it grows) and streams klv.csv too.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
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
  private readonly geo: GeoJsonBuilder;
  // Live: footprints and frame centres spill to disk as they are made (a run may last for hours);
  // klv.geojson is joined from them at the end, the same bytes as a whole collection written once.
  private readonly spill: { path: string; out: WriteStream; text: string; count: number }[] = [];
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
    let builder: GeoJsonBuilder | undefined;
    this.out = createWriteStream(options.live ? this.ndjsonPath : `${this.ndjsonPath}.part`, { flags: 'wx' });
    this.out.on('error', (err) => {
      this.failure ??= err;
    });
    if (options.live) {
      for (const kind of ['footprints', 'centers']) {
        const path = join(dir, `${KLV_GEOJSON}.${kind}.part`);
        const out = createWriteStream(path, { flags: 'wx' });
        out.on('error', (err) => {
          this.failure ??= err;
        });
        this.spill.push({ path, out, text: '', count: 0 });
      }
      const [footprints, centers] = this.spill as [(typeof this.spill)[number], (typeof this.spill)[number]];
      const add = (to: typeof footprints) => (feature: unknown) => {
        to.text += `,${JSON.stringify(feature)}`;
        to.count++;
      };
      builder = new GeoJsonBuilder({ footprint: add(footprints), center: add(centers) });
      this.csv = new CsvWriter();
      this.csvOut = createWriteStream(`${this.csvPath}.part`, { flags: 'wx' });
      this.csvOut.on('error', (err) => {
        this.failure ??= err;
      });
      this.csvOut.write(this.csv.header());
    }
    this.geo = builder ?? new GeoJsonBuilder();
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
    const spilled = this.spill.map((s) => {
      const t = s.text;
      s.text = '';
      return t;
    });
    this.chain = this.chain.then(() =>
      Promise.all([
        this.append(this.out, text),
        this.csvOut ? this.append(this.csvOut, rows) : undefined,
        ...this.spill.map((s, i) => (spilled[i] ? this.append(s.out, spilled[i]!) : undefined)),
      ]).then(() => undefined),
    );
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
    await Promise.all([this.out, this.csvOut, ...this.spill.map((s) => s.out)].map((out) => new Promise<void>((resolve) => {
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
    if (this.spill.length > 0) await this.joinSpilledGeoJson(collection.features);
    else await writeFile(`${this.geojsonPath}.part`, JSON.stringify(collection));
    this.summary.features = collection.features.length + this.spill.reduce((n, s) => n + s.count, 0);
    await rename(`${this.geojsonPath}.part`, this.geojsonPath);
    return { ...this.summary, standards: { ...this.summary.standards } };
  }

  /** klv.geojson.part from the kept features (the track) and the spilled ones, in that order. */
  private async joinSpilledGeoJson(kept: readonly unknown[]): Promise<void> {
    const out = createWriteStream(`${this.geojsonPath}.part`, { flags: 'w' });
    const failed = new Promise<never>((_, reject) => out.once('error', reject));
    let any = kept.length > 0;
    const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
    const work = (async () => {
      await write(`{"type":"FeatureCollection","features":[${kept.map((f) => JSON.stringify(f)).join(',')}`);
      for (const s of this.spill) {
        for await (const chunk of createReadStream(s.path, { encoding: 'utf8' })) {
          // Every spilled feature starts with a comma: the very first of the file has none to follow.
          const text = !any && (chunk as string).startsWith(',') ? (chunk as string).slice(1) : (chunk as string);
          if (text.length > 0) any = true;
          await write(text);
        }
      }
      await write(']}');
      await new Promise<void>((resolve) => out.end(() => resolve()));
    })();
    await Promise.race([work, failed]);
    await Promise.all(this.spill.map((s) => rm(s.path, { force: true })));
  }

  /** Stops writing and removes whatever was written. */
  async abort(): Promise<void> {
    this.finished = true;
    if (!this.out.closed) this.out.destroy();
    if (this.csvOut && !this.csvOut.closed) this.csvOut.destroy();
    for (const s of this.spill) if (!s.out.closed) s.out.destroy();
    await Promise.all(
      [`${this.ndjsonPath}.part`, this.ndjsonPath, `${this.geojsonPath}.part`, this.geojsonPath, `${this.csvPath}.part`, this.csvPath, ...this.spill.map((s) => s.path)].map((p) =>
        rm(p, { force: true }),
      ),
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
