// The single-pass ingest on a 1080p30 clip with audio and KLV: every output validates.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type PipelineResult, type PipelineStep, type PipelineProgress } from '../src/pipeline.js';
import type { RawKlvUnit } from '../src/klv-extract.js';
import {
  clipsDir,
  decodeErrors,
  ffprobeJson,
  inspectTransportStream,
  jpegSize,
  makeClip,
  parseMasterPlaylist,
  playlistSegments,
  scratchDir,
} from './pipeline-fixtures.mjs';

describe('ingest of a 1080p30 clip with KLV', () => {
  let clip: { path: string; klvUnits: number };
  let out: string;
  let result: PipelineResult;
  const klv: RawKlvUnit[] = [];
  const steps: PipelineStep[] = [];
  const progress: PipelineProgress[] = [];
  let klvBatches = 0;
  let sourceVideo: { nb_frames?: string; duration?: string };

  beforeAll(async () => {
    // 3 s: one KLV PES without PTS in every four, and a 1 s segment length so the ladder has 3 segments.
    clip = makeClip(clipsDir, 'fhd-3s', { seconds: 3, ptsless: 4 });
    out = scratchDir('ingest-fhd');
    const run = startPipeline(
      clip.path,
      { outDir: out, requestedResolutions: 'fhd', segmentSeconds: 1, previewIntervalSeconds: 1 },
      {
        onKlv: (units) => {
          klvBatches++;
          klv.push(...units);
        },
        onStep: (s) => steps.push(s),
        onProgress: (p) => progress.push(p),
      },
    );
    result = await run.done;
    sourceVideo = ffprobeJson(['-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets,duration', clip.path]).streams[0];
  });

  it('plans the fhd ladder on the CPU with the reason recorded', () => {
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(['1080p 1920x1080', '720p 1280x720', '480p 854x480']);
    expect(result.hardware).toMatchObject({ requested: 'auto', used: 'cpu', fallback: false, decoder: 'h264', scaler: 'swscale', encoder: 'libx264' });
    expect(result.hardware.reason).toMatch(/below 2160p/);
    expect(result.audio).toBe('copy');
    expect(result.warnings).toEqual([]);
  });

  it('writes ABR.m3u8 listing exactly the expected rungs with measured attributes', () => {
    const master = parseMasterPlaylist(join(out, 'ABR.m3u8'));
    expect(master.variants.map((v) => v.attrs.RESOLUTION)).toEqual(['1920x1080', '1280x720', '854x480']);
    expect(master.variants.map((v) => v.uri)).toEqual(['1080p/1080p.m3u8', '720p/720p.m3u8', '480p/480p.m3u8']);
    for (const [i, v] of master.variants.entries()) {
      const r = result.renditions[i]!;
      expect(Number(v.attrs.BANDWIDTH)).toBe(r.bandwidth);
      expect(Number(v.attrs['AVERAGE-BANDWIDTH'])).toBe(r.averageBandwidth);
      expect(r.bandwidth).toBeGreaterThanOrEqual(r.averageBandwidth);
      expect(v.attrs.CODECS).toMatch(/^avc1\.64[0-9A-F]{4},mp4a\.40\.2$/);
      expect(v.attrs['FRAME-RATE']).toBe('30.000');
      expect(existsSync(join(out, v.uri))).toBe(true);
    }
  });

  it('writes abr.json beside it', () => {
    const info = JSON.parse(readFileSync(join(out, 'abr.json'), 'utf8'));
    expect(info).toMatchObject({ master: 'ABR.m3u8', segmentSeconds: 1, segmentFormat: 'ts', codec: 'h264', audio: 'copy', klv: { inSegments: true, mode: 'ts-pes' } });
    expect(info.renditions.map((r: { name: string }) => r.name)).toEqual(['1080p', '720p', '480p']);
    expect(info.renditions[0]).toMatchObject({ width: 1920, height: 1080, videoBitrate: 6_000_000, segments: 3 });
  });

  it('every rendition decodes through ffmpeg without errors', () => {
    for (const r of result.renditions) expect(decodeErrors(join(out, r.playlist))).toBe('');
  });

  it('outputs 8-bit 4:2:0 High profile at the rung size', () => {
    for (const r of result.renditions) {
      const seg = join(out, r.name, playlistSegments(join(out, r.playlist))[0]!);
      const v = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'stream=width,height,pix_fmt,profile,sample_aspect_ratio', seg]).streams[0];
      expect(v).toMatchObject({ width: r.width, height: r.height, pix_fmt: 'yuv420p', profile: 'High' });
    }
  });

  it('segments carry video, audio and the KLV PID (0x06 + KLVA, PES with PTS)', () => {
    for (const r of result.renditions) {
      for (const seg of playlistSegments(join(out, r.playlist))) {
        const streams = inspectTransportStream(join(out, r.name, seg));
        expect(streams.map((s) => s.streamType).sort((a, b) => a - b)).toEqual([0x06, 0x0f, 0x1b]);
        const k = streams.find((s) => s.klv)!;
        expect(k.registration).toBe('KLVA');
        expect(k.pesWithPts).toBe(k.pes);
      }
    }
  });

  it('keeps the source KLV unit count in each rendition, units unchanged', () => {
    const source = inspectTransportStream(clip.path).find((s) => s.klv)!;
    expect(source.klvUnits).toBe(clip.klvUnits);
    for (const r of result.renditions) {
      const segs = playlistSegments(join(out, r.playlist)).map((s) => join(out, r.name, s));
      const k = inspectTransportStream(segs).find((s) => s.klv)!;
      expect(k.klvUnits).toBe(source.klvUnits);
      expect(r.klvUnits).toBe(source.klvUnits);
      expect(Buffer.concat(k.units).equals(Buffer.concat(source.units))).toBe(true);
    }
  });

  it('hands every KLV unit to onKlv in batches, PTS filled in for units without one', () => {
    expect(klv.length).toBe(clip.klvUnits);
    expect(klvBatches).toBeLessThan(klv.length);
    expect(result.counts.klvUnits).toBe(clip.klvUnits);
    const pid = inspectTransportStream(clip.path).find((s) => s.klv)!.pid;
    expect(klv.every((u) => u.pts !== null && u.carriage === 'async' && u.pid === pid)).toBe(true);
    const inferred = klv.filter((u) => u.ptsInferred).length;
    expect(inferred).toBe(Math.floor(clip.klvUnits / 4));
    expect(result.counts.klvPtsInferred).toBe(inferred);
  });

  it('matches the source duration within one frame, with every frame', () => {
    const sourceDuration = Number(sourceVideo.duration);
    const frames = Number((sourceVideo as { nb_read_packets?: string }).nb_read_packets);
    expect(Math.abs(result.duration - sourceDuration)).toBeLessThanOrEqual(1 / 30 + 1e-6);
    for (const r of result.renditions) {
      expect(Math.abs(r.duration - sourceDuration)).toBeLessThanOrEqual(1 / 30 + 1e-6);
      expect(r.frames).toBe(frames);
    }
  });

  it('cuts every rung at the same frames, each segment starting with an IDR', () => {
    const starts = result.renditions.map((r) =>
      playlistSegments(join(out, r.playlist)).map((seg) => {
        const f = ffprobeJson(['-select_streams', 'v:0', '-read_intervals', '%+#1', '-show_entries', 'frame=key_frame,pict_type,pts', join(out, r.name, seg)]).frames[0];
        expect(f).toMatchObject({ key_frame: 1, pict_type: 'I' });
        return f.pts;
      }),
    );
    expect(starts[0]).toHaveLength(3);
    expect(starts[1]).toEqual(starts[0]);
    expect(starts[2]).toEqual(starts[0]);
  });

  it('writes a poster and previews that are valid JPEGs of the right size', () => {
    expect(result.previews?.poster).toMatchObject({ width: 1920, height: 1080 });
    expect(jpegSize(join(out, 'poster.jpg'))).toEqual({ width: 1920, height: 1080 });
    const sprite = result.previews!.sprites[0]!;
    expect(result.previews!.thumbnails).toMatchObject({ count: 3, width: 160, height: 90 });
    expect(jpegSize(sprite.path)).toEqual({ width: sprite.width, height: sprite.height });
    expect(sprite.width).toBe(sprite.columns * 160);
    expect(readFileSync(result.previews!.vtt!, 'utf8')).toMatch(/^WEBVTT/);
  });

  it('lists every file it wrote, and reports steps and progress', () => {
    expect(result.files).toEqual(expect.arrayContaining(['ABR.m3u8', 'abr.json', 'poster.jpg', '1080p/1080p.m3u8', '480p/480p_00002.ts']));
    for (const f of result.files) expect(existsSync(join(out, f))).toBe(true);
    expect(steps).toEqual(['streamInfo', 'videoInfo', 'transcode', 'klv', 'hls', 'poster', 'previews', 'abr']);
    expect(progress.length).toBeGreaterThan(0);
    const last = progress[progress.length - 1]!;
    expect(last.frames).toBe(result.counts.framesOut);
    expect(last.percent).toBeGreaterThan(90);
  });
});
