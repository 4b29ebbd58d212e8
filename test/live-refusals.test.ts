// Live feeds that cannot become a ladder, each from a real sender: an SRT caller with the wrong
// passphrase (the handshake is refused, so nothing ever arrives) and a transport stream that
// carries no video. Each ends in a typed error with its step, nothing keeps running and nothing is
// left in the output directory but what the caller made.
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { startLive } from '../src/live/index.js';
import { clipsDir, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { freeUdpPort, killFeed, startFeed } from './helpers/live-feed.js';

const clip = () => makeClip(clipsDir, 'live360', { width: 640, height: 360, fps: 25, seconds: 4, klvRate: 10 });
const base = { ladder: [{ height: 360, videoBitrate: 600_000 }], preset: 'ultrafast', previews: false, segmentSeconds: 1 } as const;

let feeds: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(feeds.map(killFeed));
  feeds = [];
});

describe('live feeds that are refused', () => {
  it('an SRT caller with the wrong passphrase never gets in: ERR_INPUT_TIMEOUT, nothing written', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-srt-wrong-passphrase');
    const warnings: string[] = [];
    const run = startLive(`srt://127.0.0.1:${port}?mode=listener&passphrase=the-right-passphrase`, { outDir: out, ...base, live: { inputTimeoutMs: 600, reconnectWindowMs: 600 } }, {
      onWarning: (w) => warnings.push(w.code),
    });
    await new Promise((r) => setTimeout(r, 300));
    feeds.push(startFeed(clip().path, `srt://127.0.0.1:${port}?mode=caller&passphrase=a-wrong-passphrase`));
    const err = await run.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ code: 'ERR_INPUT_TIMEOUT', step: 'open' });
    expect((err as Error).message).toMatch(/nothing arrived from srt:\/\/127\.0\.0\.1/);
    // The message says what may be wrong, and keeps the secret out.
    expect((err as Error).message).toMatch(/another passphrase is refused/);
    expect((err as Error).message).toMatch(/passphrase=<redacted>/);
    expect((err as Error).message).not.toMatch(/the-right-passphrase/);
    expect(warnings).toContain('INPUT_STALLED');
    expect(run.status().state).toBe('failed');
    expect(readdirSync(out)).toEqual([]);
  });

  it('a transport stream without video: ERR_NO_VIDEO_STREAM naming the input', async () => {
    const port = await freeUdpPort();
    const out = scratchDir('live-no-video');
    // The same feed with its video left out: audio and KLV only.
    feeds.push(startFeed(clip().path, `udp://127.0.0.1:${port}?pkt_size=1316`, ['-map', '-0:v', '-f', 'mpegts']));
    const run = startLive(`udp://127.0.0.1:${port}`, { outDir: out, ...base, live: { inputTimeoutMs: 3000, reconnectWindowMs: 1000 } });
    const err = await run.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ERR_NO_VIDEO_STREAM', step: 'probe' });
    expect((err as Error).message).toMatch(/no video stream: udp:\/\/127\.0\.0\.1/);
    expect(readdirSync(out)).toEqual([]);
  });
});
