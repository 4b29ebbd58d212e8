import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoginThrottle, TokenService, loadOrCreateSecret } from '../src/server/auth.js';
import { configFromEnv, loadServerConfig, resolveServerConfig } from '../src/server/config.js';
import { InputRejected, realRoots, resolveInput } from '../src/server/inputs.js';
import { scratch } from './helpers/paths.js';

describe('server config', () => {
  const base = { dataDir: '/srv/fmv', inputRoots: ['/media'], users: ['admin:s3cret:with:colons'] };

  it('fills defaults and parses NAME:PASSWORD', () => {
    const c = resolveServerConfig([{ name: 'flags', values: base }]);
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', root: '/arcgis/rest', publicOutputs: false, hwaccel: 'auto', tokenMinutes: 60, maxTokenMinutes: 1440 });
    expect(c.users).toEqual([{ username: 'admin', password: 's3cret:with:colons' }]);
  });

  it('flags win over the environment, which wins over the file', () => {
    const dir = scratch('server-config');
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...base, port: 1111, root: '/video/rest', users: [{ username: 'file', password: 'pw' }] }));
    const c = loadServerConfig({ port: '3333' }, { configFile: file, env: { FMV_INGEST_PORT: '2222', FMV_INGEST_USERS: 'a:1, b:2', FMV_INGEST_PUBLIC_OUTPUTS: 'yes' } });
    expect(c.port).toBe(3333);
    expect(c.root).toBe('/video/rest');
    expect(c.users.map((u) => u.username)).toEqual(['a', 'b']);
    expect(c.publicOutputs).toBe(true);
    expect(configFromEnv({ FMV_INGEST_INPUT_ROOTS: '/a,/b', FMV_INGEST_DATA: '/d' })).toEqual({ inputRoots: ['/a', '/b'], dataDir: '/d' });
  });

  it('names the setting, its source and the value when something is wrong', () => {
    const dir = scratch('server-config-bad');
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...base, inputRoot: ['/x'] }));
    expect(() => loadServerConfig({}, { configFile: file, env: {} })).toThrow(`Unknown option 'inputRoot' in config file ${file} (did you mean 'inputRoots'?)`);
    expect(() => resolveServerConfig([{ name: 'environment', values: { ...base, port: 'http' } }])).toThrow(
      "Expected an integer between 0 and 65535 for port (from environment) but received 'http' of type string",
    );
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, users: ['nopassword'] } }])).toThrow(/Expected 'NAME:PASSWORD' for users \(from flags\)\[0\]/);
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, users: ['a:1', 'a:2'] } }])).toThrow("The user 'a' is configured twice");
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, root: '/../x' } }])).toThrow(/for root/);
    expect(() => resolveServerConfig([{ name: 'flags', values: { inputRoots: ['/m'], users: ['a:b'] } }])).toThrow(/A data directory is required/);
    expect(() => resolveServerConfig([{ name: 'flags', values: { dataDir: '/d', users: ['a:b'] } }])).toThrow(/At least one input root is required/);
    expect(() => resolveServerConfig([{ name: 'flags', values: { dataDir: '/d', inputRoots: ['/m'] } }])).toThrow(/At least one user is required/);
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, tokenSecret: 'short' } }])).toThrow(/at least 32 characters/);
  });
});

