// Helpers for the previews tests: inputs made with the ffmpeg CLI, JPEG checks, perceptual hashes, WebVTT parsing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const TMP_ROOT = join(import.meta.dirname, '.tmp');

/** A fresh scratch directory under test/.tmp. */
export function scratchDir(name: string): string {
  const dir = join(TMP_ROOT, `previews-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
}

/** 8-bit luma of a picture (first frame of a file, or a chosen frame through filters), scaled to w×h. */
export function grayPixels(input: string, w: number, h: number, filters: string[] = []): Buffer {
  const vf = [...filters, `scale=${w}:${h}:flags=area`, 'format=gray'].join(',');
  const out = ffmpeg(['-i', input, '-vf', vf, '-frames:v', '1', '-f', 'rawvideo', '-']);
  if (out.length !== w * h) throw new Error(`expected ${w * h} bytes of gray pixels from ${input}, got ${out.length}`);
  return out;
}

export function meanLuma(input: string): number {
  const px = grayPixels(input, 64, 48);
  return px.reduce((a, b) => a + b, 0) / px.length;
}

/** Perceptual difference hash: 64 bits, one per horizontally adjacent pair of a 9×8 gray copy. */
export function dHash(input: string, filters: string[] = []): bigint {
  const px = grayPixels(input, 9, 8, filters);
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) hash = (hash << 1n) | (px[y * 9 + x]! > px[y * 9 + x + 1]! ? 1n : 0n);
  }
  return hash;
}

export function hamming(a: bigint, b: bigint): number {
  let v = a ^ b;
  let n = 0;
  while (v) {
    n += Number(v & 1n);
    v >>= 1n;
  }
  return n;
}

/** The dHash of an all-black picture: no pair differs. */
export const BLACK_DHASH = 0n;

export interface JpegInfo {
  width: number;
  height: number;
  components: number;
}

/** Checks the SOI/EOI markers and reads the frame header of a baseline or progressive JPEG. */
export function jpegInfo(path: string): JpegInfo {
  const b = readFileSync(path);
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new Error(`${path}: no JPEG SOI marker`);
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) throw new Error(`${path}: no JPEG EOI marker`);
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new Error(`${path}: bad marker at ${i}`);
    const marker = b[i + 1]!;
    const length = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc2) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7), components: b[i + 9]! };
    i += 2 + length;
  }
  throw new Error(`${path}: no JPEG frame header`);
}

export interface VttCue {
  start: number;
  end: number;
  file: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

function vttSeconds(t: string): number {
  const m = /^(\d{2,}):(\d{2}):(\d{2})\.(\d{3})$/.exec(t);
  if (!m) throw new Error(`bad WebVTT time ${t}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/** Parses a WebVTT thumbnails track whose cue payloads are `file#xywh=x,y,w,h`. */
export function parseThumbnailVtt(text: string): VttCue[] {
  const blocks = text.replace(/\r\n/g, '\n').trim().split(/\n{2,}/);
  if (blocks[0] !== 'WEBVTT') throw new Error(`WebVTT header missing: ${blocks[0]}`);
  return blocks.slice(1).map((block) => {
    const [timing, payload, ...rest] = block.split('\n');
    if (rest.length) throw new Error(`unexpected cue lines: ${block}`);
    const t = /^(\S+) --> (\S+)$/.exec(timing ?? '');
    const p = /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload ?? '');
    if (!t || !p) throw new Error(`bad cue: ${block}`);
    return { start: vttSeconds(t[1]!), end: vttSeconds(t[2]!), file: p[1]!, x: Number(p[2]), y: Number(p[3]), w: Number(p[4]), h: Number(p[5]) };
  });
}
