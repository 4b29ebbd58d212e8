// Source shapes and output options: interlaced, 4:4:4, anamorphic and tiny sources, non-AAC
// audio, custom ladders, HEVC, fMP4 segments and sliding-window playlists.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../src/pipeline.js';
import { clipsDir, decodeErrors, ffmpeg, ffprobeJson, inspectTransportStream, kwiverSample, makeClip, parseMasterPlaylist, playlistSegments, scratchDir } from './pipeline-fixtures.mjs';

const quick = { preset: 'ultrafast', previews: false } as const;

function firstSegment(out: string, playlist: string): string {
  const dir = join(out, playlist, '..');
  return join(dir, playlistSegments(join(out, playlist))[0]!);
}

describe('sources', () => {
  it('deinterlaces an interlaced source (KWIVER 720x480i, KLV kept)', async () => {
    const out = scratchDir('src-interlaced');
    const result = await startPipeline(kwiverSample('aphill_short.ts'), { outDir: out, ...quick }).done;
    expect(result.deinterlaced).toBe(true);
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['720x480']);
    expect(result.ladderNotes).toHaveLength(2);
    expect(result.renditions[0]!.frameRate).toBeCloseTo(29.97, 2);
    const v = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'stream=field_order,pix_fmt', firstSegment(out, result.renditions[0]!.playlist)]).streams[0];
    expect(v).toMatchObject({ field_order: 'progressive', pix_fmt: 'yuv420p' });
    expect(result.counts.klvUnits).toBe(48);
    expect(result.renditions[0]!.klvUnits).toBe(48);
  });

  it('turns High 4:4:4 into 8-bit 4:2:0 and keeps a source below sd at its own size', async () => {
    const out = scratchDir('src-444');
    // veryfast: ultrafast turns CABAC off and the stream is signalled Constrained Baseline.
    const result = await startPipeline(kwiverSample('h264_klv.ts'), { outDir: out, previews: false }).done;
    expect(result.source.video?.pixelFormat).toBe('yuv444p');
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(['120p 160x120']);
    const v = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'stream=pix_fmt,profile', firstSegment(out, result.renditions[0]!.playlist)]).streams[0];
    expect(v).toMatchObject({ pix_fmt: 'yuv420p', profile: 'High' });
    // 30 async units without PTS: every one got the latest video PTS.
    expect(result.counts.klvUnits).toBe(30);
    expect(result.counts.klvPtsInferred).toBe(30);
    const k = inspectTransportStream(firstSegment(out, result.renditions[0]!.playlist)).find((s) => s.klv)!;
    expect(k.pesWithPts).toBe(30);
  });

  it('sizes rungs from the display aspect ratio (anamorphic source)', async () => {
    const clip = makeClip(clipsDir, 'anamorphic-720x480', { width: 720, height: 480, seconds: 1, klvRate: 5 });
    const path = join(clipsDir, 'anamorphic-720x480-sar.ts');
    // 720x480 with SAR 32:27 displays at 16:9.
    ffmpeg(['-i', clip.path, '-map', '0', '-c', 'copy', '-bsf:v', 'h264_metadata=sample_aspect_ratio=32/27', '-f', 'mpegts', path]);
    const out = scratchDir('src-anamorphic');
    const result = await startPipeline(path, { outDir: out, ...quick }).done;
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['854x480']);
    const v = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'stream=width,height,sample_aspect_ratio', firstSegment(out, result.renditions[0]!.playlist)]).streams[0];
    expect(v).toMatchObject({ width: 854, height: 480, sample_aspect_ratio: '1:1' });
  });

  it('encodes non-AAC audio to AAC once, for every rendition', async () => {
    const clip = makeClip(clipsDir, 'hd-1s-mp2', { width: 1280, height: 720, seconds: 1, audio: 'mp2' });
    const out = scratchDir('src-mp2');
    const result = await startPipeline(clip.path, { outDir: out, ...quick, audioBitrate: 96_000 }).done;
    expect(result.audio).toBe('aac');
    expect(result.renditions).toHaveLength(2);
    for (const r of result.renditions) {
      expect(r.codecs).toMatch(/,mp4a\.40\.2$/);
      const a = ffprobeJson(['-select_streams', 'a:0', '-show_entries', 'stream=codec_name,sample_rate,channels', firstSegment(out, r.playlist)]).streams[0];
      expect(a).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 1 });
      expect(decodeErrors(join(out, r.playlist))).toBe('');
    }
  });

  it('leaves audio out on request', async () => {
    const clip = makeClip(clipsDir, 'fhd-2s', { seconds: 2, ptsless: 4 });
    const out = scratchDir('src-noaudio');
    const result = await startPipeline(clip.path, { outDir: out, ...quick, requestedResolutions: 'sd', audio: false }).done;
    expect(result.audio).toBe('none');
    expect(result.renditions[0]!.codecs).toMatch(/^avc1\.[0-9A-F]{6}$/);
    expect(inspectTransportStream(firstSegment(out, result.renditions[0]!.playlist)).map((s) => s.streamType).sort((a, b) => a - b)).toEqual([0x06, 0x1b]);
  });
});

