import { describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.js';
import { JOB_ID_PATTERN, layerNameFromFile, newFileId, newJobId, newServiceItemId, sanitizeServiceName, serviceNameFromFile } from '../src/jobs/ids.js';
import { IngestJob, interruptedResource, type IngestJobEvent, type JobResource } from '../src/jobs/job.js';
import { JobManager } from '../src/jobs/manager.js';
import { STEPS, TRANSCODE_CPU, messageCodeTable, stepByKey } from '../src/jobs/steps.js';
import { SEED_CODES, SEED_MESSAGES } from './jobs-fixtures.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

function newJob(persisted: JobResource[] = []): IngestJob {
  return new IngestJob(
    {
      jobId: newJobId(),
      fileId: newFileId(),
      serviceItemId: newServiceItemId(),
      serviceName: 'Cheyenne_TS',
      serviceUrl: 'https://video.example.com/arcgis/rest/services/Cheyenne_TS/VideoServer',
      layerId: 0,
      layerName: 'Cheyenne',
      requestedResolutions: 'fhd',
      username: 'analyst',
      source: '/data/Cheyenne.ts',
    },
    (r) => persisted.push(r),
  );
}

describe('ids', () => {
  it('are made the way Video Server makes them', () => {
    expect(newJobId()).toMatch(new RegExp(`^j${UUID}$`));
    expect(newJobId()).toMatch(JOB_ID_PATTERN);
    expect(newFileId()).toMatch(new RegExp(`^i${UUID}$`));
    expect(newServiceItemId()).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Array.from({ length: 100 }, newJobId)).size).toBe(100);
  });

  it('service names come from file names, sanitised', () => {
    expect(serviceNameFromFile('/media/Cheyenne.ts')).toBe('Cheyenne_TS');
    expect(serviceNameFromFile('flight 12 (night).mpg')).toBe('flight_12_night_MPG');
    expect(serviceNameFromFile('Überflug.MP4')).toBe('Uberflug_MP4');
    expect(serviceNameFromFile('no-extension')).toBe('no_extension');
    expect(serviceNameFromFile('.hidden')).toBe('hidden');
    expect(serviceNameFromFile('../../etc/passwd')).toBe('passwd');
    expect(sanitizeServiceName('日本語')).toBe('Video');
    expect(sanitizeServiceName('a'.repeat(300))).toHaveLength(120);
    expect(layerNameFromFile('/x/Cheyenne.ts')).toBe('Cheyenne');
  });
});

describe('steps', () => {
  it('are the success path of DESIGN.md, in order', () => {
    expect(STEPS.map((s) => s.code)).toEqual(SEED_CODES);
    expect(STEPS.map((s) => s.message)).toEqual(SEED_MESSAGES);
    expect(STEPS.every((s) => s.origin === 'videoServer')).toBe(true);
    expect(TRANSCODE_CPU).toMatchObject({ code: 1159, message: 'Transcoding with CPU', origin: 'ours' });
    const ours = messageCodeTable().filter((r) => r.origin === 'ours');
    expect(ours.map((r) => r.code)).toEqual([1159, '2000+n', 1120, 1121]);
  });
});

