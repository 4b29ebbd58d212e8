// Bad inputs, bad options, damaged streams and cancellation: typed MediaErrors, and nothing left behind.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { generatePreviews, type PreviewOptions } from '../src/previews.js';
import { ffmpeg, jpegInfo, scratchDir } from './previews-fixtures.js';

let dir: string;
let clip: string;

beforeAll(() => {
  dir = scratchDir('errors');
  clip = join(dir, 'clip.ts');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'mpegts', clip]);
});

async function rejection(p: Promise<unknown>): Promise<MediaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaError);
  return err as MediaError;
}

describe('bad inputs', () => {
  it('missing file: ERR_INPUT_NOT_FOUND at open, and no output directory is made', async () => {
    const out = join(dir, 'out-missing');
    const err = await rejection(generatePreviews(join(dir, 'nope.ts'), { outDir: out }));
    expect(err).toMatchObject({ code: 'ERR_INPUT_NOT_FOUND', step: 'open' });
    expect(err.message).toContain('nope.ts');
    expect(existsSync(out)).toBe(false);
  });

  it('text file: ERR_INPUT_FORMAT at open, with FFmpeg’s reason', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is not a video\nat all\n');
    const err = await rejection(generatePreviews(text, { outDir: join(dir, 'out-text') }));
    expect(err).toMatchObject({ code: 'ERR_INPUT_FORMAT', step: 'open', averrorText: 'Invalid data found when processing input' });
    expect(err.averror).toBeLessThan(0);
  });

  it('a file with no video stream: ERR_NO_VIDEO_STREAM', async () => {
    const audio = join(dir, 'tone.ts');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', '-f', 'mpegts', audio]);
    const err = await rejection(generatePreviews(audio, { outDir: join(dir, 'out-audio') }));
    expect(err).toMatchObject({ code: 'ERR_NO_VIDEO_STREAM', step: 'probe' });
  });

  it('a stream header with no decodable frame: ERR_DECODE, and the output directory is removed again', async () => {
    const full = join(dir, 'header.mkv');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', full]);
    const headerOnly = join(dir, 'header-only.mkv');
    writeFileSync(headerOnly, readFileSync(full).subarray(0, 1200));
    const out = join(dir, 'out-undecodable');
    const err = await rejection(generatePreviews(headerOnly, { outDir: out }));
    expect(err).toMatchObject({ code: 'ERR_DECODE', step: 'decode' });
    expect(existsSync(out)).toBe(false);
  });

  it('damaged packets are warnings: the images are still made', async () => {
    const bytes = Buffer.from(readFileSync(clip));
    // Scribble over a few stretches after the first second (the decoder conceals the damage).
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let k = 0; k < 30; k++) {
      const at = Math.floor(bytes.length / 4) + rand(Math.floor((bytes.length * 3) / 4) - 400);
      for (let i = 0; i < 300; i++) bytes[at + i] = rand(256);
    }
    const damaged = join(dir, 'damaged.ts');
    writeFileSync(damaged, bytes);
    const r = await generatePreviews(damaged, { outDir: join(dir, 'out-damaged'), thumbnailInterval: 2 });
    expect(r.decodeErrors + r.damagedFrames).toBeGreaterThan(0);
    expect(r.lastDecodeError).not.toBeNull();
    expect(jpegInfo(r.poster!.path)).toMatchObject({ width: 320, height: 240 });
    expect(r.thumbnails.count).toBe(3);
  });
});

describe('cancellation and limits', () => {
  it('an AbortSignal that has already fired rejects with ERR_CANCELLED before any work', async () => {
    const out = join(dir, 'out-preaborted');
    const err = await rejection(generatePreviews(clip, { outDir: out, signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ code: 'ERR_CANCELLED', step: 'previews' });
    expect(existsSync(out)).toBe(false);
  });

  it('aborting mid-run rejects with ERR_CANCELLED and removes every file written so far', async () => {
    const long = join(dir, 'long.ts');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=120', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', long]);
    const out = join(dir, 'out-aborted');
    const controller = new AbortController();
    const run = generatePreviews(long, { outDir: out, thumbnailInterval: 1, writeThumbnails: true, spriteMaxTiles: 4, signal: controller.signal });
    // Wait until files are on disk, then abort.
    const firstThumb = join(out, 'thumbs', 'thumb_00001.jpg');
    const deadline = Date.now() + 30_000;
    while (!existsSync(firstThumb) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(existsSync(firstThumb)).toBe(true);
    controller.abort();
    const err = await rejection(run);
    expect(err).toMatchObject({ code: 'ERR_CANCELLED', step: 'previews' });
    expect(existsSync(out)).toBe(false);
  });

  it('timeoutMs stops a run with ERR_TIMEOUT', async () => {
    const err = await rejection(generatePreviews(clip, { outDir: join(dir, 'out-timeout'), timeoutMs: 1 }));
    expect(err.code).toBe('ERR_TIMEOUT');
  });

  it('durationLimit stops reading after that much video', async () => {
    const r = await generatePreviews(clip, { outDir: join(dir, 'out-limit'), durationLimit: 2, thumbnailInterval: 1 });
    expect(r.stoppedAtLimit).toBe(true);
    expect(r.duration).toBeGreaterThanOrEqual(2);
    expect(r.duration).toBeLessThan(3);
    expect(r.thumbnails.count).toBe(Math.ceil(r.duration));
  });
});