describe('outputs', () => {
  const clip = () => makeClip(clipsDir, 'fhd-2s', { seconds: 2, ptsless: 4 });

  it('uses custom rungs, skipping (with a warning) any above the source', async () => {
    const out = scratchDir('out-ladder');
    const result = await startPipeline(clip().path, {
      outDir: out,
      ...quick,
      // 360p without a bit rate: sd's 1.2 Mb/s scaled by pixel count (480×360 of 854×480).
      ladder: [{ height: 2160 }, { name: 'mid', height: 540, videoBitrate: 1_500_000 }, { height: 360, width: 480 }],
    }).done;
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoBitrate}`)).toEqual(['mid 960x540 1500000', '360p 480x360 506000']);
    expect(result.warnings.map((w) => w.code)).toEqual(['RUNG_SKIPPED']);
    expect(parseMasterPlaylist(join(out, 'ABR.m3u8')).variants.map((v) => v.uri)).toEqual(['mid/mid.m3u8', '360p/360p.m3u8']);
  });

  it('encodes HEVC with an hvc1 CODECS string', async () => {
    const out = scratchDir('out-hevc');
    const result = await startPipeline(clip().path, { outDir: out, ...quick, requestedResolutions: 'sd', codec: 'hevc' }).done;
    expect(result.hardware.encoder).toBe('libx265');
    expect(result.renditions[0]!.codecs).toMatch(/^hvc1\.1\.6\.L\d+(\.[0-9A-F]{1,2})*,mp4a\.40\.2$/);
    expect(decodeErrors(join(out, result.renditions[0]!.playlist))).toBe('');
    // In TS segments most players cannot play it: said, not silently written.
    expect(result.warnings.find((w) => w.code === 'HEVC_IN_TS')?.message).toMatch(/only from fMP4/);
  });

  it('writes fMP4 segments with the KLV as emsg boxes before each moof', async () => {
    const out = scratchDir('out-fmp4');
    const klv: number[] = [];
    const result = await startPipeline(clip().path, { outDir: out, ...quick, requestedResolutions: 'sd', segmentFormat: 'fmp4', segmentSeconds: 1 }, { onKlv: (u) => klv.push(u.length) }).done;
    expect(result.klv).toMatchObject({ inSegments: true, mode: 'emsg' });
    expect(result.warnings.map((w) => w.code)).not.toContain('KLV_NOT_IN_SEGMENTS');
    expect(klv.reduce((a, b) => a + b, 0)).toBe(20);
    const r = result.renditions[0]!;
    expect(r.klvUnits).toBe(20);
    expect(readFileSync(join(out, r.playlist), 'utf8')).toMatch(/#EXT-X-MAP:URI="480p_init\.mp4"/);
    expect(result.files).toContain('480p/480p_init.mp4');
    expect(readFileSync(join(out, 'ABR.m3u8'), 'utf8')).toMatch(/^#EXTM3U\n#EXT-X-VERSION:7\n/);
    expect(decodeErrors(join(out, r.playlist))).toBe('');
    // Every unit is one emsg box (version 1, 90 kHz) ahead of the segment's first moof, in time order.
    const segments = playlistSegments(join(out, r.playlist));
    expect(segments.length).toBeGreaterThan(1);
    const times: number[] = [];
    let withEvents = 0;
    for (const name of segments) {
      const b = readFileSync(join(out, r.playlist, '..', name));
      let at = 0;
      let events = 0;
      let sawMoof = false;
      const sidxTargets: number[] = [];
      let moofAt = -1;
      while (at + 8 <= b.length) {
        const size = b.readUInt32BE(at);
        const type = b.toString('latin1', at + 4, at + 8);
        if (type === 'moof' && moofAt < 0) moofAt = at;
        if (type === 'moof') sawMoof = true;
        if (type === 'sidx' && !sawMoof) {
          // first_offset counts from the end of the sidx to the first byte it indexes.
          const v1 = b[at + 8] === 1;
          const firstOffset = v1 ? Number(b.readBigUInt64BE(at + 28)) : b.readUInt32BE(at + 24);
          sidxTargets.push(at + size + firstOffset);
        }
        if (type === 'emsg') {
          expect(sawMoof).toBe(false);
          expect(b[at + 8]).toBe(1);
          expect(b.readUInt32BE(at + 12)).toBe(90000);
          times.push(Number(b.readBigUInt64BE(at + 16)) / 90000);
          const schemeEnd = b.indexOf(0, at + 32);
          expect(b.toString('latin1', at + 32, schemeEnd)).toBe('urn:misb:KLV:bin:1910.1');
          const payload = b.subarray(schemeEnd + 2, at + size);
          expect([...payload.subarray(0, 4)]).toEqual([0x06, 0x0e, 0x2b, 0x34]);
          events++;
        }
        at += size;
      }
      expect(sawMoof).toBe(true);
      // The segment index still points at the first moof, past the inserted emsg boxes.
      expect(sidxTargets.length).toBeGreaterThan(0);
      for (const target of sidxTargets) expect(target).toBe(moofAt);
      if (events) withEvents++;
      // The event times are on the segments' presentation timeline (the input clock, as the
      // init segment's edit list makes it): inside the span of this segment's video.
      const joined = join(out, `${name}.probe.mp4`);
      writeFileSync(joined, Buffer.concat([readFileSync(join(out, r.playlist, '..', '480p_init.mp4')), b]));
      const pts = ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time', joined]).packets.map((p: { pts_time: string }) => Number(p.pts_time));
      const first = Math.min(...pts);
      const last = Math.max(...pts);
      for (const t of times.slice(times.length - events)) {
        expect(t).toBeGreaterThanOrEqual(first - 0.05);
        expect(t).toBeLessThan(last + 0.1);
      }
    }
    expect(times).toHaveLength(20);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(withEvents).toBeGreaterThan(1);
  });

  it('writes sliding-window playlists for a live input', async () => {
    const out = scratchDir('out-live');
    const result = await startPipeline(clip().path, { outDir: out, ...quick, requestedResolutions: 'sd', segmentSeconds: 1, liveWindowSegments: 1 }).done;
    const playlist = readFileSync(join(out, result.renditions[0]!.playlist), 'utf8');
    expect(playlist).not.toMatch(/#EXT-X-PLAYLIST-TYPE:VOD/);
    expect(playlist).toMatch(/#EXT-X-MEDIA-SEQUENCE:1/);
    expect(playlistSegments(join(out, result.renditions[0]!.playlist))).toEqual(['480p_00001.ts']);
  });
});
