// Poster choice: black and flat frames are skipped, the poster shows the source frame it came from.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePreviews } from '../src/previews.js';
import { probe } from '../src/probe.js';
import { BLACK_DHASH, dHash, ffmpeg, hamming, jpegInfo, meanLuma, scratchDir } from './previews-fixtures.js';

const FPS = 25;
let dir: string;
let blackLead: string;
let allBlack: string;

beforeAll(() => {
  dir = scratchDir('poster');
  // 25 s: 4 s of black (longer than the 10% mark at 2.5 s), then a test pattern.
  blackLead = join(dir, 'black-lead.ts');
  ffmpeg([
    '-f', 'lavfi', '-i', `color=black:s=320x240:r=${FPS}:d=4`,
    '-f', 'lavfi', '-i', `testsrc2=s=320x240:r=${FPS}:d=21`,
    '-filter_complex', '[0][1]concat=n=2:v=1:a=0', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-f', 'mpegts', blackLead,
  ]);
  allBlack = join(dir, 'all-black.ts');
  ffmpeg(['-f', 'lavfi', '-i', `color=black:s=320x240:r=${FPS}:d=3`, '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', allBlack]);
});

describe('poster', () => {
  it('skips the black lead-in and shows the first good frame after the 10% mark', async () => {
    const out = join(dir, 'out-black-lead');
    const r = await generatePreviews(blackLead, { outDir: out, thumbnails: false });
    expect(r.poster).not.toBeNull();
    const poster = r.poster!;
    expect(poster.path).toBe(join(out, 'poster.jpg'));
    expect(poster.interesting).toBe(true);
    // The 10% mark (2.5 s) is black; the pattern starts at 4 s and is looked at 4 times a second.
    expect(poster.time).toBeGreaterThanOrEqual(4);
    expect(poster.time).toBeLessThan(4.3);
    expect(r.skippedDarkFrames).toBeGreaterThanOrEqual(6);
    expect(r.thumbnails.count).toBe(0);
    expect(r.vtt).toBeNull();
    expect(r.sprites).toEqual([]);

    expect(jpegInfo(poster.path)).toEqual({ width: 320, height: 240, components: 3 });
    expect(poster).toMatchObject({ width: 320, height: 240 });
    expect(meanLuma(poster.path)).toBeGreaterThan(60);
    const hash = dHash(poster.path);
    expect(hamming(hash, BLACK_DHASH)).toBeGreaterThanOrEqual(12);
    // The same frame taken straight from the source.
    const frame = Math.round(poster.time * FPS);
    expect(hamming(hash, dHash(blackLead, [`select=eq(n\\,${frame})`]))).toBeLessThanOrEqual(4);
    expect(existsSync(`${poster.path}.tmp`)).toBe(false);
  });

  it('is a JPEG that the project probe reads back', async () => {
    const out = join(dir, 'out-probe');
    const r = await generatePreviews(blackLead, { outDir: out, thumbnails: false, posterName: 'cover.jpeg', quality: 95 });
    expect(r.poster!.path).toBe(join(out, 'cover.jpeg'));
    const p = await probe(r.poster!.path);
    expect(p.video).toMatchObject({ codec: 'mjpeg', width: 320, height: 240 });
    expect(r.poster!.bytes).toBeGreaterThan(1000);
  });

  it('takes the frame at posterTime when it is not black', async () => {
    const out = join(dir, 'out-time');
    const r = await generatePreviews(blackLead, { outDir: out, thumbnails: false, posterTime: 12 });
    expect(r.poster!.time).toBeCloseTo(12, 5);
    expect(hamming(dHash(r.poster!.path), dHash(blackLead, [`select=eq(n\\,${12 * FPS})`]))).toBeLessThanOrEqual(4);
  });

  it('falls back to the first good frame before the target when nothing good follows within posterSearchSeconds', async () => {
    const out = join(dir, 'out-search');
    // Aim at the black part with no search window: the pattern after 4 s is past the window.
    const r = await generatePreviews(blackLead, { outDir: out, thumbnails: false, posterTime: 1, posterSearchSeconds: 0 });
    // Nothing good at or before 1 s; the first good frame (4 s) is taken as soon as it is seen.
    expect(r.poster!.interesting).toBe(true);
    expect(r.poster!.time).toBeGreaterThanOrEqual(4);
  });

  it('still writes a poster from an all-black input, marked as not interesting', async () => {
    const out = join(dir, 'out-all-black');
    const r = await generatePreviews(allBlack, { outDir: out });
    expect(r.poster!.interesting).toBe(false);
    expect(jpegInfo(r.poster!.path)).toMatchObject({ width: 320, height: 240 });
    expect(meanLuma(r.poster!.path)).toBeLessThan(20);
    // 3 s looked at 4 times a second, plus the 10% mark itself.
    expect(r.skippedDarkFrames).toBeGreaterThanOrEqual(12);
    expect(r.skippedDarkFrames).toBeLessThanOrEqual(13);
    expect(r.thumbnails.count).toBe(1);
  });

  it('caps the poster width at posterMaxWidth and keeps the aspect ratio', async () => {
    const out = join(dir, 'out-max-width');
    const r = await generatePreviews(blackLead, { outDir: out, thumbnails: false, posterMaxWidth: 160 });
    expect(jpegInfo(r.poster!.path)).toMatchObject({ width: 160, height: 120 });
  });
});

describe('poster colours', () => {
  it('limited-range video becomes a full-range JPEG at the same size (black is 0 and white 255, not 16 and 235)', async () => {
    const out = scratchDir('poster-range');
    const box = join(out, 'box.ts');
    ffmpeg([
      '-f', 'lavfi', '-i', 'color=c=black:s=320x240:r=25,drawbox=x=100:y=80:w=120:h=80:color=white:t=fill',
      '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-colorspace', 'bt470bg', '-color_range', 'tv', '-f', 'mpegts', box,
    ]);
    const r = await generatePreviews(box, { outDir: join(out, 'p'), thumbnails: false });
    expect([r.poster!.width, r.poster!.height]).toEqual([320, 240]);
    // Decoded as JPEG decoders do (full range), no scaling on the way.
    const px = ffmpeg(['-i', r.poster!.path, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
    expect(Math.min(...px)).toBeLessThanOrEqual(3);
    expect(Math.max(...px)).toBeGreaterThanOrEqual(252);
  });
});
