/**
 * Live senders for the live-ingest tests: the ffmpeg CLI playing a KLV transport stream in real
 * time (`-re`, looped) to a UDP/SRT/RTMP URL or a pipe, started and killed by the test itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach } from 'vitest';

/** A UDP port nobody holds right now on loopback. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port nobody holds right now on loopback. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** ffmpeg playing `clip` in a loop at its own pace into `url` (`-` = its stdout). */
export function startFeed(clip: string, url: string, outputArgs: string[] = ['-f', 'mpegts']): ChildProcess {
  const args = ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-map', '0', '-c', 'copy', ...outputArgs, url];
  return spawn('ffmpeg', args, { stdio: ['ignore', url === '-' ? 'pipe' : 'ignore', 'pipe'] });
}

/** What a test started: after each test its runs are cancelled (and awaited) and its feeds killed. */
export function liveCleanup(): { feeds: ChildProcess[]; runs: { cancel(): void; done: Promise<unknown> }[] } {
  const tracked = { feeds: [] as ChildProcess[], runs: [] as { cancel(): void; done: Promise<unknown> }[] };
  afterEach(async () => {
    const runs = tracked.runs.splice(0);
    const feeds = tracked.feeds.splice(0);
    for (const r of runs) r.cancel();
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
    await Promise.all(feeds.map(killFeed));
  });
  return tracked;
}

export function killFeed(feed: ChildProcess | undefined): Promise<void> {
  if (!feed || feed.exitCode !== null || feed.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    feed.once('exit', () => resolve());
    feed.kill('SIGKILL');
  });
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The segment URIs, PROGRAM-DATE-TIMEs and tags of a media playlist. */
export function parseMediaPlaylist(text: string): { segments: string[]; dates: number[]; discontinuities: number; ended: boolean; mediaSequence: number; type: string | null } {
  const lines = text.split('\n');
  return {
    segments: lines.filter((l) => l.length > 0 && !l.startsWith('#')),
    dates: lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')).map((l) => Date.parse(l.slice('#EXT-X-PROGRAM-DATE-TIME:'.length))),
    discontinuities: lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length,
    ended: lines.includes('#EXT-X-ENDLIST'),
    mediaSequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0),
    type: /#EXT-X-PLAYLIST-TYPE:(\w+)/.exec(text)?.[1] ?? null,
  };
}