describe('tokens', () => {
  const users = [{ username: 'admin', password: 'pw' }];

  it('are signed, expire, and are bound to a configured user', () => {
    const t = new TokenService('k'.repeat(32), users);
    expect(t.checkPassword('admin', 'pw')).toBe(true);
    expect(t.checkPassword('admin', 'PW')).toBe(false);
    expect(t.checkPassword('nobody', 'pw')).toBe(false);
    const now = Date.now();
    const { token, expires } = t.issue('admin', 60, now);
    expect(expires).toBe(now + 3_600_000);
    expect(t.verify(token, now)).toEqual({ ok: true, username: 'admin', expires });
    expect(t.verify(token, expires)).toEqual({ ok: false, reason: 'expired' });
    expect(t.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(t.verify('garbage')).toEqual({ ok: false, reason: 'malformed' });
    // Changing the payload (a longer expiry, another user) breaks the signature.
    const [payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), exp: now + 1e10 })).toString('base64url');
    expect(t.verify(`${forged}.${sig}`, now)).toEqual({ ok: false, reason: 'signature' });
    // Another key does not accept it; a removed user loses access.
    expect(new TokenService('j'.repeat(32), users).verify(token, now)).toEqual({ ok: false, reason: 'signature' });
    expect(new TokenService('k'.repeat(32), [{ username: 'other', password: 'x' }]).verify(token, now)).toEqual({ ok: false, reason: 'user' });
  });

  it('the signing key is created once, private, and reused', () => {
    const path = join(scratch(`server-key-${Date.now()}`), 'token.key');
    const a = loadOrCreateSecret(path);
    const b = loadOrCreateSecret(path);
    expect(a.equals(b)).toBe(true);
    expect(a).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(dirname(path))).toEqual(['token.key']);
  });

  it('a key file that is not a whole key is an error, never a weak key', () => {
    const dir = scratch(`server-key-bad-${Date.now()}`);
    for (const [name, text] of [['empty.key', ''], ['short.key', 'ab'.repeat(16)], ['odd.key', 'a'.repeat(65)], ['text.key', 'secret'.repeat(20)]] as const) {
      writeFileSync(join(dir, name), text);
      expect(() => loadOrCreateSecret(join(dir, name))).toThrow(/is not a key of 32 or more bytes in hex; remove it/);
    }
    expect(() => new TokenService(Buffer.alloc(0), [])).toThrow(/at least 32 bytes, got 0/);
  });
});

