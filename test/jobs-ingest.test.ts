import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeKlv } from '../src/klv/index.js';
import { JOB_ID_PATTERN } from '../src/jobs/ids.js';
import type { IngestJobEvent, JobResource } from '../src/jobs/job.js';
import { JobManager, ingest } from '../src/jobs/manager.js';
import { syntheticFlight } from '../src/jobs/synthetic-flight.js';
import { SEED_CODES, SEED_MESSAGES, flightClip, freshDir, klvOnlyStream, textFile } from './jobs-fixtures.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Keys and value types of the seed example, in order. */
function expectSeedShape(r: JobResource): void {
  expect(Object.keys(r)).toEqual(['jobId', 'inputs', 'messages', 'type', 'results', 'status', 'username', 'customAttributes']);
  expect(r.jobId).toMatch(new RegExp(`^j${UUID}$`));
  expect(Object.keys(r.inputs)).toEqual(['serviceItemId', 'requestedResolutions', 'fileIds', 'serviceUrl']);
  expect(r.inputs.serviceItemId).toMatch(/^[0-9a-f]{32}$/);
  expect(r.inputs.fileIds).toMatch(new RegExp(`^i${UUID}$`));
  expect(typeof r.inputs.serviceUrl).toBe('string');
  expect(Array.isArray(r.messages) && r.messages.every((m) => typeof m === 'string')).toBe(true);
  expect(r.type).toBe('Publish Streaming Service');
  expect(Object.keys(r.results)).toEqual(['layerId', 'layerName', 'serviceName']);
  expect(typeof r.results.layerId).toBe('number');
  expect(typeof r.results.layerName).toBe('string');
  expect(typeof r.results.serviceName).toBe('string');
  expect(typeof r.status).toBe('string');
  expect(typeof r.username).toBe('string');
  expect(Object.keys(r.customAttributes).slice(0, 3)).toEqual(['messageCodes', 'savingToStorage', 'newLayerId']);
  expect(r.customAttributes.messageCodes.every((c) => Number.isInteger(c))).toBe(true);
  expect(r.customAttributes.messageCodes).toHaveLength(r.messages.length);
  expect(typeof r.customAttributes.savingToStorage).toBe('boolean');
  expect(typeof r.customAttributes.newLayerId).toBe('number');
}

function cpuSeed(): { messages: string[]; codes: number[] } {
  return {
    messages: SEED_MESSAGES.map((m) => (m === 'Transcoding with GPU' ? 'Transcoding with CPU' : m)),
    codes: SEED_CODES.map((c) => (c === 159 ? 1159 : c)),
  };
}

