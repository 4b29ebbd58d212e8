// Display geometry: anamorphic sources come out at their display aspect ratio; interlaced sources are deinterlaced.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePreviews } from '../src/previews.js';
import { dHash, ffmpeg, grayPixels, hamming, jpegInfo, parseThumbnailVtt, scratchDir } from './previews-fixtures.js';

const APHILL = join(import.meta.dirname, '..', '..', 'shared', 'samples', 'kwiver', 'aphill_short.ts');
let dir: string;
let anamorphic: string;

beforeAll(() => {
  dir = scratchDir('aspect');
  // 720x480 with 32:27 pixels: a 16:9 picture.
  anamorphic = join(dir, 'anamorphic.ts');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=720x480:r=25:d=3', '-vf', 'setsar=32/27', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', anamorphic]);
});

/** Line-to-line difference relative to the difference two lines apart: woven fields make it high. */
function combing(pixels: Buffer, width: number): number {
  const height = pixels.length / width;
  let adjacent = 0;
  let skip = 0;
  for (let y = 0; y + 2 < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = pixels[y * width + x]!;
      adjacent += Math.abs(p - pixels[(y + 1) * width + x]!);
      skip += Math.abs(p - pixels[(y + 2) * width + x]!);
    }
  }
  return adjacent / skip;
}

describe('display aspect ratio', () => {
  it('shows a 720x480 16:9 anamorphic source with square pixels', async () => {
    const out = join(dir, 'out-anamorphic');
    const r = await generatePreviews(anamorphic, { outDir: out, thumbnailInterval: 1 });
    // Height kept, width from 16:9 (853.3 rounded to even).
    expect(r.poster).toMatchObject({ width: 854, height: 480 });
    expect(jpegInfo(r.poster!.path)).toMatchObject({ width: 854, height: 480 });
    expect(r.thumbnails).toMatchObject({ count: 3, width: 160, height: 90 });
    expect(r.sprites[0]).toMatchObject({ width: 480, height: 90 });
    const cues = parseThumbnailVtt(readFileSync(r.vtt!, 'utf8'));
    expect(cues.map((c) => [c.x, c.y, c.w, c.h])).toEqual([[0, 0, 160, 90], [160, 0, 160, 90], [320, 0, 160, 90]]);
    // The poster is the source frame stretched to 16:9, not cropped.
    const frame = Math.round(r.poster!.time * 25);
    expect(hamming(dHash(r.poster!.path), dHash(anamorphic, [`select=eq(n\\,${frame})`, 'scale=854:480']))).toBeLessThanOrEqual(4);
  });

  it('uses displayAspectRatio over the declared one, and posterMaxWidth shrinks both sides', async () => {
    const out = join(dir, 'out-override');
    const r = await generatePreviews(anamorphic, { outDir: out, displayAspectRatio: { num: 4, den: 3 }, thumbnailWidth: 120 });
    expect(r.poster).toMatchObject({ width: 640, height: 480 });
    expect(r.thumbnails).toMatchObject({ width: 120, height: 90 });
    const capped = await generatePreviews(anamorphic, { outDir: join(dir, 'out-capped'), posterMaxWidth: 400, thumbnails: false });
    // 16:9 at 400 wide is 225 high, rounded to the nearest even size.
    expect(jpegInfo(capped.poster!.path)).toMatchObject({ width: 400, height: 226 });
  });
});

describe('interlaced input', () => {
  it('deinterlaces aphill_short.ts (720x480, top field first) before making images', async () => {
    const out = join(dir, 'out-interlaced');
    const r = await generatePreviews(APHILL, { outDir: out, thumbnailInterval: 0.5 });
    expect(r.deinterlaced).toBe(true);
    expect(r.decodeErrors).toBe(0);
    expect(r.framesDecoded).toBe(48);
    expect(r.startTime).toBeCloseTo(1.4, 3);
    expect(r.poster).toMatchObject({ width: 720, height: 480, interesting: true });
    // 1.635 s from the input start at 1.4 s (video starts 33 ms later): 4 half-second slots.
    expect(r.thumbnails).toMatchObject({ count: 4, width: 160, height: 106 });
    const cues = parseThumbnailVtt(readFileSync(r.vtt!, 'utf8'));
    expect(cues.at(-1)!.end).toBeCloseTo(1.635, 2);

    // The same frame straight out of the decoder shows combing; the poster does not. (The ffmpeg
    // CLI shifts the input start to 0, so its t is the poster's time from the start.)
    const at = `select=gte(t\\,${r.poster!.time - 0.001})`;
    const raw = grayPixels(APHILL, 720, 480, [at]);
    const poster = grayPixels(r.poster!.path, 720, 480);
    expect(combing(raw, 720)).toBeGreaterThan(0.7);
    expect(combing(poster, 720)).toBeLessThan(0.6);
    // And it matches FFmpeg's own bwdif output for that frame.
    const reference = dHash(APHILL, ['bwdif=mode=send_frame:parity=auto:deint=all', at]);
    expect(hamming(dHash(r.poster!.path), reference)).toBeLessThanOrEqual(3);
  });
});

describe('a resolution change mid-stream', () => {
  it('pictures after the change keep their own shape (not the opening aspect)', async () => {
    const wide = join(dir, 'wide.ts');
    const narrow = join(dir, 'narrow.ts');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', wide]);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-output_ts_offset', '4', '-f', 'mpegts', narrow]);
    const joined = join(dir, 'reschange.ts');
    writeFileSync(joined, Buffer.concat([readFileSync(wide), readFileSync(narrow)]));
    const r = await generatePreviews(joined, { outDir: join(dir, 'reschange'), posterTime: 6, thumbnails: false });
    expect(r.poster!.time).toBeGreaterThan(4);
    expect([r.poster!.width, r.poster!.height]).toEqual([320, 240]);
  });
});
