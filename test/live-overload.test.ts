// A live ladder too heavy for the machine: a 1080p30 feed in real time into three rungs at a slow
// preset. The run sheds every other frame rather than fall ever further behind, says so
// (FRAMES_SHED, counts.framesShed), and keeps the rungs' segments aligned.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLive } from '../src/live/index.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, liveCleanup, parseMediaPlaylist, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';

const { feeds, runs } = liveCleanup();

const durations = (text: string) => [...text.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));

describe('a live ladder the machine cannot keep up with', () => {
  it('sheds every other frame instead of falling behind, with the rungs still aligned', async () => {
    const clip = makeClip(clipsDir, 'live1080-4s', { width: 1920, height: 1080, fps: 30, seconds: 4, klvRate: 10 });
    const port = await freeUdpPort();
    const out = scratchDir('live-overload');
    const warnings: string[] = [];
    const run = startLive(
      `udp://127.0.0.1:${port}?fifo_size=200000&overrun_nonfatal=1`,
      { outDir: out, requestedResolutions: 'fhd', preset: 'slow', previews: false, segmentSeconds: 1, live: { maxLagSeconds: 0.5 } },
      { onWarning: (w) => warnings.push(w.code) },
    );
    runs.push(run);
    feeds.push(startFeed(clip.path, `udp://127.0.0.1:${port}?pkt_size=1316`));
    await waitFor('frames shed', () => warnings.includes('FRAMES_SHED'), 40_000);
    await waitFor('segments after shedding', () => parseMediaPlaylist(readIfExists(join(out, '480p', '480p.m3u8'))).segments.length >= 3, 40_000);
    run.stop();
    const result = await run.done;
    expect(result.counts.framesShed).toBeGreaterThan(0);
    expect(result.counts.framesOut).toBeGreaterThan(0);
    // Shedding happens before the rungs: every rung lists the same segments, of the same lengths.
    const lists = result.renditions.map((r) => durations(readFileSync(join(out, r.playlist), 'utf8')));
    expect(result.renditions.map((r) => r.height)).toEqual([1080, 720, 480]);
    for (const l of lists.slice(1)) {
      expect(l).toHaveLength(lists[0]!.length);
      l.forEach((d, i) => expect(d).toBeCloseTo(lists[0]![i]!, 2));
    }
  });
});
