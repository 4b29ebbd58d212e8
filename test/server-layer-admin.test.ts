// Changing and removing layers on real ingests: updateLayer (names, flags), update/poster (a
// frame of the video, an uploaded image, refusals), deleteLayer and deleteService (files, exports
// and listings go; names become available again).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
const L0 = '/services/Admin/VideoServer/0';

async function postPoster(path: string, bytes: Buffer, fileName: string): Promise<Record<string, unknown>> {
  const form = new FormData();
  form.append('f', 'json');
  form.append('file', new Blob([bytes]), fileName);
  const res = await fetch(`${t.server.restUrl}${path}/update/poster`, { method: 'POST', body: form, headers: { 'x-esri-authorization': `Bearer ${t.token}` } });
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  t = await startTestServer('server-layer-admin');
  expect((await t.addLayer('Admin', 'Flight.ts')).status).toBe('COMPLETED');
  expect((await t.addLayer('Admin', 'h264_klv.ts')).status).toBe('COMPLETED');
  expect((await t.addLayer('Doomed', 'h264_klv.ts')).status).toBe('COMPLETED');
}, 120_000);

afterAll(async () => {
  await t?.server.close();
});

describe('updateLayer and posters', () => {
  it('updateLayer changes name, description and flags; bad values are refused', async () => {
    const before = await t.api(`${L0}?f=json`);
    const r = await t.api(`${L0}/updateLayer`, { form: { f: 'json', name: ' Morning loop ', description: 'Test flight', supportsExportClip: 'true', supportsFrameset: 'false' } });
    expect(r.body).toEqual({ success: true });
    const after = await t.api(`${L0}?f=json`);
    expect(after.body).toMatchObject({ name: 'Morning loop', description: 'Test flight', supportsExportClip: true, supportsFrameset: false });
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    expect((await t.api('/services/Admin/VideoServer?f=json')).body.layers).toEqual(expect.arrayContaining([expect.objectContaining({ id: 0, name: 'Morning loop' })]));
    // Frameset follows the flag.
    const fs = await t.api(`${L0}/frameset`, { form: { f: 'json', timestamps: '1' } });
    expect(fs.body.error).toMatchObject({ code: 400, details: [expect.stringMatching(/supportsFrameset/)] });
    // layerInfo as JSON works too.
    expect((await t.api(`${L0}/updateLayer`, { form: { f: 'json', layerInfo: JSON.stringify({ supportsFrameset: true }) } })).body).toEqual({ success: true });
    const bad = async (form: Record<string, string>) => ((await t.api(`${L0}/updateLayer`, { form: { f: 'json', ...form } })).body.error as { details: string[] }).details[0];
    expect(await bad({ supportsFrameset: 'maybe' })).toBe('supportsFrameset must be true or false, not "maybe".');
    expect(await bad({ name: '   ' })).toMatch(/^name must be a non-empty string/);
    expect(await bad({ layerInfo: '{nope' })).toBe('layerInfo is not valid JSON.');
    expect(await bad({})).toMatch(/^Nothing to update/);
    expect((await t.api('/services/Admin/VideoServer/9/updateLayer', { form: { f: 'json', name: 'x' } })).body.error).toMatchObject({ code: 404 });
  });

  it('update/poster from a time in the video, then from an uploaded image; the old custom poster goes', async () => {
    const fromTime = await t.api(`${L0}/update/poster`, { form: { f: 'json', time: '2' } });
    expect(fromTime.body).toMatchObject({ success: true, posterUrl: expect.stringMatching(/\/poster_[0-9a-z]+\.jpg$/) });
    const first = String(fromTime.body.posterUrl).split('/').pop()!;
    const layerDir = join(t.data, 'services', 'Admin', '0');
    expect(readFileSync(join(layerDir, first)).subarray(0, 2).toString('hex')).toBe('ffd8');
    const layer = await t.api(`${L0}?f=json`);
    expect(String(layer.body.posterUrl)).toContain(first);
    // An uploaded JPEG (the ingest's own poster of the other layer).
    const jpeg = readFileSync(join(t.data, 'services', 'Admin', '1', 'poster.jpg'));
    const uploaded = await postPoster(L0, jpeg, 'cover.jpg');
    expect(uploaded).toMatchObject({ success: true });
    const second = String(uploaded.posterUrl).split('/').pop()!;
    expect(readFileSync(join(layerDir, second)).equals(jpeg)).toBe(true);
    expect(existsSync(join(layerDir, first))).toBe(false);
    expect(existsSync(join(layerDir, 'poster.jpg'))).toBe(true);
    const img = await fetch(`${uploaded.posterUrl}?token=${t.token}`);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    await img.arrayBuffer();
  });

  it('refuses posters that are not images, URLs, times past the end, and other files', async () => {
    const files = () => readdirSync(join(t.data, 'services', 'Admin', '0')).sort();
    const before = files();
    expect(await postPoster(L0, Buffer.from('not an image'), 'fake.jpg')).toMatchObject({ error: { code: 400, details: ['The file is not a JPEG or PNG image.'] } });
    expect(await postPoster(L0, Buffer.from('x'), 'movie.ts')).toMatchObject({ error: { code: 400, details: [expect.stringMatching(/\.jpg or \.png/)] } });
    const post = (form: Record<string, string>) => t.api(`${L0}/update/poster`, { form: { f: 'json', ...form } });
    expect((await post({ url: 'http://example.com/a.jpg' })).body.error).toMatchObject({ code: 400, details: [expect.stringMatching(/not fetched from URLs/)] });
    expect((await post({ time: '500' })).body.error).toMatchObject({ code: 400, details: ['time 500 is past the end of the video.'] });
    expect((await post({ time: '-1' })).body.error).toMatchObject({ code: 400 });
    expect(files()).toEqual(before);
    expect(readdirSync(join(t.data, 'uploads', '.incoming'))).toEqual([]);
  });
});