describe('ingest of a clip with KLV (real pipeline, CPU path)', () => {
  let clip: string;
  let out: string;
  let temp: string;
  let resource: JobResource;
  let location: string;
  const events: IngestJobEvent[] = [];
  const stepEvents: number[] = [];
  const statusWhileRunning = new Set<string>();

  beforeAll(async () => {
    clip = await flightClip('Cheyenne.ts');
    const dir = freshDir('ingest-ok');
    out = join(dir, 'services');
    temp = join(dir, 'tmp');
    const job = ingest(clip, { outDir: out, requestedResolutions: 'sd', hwaccel: 'cpu', username: 'analyst', tempDir: temp, restUrl: 'https://video.example.com/arcgis/rest' });
    expect(job.status).toBe('SUBMITTED');
    expect(job.toJSON().messages).toEqual([]);
    job.on('step', (e) => {
      stepEvents.push(e.code);
      statusWhileRunning.add(job.status);
    });
    const iterate = (async () => {
      for await (const e of job) events.push(e);
    })();
    const result = await job.done;
    await iterate;
    resource = job.toJSON();
    location = result.location;
    expect(result.masterPlaylist).toBe(join(location, 'ABR.m3u8'));
  });

  it('gives the seed example: keys, types, message/code sequence (the CPU message aside)', () => {
    expectSeedShape(resource);
    const seed = cpuSeed();
    expect(resource.messages).toEqual(seed.messages);
    expect(resource.customAttributes.messageCodes).toEqual(seed.codes);
    expect(resource).toMatchObject({
      inputs: { requestedResolutions: 'sd', serviceUrl: 'https://video.example.com/arcgis/rest/services/Cheyenne_TS/VideoServer' },
      results: { layerId: 0, layerName: 'Cheyenne', serviceName: 'Cheyenne_TS' },
      status: 'COMPLETED',
      username: 'analyst',
      customAttributes: { savingToStorage: false, newLayerId: 0, error: null, progress: null },
    });
    expect(resource.customAttributes.hardware).toMatchObject({ requested: 'cpu', used: 'cpu', encoder: 'libx264' });
    expect(resource.customAttributes.timings.messageMs).toHaveLength(16);
  });

  it('reports every step once, in order, while IN PROGRESS; progress and done through for-await', () => {
    expect(stepEvents).toEqual(cpuSeed().codes);
    expect([...statusWhileRunning]).toEqual(['IN PROGRESS']);
    expect(events.filter((e) => e.type === 'step').map((e) => (e as { code: number }).code)).toEqual(cpuSeed().codes);
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events.at(-1)?.type).toBe('done');
  });

  it('publishes the layer at <outDir>/<serviceName>/<layerId>/ with the decoded KLV, and leaves no temporary files', () => {
    expect(location).toBe(join(out, 'Cheyenne_TS', '0'));
    const files = readdirSync(location);
    for (const f of ['ABR.m3u8', 'abr.json', 'klv.ndjson', 'klv.geojson', 'poster.jpg', 'streamInfo.json', 'videoInfo.json']) expect(files).toContain(f);
    expect(files.some((f) => f.endsWith('.part'))).toBe(false);
    // Every unit of the flight, decoded, in order.
    const sent = syntheticFlight({ durationSeconds: 3 });
    const lines = readFileSync(join(location, 'klv.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { standard: string; checksumValid: boolean; pts: number; tags: Record<string, { value: unknown }> });
    expect(lines).toHaveLength(sent.length);
    expect(lines.every((l) => l.standard === 'ST0601' && l.checksumValid === true)).toBe(true);
    const expected = decodeKlv(sent[7]!.data)[0]!;
    expect(lines[7]!.tags['13']!.value).toBe(expected.tags['13']!.value);
    expect(lines[7]!.tags['82']!.value).toBe(expected.tags['82']!.value);
    expect(lines.map((l) => l.pts)).toEqual([...lines.map((l) => l.pts)].sort((a, b) => a - b));
    const geo = JSON.parse(readFileSync(join(location, 'klv.geojson'), 'utf8')) as { type: string; features: Array<{ geometry: { type: string }; properties: { kind: string } }> };
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features[0]).toMatchObject({ geometry: { type: 'LineString' }, properties: { kind: 'sensorTrack' } });
    expect(geo.features.filter((f) => f.properties.kind === 'footprint')).toHaveLength(sent.length);
    expect(resource.customAttributes.klv).toMatchObject({ units: sent.length, packets: sent.length, standards: { ST0601: sent.length }, checksumFailures: 0 });
    const master = readFileSync(join(location, 'ABR.m3u8'), 'utf8');
    expect(master).toMatch(/^#EXTM3U/);
    const media = master.split('\n').find((l) => l.endsWith('.m3u8'))!;
    expect(existsSync(join(location, media))).toBe(true);
    const info = JSON.parse(readFileSync(join(location, 'videoInfo.json'), 'utf8')) as { final: boolean; width: number; klv: { packets: number } };
    expect(info).toMatchObject({ final: true, width: 320, klv: { packets: sent.length } });
    expect(readFileSync(join(location, 'streamInfo.json'), 'utf8')).not.toContain(clip);
    expect(existsSync(join(temp, resource.jobId))).toBe(false);
    // The staging area is gone once no job uses it.
    expect(existsSync(join(out, '.staging'))).toBe(false);
  });

  it('a second ingest of the same file becomes layer 1 of the same service', async () => {
    const manager = new JobManager({ outDir: out, hwaccel: 'cpu', tempDir: temp });
    const job = manager.ingest(clip, { requestedResolutions: 'sd' });
    const again = job.toJSON();
    expect(again.results).toMatchObject({ layerId: 1, serviceName: 'Cheyenne_TS' });
    expect(again.customAttributes.newLayerId).toBe(1);
    const result = await job.done;
    expect(result.location).toBe(join(out, 'Cheyenne_TS', '1'));
    expect(readdirSync(join(out, 'Cheyenne_TS')).sort()).toEqual(['0', '1']);
    await manager.close();
  });
});

describe('inputs that fail', () => {
  const cases: Array<[string, () => string | Promise<string>, string]> = [
    ['a file that does not exist', () => '/nonexistent/dir/Missing.ts', 'ERR_INPUT_NOT_FOUND'],
    ['a text file', textFile, 'ERR_INPUT_FORMAT'],
    ['a stream without video', klvOnlyStream, 'ERR_NO_VIDEO_STREAM'],
  ];
  for (const [what, input, code] of cases) {
    it(`${what}: FAILED at Probing Video Codec with ${code}, nothing published, no temporary files`, async () => {
      const dir = freshDir('ingest-fail');
      const out = join(dir, 'services');
      const temp = join(dir, 'tmp');
      const job = ingest(await input(), { outDir: out, tempDir: temp, hwaccel: 'cpu' });
      const failed: Error[] = [];
      job.on('failed', (e) => failed.push(e));
      await expect(job.done).rejects.toMatchObject({ code });
      const r = job.toJSON();
      expectSeedShape(r);
      expect(r.status).toBe('FAILED');
      expect(r.messages).toHaveLength(2);
      expect(r.messages[0]).toBe('Starting Ingest');
      expect(r.messages[1]).toMatch(/^Probing Video Codec failed: ./);
      expect(r.customAttributes.messageCodes).toEqual([117, 2154]);
      expect(r.customAttributes.error).toMatchObject({ code, failedStep: { code: 154, message: 'Probing Video Codec' } });
      expect(failed).toHaveLength(1);
      expect(existsSync(out) ? readdirSync(out).filter((n) => n !== '.staging') : []).toEqual([]);
      expect(existsSync(temp) ? readdirSync(temp) : []).toEqual([]);
    });
  }
});

describe('cancellation', () => {
  it('an AbortSignal mid-pass ends the job CANCELLED, with nothing published and no temporary files', async () => {
    const clip = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    const dir = freshDir('ingest-cancel');
    const out = join(dir, 'services');
    const temp = join(dir, 'tmp');
    const ac = new AbortController();
    const job = ingest(clip, { outDir: out, tempDir: temp, hwaccel: 'cpu', requestedResolutions: 'sd', signal: ac.signal });
    job.once('progress', () => ac.abort());
    await expect(job.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    const r = job.toJSON();
    expect(r.status).toBe('CANCELLED');
    expect(r.messages.slice(0, 6)).toEqual(SEED_MESSAGES.slice(0, 6));
    expect(r.messages.at(-1)).toBe('Ingest Cancelled');
    expect(r.customAttributes.messageCodes.at(-1)).toBe(1120);
    expect(r.customAttributes.error).toMatchObject({ code: 'ERR_CANCELLED', failedStep: { code: 1159, message: 'Transcoding with CPU' } });
    expect(existsSync(join(out, 'Long_Flight_TS'))).toBe(false);
    expect(readdirSync(temp)).toEqual([]);
    expect(job.cancel()).toBe(false);
  });

  it('timeoutMs bounds the job: FAILED at the step it reached, with ERR_TIMEOUT, nothing published', async () => {
    const clip = await flightClip('Long_Flight.ts', { width: 640, height: 360, durationSeconds: 20 });
    const dir = freshDir('ingest-timeout');
    const job = ingest(clip, { outDir: join(dir, 'services'), tempDir: join(dir, 'tmp'), hwaccel: 'cpu', requestedResolutions: 'sd', timeoutMs: 600 });
    await expect(job.done).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const r = job.toJSON();
    expect(r.status).toBe('FAILED');
    expect(r.messages.at(-1)).toMatch(/^Transcoding with CPU failed: /);
    expect(r.customAttributes.messageCodes.at(-1)).toBe(2159);
    expect(existsSync(join(dir, 'services', 'Long_Flight_TS'))).toBe(false);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('a job cancelled at once (or submitted with an aborted signal) never publishes', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const dir = freshDir('ingest-cancel-at-once');
    const manager = new JobManager({ outDir: join(dir, 'services'), tempDir: join(dir, 'tmp'), concurrency: 2, hwaccel: 'cpu' });
    const job = manager.ingest(clip, { requestedResolutions: 'sd' });
    expect(job.cancel()).toBe(true);
    await expect(job.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(job.status).toBe('CANCELLED');
    const ac = new AbortController();
    ac.abort();
    const aborted = manager.ingest(clip, { requestedResolutions: 'sd', signal: ac.signal });
    await expect(aborted.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(aborted.status).toBe('CANCELLED');
    expect(existsSync(join(dir, 'services')) ? readdirSync(join(dir, 'services')).filter((n) => n !== '.staging') : []).toEqual([]);
    await manager.close();
  });

  it('a full queue refuses new jobs with ERR_QUEUE_FULL, and takes them again once there is room', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const dir = freshDir('ingest-queue-full');
    const manager = new JobManager({ outDir: join(dir, 'services'), tempDir: join(dir, 'tmp'), concurrency: 1, maxQueued: 1, hwaccel: 'cpu' });
    const running = manager.ingest(clip, { requestedResolutions: 'sd' });
    const waiting = manager.ingest(clip, { requestedResolutions: 'sd' });
    expect(() => manager.ingest(clip, { requestedResolutions: 'sd' })).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL', message: expect.stringMatching(/queue is full \(1 jobs waiting\)/) }));
    expect(manager.listJobs()).toHaveLength(2);
    waiting.cancel();
    await expect(waiting.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    const again = manager.ingest(clip, { requestedResolutions: 'sd' });
    again.cancel();
    await expect(again.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    running.cancel();
    await running.done.catch(() => undefined);
    await manager.close();
    expect(() => new JobManager({ maxQueued: -1 })).toThrow(/maxQueued/);
  });

  it('a queued job cancelled before it starts never runs', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const dir = freshDir('ingest-queue');
    const manager = new JobManager({ outDir: join(dir, 'services'), tempDir: join(dir, 'tmp'), concurrency: 1, hwaccel: 'cpu' });
    const first = manager.ingest(clip, { requestedResolutions: 'sd' });
    const second = manager.ingest(clip, { requestedResolutions: 'sd' });
    expect(second.status).toBe('SUBMITTED');
    expect(manager.queue.queued).toBe(1);
    expect(second.cancel()).toBe(true);
    await expect(second.done).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    expect(second.toJSON()).toMatchObject({ status: 'CANCELLED', messages: ['Ingest Cancelled'] });
    await first.done;
    expect(first.status).toBe('COMPLETED');
    expect(manager.listJobs().map((j) => [j.jobId, j.status])).toEqual([
      [second.id, 'CANCELLED'],
      [first.id, 'COMPLETED'],
    ]);
    expect(first.id).toMatch(JOB_ID_PATTERN);
    await manager.close();
  });
});

describe('inputRoots', () => {
  it('a playlist that leads outside the roots fails the job at the open step, with nothing published', async () => {
    const clip = await flightClip('Cheyenne.ts');
    const dir = freshDir('ingest-roots');
    const root = join(dir, 'root');
    mkdirSync(root, { recursive: true });
    copyFileSync(clip, join(dir, 'secret.ts'));
    // The outside entry after a lone CR: FFmpeg's playlist reader ends the line there.
    writeFileSync(join(root, 'flight.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\r${join(dir, 'secret.ts')}\n#EXT-X-ENDLIST\n`);
    const job = ingest(join(root, 'flight.m3u8'), { outDir: join(dir, 'services'), tempDir: join(dir, 'tmp'), hwaccel: 'cpu', requestedResolutions: 'sd', inputRoots: [root] });
    await expect(job.done).rejects.toMatchObject({ code: 'ERR_INPUT_REJECTED' });
    expect(job.status).toBe('FAILED');
    expect(job.toJSON().customAttributes.error).toMatchObject({ code: 'ERR_INPUT_REJECTED' });
    expect(existsSync(join(dir, 'services')) ? readdirSync(join(dir, 'services')).filter((n) => n !== '.staging') : []).toEqual([]);
  });
});
