// The layer resource of a live layer, fed by a real UDP sender: serviceType 'livestream' with
// isLive and its status while the feed runs, short caching of its playlists, and after stop() a
// layer that is still a livestream layer but no longer live.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, killFeed, parseMediaPlaylist, readIfExists, startFeed, waitFor } from './helpers/live-feed.js';
import { startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
let feed: ChildProcess | undefined;

beforeAll(async () => {
  t = await startTestServer('server-live-layer', { liveProtocols: ['udp'], livePorts: '1024-65535' });
}, 60_000);

afterAll(async () => {
  await killFeed(feed);
  await t?.server.close();
});

describe('live layer resource', () => {
  it('says livestream and isLive while the feed runs, caches playlists for a second, and is no longer live after stop', async () => {
    const port = await freeUdpPort();
    feed = startFeed(join(t.inputRoot, 'Flight.ts'), `udp://127.0.0.1:${port}?pkt_size=1316`);
    const added = await t.api('/services/Drone/addLayer', { form: { f: 'json', createParameters: JSON.stringify({ type: 'livestream', name: 'Drone live', streamAddress: `udp://127.0.0.1:${port}`, mode: 'server', bufferSize: 8 }), requestedResolutions: 'sd' } });
    expect(added.body).toMatchObject({ success: true, layerId: 0 });
    const dir = join(t.data, 'services', 'Drone', '0');
    await waitFor('a live segment', () => parseMediaPlaylist(readIfExists(join(dir, '240p', '240p.m3u8'))).segments.length >= 1, 30_000);

    const live = await t.api('/services/Drone/VideoServer/0?f=json');
    expect(live.body).toMatchObject({ name: 'Drone live', serviceType: 'livestream', sourceType: 'livestream', isLive: true, livestreamInfo: { mode: 'server', streamAddress: expect.stringContaining(`udp://127.0.0.1:${port}`) } });
    expect(['starting', 'live', 'stalled']).toContain(live.body.livestreamStatus);
    expect(live.body.supportsFrameset).toBe(false);
    const service = await t.api('/services/Drone/VideoServer?f=json');
    expect(service.body.layers).toEqual([expect.objectContaining({ id: 0, serviceType: 'livestream' })]);

    const playlist = await fetch(`${t.server.restUrl}/services/Drone/VideoServer/0/240p/240p.m3u8?token=${encodeURIComponent(t.token)}`);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers.get('cache-control')).toBe('private, max-age=1');
    const segment = parseMediaPlaylist(await playlist.text()).segments[0]!;
    const seg = await fetch(`${t.server.restUrl}/services/Drone/VideoServer/0/240p/${segment.split('?')[0]}?token=${encodeURIComponent(t.token)}`);
    expect(seg.headers.get('cache-control')).toBe('private, max-age=86400');
    await seg.arrayBuffer();

    expect((await t.api('/services/Drone/VideoServer/0/stop', { form: { f: 'json' } })).body).toMatchObject({ success: true });
    await waitFor('the live job to end', () => parseMediaPlaylist(readIfExists(join(dir, '240p', '240p.m3u8'))).ended, 30_000);
    let after = await t.api('/services/Drone/VideoServer/0?f=json');
    for (let i = 0; i < 100 && after.body.isLive !== false; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await t.api('/services/Drone/VideoServer/0?f=json');
    }
    expect(after.body).toMatchObject({ serviceType: 'livestream', isLive: false });
    const ended = await fetch(`${t.server.restUrl}/services/Drone/VideoServer/0/240p/240p.m3u8?token=${encodeURIComponent(t.token)}`);
    expect(ended.headers.get('cache-control')).toBe('no-cache');
    await ended.text();
  }, 90_000);
});
