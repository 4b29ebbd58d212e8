// Thumbnails, sprite sheets (one sheet, or pages) and the WebVTT track that points into them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePreviews, type PreviewResult } from '../src/previews.js';
import { dHash, ffmpeg, hamming, jpegInfo, parseThumbnailVtt, scratchDir, type VttCue } from './previews-fixtures.js';

const FPS = 25;
const DURATION = 25;
let dir: string;
let input: string;

beforeAll(() => {
  dir = scratchDir('sprites');
  input = join(dir, 'input.ts');
  ffmpeg([
    '-f', 'lavfi', '-i', `color=black:s=320x240:r=${FPS}:d=2`,
    '-f', 'lavfi', '-i', `testsrc2=s=320x240:r=${FPS}:d=${DURATION - 2}`,
    '-filter_complex', '[0][1]concat=n=2:v=1:a=0', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-f', 'mpegts', input,
  ]);
});

/** Cues cover [0, duration] without gaps and each points at an in-bounds tile of an existing sheet. */
function checkTrack(r: PreviewResult, interval: number): VttCue[] {
  const cues = parseThumbnailVtt(readFileSync(r.vtt!, 'utf8'));
  expect(cues).toHaveLength(r.thumbnails.count);
  expect(cues[0]!.start).toBe(0);
  cues.forEach((c, i) => {
    expect(c.start).toBeCloseTo(i * interval, 3);
    if (i > 0) expect(c.start).toBe(cues[i - 1]!.end);
    expect(c.end).toBeGreaterThan(c.start);
    expect([c.w, c.h]).toEqual([r.thumbnails.width, r.thumbnails.height]);
  });
  expect(cues.at(-1)!.end).toBeCloseTo(DURATION, 1);
  const sizes = new Map(r.sprites.map((s) => [s.path.split('/').at(-1)!, s]));
  for (const c of cues) {
    const sheet = sizes.get(c.file);
    expect(sheet, c.file).toBeDefined();
    expect(c.x % c.w).toBe(0);
    expect(c.y % c.h).toBe(0);
    expect(c.x + c.w).toBeLessThanOrEqual(sheet!.width);
    expect(c.y + c.h).toBeLessThanOrEqual(sheet!.height);
  }
  for (const s of r.sprites) expect(jpegInfo(s.path)).toEqual({ width: s.width, height: s.height, components: 3 });
  return cues;
}

/** The tile of cue i shows the source frame at the cue's start. */
function checkTile(r: PreviewResult, cue: VttCue): void {
  const sheet = join(r.vtt!, '..', cue.file);
  const tile = dHash(sheet, [`crop=${cue.w}:${cue.h}:${cue.x}:${cue.y}`]);
  const source = dHash(input, [`select=eq(n\\,${Math.round(cue.start * FPS)})`]);
  expect(hamming(tile, source), `${cue.file} at ${cue.start}s`).toBeLessThanOrEqual(6);
}

