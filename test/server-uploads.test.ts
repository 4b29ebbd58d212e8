// Uploads over real multipart HTTP: streamed to disk, then published with addLayer's fileId; the
// size limit (413, nothing left on disk, both when the length is declared and when the stream
// runs over), refused extensions and tokens, file names that try to leave their directory, and
// registered items that wait for their file.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KWIVER_SAMPLE, pollJob, startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
const LIMIT = 200_000;

/** Every file under a directory (recursively), relative paths. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function upload(bytes: Buffer, fileName: string, options: { fields?: Record<string, string>; header?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(options.fields ?? {})) form.append(k, v);
  form.append('file', new Blob([bytes]), fileName);
  const headers: Record<string, string> = options.header === false ? {} : { 'x-esri-authorization': `Bearer ${t.token}` };
  const res = await fetch(`${t.server.restUrl}/uploads/upload?f=json`, { method: 'POST', body: form, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  t = await startTestServer('server-uploads', { maxUploadBytes: LIMIT });
}, 60_000);

afterAll(async () => {
  await t?.server.close();
});

describe('uploads', () => {
  it('streams an upload to disk and publishes it with addLayer fileId', async () => {
    const sample = readFileSync(KWIVER_SAMPLE);
    const r = await upload(sample, 'h264_klv.ts', { fields: { description: 'KWIVER test pattern' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ fileName: 'h264_klv.ts', committed: true, size: sample.length, description: 'KWIVER test pattern' });
    const fileId = String(r.body.fileId);
    expect(fileId).toMatch(/^i[0-9a-f-]{36}$/);
    expect(Math.abs((r.body.date as number) - Date.now())).toBeLessThan(60_000);
    expect(readFileSync(join(t.data, 'uploads', fileId, 'h264_klv.ts')).equals(sample)).toBe(true);
    expect((await t.api(`/uploads/${fileId}?f=json`)).body).toMatchObject({ fileId, committed: true });
    const added = await t.api('/services/Uploaded/addLayer', { form: { f: 'json', requestedResolutions: 'sd', createParameters: JSON.stringify({ type: 'ondemand', source: { fileId } }) } });
    const job = await pollJob(t, String(added.body.jobId));
    expect(job.status).toBe('COMPLETED');
    expect(job.customAttributes.source).toBe(fileId);
    // The job resource names the uploaded item, as Video Server's does.
    expect(job.inputs.fileIds).toBe(fileId);
    const layer = await t.api('/services/Uploaded/VideoServer/0?f=json');
    expect(layer.body).toMatchObject({ name: 'h264_klv', playbackInfo: { klv: { '0601': true } } });
    const unknown = await t.api('/services/Uploaded/addLayer', { form: { f: 'json', createParameters: JSON.stringify({ type: 'ondemand', source: { fileId: 'i00000000-0000-0000-0000-000000000000' } }) } });
    expect(unknown.body.error).toMatchObject({ code: 404, details: [expect.stringMatching(/No uploaded item/)] });
  }, 60_000);

  it('too large: 413 and nothing left on disk, whether the length is declared or the stream runs over', async () => {
    const before = filesUnder(join(t.data, 'uploads'));
    const over = Buffer.alloc(LIMIT + 50_000, 0x47);
    const streamed = await upload(over, 'big.ts');
    expect(streamed.status).toBe(413);
    expect(streamed.body.error).toMatchObject({ code: 413, details: [`The largest upload this server takes is ${LIMIT} bytes (maxUploadBytes).`] });
    const declared = await upload(Buffer.alloc(LIMIT + 2 * 1024 * 1024, 0x47), 'huge.ts');
    expect(declared.status).toBe(413);
    expect(filesUnder(join(t.data, 'uploads'))).toEqual(before);
    // Exactly the limit is accepted.
    const exact = await upload(Buffer.alloc(LIMIT, 0x47), 'exact.ts');
    expect(exact.body).toMatchObject({ committed: true, size: LIMIT });
  });

  it('refuses other extensions, missing or bad tokens, and forms without a file; nothing is kept', async () => {
    const before = filesUnder(join(t.data, 'uploads'));
    const exe = await upload(Buffer.from('MZ'), 'tool.exe');
    expect(exe.body.error).toMatchObject({ code: 400, details: [expect.stringMatching(/'\.exe' are not accepted; allowed: \.ts \.mp4/)] });
    const anonymous = await upload(Buffer.from('x'), 'a.ts', { header: false });
    expect(anonymous.body.error).toMatchObject({ code: 499 });
    const bad = await upload(Buffer.from('x'), 'a.ts', { header: false, fields: { token: 'forged' } });
    expect(bad.body.error).toMatchObject({ code: 498 });
    // The token as a form field before the file works.
    const field = await upload(Buffer.from('hello'), 'notes.txt', { header: false, fields: { token: t.token } });
    expect(field.body).toMatchObject({ fileName: 'notes.txt', size: 5 });
    const none = await fetch(`${t.server.restUrl}/uploads/upload?f=json`, { method: 'POST', body: (() => { const f = new FormData(); f.append('description', 'x'); return f; })(), headers: { 'x-esri-authorization': `Bearer ${t.token}` } });
    expect(((await none.json()) as { error: unknown }).error).toMatchObject({ code: 400, details: ["The form has no part named 'file'."] });
    const notMultipart = await t.api('/uploads/upload', { form: { f: 'json' } });
    expect(notMultipart.body.error).toMatchObject({ code: 400 });
    const after = filesUnder(join(t.data, 'uploads'));
    expect(after.filter((f) => !before.includes(f)).map((f) => f.split('/').pop()).sort()).toEqual(['notes.txt', 'upload.json']);
  });

  it('a file name with directories keeps only its last part, inside its own item directory', async () => {
    const r = await upload(Buffer.from('ts'), '../../../../evil.ts');
    expect(r.body.fileName).toBe('evil.ts');
    expect(existsSync(join(t.data, 'uploads', String(r.body.fileId), 'evil.ts'))).toBe(true);
    expect(existsSync(join(t.dir, 'evil.ts'))).toBe(false);
    const hidden = await upload(Buffer.from('ts'), '.hidden.ts');
    expect(hidden.body.error).toMatchObject({ code: 400 });
  });

  it('register: an item waits for its file, then is committed', async () => {
    const r = await t.api('/uploads/register', { form: { f: 'json', fileName: 'mission.ts', description: 'copied by hand' } });
    expect(r.body).toMatchObject({ fileName: 'mission.ts', committed: false, size: null });
    const fileId = String(r.body.fileId);
    const dir = String(r.body.directory);
    expect(dir).toBe(join(t.data, 'uploads', fileId));
    const early = await t.api('/services/Reg/addLayer', { form: { f: 'json', createParameters: JSON.stringify({ type: 'ondemand', source: { fileIds: fileId } }) } });
    expect(early.body.error).toMatchObject({ code: 400, details: [expect.stringMatching(/not in its directory yet/)] });
    copyFileSync(KWIVER_SAMPLE, join(dir, 'mission.ts'));
    expect((await t.api(`/uploads/${fileId}?f=json`)).body).toMatchObject({ committed: true, size: statSync(KWIVER_SAMPLE).size });
    const bad = await t.api('/uploads/register', { form: { f: 'json', fileName: 'notes.txt' } });
    expect(bad.body.error).toMatchObject({ code: 400 });
    expect((await t.api('/uploads/i123?f=json')).body.error).toMatchObject({ code: 404 });
  });
});