describe('option validation', () => {
  const out = join('test', '.tmp', 'previews-errors', 'out-options');
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['outDir missing', {}, 'Expected a non-empty string for outDir but received undefined of type undefined'],
    ['outDir empty', { outDir: '' }, "Expected a non-empty string for outDir but received '' of type string"],
    ['poster', { outDir: out, poster: 'yes' }, "Expected a boolean for poster but received 'yes' of type string"],
    ['posterName with a directory', { outDir: out, posterName: '../p.jpg' }, "Expected a file name ending in .jpg or .jpeg, without a directory for posterName but received '../p.jpg' of type string"],
    ['posterName not a JPEG', { outDir: out, posterName: 'poster.png' }, "Expected a file name ending in .jpg or .jpeg, without a directory for posterName but received 'poster.png' of type string"],
    ['posterMaxWidth odd', { outDir: out, posterMaxWidth: 641 }, 'Expected an even integer between 16 and 16384 for posterMaxWidth but received 641 of type number'],
    ['posterTime negative', { outDir: out, posterTime: -1 }, 'Expected a number between 0 and 1000000000 for posterTime but received -1 of type number'],
    ['posterSearchSeconds', { outDir: out, posterSearchSeconds: Number.NaN }, 'Expected a number between 0 and 86400 for posterSearchSeconds but received NaN of type number'],
    ['thumbnails', { outDir: out, thumbnails: 1 }, 'Expected a boolean for thumbnails but received 1 of type number'],
    ['thumbnailInterval zero', { outDir: out, thumbnailInterval: 0 }, 'Expected a number between 0.1 and 86400 for thumbnailInterval but received 0 of type number'],
    ['thumbnailWidth odd', { outDir: out, thumbnailWidth: 161 }, 'Expected an even integer between 16 and 1920 for thumbnailWidth but received 161 of type number'],
    ['spriteColumns', { outDir: out, spriteColumns: 0 }, 'Expected an integer between 1 and 100 for spriteColumns but received 0 of type number'],
    ['spriteColumns too wide', { outDir: out, spriteColumns: 100, thumbnailWidth: 1000 }, 'Expected at most 65 columns of 1000-pixel thumbnails (a sprite sheet is at most 65535 pixels wide) for spriteColumns but received 100 of type number'],
    ['spriteMaxTiles', { outDir: out, spriteMaxTiles: 2.5 }, 'Expected an integer between 1 and 10000 for spriteMaxTiles but received 2.5 of type number'],
    ['writeThumbnails', { outDir: out, writeThumbnails: null }, 'Expected a boolean for writeThumbnails but received null'],
    ['quality', { outDir: out, quality: 101 }, 'Expected an integer between 1 and 100 for quality but received 101 of type number'],
    ['displayAspectRatio not an object', { outDir: out, displayAspectRatio: 1.77 }, 'Expected an object for displayAspectRatio but received 1.77 of type number'],
    ['displayAspectRatio.den', { outDir: out, displayAspectRatio: { num: 16, den: 0 } }, 'Expected an integer between 1 and 65535 for displayAspectRatio.den but received 0 of type number'],
    ['durationLimit', { outDir: out, durationLimit: 0 }, 'Expected a number between 0.001 and 1000000000 for durationLimit but received 0 of type number'],
    ['timeoutMs', { outDir: out, timeoutMs: 0 }, 'Expected an integer between 1 and 2147483647 for timeoutMs but received 0 of type number'],
    ['signal', { outDir: out, signal: {} }, 'Expected an AbortSignal for signal but received object'],
    ['nothing to make', { outDir: out, poster: false, thumbnails: false }, 'Expected poster or thumbnails to be enabled but both are false'],
  ];
  it.each(cases)('invalid %s', async (_name, options, message) => {
    const err = await rejection(generatePreviews(clip, options as unknown as PreviewOptions));
    expect(err).toMatchObject({ code: 'ERR_INVALID_OPTION', step: 'options', message });
  });

  it('rejects unknown options and suggests the likely one', async () => {
    const err = await rejection(generatePreviews(clip, { outDir: out, thumbnailIntervall: 5 } as unknown as PreviewOptions));
    expect(err.code).toBe('ERR_INVALID_OPTION');
    expect(err.message).toMatch(/^Unknown option 'thumbnailIntervall' in previews options \(did you mean 'thumbnailInterval'\?\); known options: outDir, /);
  });

  it('rejects a missing options object and a bad input argument', async () => {
    expect(await rejection(generatePreviews(clip, undefined as unknown as PreviewOptions))).toMatchObject({
      message: 'Expected an object with outDir for previews options but received undefined of type undefined',
    });
    expect(await rejection(generatePreviews(42 as unknown as string, { outDir: out }))).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'Expected a non-empty string for input but received 42 of type number',
    });
  });

  it('wrote nothing for any rejected option', () => {
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