describe('inputs over HTTP', () => {
  const dir = scratch(`server-inputs-${Date.now()}`);
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(root, 'clip.ts'), Buffer.alloc(376, 0x47));
  writeFileSync(join(root, 'sub', 'seg.ts'), Buffer.alloc(188, 0x47));
  writeFileSync(join(outside, 'secret.ts'), Buffer.alloc(188, 0x47));
  symlinkSync(join(outside, 'secret.ts'), join(root, 'escape.ts'));
  symlinkSync(join(root, 'clip.ts'), join(root, 'alias.ts'));
  writeFileSync(join(root, 'good.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nsub/seg.ts\n#EXT-X-ENDLIST\n');
  writeFileSync(join(root, 'out.m3u8'), '#EXTM3U\n#EXTINF:4,\n../outside/secret.ts\n');
  writeFileSync(join(root, 'net.m3u8'), '#EXTM3U\n#EXTINF:4,\nhttp://169.254.169.254/latest/meta-data\n');
  writeFileSync(join(root, 'key.m3u8'), '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="file:///etc/shadow"\n#EXTINF:4,\nsub/seg.ts\n');
  writeFileSync(join(root, 'nested.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nout.m3u8\n');
  writeFileSync(join(root, 'cr.m3u8'), '#EXTM3U\n#EXTINF:4,\r../outside/secret.ts\n');
  writeFileSync(join(root, 'unquoted.m3u8'), '#EXTM3U\n#EXT-X-MAP:URI=../outside/secret.ts\n#EXTINF:4,\nsub/seg.ts\n');
  // Each level names the next 20 times: walked per mention that is 168,420 entries, past the cap of
  // 100,000; read once per playlist it is 80.
  for (let i = 0; i < 4; i++) writeFileSync(join(root, `fan${i}.m3u8`), `#EXTM3U\n${`#EXT-X-STREAM-INF:BANDWIDTH=1\n${i < 3 ? `fan${i + 1}.m3u8` : 'sub/seg.ts'}\n`.repeat(20)}`);
  writeFileSync(join(root, 'list.ffconcat'), "ffconcat version 1.0\nfile '/etc/passwd'\n");
  writeFileSync(join(root, 'stream.sdp'), 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n');

  async function reject(path: string, code: number, message: RegExp): Promise<void> {
    const roots = await realRoots([root]);
    const err = await resolveInput(path, roots).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, path).toBeInstanceOf(InputRejected);
    expect((err as InputRejected).httpCode, path).toBe(code);
    expect((err as InputRejected).message, path).toMatch(message);
  }

  it('resolves files inside the root, relative or absolute, through links that stay inside', async () => {
    const roots = await realRoots([root]);
    expect(await resolveInput('clip.ts', roots)).toBe(join(roots[0]!, 'clip.ts'));
    expect(await resolveInput(join(root, 'sub', 'seg.ts'), roots)).toBe(join(roots[0]!, 'sub', 'seg.ts'));
    expect(await resolveInput('alias.ts', roots)).toBe(join(roots[0]!, 'clip.ts'));
    expect(await resolveInput('sub/../clip.ts', roots)).toBe(join(roots[0]!, 'clip.ts'));
    expect(await resolveInput('good.m3u8', roots)).toBe(join(roots[0]!, 'good.m3u8'));
  });

  it('refuses traversal, links out of the root, URLs and protocol prefixes', async () => {
    await reject('../outside/secret.ts', 403, /outside the configured input roots/);
    await reject(join(root, '..', 'outside', 'secret.ts'), 403, /outside the configured input roots/);
    await reject('/etc/passwd', 403, /outside the configured input roots/);
    await reject('escape.ts', 403, /leads outside the configured input roots/);
    await reject('concat:clip.ts|clip.ts', 400, /local file path.*'concat:'/);
    await reject('http://example.com/a.ts', 400, /local file path.*'http:'/);
    await reject('file:///etc/passwd', 400, /'file:'/);
    await reject('subfile,,start,0,end,100,,:clip.ts', 400, /local file path/);
    await reject('missing.ts', 404, /does not exist/);
    await reject('sub', 400, /not a regular file/);
    await reject('', 400, /non-empty string/);
    const roots = await realRoots([root]);
    await expect(resolveInput(42, roots)).rejects.toBeInstanceOf(InputRejected);
  });

  it('reads each nested playlist once, however often it is named', async () => {
    expect(await resolveInput('fan0.m3u8', await realRoots([root]))).toMatch(/fan0\.m3u8$/);
  });

  it('does not follow playlists, lists or session files out of the root', async () => {
    await reject('out.m3u8', 403, /refers to '..\/outside\/secret.ts', outside/);
    await reject('net.m3u8', 400, /playlist entry must be a local file path/);
    await reject('key.m3u8', 400, /'file:'/);
    await reject('nested.m3u8', 403, /outside/);
    await reject('cr.m3u8', 403, /refers to '..\/outside\/secret.ts', outside/);
    await reject('unquoted.m3u8', 403, /refers to '..\/outside\/secret.ts', outside/);
    await reject('list.ffconcat', 400, /ffconcat lists are not accepted/);
    await reject('stream.sdp', 400, /SDP files are not accepted/);
  });
});

describe('CORS origins', () => {
  const base = { dataDir: scratch('cors-config'), inputRoots: [scratch('cors-config')], users: ['a:b'] };
  it('takes origins and *, and refuses anything that is not an origin', () => {
    expect(resolveServerConfig([{ name: 'flags', values: { ...base, corsOrigins: ['https://maps.example.com', '*'] } }]).corsOrigins).toEqual(['https://maps.example.com', '*']);
    expect(resolveServerConfig([{ name: 'flags', values: base }]).corsOrigins).toEqual([]);
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, corsOrigins: ['https://maps.example.com/app'] } }])).toThrow(
      "Expected an origin such as https://maps.example.com (scheme, host and port only), or '*' for corsOrigins (from flags)[0] but received 'https://maps.example.com/app' of type string",
    );
    expect(() => resolveServerConfig([{ name: 'flags', values: { ...base, corsOrigins: ['maps'] } }])).toThrow(/an origin such as/);
    expect(configFromEnv({ FMV_INGEST_CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});

describe('LoginThrottle', () => {
  it('locks a key after the failures, releases it when the window passes, and forgets on success', () => {
    const t = new LoginThrottle(3, 1000, 2);
    for (let i = 0; i < 3; i++) t.fail('a', 100 * i);
    expect(t.retryAfterMs('a', 250)).toBe(750);
    expect(t.retryAfterMs('a', 1100)).toBe(0);
    t.fail('b', 0);
    t.fail('b', 1);
    t.fail('b', 2);
    t.succeed('b');
    expect(t.retryAfterMs('b', 3)).toBe(0);
    // At most maxKeys keys are kept: the stalest goes first.
    t.fail('c', 5);
    t.fail('d', 6);
    t.fail('e', 7);
    expect(t.retryAfterMs('a', 8)).toBe(0);
  });
});
