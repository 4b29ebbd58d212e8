// Live playlists from a file read as a feed (fast, deterministic): DVR as an event playlist that
// keeps everything, DVR bounded by duration (the oldest segments leave the playlist and, after
// the delay RFC 8216 asks for, the disk), and the shape of every live media playlist.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLive } from '../src/live/index.js';
import { clipsDir, ffprobeJson, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { parseMediaPlaylist } from './helpers/live-feed.js';

const clip = () => makeClip(clipsDir, 'live360-32s', { width: 640, height: 360, fps: 25, seconds: 32, klvRate: 5 });
const base = { ladder: [{ height: 360, videoBitrate: 400_000 }, { height: 180, videoBitrate: 150_000 }], preset: 'ultrafast', previews: false, segmentSeconds: 2 } as const;
const durations = (text: string) => [...text.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));

describe('live playlists', () => {
  it('DVR keeps every segment in an event playlist', async () => {
    const out = scratchDir('live-dvr-all');
    const result = await startLive(clip().path, { outDir: out, ...base, live: { dvr: true } }).done;
    for (const name of ['360p', '180p']) {
      const text = readFileSync(join(out, name, `${name}.m3u8`), 'utf8');
      const p = parseMediaPlaylist(text);
      expect(p.type).toBe('EVENT');
      expect(p.mediaSequence).toBe(0);
      expect(p.ended).toBe(true);
      expect(p.segments).toHaveLength(16);
      expect(p.dates).toHaveLength(16);
      expect(durations(text).reduce((a, b) => a + b, 0)).toBeCloseTo(32, 1);
      expect(text).toMatch(/#EXT-X-TARGETDURATION:2\n/);
      expect(text).toMatch(/#EXT-X-INDEPENDENT-SEGMENTS/);
    }
    expect(result.telemetry.packets).toBe(160);
    // klv.geojson is joined at the end from features spilled to disk as they came: one valid
    // collection (sensor track first), and nothing of the spill left behind.
    const geo = JSON.parse(readFileSync(join(out, 'klv.geojson'), 'utf8')) as { type: string; features: { properties: { kind: string } }[] };
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features).toHaveLength(result.telemetry.features);
    expect(geo.features[0]!.properties.kind).toBe('sensorTrack');
    expect(geo.features.filter((f) => f.properties.kind === 'footprint').length).toBe(160);
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('DVR bounded by maxSeconds drops the oldest segments from the playlist and then from the disk', async () => {
    const out = scratchDir('live-dvr-bounded');
    await startLive(clip().path, { outDir: out, ...base, live: { dvr: { maxSeconds: 10 } } }).done;
    for (const name of ['360p', '180p']) {
      const text = readFileSync(join(out, name, `${name}.m3u8`), 'utf8');
      const p = parseMediaPlaylist(text);
      expect(p.type).toBeNull(); // an event playlist may not lose segments
      expect(durations(text).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10.001);
      expect(p.mediaSequence).toBe(16 - p.segments.length);
      for (const s of p.segments) expect(existsSync(join(out, name, s))).toBe(true);
      // A segment stays on disk for its duration plus the playlist's after it leaves (RFC 8216
      // 6.2.2): the first left at 12 s, so it is gone by 26 s; the last ones to leave are not.
      expect(existsSync(join(out, name, `${name}_00000.ts`))).toBe(false);
      expect(existsSync(join(out, name, `${name}_${String(p.mediaSequence - 1).padStart(5, '0')}.ts`))).toBe(true);
    }
  });

  it('keeps going when the feed changes resolution mid-stream: the new frames are rescaled to the ladder', async () => {
    const out = scratchDir('live-resolution-change');
    const small = makeClip(clipsDir, 'live360-4s', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 5 });
    const large = makeClip(clipsDir, 'live480-4s', { width: 854, height: 480, fps: 25, seconds: 4, klvRate: 5 });
    const joined = join(clipsDir, 'live-360-then-480.ts');
    writeFileSync(joined, Buffer.concat([readFileSync(small.path), readFileSync(large.path)]));
    const result = await startLive(joined, { outDir: out, ...base, live: { dvr: true } }).done;
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['640x360', '320x180']);
    expect(result.duration).toBeCloseTo(8, 0);
    expect(result.telemetry.packets).toBe(40);
    const segments = parseMediaPlaylist(readFileSync(join(out, '360p', '360p.m3u8'), 'utf8')).segments;
    const last = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'stream=width,height', join(out, '360p', segments.at(-1)!)]).streams[0];
    expect(last).toMatchObject({ width: 640, height: 360 });
  });
});