describe('deleteLayer and deleteService', () => {
  it('deleteLayer removes the layer, its files and its exports; the service keeps its other layer', async () => {
    const fs = await t.api('/services/Admin/VideoServer/1/frameset', { form: { f: 'json', timestamps: '0' } });
    const exportDir = join(t.data, 'exports', String(fs.body.framesetId));
    expect(existsSync(exportDir)).toBe(true);
    expect((await t.api('/services/Admin/VideoServer/1/deleteLayer', { form: { f: 'json' } })).body).toEqual({ success: true });
    expect(existsSync(join(t.data, 'services', 'Admin', '1'))).toBe(false);
    expect(existsSync(exportDir)).toBe(false);
    expect((await t.api('/services/Admin/VideoServer/1?f=json')).body.error).toMatchObject({ code: 404, message: 'Layer not found.' });
    expect((await fetch(`${t.server.restUrl}/services/Admin/VideoServer/1/ABR.m3u8?token=${t.token}`)).status).toBe(404);
    expect((await t.api('/services/Admin/VideoServer?f=json')).body.layers).toEqual([expect.objectContaining({ id: 0 })]);
    expect((await t.api('/services/Admin/VideoServer/1/deleteLayer', { form: { f: 'json' } })).body.error).toMatchObject({ code: 404 });
    // A new layer gets a new id, not the deleted one's.
    expect((await t.addLayer('Admin', 'h264_klv.ts')).results.layerId).toBe(2);
  });

  it('deleteService removes every layer; the name is free again', async () => {
    expect((await t.api('/services/isServiceNameAvailable?f=json&serviceName=Doomed')).body.available).toBe(false);
    expect((await t.api('/services/Doomed/deleteService', { form: { f: 'json' } })).body).toEqual({ success: true, layers: [0] });
    expect(existsSync(join(t.data, 'services', 'Doomed'))).toBe(false);
    expect((await t.api('/services/Doomed/VideoServer?f=json')).body.error).toMatchObject({ code: 404 });
    expect(((await t.api('/services?f=json')).body.services as Array<{ serviceName: string }>).map((s) => s.serviceName)).toEqual(['Admin']);
    expect((await t.api('/services/isServiceNameAvailable?f=json&serviceName=Doomed')).body).toEqual({ available: true });
    expect((await t.api('/services/Doomed/deleteService', { form: { f: 'json' } })).body.error).toMatchObject({ code: 404 });
    expect((await t.api('/services/Doomed/deleteService', { form: { f: 'json' }, anonymous: true })).body.error).toMatchObject({ code: 499 });
  });
});
