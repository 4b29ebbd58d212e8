import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractKlvUnits, KlvUnitStream, type RawKlvUnit } from '../src/klv-extract.js';
import { probe } from '../src/probe.js';
import { kwiver, samples, scratch } from './helpers/paths.js';
import { writeKlvTransportStream } from './helpers/ts-writer.js';

async function collect(input: string, options?: ConstructorParameters<typeof KlvUnitStream>[1]) {
  const stream = new KlvUnitStream(input, options);
  const units: RawKlvUnit[] = [];
  let batches = 0;
  for await (const batch of stream) {
    batches++;
    units.push(...batch);
  }
  return { units, batches, stats: await stream.stats };
}

/** A KLV unit with a 16-byte UL key, BER length and n value bytes (value i = seed + i). */
function unit(n: number, seed = 0): Uint8Array {
  const key = [0x06, 0x0e, 0x2b, 0x34, 0x02, 0x0b, 0x01, 0x01, 0x0e, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00];
  const len = n < 128 ? [n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([...key, ...len, ...Array.from({ length: n }, (_, i) => (seed + i) & 0x7f)]);
}

describe('KLV extraction from the sample files', () => {
  it('h264_klv.ts: 30 ST 0601 units, async, no PTS until video gives a time', async () => {
    const { units, stats } = await collect(kwiver('h264_klv.ts'));
    expect(units).toHaveLength(30);
    expect(stats).toMatchObject({ units: 30, packets: 30, bytes: 70588, garbageBytes: 0, truncatedUnits: 0, klvStreams: 1 });
    for (const u of units) {
      expect(u.pid).toBe(0x101);
      expect(u.carriage).toBe('async');
      expect([...u.data.subarray(0, 4)]).toEqual([0x06, 0x0e, 0x2b, 0x34]);
      // Units without a PTS borrow the latest video time, or have none before the first frame.
      if (u.pts === null) expect(u.ptsInferred).toBe(false);
      else expect(u.ptsInferred).toBe(true);
    }
    expect(units.filter((u) => u.ptsInferred).length).toBe(stats.inferredPts);
    expect(units.some((u) => u.ptsInferred)).toBe(true);
    const offsets = units.map((u) => u.byteOffset!);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  });

  it('aphill_short.ts: 48 EG 0104 units with their own PTS on the input clock', async () => {
    const { units } = await collect(kwiver('aphill_short.ts'));
    expect(units).toHaveLength(48);
    const info = await probe(kwiver('aphill_short.ts'));
    for (const u of units) {
      expect(u.ptsInferred).toBe(false);
      expect(u.pts).toBeGreaterThanOrEqual(info.startTime - 0.5);
    }
  });

  it('mpeg2_klv.ts matches h264_klv.ts unit for unit', async () => {
    const a = await collect(kwiver('mpeg2_klv.ts'));
    const b = await collect(kwiver('h264_klv.ts'));
    expect(a.units.map((u) => u.data.toString('hex'))).toEqual(b.units.map((u) => u.data.toString('hex')));
  });

  it('inputs without KLV give no units', async () => {
    expect((await collect(kwiver('h264_no_klv.ts'))).units).toHaveLength(0);
    expect((await collect(kwiver('h264_audio.ts'))).stats.klvStreams).toBe(0);
  });

  it('a raw KLV byte stream (.bin) is accepted', async () => {
    const { units, stats } = await collect(join(samples, 'klv', 'kwiver_test_klv_0601_full_packet.bin'));
    expect(stats.rawInput).toBe(true);
    expect(units).toHaveLength(1);
    expect(units[0]!.data.length).toBe(978);
    expect(units[0]!.pts).toBeNull();
  });

  it('a raw stream with garbage between units re-syncs on the key prefix', async () => {
    const dir = scratch('klv-extract');
    const parts = [unit(40, 1), Buffer.from('garbage!'), unit(300, 2), Buffer.from([0x06, 0x0e, 0x2b]), unit(10, 3)];
    const file = join(dir, 'garbage.klv');
    writeFileSync(file, Buffer.concat(parts.map((p) => Buffer.from(p))));
    const { units, stats } = await collect(file);
    expect(units.map((u) => u.data.length)).toEqual([57, 319, 27]);
    expect(stats.garbageBytes).toBe(11);
  });
});

describe('KLV carriage fixtures', () => {
  const dir = scratch('klv-extract');

  it('sync KLV: AU cell headers stripped, several cells per PES, PTS kept', async () => {
    const file = join(dir, 'sync.ts');
    writeFileSync(
      file,
      writeKlvTransportStream([
        { pid: 0x1f1, sync: true, pes: [{ pts: 10, units: [unit(20, 1)] }, { pts: 10.5, units: [unit(30, 2), unit(400, 3), unit(5, 4)] }] },
      ]),
    );
    const info = await probe(file, { requireVideo: false });
    expect(info.klv).toEqual([expect.objectContaining({ pid: 0x1f1, carriage: 'sync', streamType: 0x15, registration: 'KLVA', pesStreamId: 0xfc, pts: 'present' })]);
    const { units, stats } = await collect(file);
    expect(units.map((u) => u.data.length)).toEqual([37, 47, 419, 22]);
    expect(units.map((u) => u.pts)).toEqual([10, 10.5, 10.5, 10.5]);
    expect(units.every((u) => u.carriage === 'sync')).toBe(true);
    expect(Buffer.from(units[2]!.data)).toEqual(Buffer.from(unit(400, 3)));
    expect(stats.garbageBytes).toBe(0);
  });

  it('a damaged length does not swallow the units of the packets after it', async () => {
    const file = join(dir, 'bad-length.ts');
    const damaged = unit(20, 2);
    // The BER length 20 becomes 0x83 0x0F 0xFF 0xFF... as a bit error would make it: ~1 MB declared.
    const bad = Uint8Array.from([...damaged.subarray(0, 16), 0x83, 0x0f, 0xff, 0xff, ...damaged.subarray(17)]);
    writeFileSync(
      file,
      writeKlvTransportStream([{ pid: 0x101, sync: false, pes: [{ units: [unit(10, 1)] }, { units: [bad] }, { units: [unit(30, 3)] }, { units: [unit(40, 4)] }] }]),
    );
    const { units, stats } = await collect(file);
    expect(units.map((u) => u.data.length)).toEqual([27, 47, 57]);
    expect(Buffer.from(units[1]!.data)).toEqual(Buffer.from(unit(30, 3)));
    expect(stats.truncatedUnits).toBe(1);
  });

  it('several KLV PIDs, a unit split across PES, and a declared PID that sends nothing', async () => {
    const file = join(dir, 'multi.ts');
    const big = unit(1000, 9);
    writeFileSync(
      file,
      writeKlvTransportStream([
        { pid: 0x101, sync: false, pes: [{ units: [unit(10, 1), unit(12, 2)] }, { units: [big.subarray(0, 500)] }, { units: [big.subarray(500)] }] },
        { pid: 0x102, sync: true, pes: [{ pts: 1, units: [unit(8, 5)] }] },
        { pid: 0x103, sync: false, pes: [] },
      ]),
    );
    const info = await probe(file, { requireVideo: false });
    const byPid = new Map(info.klv.map((k) => [k.pid, k]));
    expect(byPid.get(0x101)).toMatchObject({ carriage: 'async', pesStreamId: 0xbd, pts: 'absent' });
    expect(byPid.get(0x102)).toMatchObject({ carriage: 'sync', pts: 'present' });
    // libavformat may not create a stream for a PID that never sends; if it does, nothing was seen.
    if (byPid.has(0x103)) expect(byPid.get(0x103)).toMatchObject({ pts: 'unknown', packets: 0, pesStreamId: null });
    const { units } = await collect(file);
    const a = units.filter((u) => u.pid === 0x101);
    expect(a.map((u) => u.data.length)).toEqual([27, 29, 1019]);
    expect(Buffer.from(a[2]!.data)).toEqual(Buffer.from(big));
    expect(units.filter((u) => u.pid === 0x102).map((u) => u.pts)).toEqual([1]);
  });
});

describe('KLV extraction: streaming behaviour', () => {
  it('delivers batches, not one call per unit', async () => {
    const { units, batches } = await collect(kwiver('aphill_short.ts'), { batchSize: 16 });
    expect(units).toHaveLength(48);
    expect(batches).toBe(3);
  });

  it('breaking out of the loop stops the native scan', async () => {
    let seen = 0;
    for await (const u of extractKlvUnits(kwiver('aphill_short.ts'), { batchSize: 1 })) {
      void u;
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
  });

  it('an AbortSignal cancels with ERR_CANCELLED', async () => {
    const controller = new AbortController();
    const stream = new KlvUnitStream(kwiver('aphill_short.ts'), { batchSize: 1, signal: controller.signal });
    let seen = 0;
    const run = (async () => {
      for await (const batch of stream) {
        seen += batch.length;
        if (seen === 2) controller.abort();
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await expect(run).rejects.toMatchObject({ code: 'ERR_CANCELLED', step: 'klv' });
    expect(seen).toBeLessThan(48);
  });

  it('bad inputs reject with a MediaError', async () => {
    await expect(collect('/no/such/file.ts')).rejects.toMatchObject({ code: 'ERR_INPUT_NOT_FOUND', step: 'open' });
    const text = join(scratch('klv-extract'), 'text.txt');
    writeFileSync(text, 'hello\n');
    await expect(collect(text)).rejects.toMatchObject({ code: 'ERR_INPUT_FORMAT' });
    expect(() => new KlvUnitStream(kwiver('h264_klv.ts'), { batchsize: 3 } as never)).toThrow("Unknown option 'batchsize' in KLV extract options (did you mean 'batchSize'?)");
  });
});
