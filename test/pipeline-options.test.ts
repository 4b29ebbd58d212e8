// Option validation of the ingest pipeline: one "invalid X" case per option, asserting the message.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { startPipeline, validatePipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { scratchDir } from './pipeline-fixtures.mjs';

let outDir: string;
beforeAll(() => {
  outDir = scratchDir('options');
});

function message(options: unknown): string {
  try {
    validatePipelineOptions(options);
  } catch (err) {
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('ERR_INVALID_OPTION');
    expect((err as MediaError).step).toBe('options');
    return (err as Error).message;
  }
  throw new Error('expected the options to be rejected');
}

const bad = (extra: Record<string, unknown>) => message({ outDir, ...extra });

describe('pipeline options', () => {
  it('accepts the defaults and converts to the native shape', () => {
    const { native, signal } = validatePipelineOptions({ outDir });
    expect(native).toEqual({ outDir, previews: true, previewOptions: {} });
    // true asks for the defaults, as leaving the option out does.
    expect(validatePipelineOptions({ outDir, previews: true }).native).toEqual({ outDir, previews: true, previewOptions: {} });
    expect(signal).toBeUndefined();
  });

  it('converts every option', () => {
    const ac = new AbortController();
    const { native, signal } = validatePipelineOptions({
      outDir,
      requestedResolutions: 'uhd',
      ladder: [{ height: 720, videoBitrate: 2_500_000 }, { name: 'low', height: 360, width: 640, videoBitrate: 800_000, maxBitrate: 1_000_000 }],
      hwaccel: 'cuda',
      hwDevice: '1',
      preset: 'medium',
      codec: 'hevc',
      segmentSeconds: 6,
      segmentFormat: 'fmp4',
      previewIntervalSeconds: 5,
      previews: { posterName: 'cover.jpg', thumbnailWidth: 240, quality: 90 },
      audio: false,
      audioBitrate: 96_000,
      klv: false,
      liveWindowSegments: 6,
      signal: ac.signal,
      timeoutMs: 60_000,
      progressIntervalMs: 500,
      probeSize: 5_000_000,
      analyzeDurationUs: 2_000_000,
      format: 'mpegts',
      inputOptions: { listen: true, timeout: 5_000_000, rtsp_flags: 'listen' },
    });
    expect(signal).toBe(ac.signal);
    expect(native).toEqual({
      outDir,
      tier: 'uhd',
      ladder: [
        { name: '720p', height: 720, videoBitrate: 2_500_000 },
        { name: 'low', height: 360, width: 640, videoBitrate: 800_000, maxBitrate: 1_000_000 },
      ],
      hwaccel: 'cuda',
      hwDevice: '1',
      preset: 'medium',
      codec: 'hevc',
      segmentSeconds: 6,
      segmentFormat: 'fmp4',
      previews: true,
      previewOptions: { posterName: 'cover.jpg', thumbnailWidth: 240, quality: 90, thumbnailInterval: 5 },
      audio: false,
      audioBitrate: 96_000,
      klv: false,
      live: { dvr: false, windowSegments: 6, inputTimeoutMs: 5000, reconnectWindowMs: 60_000 },
      klvBatchUnits: 16,
      klvBatchMs: 0,
      timeoutMs: 60_000,
      progressIntervalMs: 500,
      probeSize: 5_000_000,
      analyzeDurationUs: 2_000_000,
      format: 'mpegts',
      inputOptions: { listen: '1', timeout: '5000000', rtsp_flags: 'listen' },
    });
    expect(validatePipelineOptions({ outDir, previews: false }).native.previews).toBe(false);
    // Live defaults: 2 s segments, a window of 6; DVR bounds pass through.
    expect(validatePipelineOptions({ outDir, live: true }).native).toMatchObject({ segmentSeconds: 2, live: { dvr: false, windowSegments: 6 } });
    expect(validatePipelineOptions({ outDir, live: { dvr: { maxSeconds: 600 } } }).native.live).toMatchObject({ dvr: true, maxSeconds: 600 });
  });

  it('requires an options object with an existing outDir', () => {
    expect(message(undefined)).toBe('Expected an options object with outDir for pipeline options but received undefined of type undefined');
    expect(message('x')).toBe("Expected an object for pipeline options but received 'x' of type string");
    expect(message({})).toBe('Expected a non-empty string for outDir but received undefined of type undefined');
    const percent = join(outDir, '100%d');
    mkdirSync(percent, { recursive: true });
    expect(message({ outDir: percent })).toMatch(/^Expected a directory path without '%' for outDir but received '.*100%d' of type string$/);
    expect(message({ outDir: 'no-such-dir' })).toBe("Expected an existing directory for outDir but received 'no-such-dir' of type string");
  });

  it('rejects unknown option names, suggesting the nearest one', () => {
    expect(bad({ hwAccel: 'cpu' })).toMatch(/^Unknown option 'hwAccel' in pipeline options \(did you mean 'hwaccel'\?\); known options: outDir, /);
    expect(bad({ resolution: 'fhd' })).toMatch(/^Unknown option 'resolution' in pipeline options; known options:/);
    expect(bad({ previews: { thumbWidth: 100 } })).toMatch(/^Unknown option 'thumbWidth' in previews \(did you mean 'thumbnailWidth'\?\)/);
    expect(bad({ ladder: [{ height: 720, bitrate: 1 }] })).toMatch(/^Unknown option 'bitrate' in ladder\[0\]/);
  });

  it.each([
    [{ requestedResolutions: '4k' }, "Expected one of 'sd', 'hd', 'fhd', 'uhd' for requestedResolutions but received '4k' of type string"],
    [{ hwaccel: 'nvenc' }, "Expected one of 'auto', 'cpu', 'cuda', 'vaapi' for hwaccel but received 'nvenc' of type string"],
    [{ hwDevice: '' }, "Expected a non-empty string for hwDevice but received '' of type string"],
    [{ preset: 'placebo' }, "Expected one of 'ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow' for preset but received 'placebo' of type string"],
    [{ codec: 'av1' }, "Expected one of 'h264', 'hevc' for codec but received 'av1' of type string"],
    [{ segmentSeconds: 0.5 }, 'Expected a number between 1 and 60 for segmentSeconds but received 0.5 of type number'],
    [{ segmentFormat: 'mp4' }, "Expected one of 'ts', 'fmp4' for segmentFormat but received 'mp4' of type string"],
    [{ previewIntervalSeconds: 0 }, 'Expected a number between 0.1 and 3600 for previewIntervalSeconds but received 0 of type number'],
    [{ previews: 'yes' }, "Expected an object for previews but received 'yes' of type string"],
    [{ previews: { posterName: 'a/b.jpg' } }, "Expected a file name ending in .jpg or .jpeg, without a directory for previews.posterName but received 'a/b.jpg' of type string"],
    [{ previews: { posterName: 'cover.png' } }, "Expected a file name ending in .jpg or .jpeg, without a directory for previews.posterName but received 'cover.png' of type string"],
    [{ previews: { poster: false, thumbnails: false } }, 'Expected previews.poster or previews.thumbnails to be enabled but both are false'],
    [{ previews: { thumbnailWidth: 161 } }, 'Expected an even integer between 16 and 1920 for previews.thumbnailWidth but received 161 of type number'],
    [{ previews: { quality: 0 } }, 'Expected an integer between 1 and 100 for previews.quality but received 0 of type number'],
    [{ audio: 'yes' }, "Expected a boolean for audio but received 'yes' of type string"],
    [{ audioBitrate: 1000 }, 'Expected an integer between 16000 and 512000 for audioBitrate but received 1000 of type number'],
    [{ klv: 1 }, 'Expected a boolean for klv but received 1 of type number'],
    [{ liveWindowSegments: 0 }, 'Expected an integer between 1 and 1000 for liveWindowSegments but received 0 of type number'],
    [{ live: { windowSegments: 0 } }, 'Expected an integer between 1 and 1000 for live.windowSegments but received 0 of type number'],
    [{ live: { windowSegments: 4, dvr: true } }, 'Expected either a window or dvr, not both for live.dvr but received true of type boolean'],
    [{ live: { dvr: { maxSeconds: 1 } } }, 'Expected a number between 10 and 31622400 for live.dvr.maxSeconds but received 1 of type number'],
    [{ live: { inputTimeoutMs: 10 } }, 'Expected an integer between 100 and 3600000 for live.inputTimeoutMs but received 10 of type number'],
    [{ inputOptions: { listen: [1] } }, 'Expected a string, a finite number or a boolean for inputOptions.listen but received array'],
    [{ signal: {} }, 'Expected an AbortSignal for signal but received object'],
    [{ timeoutMs: -1 }, 'Expected an integer between 1 and 2147483647 for timeoutMs but received -1 of type number'],
    [{ progressIntervalMs: 10 }, 'Expected an integer between 100 and 60000 for progressIntervalMs but received 10 of type number'],
    [{ probeSize: 1 }, 'Expected an integer between 32 and 9007199254740991 for probeSize but received 1 of type number'],
    [{ analyzeDurationUs: 1.5 }, 'Expected an integer between 0 and 9007199254740991 for analyzeDurationUs but received 1.5 of type number'],
    [{ format: 7 }, 'Expected a non-empty string for format but received 7 of type number'],
  ])('rejects %j', (extra, expected) => {
    expect(bad(extra)).toBe(expected);
  });

  it.each([
    [{ ladder: [] }, 'Expected an array of 1 to 8 rungs for ladder but received array'],
    [{ ladder: [{ width: 640 }] }, 'Expected an even integer between 16 and 4320 for ladder[0].height but received undefined of type undefined'],
    [{ ladder: [{ height: 720 }, { height: 480, width: 1281 }] }, 'Expected an even integer between 16 and 7680 for ladder[1].width but received 1281 of type number'],
    [{ ladder: [{ height: 720, videoBitrate: 10 }] }, 'Expected an integer between 50000 and 200000000 for ladder[0].videoBitrate but received 10 of type number'],
    [{ ladder: [{ height: 720, videoBitrate: 3_000_000, maxBitrate: 2_000_000 }] }, 'Expected an integer between 3000000 and 400000000 for ladder[0].maxBitrate but received 2000000 of type number'],
    [{ ladder: [{ height: 720, name: '../x' }] }, "Expected a name of 1 to 32 letters, digits, _ or - for ladder[0].name but received '../x' of type string"],
    [{ ladder: [{ height: 720 }, { height: 720 }] }, "Expected a name no other rung uses for ladder[1].name but received '720p' of type string"],
  ])('rejects the ladder %j', (extra, expected) => {
    expect(bad(extra)).toBe(expected);
  });

  it('startPipeline throws synchronously on bad input or options, before any native work', () => {
    expect(() => startPipeline('', { outDir })).toThrow("Expected a non-empty string for input but received '' of type string");
    expect(() => startPipeline('x.ts', { outDir, hwaccel: 'gpu' } as unknown as PipelineOptions)).toThrow(/for hwaccel but received 'gpu'/);
    expect(() => startPipeline('x.ts', { outDir }, { onDone: () => undefined } as never)).toThrow(/^Unknown handler 'onDone' in handlers/);
    expect(() => startPipeline('x.ts', { outDir }, { onKlv: 3 } as never)).toThrow('Expected a function for handlers.onKlv but received 3 of type number');
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const dir = join(outDir, 'aborted');
    mkdirSync(dir, { recursive: true });
    await expect(startPipeline('x.ts', { outDir: dir, signal: ac.signal }).done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
  });
});
