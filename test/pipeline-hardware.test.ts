// Hardware paths: capabilities() opens each path for real; explicit cuda/vaapi without a device is
// ERR_HW_INIT; 'auto' records why it chose what it chose. GPU runs are skipped, with the reason
// logged, on machines where capabilities() finds no device.
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { capabilities, startPipeline, type Capabilities } from '../src/pipeline.js';
import { clipsDir, decodeErrors, makeClip, scratchDir } from './pipeline-fixtures.mjs';
import { join } from 'node:path';

let caps: Capabilities;
beforeAll(async () => {
  caps = await capabilities();
});

describe('capabilities()', () => {
  it('reports the CPU path with its encoders', () => {
    expect(caps.ffmpeg).toMatch(/\d/);
    expect(caps.paths.cpu).toMatchObject({ available: true, scale: true });
    expect(caps.paths.cpu.encoders).toContain('libx264');
    expect(caps.paths.cpu.decoders).toContain('h264');
  });

  it('opens each device path and says why one is unavailable', () => {
    for (const name of ['cuda', 'vaapi'] as const) {
      const p = caps.paths[name];
      if (p.available) {
        console.info(`${name}: available, decoders ${p.decoders.join(', ')}, encoders ${p.encoders.join(', ') || 'none'}; ${p.notes.join('; ')}`);
        expect(p.reason === null || typeof p.reason === 'string').toBe(true);
      } else {
        console.info(`${name}: unavailable here: ${p.reason}`);
        expect(p.reason).toMatch(new RegExp(`${name} device .* could not be opened`));
        expect(p.decoders).toEqual([]);
      }
    }
  });

  it('is cached per process, and refresh probes again', async () => {
    expect(await capabilities()).toEqual(caps);
    expect((await capabilities({ refresh: true })).paths.cpu.available).toBe(true);
    await expect(capabilities({ refersh: true } as never)).rejects.toThrow(/Unknown option 'refersh'/);
  });
});

describe('explicit hardware paths', () => {
  let clip: { path: string };
  beforeAll(() => {
    clip = makeClip(clipsDir, 'fhd-2s', { seconds: 2, ptsless: 4 });
  });

  for (const hw of ['cuda', 'vaapi'] as const) {
    it(`${hw}: ERR_HW_INIT without a device, else a ladder that records the path`, async () => {
      const out = scratchDir(`hw-${hw}`);
      const run = startPipeline(clip.path, { outDir: out, hwaccel: hw, requestedResolutions: 'sd', previews: false });
      if (!caps.paths[hw].available) {
        console.info(`${hw} run skipped: no ${hw} device here (${caps.paths[hw].reason}); asserting ERR_HW_INIT instead`);
        await expect(run.done).rejects.toMatchObject({ name: 'MediaError', code: 'ERR_HW_INIT', step: 'hwaccel' });
        expect(readdirSync(out)).toEqual([]);
        return;
      }
      const result = await run.done;
      expect(result.hardware.requested).toBe(hw);
      expect(result.hardware.used).toBe(hw);
      expect(result.hardware.reason).not.toBe('');
      if (hw === 'cuda' && !caps.paths.cuda.encoders.includes('h264_nvenc')) {
        expect(result.hardware).toMatchObject({ encoder: 'libx264', fallback: true });
        expect(result.hardware.reason).toMatch(/no usable NVENC/);
      }
      expect(decodeErrors(join(out, result.renditions[0]!.playlist))).toBe('');
    });
  }
});

describe("hwaccel 'auto'", () => {
  it('chooses the CPU below 2160p, from measurements, and says so', async () => {
    const clip = makeClip(clipsDir, 'fhd-2s', { seconds: 2, ptsless: 4 });
    const out = scratchDir('hw-auto-fhd');
    const result = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', previews: false }).done;
    expect(result.hardware).toMatchObject({ requested: 'auto', used: 'cpu', fallback: false, encoder: 'libx264' });
    expect(result.hardware.reason).toMatch(/^auto: cpu for a 1080p source; below 2160p/);
  });

  it('keeps a 2160p stream NVDEC cannot decode (H.264 4:2:2) on the CPU without trying the GPU, and says why', async () => {
    const clip = makeClip(clipsDir, 'uhd422-0.3s', { width: 3840, height: 2160, seconds: 0.3, audio: false, pixFmt: 'yuv422p' });
    const out = scratchDir('hw-auto-uhd422');
    const warnings: string[] = [];
    const result = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', previews: false }, { onWarning: (w) => warnings.push(w.code) }).done;
    expect(result.hardware).toMatchObject({ requested: 'auto', used: 'cpu', fallback: false, encoder: 'libx264' });
    expect(result.hardware.reason).toBe('auto: cpu for a 2160p source: NVDEC does not decode h264 in yuv422p (it would decode in software on one thread)');
    expect(warnings).not.toContain('HW_FALLBACK');
  });

  it('tries CUDA for a 2160p source and records the fallback when it cannot run', async () => {
    const clip = makeClip(clipsDir, 'uhd-0.5s', { width: 3840, height: 2160, seconds: 0.5, audio: false });
    const out = scratchDir('hw-auto-uhd');
    const warnings: string[] = [];
    const result = await startPipeline(clip.path, { outDir: out, requestedResolutions: 'sd', preset: 'ultrafast', previews: false }, { onWarning: (w) => warnings.push(w.code) }).done;
    expect(result.hardware.requested).toBe('auto');
    if (caps.paths.cuda.available) {
      console.info(`auto on 2160p ran ${result.hardware.used}: ${result.hardware.reason}`);
      expect(result.hardware.used).toBe('cuda');
      return;
    }
    console.info(`auto on 2160p fell back here: ${result.hardware.reason}`);
    expect(result.hardware).toMatchObject({ used: 'cpu', fallback: true, encoder: 'libx264' });
    expect(result.hardware.reason).toMatch(/^auto: cuda was tried for a 2160p source and could not run \(cuda device 0 could not be opened: .+\); cpu path used$/);
    expect(warnings).toContain('HW_FALLBACK');
    expect(result.warnings.find((w) => w.code === 'HW_FALLBACK')?.message).toBe(result.hardware.reason);
  });
});
