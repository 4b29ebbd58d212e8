// Bad and damaged inputs: typed errors, never a crash, nothing left behind; damage that still
// yields video becomes warnings.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { startPipeline } from '../src/pipeline.js';
import { probe } from '../src/probe.js';
import { clipsDir, decodeErrors, ffmpeg, kwiverSample, makeClip, scratchDir } from './pipeline-fixtures.mjs';

const fast = { preset: 'ultrafast', requestedResolutions: 'sd', previews: false } as const;

async function failure(input: string, name: string, extra: Record<string, unknown> = {}): Promise<MediaError> {
  const out = scratchDir(`damaged-${name}`);
  const err = await startPipeline(input, { outDir: out, ...fast, ...extra }).done.then(
    () => {
      throw new Error('expected the ingest to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaError);
  // A failed job leaves the scratch directory as it found it.
  expect(readdirSync(out)).toEqual([]);
  return err as MediaError;
}

describe('bad and damaged inputs', () => {
  let clip: { path: string; klvUnits: number };
  let dir: string;

  beforeAll(() => {
    clip = makeClip(clipsDir, 'fhd-2s', { seconds: 2, ptsless: 4 });
    dir = scratchDir('damaged-inputs');
  });

  it('a text file is ERR_INPUT_FORMAT', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'this is not a video\n'.repeat(100));
    expect(await failure(path, 'text')).toMatchObject({ code: 'ERR_INPUT_FORMAT', step: 'open' });
  });

  it('a missing file is ERR_INPUT_NOT_FOUND', async () => {
    expect(await failure(join(dir, 'missing.ts'), 'missing')).toMatchObject({ code: 'ERR_INPUT_NOT_FOUND', step: 'open' });
  });

  it('an input without video is ERR_NO_VIDEO_STREAM', async () => {
    const path = join(dir, 'audio-only.ts');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', '-c:a', 'aac', '-f', 'mpegts', path]);
    const err = await failure(path, 'novideo');
    expect(err).toMatchObject({ code: 'ERR_NO_VIDEO_STREAM', step: 'probe' });
    expect(err.message).toMatch(/has no video stream/);
  });

  it('video that never decodes is ERR_DECODE, with nothing published', async () => {
    // Every video payload byte after the PES header replaced by noise: the demuxer still sees
    // packets, the decoder never produces a picture.
    const data = Buffer.from(readFileSync(clip.path));
    let seed = 1;
    for (let i = 0; i + 188 <= data.length; i += 188) {
      const pid = ((data[i + 1]! & 0x1f) << 8) | data[i + 2]!;
      if (pid !== 0x100) continue;
      const pusi = (data[i + 1]! & 0x40) !== 0;
      const afc = (data[i + 3]! >> 4) & 3;
      let off = i + 4 + (afc & 2 ? 1 + data[i + 4]! : 0);
      if (pusi) off += 9 + data[off + 8]!;
      for (let j = off; j < i + 188; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        data[j] = seed >>> 24;
      }
    }
    const path = join(dir, 'noise.ts');
    writeFileSync(path, data);
    const err = await failure(path, 'noise');
    expect(['ERR_DECODE', 'ERR_STREAM_INFO']).toContain(err.code);
  });

  it('a TS cut short ingests what exists, with a warning', async () => {
    const whole = readFileSync(clip.path);
    const path = join(dir, 'cut.ts');
    // Cut in the middle of a packet at about 70%.
    writeFileSync(path, whole.subarray(0, Math.floor((whole.length * 0.7) / 188) * 188 + 100));
    const out = scratchDir('damaged-cut');
    const result = await startPipeline(path, { outDir: out, ...fast }).done;
    expect(result.warnings.map((w) => w.code)).toContain('INPUT_TRUNCATED');
    expect(result.duration).toBeGreaterThan(0.5);
    expect(result.duration).toBeLessThan(2);
    expect(decodeErrors(join(out, result.renditions[0]!.playlist))).toBe('');
    expect(result.counts.klvUnits).toBeGreaterThan(0);
    expect(result.counts.klvUnits).toBeLessThan(clip.klvUnits);
  });

  it('lost packets in the middle are counted and reported as warnings', async () => {
    // Drop 300 transport packets at about 40%, as a lossy network input would.
    const data = readFileSync(clip.path);
    const start = Math.floor((data.length * 0.4) / 188) * 188;
    const path = join(dir, 'lossy.ts');
    writeFileSync(path, Buffer.concat([data.subarray(0, start), data.subarray(start + 188 * 300)]));
    const out = scratchDir('damaged-lossy');
    const warnings: string[] = [];
    const result = await startPipeline(path, { outDir: out, ...fast }, { onWarning: (w) => warnings.push(w.code) }).done;
    expect(warnings).toContain('INPUT_DAMAGED');
    expect(warnings).toContain('DECODE_ERRORS');
    expect(result.counts.corruptPackets).toBeGreaterThan(0);
    expect(result.warnings.find((w) => w.code === 'DECODE_ERRORS')?.message).toMatch(/damaged packets/);
    expect(result.counts.framesOut).toBeGreaterThan(20);
    expect(decodeErrors(join(out, result.renditions[0]!.playlist))).toBe('');
    // FFmpeg's own words reach the job's log (decoder threads included), each line whole.
    expect(result.log.some((l) => l.startsWith('[h264] '))).toBe(true);
    expect(result.log.some((l) => /^\[mpegts\] Packet corrupt .*\)\.$/.test(l))).toBe(true);
    expect(result.log.every((l) => !l.includes(' @ 0x'))).toBe(true);
  });

  it('with two damaged ingests at once, each job keeps its own decoder-thread lines', async () => {
    const data = readFileSync(clip.path);
    const paths = [0.3, 0.6].map((at, i) => {
      const start = Math.floor((data.length * at) / 188) * 188;
      const path = join(dir, `lossy-${i}.ts`);
      writeFileSync(path, Buffer.concat([data.subarray(0, start), data.subarray(start + 188 * 300)]));
      return path;
    });
    const results = await Promise.all(
      paths.map((path, i) => startPipeline(path, { outDir: scratchDir(`damaged-concurrent-${i}`), ...fast }).done),
    );
    for (const result of results) {
      expect(result.counts.corruptPackets).toBeGreaterThan(0);
      expect(result.log.filter((l) => l.startsWith('[h264] ')).length).toBeGreaterThan(0);
    }
  });

  it("an ingest's log holds only its own lines while other work in the process logs", async () => {
    // Damage right at the start, so that every probe of this file logs "Packet corrupt".
    const data = readFileSync(clip.path);
    const damaged = join(dir, 'damaged-head.ts');
    writeFileSync(damaged, Buffer.concat([data.subarray(0, 188 * 40), data.subarray(188 * 140)]));
    const run = startPipeline(clip.path, { outDir: scratchDir('damaged-neighbour'), ...fast });
    let probing = true;
    const probes = (async () => {
      let n = 0;
      while (probing) {
        await probe(damaged).catch(() => undefined);
        n++;
      }
      return n;
    })();
    const result = await run.done.finally(() => (probing = false));
    expect(await probes).toBeGreaterThan(0);
    expect(result.counts.corruptPackets).toBe(0);
    expect(result.log.filter((l) => /corrupt/i.test(l))).toEqual([]);
  });

  it('recordings joined with a timestamp jump (forward or back) become one continuous timeline', async () => {
    const shifted = join(dir, 'shifted.ts');
    ffmpeg(['-i', clip.path, '-map', '0', '-c', 'copy', '-output_ts_offset', '1000', '-f', 'mpegts', shifted]);
    const a = readFileSync(clip.path);
    const b = readFileSync(shifted);
    for (const [name, parts] of [['forward', [a, b]], ['back', [b, a]]] as const) {
      const joined = join(dir, `joined-${name}.ts`);
      writeFileSync(joined, Buffer.concat(parts));
      const out = scratchDir(`damaged-joined-${name}`);
      const result = await startPipeline(joined, { outDir: out, ...fast, segmentSeconds: 1 }).done;
      expect(result.counts.timestampJumps).toBe(1);
      expect(result.warnings.map((w) => w.code)).toContain('TIMESTAMP_JUMP');
      const r = result.renditions[0]!;
      // Two 2 s recordings: 4 s of segments, none longer than the target, every KLV unit kept.
      expect(r.duration).toBeCloseTo(4, 1);
      const playlist = readFileSync(join(out, r.playlist), 'utf8');
      const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
      expect(Math.max(...durations)).toBeLessThanOrEqual(1.05);
      expect(playlist).toContain('#EXT-X-TARGETDURATION:1\n');
      expect(result.counts.klvUnits).toBe(2 * clip.klvUnits);
      expect(decodeErrors(join(out, r.playlist))).toBe('');
    }
  });

  it('an unsupported stream in a real sample still ingests (KWIVER MPEG-2 + AAC)', async () => {
    const out = scratchDir('damaged-mpeg2');
    const result = await startPipeline(kwiverSample('h264_audio.ts'), { outDir: out, ...fast }).done;
    expect(result.hardware.decoder).toBe('mpeg2video');
    expect(result.audio).toBe('copy');
    expect(result.renditions).toHaveLength(1);
  });
});