describe('thumbnails and sprite sheets', () => {
  it('defaults: one thumbnail every 10 s from the start, 160 wide, in one sprite.jpg', async () => {
    const out = join(dir, 'out-default');
    const r = await generatePreviews(input, { outDir: out });
    expect(r.thumbnails).toEqual({ count: Math.ceil(DURATION / 10), width: 160, height: 120, directory: null });
    expect(r.sprites).toEqual([{ path: join(out, 'sprite.jpg'), tiles: 3, firstTile: 0, columns: 3, rows: 1, width: 480, height: 120 }]);
    expect(r.vtt).toBe(join(out, 'thumbnails.vtt'));
    expect(r.duration).toBeCloseTo(DURATION, 2);
    const cues = checkTrack(r, 10);
    expect(cues.map((c) => c.file)).toEqual(['sprite.jpg', 'sprite.jpg', 'sprite.jpg']);
    cues.forEach((c) => checkTile(r, c));
    expect(readdirSync(out).sort()).toEqual(['poster.jpg', 'sprite.jpg', 'thumbnails.vtt']);
  });

  it('lays tiles out in rows of spriteColumns', async () => {
    const out = join(dir, 'out-grid');
    const r = await generatePreviews(input, { outDir: out, thumbnailInterval: 2, spriteColumns: 5, poster: false });
    expect(r.poster).toBeNull();
    expect(r.thumbnails.count).toBe(Math.ceil(DURATION / 2));
    expect(r.sprites).toEqual([{ path: join(out, 'sprite.jpg'), tiles: 13, firstTile: 0, columns: 5, rows: 3, width: 800, height: 360 }]);
    const cues = checkTrack(r, 2);
    expect(cues[7]).toMatchObject({ x: 320, y: 120 });
    // Black tiles at 0 s and 2 s... then the pattern; spot-check across the grid.
    for (const i of [0, 1, 2, 6, 12]) checkTile(r, cues[i]!);
    expect(existsSync(join(out, 'poster.jpg'))).toBe(false);
  });

  it('pages the sheets past spriteMaxTiles, and the track points into the right page', async () => {
    const out = join(dir, 'out-pages');
    const r = await generatePreviews(input, { outDir: out, thumbnailInterval: 2, spriteColumns: 3, spriteMaxTiles: 6, writeThumbnails: true });
    expect(r.thumbnails.count).toBe(13);
    expect(r.sprites.map((s) => [s.path.split('/').at(-1), s.tiles, s.firstTile, s.columns, s.rows, s.width, s.height])).toEqual([
      ['sprite_0.jpg', 6, 0, 3, 2, 480, 240],
      ['sprite_1.jpg', 6, 6, 3, 2, 480, 240],
      ['sprite_2.jpg', 1, 12, 1, 1, 160, 120],
    ]);
    const cues = checkTrack(r, 2);
    cues.forEach((c, i) => {
      expect(c.file).toBe(`sprite_${Math.floor(i / 6)}.jpg`);
      expect([c.x, c.y]).toEqual([(i % 3) * 160, Math.floor((i % 6) / 3) * 120]);
    });
    for (const i of [0, 5, 6, 11, 12]) checkTile(r, cues[i]!);
    expect(existsSync(join(out, 'sprite.jpg'))).toBe(false);

    // Individual thumbnails, numbered from 1, match their tiles.
    expect(r.thumbnails.directory).toBe(join(out, 'thumbs'));
    const thumbs = readdirSync(r.thumbnails.directory!).sort();
    expect(thumbs).toEqual(Array.from({ length: 13 }, (_, i) => `thumb_${String(i + 1).padStart(5, '0')}.jpg`));
    for (const t of thumbs) expect(jpegInfo(join(r.thumbnails.directory!, t))).toMatchObject({ width: 160, height: 120 });
    const thumb7 = dHash(join(r.thumbnails.directory!, 'thumb_00007.jpg'));
    expect(hamming(thumb7, dHash(join(out, 'sprite_1.jpg'), ['crop=160:120:0:0']))).toBeLessThanOrEqual(4);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('honours thumbnailWidth with the height from the aspect ratio', async () => {
    const out = join(dir, 'out-width');
    const r = await generatePreviews(input, { outDir: out, thumbnailWidth: 96, thumbnailInterval: 5, poster: false });
    expect(r.thumbnails).toMatchObject({ count: 5, width: 96, height: 72 });
    checkTrack(r, 5);
  });
});

describe('inputs without timestamps', () => {
  it('a raw H.264 elementary stream is timed by its frame rate: thumbnails, duration and durationLimit work', async () => {
    const dir = scratchDir('raw-h264');
    const raw = join(dir, 'raw.h264');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', raw]);
    const all = await generatePreviews(raw, { outDir: join(dir, 'all'), thumbnailInterval: 1 });
    expect(all.duration).toBe(6);
    expect(parseThumbnailVtt(readFileSync(all.vtt!, 'utf8'))).toHaveLength(6);
    const limited = await generatePreviews(raw, { outDir: join(dir, 'limited'), thumbnailInterval: 1, durationLimit: 2 });
    expect(limited.stoppedAtLimit).toBe(true);
    expect(limited.duration).toBeLessThan(2.5);
  });
});
