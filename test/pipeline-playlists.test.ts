// Playlists as RFC 8216 reads them: the target duration covers every segment rounded half up, and
// BANDWIDTH is the peak over runs of segments lasting 0.5 to 1.5 target durations (§4.3.4.2).
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/pipeline.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';

function mediaPlaylist(path: string) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(lines.join('\n'))![1]);
  const segments: { seconds: number; bytes: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXTINF:([\d.]+)/.exec(lines[i]!);
    if (m) segments.push({ seconds: Number(m[1]), bytes: statSync(join(dirname(path), lines[i + 1]!)).size });
  }
  return { target, segments };
}

/** RFC 8216 §4.3.4.2 peak segment bit rate. */
function rfcPeak(target: number, segments: { seconds: number; bytes: number }[]): number {
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    let s = 0;
    let b = 0;
    for (let j = i; j < segments.length; j++) {
      s += segments[j]!.seconds;
      b += segments[j]!.bytes;
      if (s > 1.5 * target) break;
      if (s >= 0.5 * target) peak = Math.max(peak, (b * 8) / s);
    }
  }
  return peak;
}

describe('HLS playlists', () => {
  let clip: { path: string };
  beforeAll(() => {
    clip = makeClip(clipsDir, 'fhd-6s', { seconds: 6 });
  });

  it('2.5 s segments: TARGETDURATION 3 (FFmpeg writes 2), and BANDWIDTH at least the RFC peak', async () => {
    const out = scratchDir('playlists-2.5');
    const result = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', segmentSeconds: 2.5, previews: false }).done;
    const r = result.renditions[0]!;
    const { target, segments } = mediaPlaylist(join(out, r.playlist));
    expect(segments.map((s) => s.seconds)).toEqual([2.5, 2.5, 1]);
    expect(target).toBe(3);
    for (const s of segments) expect(Math.floor(s.seconds + 0.5)).toBeLessThanOrEqual(target);
    const master = readFileSync(join(out, 'ABR.m3u8'), 'utf8');
    const bandwidth = Number(/BANDWIDTH=(\d+)/.exec(master)![1]);
    expect(bandwidth).toBe(r.bandwidth);
    expect(bandwidth).toBeGreaterThanOrEqual(Math.floor(rfcPeak(target, segments)));
  });
});
