import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractKlv } from '../src/klv-extract.js';
import { kwiver, repoRoot, samples, scratch } from './helpers/paths.js';

const cli = join(repoRoot, 'dist', 'cli.js');
const run = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

describe('fmv-ingest klv', () => {
  it('ndjson: one line per unit in stream order, with the contract fields', () => {
    const lines = run('klv', kwiver('h264_klv.ts')).trim().split('\n');
    expect(lines).toHaveLength(30);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(first).slice(0, 8)).toEqual(['pts', 'stream', 'pid', 'carriage', 'key', 'standard', 'checksumValid', 'tags']);
    expect(first).toMatchObject({ stream: 1, pid: 257, carriage: 'async', key: '060e2b34020b01010e01030101000000', standard: 'ST0601', checksumValid: true });
    const tags = first.tags as Record<string, { name: string; value: unknown; iso?: string }>;
    expect(tags['2']).toMatchObject({ name: 'precisionTimeStamp', value: 1224807209913000, iso: '2008-10-24T00:13:29.913Z' });
    expect(tags['13']!.name).toBe('sensorLatitude');
    const pts = lines.map((l) => (JSON.parse(l) as { pts: number | null }).pts).filter((p): p is number => p !== null);
    expect([...pts].sort((a, b) => a - b)).toEqual(pts);
  });

  it('pts is on the input clock, as ffprobe reports pts_time', async () => {
    const ffprobe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'd', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', kwiver('aphill_short.ts')], { encoding: 'utf8' });
    const expected = ffprobe.split('\n').map((l) => l.replace(/,$/, '').trim()).filter(Boolean).map(Number);
    const ours: number[] = [];
    for await (const p of extractKlv(kwiver('aphill_short.ts'))) ours.push(p.pts!);
    expect(ours).toHaveLength(expected.length);
    ours.forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 6));
  });

  it('csv and geojson to a file, written atomically', () => {
    const dir = scratch('cli-klv');
    run('klv', kwiver('h264_klv.ts'), '--format', 'csv', '--out', join(dir, 'a.csv'));
    const csv = readFileSync(join(dir, 'a.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(31);
    expect(csv[0]).toContain('sensorLatitude');
    run('klv', kwiver('h264_klv.ts'), '--format', 'geojson', '--out', join(dir, 'a.geojson'));
    const geo = JSON.parse(readFileSync(join(dir, 'a.geojson'), 'utf8')) as { type: string; features: Array<{ geometry: { type: string } }> };
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features.some((f) => f.geometry.type === 'LineString')).toBe(true);
    expect(geo.features.filter((f) => f.geometry.type === 'Polygon').length).toBe(30);
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('--out onto a device or FIFO writes in place instead of renaming over it', () => {
    run('klv', kwiver('h264_klv.ts'), '--out', '/dev/null');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const dir = scratch('cli-klv');
    const fifo = join(dir, 'out.fifo');
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    const reader = spawnSync('sh', ['-c', `cat "${fifo}" | wc -l & ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} klv ${JSON.stringify(kwiver('h264_klv.ts'))} --out "${fifo}"; wait`], { encoding: 'utf8' });
    expect(reader.stdout.trim()).toBe('30');
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('a bad checksum is reported in lenient mode and fails in strict mode', () => {
    const bad = join(samples, 'klv', 'DynamicConstantMISMMSPacketData.bin');
    const line = JSON.parse(run('klv', bad).trim()) as { checksumValid: boolean; tags: Record<string, unknown> };
    expect(line.checksumValid).toBe(false);
    expect(Object.keys(line.tags).length).toBeGreaterThan(10);
    const dir = scratch('cli-klv');
    const strict = spawnSync(process.execPath, [cli, 'klv', bad, '--strict', '--out', join(dir, 'strict.ndjson')], { encoding: 'utf8' });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/^fmv-ingest: ST 0601 unit at offset 0: checksum mismatch, stored 0xaa43, computed 0x3e1e\n  code: ERR_KLV_CHECKSUM\n$/i);
    expect(existsSync(join(dir, 'strict.ndjson'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('strict.ndjson'))).toEqual([]);
  });

  it('bad input exits 1, bad arguments exit 2, each with a clear message and no stack trace', () => {
    const cmd = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const expectClean = (r: ReturnType<typeof cmd>, status: number, message: string | RegExp) => {
      expect(r.status).toBe(status);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    expectClean(cmd('klv', '/no/such.ts'), 1, /ERR_INPUT_NOT_FOUND/);
    expectClean(cmd('klv', kwiver('h264_klv.ts'), '--format', 'xml'), 2, "Expected one of ndjson, csv, geojson for --format but received 'xml'");
    expectClean(cmd('klv', kwiver('h264_klv.ts'), '--bogus'), 2, /unknown option '--bogus'/);
    expectClean(cmd('klv'), 2, /missing required argument 'input'/);
    expectClean(cmd('klv', kwiver('h264_klv.ts'), '--timeout', '10abc'), 2, "for --timeout but received '10abc'");
    const dir = scratch('cli-klv-out');
    expectClean(cmd('klv', kwiver('h264_klv.ts'), '--out', dir), 1, `Cannot write the KLV output ${dir}: it is a directory`);
    expectClean(cmd('klv', kwiver('h264_klv.ts'), '--out', join(dir, 'no', 'x.ndjson')), 1, `Cannot write the KLV output ${join(dir, 'no', 'x.ndjson')}: its directory does not exist`);
  });
});