describe('IngestJob resource', () => {
  it('has the eight top-level keys of the contract, in order, while queued', () => {
    const job = newJob();
    const r = job.toJSON();
    expect(Object.keys(r)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
    expect(Object.keys(r.inputs)).toEqual(['serviceItemId', 'requestedResolutions', 'fileIds', 'serviceUrl']);
    expect(Object.keys(r.results)).toEqual(['layerId', 'layerName', 'serviceName']);
    expect(Object.keys(r.customAttributes).slice(0, 3)).toEqual(['messageCodes', 'savingToStorage', 'newLayerId']);
    expect(r).toMatchObject({ status: 'SUBMITTED', messages: [], type: 'Publish Streaming Service', username: 'analyst' });
    expect(r.customAttributes).toMatchObject({ messageCodes: [], savingToStorage: false, newLayerId: 0 });
    // A snapshot, not a live view.
    r.messages.push('x');
    expect(job.toJSON().messages).toEqual([]);
  });

  it('pairs messages with codes and ends COMPLETED with events, done and async iteration', async () => {
    const persisted: JobResource[] = [];
    const job = newJob(persisted);
    const seen: IngestJobEvent[] = [];
    const iterating = (async () => {
      for await (const e of job) seen.push(e);
    })();
    const steps: number[] = [];
    job.on('step', (e) => steps.push(e.code));
    job.markStarted();
    expect(job.status).toBe('IN PROGRESS');
    for (const s of STEPS.slice(0, -1)) job.appendStep(s.key === 'transcode' ? TRANSCODE_CPU : s);
    job.setProgress({ step: 'x', percent: 10, frames: 1, outTime: 0.1, fps: 1, speed: 1, eta: 1 });
    job.setProgress({ step: 'x', percent: 20, frames: 2, outTime: 0.2, fps: 1, speed: 1, eta: 1 });
    job.complete({ location: '/s/Cheyenne_TS/0', masterPlaylist: '/s/Cheyenne_TS/0/ABR.m3u8', files: ['ABR.m3u8'] });
    const result = await job.done;
    await iterating;
    const r = job.toJSON();
    expect(r.status).toBe('COMPLETED');
    expect(r.messages).toHaveLength(16);
    expect(r.customAttributes.messageCodes).toEqual([117, 154, 155, 156, 157, 158, 1159, 160, 161, 174, 182, 162, 163, 205, 206, 118]);
    r.messages.forEach((m, i) => expect(m).toBe(r.customAttributes.messageCodes[i] === 1159 ? 'Transcoding with CPU' : STEPS.find((s) => s.code === r.customAttributes.messageCodes[i])!.message));
    expect(steps).toEqual(r.customAttributes.messageCodes);
    expect(result.job.status).toBe('COMPLETED');
    expect(seen.at(-1)).toMatchObject({ type: 'done' });
    expect(seen.filter((e) => e.type === 'step')).toHaveLength(16);
    expect(persisted.at(-1)?.status).toBe('COMPLETED');
    // Iterating a finished job yields its end at once.
    const late: IngestJobEvent[] = [];
    for await (const e of job) late.push(e);
    expect(late.map((e) => e.type)).toEqual(['done']);
    expect(job.cancel()).toBe(false);
  });

  it('FAILED: the failing step is the last message, details under customAttributes, top-level keys unchanged', async () => {
    const job = newJob();
    job.markStarted();
    job.appendStep(stepByKey('start'));
    const err = new MediaError('input has no video stream: /x.ts (format mpegts)', { code: 'ERR_NO_VIDEO_STREAM', step: 'probe' });
    job.fail('probeVideo', err);
    await expect(job.done).rejects.toBe(err);
    const r = job.toJSON();
    expect(r.status).toBe('FAILED');
    expect(r.messages).toEqual(['Starting Ingest', 'Probing Video Codec failed: input has no video stream: /x.ts (format mpegts)']);
    expect(r.customAttributes.messageCodes).toEqual([117, 2154]);
    expect(r.customAttributes.error).toMatchObject({ code: 'ERR_NO_VIDEO_STREAM', step: 'probe', failedStep: { code: 154, message: 'Probing Video Codec' } });
    expect(Object.keys(r)).toHaveLength(8);
    expect(() => job.markStarted()).toThrow(/cannot go from FAILED to IN PROGRESS/);
  });

  it('CANCELLED: status and its own message', async () => {
    const job = newJob();
    expect(job.cancel()).toBe(true);
    expect(job.signal.aborted).toBe(true);
    job.fail('start', job.signal.reason as MediaError);
    await expect(job.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(job.toJSON()).toMatchObject({ status: 'CANCELLED', messages: ['Ingest Cancelled'], customAttributes: { messageCodes: [1120] } });
  });

  it('an interrupted resource names the step it stopped at', () => {
    const job = newJob();
    job.markStarted();
    for (const key of ['start', 'probeVideo', 'probeAudio', 'probeKlv', 'streamInfo', 'videoInfo'] as const) job.appendStep(stepByKey(key));
    const r = interruptedResource(job.toJSON());
    expect(r.status).toBe('FAILED');
    expect(r.messages.at(-1)).toMatch(/^Transcoding with GPU failed: the process running the ingest stopped/);
    expect(r.customAttributes.messageCodes.at(-1)).toBe(2159);
    expect(r.customAttributes.error?.code).toBe('ERR_INTERRUPTED');
  });
});

describe('ingest options', () => {
  const manager = new JobManager({ outDir: '/tmp/never-used' });

  it('rejects unknown option names with a did-you-mean', () => {
    expect(() => manager.ingest('a.ts', { outdir: '/x' } as never)).toThrow(
      "Unknown option 'outdir' in ingest options (did you mean 'outDir'?); known options: outDir, storage, requestedResolutions, hwaccel, signal, username, serviceName, layerName, timeoutMs, tempDir, restUrl",
    );
    expect(() => manager.ingest('a.ts', { resolutions: 'hd' } as never)).toThrow(/Unknown option 'resolutions'/);
    expect(() => manager.ingest('a.ts', { requestedResolution: 'hd' } as never)).toThrow(/did you mean 'requestedResolutions'\?/);
  });

  it('names the option and the value', () => {
    expect(() => manager.ingest('a.ts', { requestedResolutions: '4k' as never })).toThrow(
      "Expected one of 'sd', 'hd', 'fhd', 'uhd' for requestedResolutions but received '4k' of type string",
    );
    expect(() => manager.ingest('a.ts', { hwaccel: 'gpu' as never })).toThrow("Expected one of 'auto', 'cpu', 'cuda', 'vaapi' for hwaccel but received 'gpu' of type string");
    expect(() => manager.ingest('a.ts', { signal: {} as never })).toThrow('Expected an AbortSignal for signal but received object');
    expect(() => manager.ingest('a.ts', { serviceName: 'a/b' })).toThrow("Expected a service name of letters, digits and underscores (at most 120) for serviceName but received 'a/b' of type string");
    expect(() => manager.ingest('a.ts', { timeoutMs: 0 })).toThrow('Expected an integer between 1 and 2147483647 for timeoutMs but received 0 of type number');
    expect(() => manager.ingest('', {})).toThrow("Expected a non-empty string for input but received '' of type string");
    expect(() => manager.ingest('a.ts', { restUrl: 'ftp://x' })).toThrow("Expected an http(s) URL for restUrl but received 'ftp://x' of type string");
    expect(() => new JobManager().ingest('a.ts')).toThrow('Expected a directory to publish into (or a storage) for outDir but received undefined of type undefined');
    expect(() => new JobManager({ concurency: 2 } as never)).toThrow(/did you mean 'concurrency'\?/);
  });
});
