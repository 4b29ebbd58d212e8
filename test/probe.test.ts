import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, truncateSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { probe } from '../src/probe.js';
import { kwiver, repoRoot, scratch, shared } from './helpers/paths.js';

interface StreamVector {
  file: string;
  bytes: number;
  pmt: Array<{ pid: string; stream_type: string; descriptors: Array<{ tag: string; data: string }> }>;
  klv_streams: Array<{ pid: string; stream_type: string; pes_packets: number; pes_with_pts: number; pes_stream_ids: string[] }>;
  ffprobe_streams: string[];
}

const vectors = JSON.parse(readFileSync(join(shared, 'klv', 'vectors.json'), 'utf8')) as { stream_vectors: StreamVector[] };

describe('probe: every sample against vectors.json stream_vectors', () => {
  for (const v of vectors.stream_vectors) {
    it(v.file, async () => {
      const r = await probe(join(shared, v.file));
      expect(r.format).toBe('mpegts');
      expect(r.size).toBe(v.bytes);
      // Codecs and PIDs as ffprobe lists them.
      const expected = v.ffprobe_streams.filter((l) => l.includes('codec_name=')).slice(0, v.pmt.length);
      for (const line of expected) {
        const codec = /codec_name=([^|]+)/.exec(line)![1]!;
        const pid = Number.parseInt(/id=(0x[0-9a-f]+)/.exec(line)![1]!, 16);
        const type = /codec_type=([^|]+)/.exec(line)![1]!;
        if (type === 'video') {
          expect(r.video?.codec).toBe(codec);
          expect(r.video?.pid).toBe(pid);
        } else if (type === 'audio') {
          expect(r.audio.map((a) => [a.codec, a.pid])).toContainEqual([codec, pid]);
        } else {
          expect(r.klv.map((k) => k.pid)).toContain(pid);
        }
      }
      expect(r.klv).toHaveLength(v.klv_streams.length);
      for (const ks of v.klv_streams) {
        const k = r.klv.find((s) => s.pid === Number.parseInt(ks.pid, 16))!;
        expect(k.streamType).toBe(Number.parseInt(ks.stream_type, 16));
        expect(k.carriage).toBe(ks.stream_type === '0x15' ? 'sync' : 'async');
        expect(k.registration).toBe('KLVA');
        expect(k.pesStreamId).toBe(Number.parseInt(ks.pes_stream_ids[0]!, 16));
        expect(k.pts).toBe(ks.pes_with_pts === 0 ? 'absent' : ks.pes_with_pts === ks.pes_packets ? 'present' : 'mixed');
        expect(k.hybrid).toBe(ks.stream_type === '0x06' && ks.pes_stream_ids[0] === '0xfc');
      }
    });
  }

  it('sizes, frame rates and field order', async () => {
    const klv = await probe(kwiver('h264_klv.ts'));
    expect([klv.video?.width, klv.video?.height]).toEqual([160, 120]);
    const aphill = await probe(kwiver('aphill_short.ts'));
    expect([aphill.video?.width, aphill.video?.height]).toEqual([720, 480]);
    expect(aphill.video?.frameRate).toEqual({ num: 30000, den: 1001 });
    expect(aphill.video?.fieldOrder).not.toBe('progressive');
    const audio = await probe(kwiver('h264_audio.ts'));
    expect(audio.audio).toHaveLength(1);
    expect(audio.audio[0]).toMatchObject({ codec: 'aac', channels: expect.any(Number), sampleRate: expect.any(Number) });
  });
});

describe('probe: bad inputs give a MediaError naming what was wrong', () => {
  const dir = scratch('probe-bad');
  const cases: Array<[string, () => string, string]> = [
    ['a missing file', () => join(dir, 'does-not-exist.ts'), 'ERR_INPUT_NOT_FOUND'],
    ['a directory', () => dir, 'ERR_INPUT_IS_DIRECTORY'],
    ['an empty file', () => { const p = join(dir, 'empty.ts'); writeFileSync(p, ''); return p; }, 'ERR_INPUT_EMPTY'],
    ['a text file', () => { const p = join(dir, 'notes.txt'); writeFileSync(p, 'this is not video\n'.repeat(200)); return p; }, 'ERR_INPUT_FORMAT'],
    ['random bytes', () => {
      const p = join(dir, 'random.ts');
      let x = 12345;
      const b = Buffer.alloc(256 * 1024);
      for (let i = 0; i < b.length; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
      writeFileSync(p, b);
      return p;
    }, 'ERR_'],
  ];
  for (const [what, make, code] of cases) {
    it(what, async () => {
      const err = await probe(make()).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(MediaError);
      const e = err as MediaError;
      expect(e.code.startsWith(code)).toBe(true);
      expect(['open', 'probe']).toContain(e.step);
      expect(e.message.length).toBeGreaterThan(10);
    });
  }

  it('a transport stream cut short still probes what is there', async () => {
    const p = join(dir, 'cut.ts');
    copyFileSync(kwiver('aphill_short.ts'), p);
    truncateSync(p, 300_001); // not even a packet boundary
    const r = await probe(p);
    expect(r.video?.codec).toBe('h264');
    expect(r.klv).toHaveLength(1);
  });

  it('invalid options name the option and the value', async () => {
    await expect(probe(kwiver('h264_klv.ts'), { klvScanBytes: -1 })).rejects.toThrow('Expected an integer between 0 and 9007199254740991 for klvScanBytes but received -1 of type number');
    await expect(probe(kwiver('h264_klv.ts'), { timeoutMS: 5 } as never)).rejects.toThrow("Unknown option 'timeoutMS' in probe options (did you mean 'timeoutMs'?)");
    await expect(probe('')).rejects.toThrow("Expected a non-empty string for input but received '' of type string");
    await expect(probe(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('a timeout reaches a stalled network read', async () => {
    // A loopback server that accepts and never sends: the deadline must end the blocked read.
    const server = createServer(() => undefined);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const err = await probe(`tcp://127.0.0.1:${port}`, { timeoutMs: 400 }).then(() => undefined, (e: unknown) => e);
    server.close();
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('CLI probe', () => {
  it('reports h264_klv.ts: one KLV stream, PID 257, async', () => {
    const out = execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'probe', kwiver('h264_klv.ts'), '--json'], { encoding: 'utf8' });
    const r = JSON.parse(out) as { klv: Array<{ pid: number; carriage: string }> };
    expect(r.klv).toHaveLength(1);
    expect(r.klv[0]).toMatchObject({ pid: 257, carriage: 'async' });
  });

  it('prints a table by default and exits non-zero with a clear message on a missing file', () => {
    const table = execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'probe', kwiver('aphill_short.ts')], { encoding: 'utf8' });
    expect(table).toMatch(/klv #1\s+PID 0x0101 async/);
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'probe', '/no/such/file.ts'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toContain('ERR_INPUT_NOT_FOUND');
  });
});

describe('inputRoots: nothing outside the roots is read, however a playlist names it', () => {
  const dir = scratch(`input-roots-${process.pid}`);
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  execFileSync('mkdir', ['-p', root, outside]);
  copyFileSync(kwiver('h264_klv.ts'), join(root, 'inside.ts'));
  copyFileSync(kwiver('h264_klv.ts'), join(outside, 'secret.ts'));
  const secret = join(outside, 'secret.ts');
  const playlist = (name: string, body: string) => {
    writeFileSync(join(root, name), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n${body}#EXT-X-ENDLIST\n`);
    return join(root, name);
  };

  it('a playlist of files inside the roots is read', async () => {
    const info = await probe(playlist('ok.m3u8', '#EXTINF:1,\ninside.ts\n'), { inputRoots: [root] });
    expect(info.format).toBe('hls');
    expect(info.video?.codec).toBe('h264');
  });

  const bypasses: Array<[string, string]> = [
    ['a plain entry', `#EXTINF:1,\n${secret}\n`],
    ['an entry after a lone CR (FFmpeg ends lines there, a naive check does not)', `#EXTINF:1,\r${secret}\n`],
    ['a relative entry climbing out', '#EXTINF:1,\n../outside/secret.ts\n'],
    ['an unquoted EXT-X-MAP URI', `#EXT-X-MAP:URI=${secret}\n#EXTINF:1,\ninside.ts\n`],
  ];
  for (const [what, body] of bypasses) {
    it(`refuses ${what}`, async () => {
      const err = await probe(playlist(`bypass-${bypasses.findIndex((b) => b[0] === what)}.m3u8`, body), { inputRoots: [root] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MediaError);
      expect(err).toMatchObject({ code: 'ERR_INPUT_REJECTED', step: 'open' });
      expect((err as Error).message).toMatch(/outside the allowed input roots/);
    });
  }

  it('refuses network segments and an input outside the roots', async () => {
    const err = await probe(playlist('remote.m3u8', '#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n'), { inputRoots: [root] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_INPUT_REJECTED' });
    await expect(probe(secret, { inputRoots: [root] })).rejects.toMatchObject({ code: 'ERR_INPUT_REJECTED', step: 'open' });
    await expect(probe('http://127.0.0.1:9/x.ts', { inputRoots: [root] })).rejects.toMatchObject({ code: 'ERR_INPUT_REJECTED' });
    await expect(probe(secret, { inputRoots: [join(dir, 'missing')] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: /inputRoots\[0\]/ });
  });
});
