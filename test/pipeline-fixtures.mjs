// Fixtures for the ingest pipeline tests and the ingest bench, made at run time with the ffmpeg CLI:
// testsrc2 video + a sine tone + a KLV PID whose units come from the KWIVER sample h264_klv.ts,
// re-timed to span the whole clip. Also a small MPEG-TS inspector (PMT stream types and
// descriptors, PES counts and PTS, KLV units per PID) to check what the pipeline wrote.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const samplesDir = join(repoRoot, '..', 'shared', 'samples');
export const kwiverSample = (name) => join(samplesDir, 'kwiver', name);

/** Runs the ffmpeg CLI quietly; returns stdout. */
export function ffmpeg(args, options = {}) {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { maxBuffer: 256 * 1024 * 1024, ...options });
}

/** ffprobe -of json for the given entries. */
export function ffprobeJson(args) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', ...args], { maxBuffer: 256 * 1024 * 1024 }).toString());
}

const KEY_PREFIX = [0x06, 0x0e, 0x2b, 0x34];

/** Splits a byte stream of concatenated KLV units (16-byte key, BER length, value) into units. */
export function splitKlvUnits(bytes) {
  const units = [];
  let i = 0;
  while (i + 17 <= bytes.length) {
    if (!KEY_PREFIX.every((b, k) => bytes[i + k] === b)) {
      i++;
      continue;
    }
    let p = i + 16;
    let len = bytes[p++];
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[p++];
    }
    if (p + len > bytes.length) break;
    units.push(bytes.subarray(i, p + len));
    i = p + len;
  }
  return units;
}

/** The distinct KLV units of a sample file, read with the ffmpeg CLI. */
export function sampleKlvUnits(file = kwiverSample('h264_klv.ts')) {
  const raw = ffmpeg(['-i', file, '-map', '0:d:0', '-c', 'copy', '-f', 'data', '-']);
  return splitKlvUnits(raw);
}

function crc32(data) {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

function psiSection(tableId, idExt, body) {
  const len = 5 + body.length + 4;
  const s = [tableId, 0xb0 | ((len >> 8) & 0x0f), len & 0xff, idExt >> 8, idExt & 0xff, 0xc1, 0x00, 0x00, ...body];
  const crc = crc32(Uint8Array.from(s));
  return [...s, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff];
}

/**
 * An async KLV-only transport stream (stream_type 0x06 + KLVA registration): one PES per entry,
 * with a PTS (stream id 0xFC, as FFmpeg writes it) unless pts is null (stream id 0xBD, no PTS).
 */
export function klvTransportStream(pes, pid = 0x101) {
  const packets = [];
  const cc = new Map();
  const emit = (p, payload) => {
    let offset = 0;
    let first = true;
    while (offset < payload.length || first) {
      const pkt = Buffer.alloc(188, 0xff);
      const counter = cc.get(p) ?? 0;
      cc.set(p, (counter + 1) & 0x0f);
      pkt[0] = 0x47;
      pkt[1] = ((first ? 0x40 : 0) | (p >> 8)) & 0xff;
      pkt[2] = p & 0xff;
      const remaining = payload.length - offset;
      if (remaining >= 184) {
        pkt[3] = 0x10 | counter;
        Buffer.from(payload.subarray(offset, offset + 184)).copy(pkt, 4);
        offset += 184;
      } else {
        const stuff = 184 - remaining;
        pkt[3] = 0x30 | counter;
        pkt[4] = stuff - 1;
        if (stuff >= 2) {
          pkt[5] = 0x00;
          pkt.fill(0xff, 6, 4 + stuff);
        }
        Buffer.from(payload.subarray(offset)).copy(pkt, 4 + stuff);
        offset = payload.length;
      }
      first = false;
      packets.push(pkt);
    }
  };
  const pmtPid = 0x1000;
  emit(0, Uint8Array.from([0, ...psiSection(0x00, 1, [0x00, 0x01, 0xe0 | (pmtPid >> 8), pmtPid & 0xff])]));
  const desc = [0x05, 0x04, 0x4b, 0x4c, 0x56, 0x41];
  const es = [0x06, 0xe0 | (pid >> 8), pid & 0xff, 0xf0, desc.length, ...desc];
  emit(pmtPid, Uint8Array.from([0, ...psiSection(0x02, 1, [0xe0 | 0x1f, 0xff, 0xf0, 0x00, ...es])]));
  for (const { pts, units } of pes) {
    const body = Buffer.concat(units.map((u) => Buffer.from(u)));
    const hasPts = pts !== null && pts !== undefined;
    const optional = hasPts ? 5 : 0;
    const pesLength = 3 + optional + body.length;
    const header = [0x00, 0x00, 0x01, hasPts ? 0xfc : 0xbd, (pesLength >> 8) & 0xff, pesLength & 0xff, 0x84, hasPts ? 0x80 : 0x00, optional];
    if (hasPts) {
      const t = Math.round(pts * 90000);
      const hi = Math.floor(t / 2 ** 30) & 0x07;
      const mid = Math.floor(t / 2 ** 15) & 0x7fff;
      const lo = t & 0x7fff;
      header.push(0x21 | (hi << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1);
    }
    emit(pid, Buffer.concat([Buffer.from(header), body]));
  }
  return Buffer.concat(packets);
}

/**
 * A test clip: testsrc2 (H.264, yuv420p, closed 1 s GOPs) + sine (AAC or MP2) + one async KLV PID
 * with `klvRate` units per second (cycling through the sample's units; every `ptsless`-th PES has
 * no PTS when ptsless > 0). Cached by name under dir. Returns { path, klvUnits }.
 */
export function makeClip(dir, name, o = {}) {
  const width = o.width ?? 1920;
  const height = o.height ?? 1080;
  const fps = o.fps ?? 30;
  const seconds = o.seconds ?? 2;
  const klvRate = o.klvRate ?? 10;
  const audio = o.audio ?? 'aac';
  const path = join(dir, `${name}.ts`);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const sample = sampleKlvUnits();
  const pes = [];
  const count = Math.floor(seconds * klvRate);
  for (let i = 0; i < count; i++) {
    const pts = o.ptsless && i % o.ptsless === o.ptsless - 1 ? null : i / klvRate;
    pes.push({ pts, units: [sample[i % sample.length]] });
  }
  // Test files run in parallel and may ask for the same clip: each writes its own temporary files
  // and renames them into place, so a reader never sees a half-written clip.
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const klvPath = join(dir, `${name}.${tag}.klv.ts`);
  writeFileSync(klvPath, klvTransportStream(pes));
  const vf = [`testsrc2=size=${width}x${height}:rate=${fps}`];
  const args = ['-f', 'lavfi', '-i', vf.join(','), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-i', klvPath];
  args.push('-map', '0:v', '-map', '2:d');
  if (audio) args.push('-map', '1:a');
  args.push('-t', String(seconds), '-c:v', 'libx264', '-preset', o.preset ?? 'ultrafast', '-g', String(Math.round(fps)), '-pix_fmt', o.pixFmt ?? 'yuv420p');
  if (o.interlaced) args.push('-flags', '+ilme+ildct', '-x264-params', 'tff=1');
  if (o.videoBitrate) args.push('-b:v', String(o.videoBitrate));
  if (audio === 'aac') args.push('-c:a', 'aac', '-b:a', '96k');
  if (audio === 'mp2') args.push('-c:a', 'mp2', '-b:a', '128k');
  const tmp = join(dir, `${name}.${tag}.ts`);
  args.push('-c:d', 'copy', '-f', 'mpegts', tmp);
  try {
    ffmpeg(args);
  } finally {
    rmSync(klvPath, { force: true });
  }
  renameSync(tmp, path);
  const info = { path, klvUnits: count, seconds, width, height, fps };
  writeFileSync(`${meta}.${tag}`, JSON.stringify(info));
  renameSync(`${meta}.${tag}`, meta);
  return info;
}

/**
 * Reads an MPEG-TS file (or a list of them, concatenated): per PID the PMT stream type and
 * descriptors, PES count, PES with PTS, PES stream ids, and for KLV PIDs the KLV units.
 */
export function inspectTransportStream(files) {
  const list = Array.isArray(files) ? files : [files];
  const streams = new Map();
  const pmtPids = new Set();
  const pesData = new Map();
  const finishPes = (pid) => {
    const buf = pesData.get(pid);
    const s = streams.get(pid);
    if (!buf || !s) return;
    const data = Buffer.concat(buf);
    pesData.delete(pid);
    if (data.length < 9 || data[0] !== 0 || data[1] !== 0 || data[2] !== 1) return;
    s.pes++;
    s.streamIds.add(data[3]);
    const ptsFlag = (data[7] >> 7) & 1;
    if (ptsFlag) {
      s.pesWithPts++;
      const b = data.subarray(9, 14);
      const pts = ((b[0] >> 1) & 7) * 2 ** 30 + ((b[1] << 7) | (b[2] >> 1)) * 2 ** 15 + ((b[3] << 7) | (b[4] >> 1));
      s.pts.push(pts / 90000);
    }
    if (s.klv) s.payload.push(data.subarray(9 + data[8]));
  };
  for (const file of list) {
    const d = readFileSync(file);
    for (let i = 0; i + 188 <= d.length; i += 188) {
      if (d[i] !== 0x47) continue;
      const pid = ((d[i + 1] & 0x1f) << 8) | d[i + 2];
      const pusi = (d[i + 1] & 0x40) !== 0;
      const afc = (d[i + 3] >> 4) & 3;
      let off = i + 4;
      if (afc & 2) off += 1 + d[i + 4];
      if (!(afc & 1) || off >= i + 188) continue;
      const pl = d.subarray(off, i + 188);
      if (pid === 0 && pusi) {
        const s = pl.subarray(1 + pl[0]);
        const len = ((s[1] & 0xf) << 8) | s[2];
        for (let j = 8; j < 3 + len - 4; j += 4) {
          const pn = (s[j] << 8) | s[j + 1];
          if (pn) pmtPids.add(((s[j + 2] & 0x1f) << 8) | s[j + 3]);
        }
      } else if (pmtPids.has(pid) && pusi) {
        const s = pl.subarray(1 + pl[0]);
        const len = ((s[1] & 0xf) << 8) | s[2];
        const pil = ((s[10] & 0xf) << 8) | s[11];
        let j = 12 + pil;
        while (j < 3 + len - 4) {
          const type = s[j];
          const ep = ((s[j + 1] & 0x1f) << 8) | s[j + 2];
          const il = ((s[j + 3] & 0xf) << 8) | s[j + 4];
          const desc = Buffer.from(s.subarray(j + 5, j + 5 + il));
          if (!streams.has(ep)) {
            const registration = desc.length >= 6 && desc[0] === 0x05 ? desc.subarray(2, 6).toString('latin1') : null;
            streams.set(ep, { pid: ep, streamType: type, descriptors: desc.toString('hex'), registration, pes: 0, pesWithPts: 0, streamIds: new Set(), pts: [], klv: type === 0x06 && registration === 'KLVA' || type === 0x15, payload: [] });
          }
          j += 5 + il;
        }
      } else if (streams.has(pid)) {
        if (pusi) finishPes(pid);
        if (!pesData.has(pid)) {
          if (!pusi) continue;
          pesData.set(pid, []);
        }
        pesData.get(pid).push(pl);
      }
    }
    for (const pid of [...pesData.keys()]) finishPes(pid);
  }
  const out = [];
  for (const s of streams.values()) {
    const units = s.klv ? splitKlvUnits(Buffer.concat(s.payload)) : [];
    out.push({ pid: s.pid, streamType: s.streamType, descriptors: s.descriptors, registration: s.registration, pes: s.pes, pesWithPts: s.pesWithPts, streamIds: [...s.streamIds], pts: s.pts, klv: s.klv, klvUnits: units.length, units });
  }
  return out;
}

/** Segment file names of a media playlist, in order. */
export function playlistSegments(playlistPath) {
  return readFileSync(playlistPath, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export const tmpRoot = join(repoRoot, 'test', '.tmp');
export const clipsDir = join(tmpRoot, 'pipeline-clips');

/** A fresh, empty scratch directory under test/.tmp. */
export function scratchDir(name) {
  const dir = join(tmpRoot, `pipeline-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Width and height of a JPEG from its SOF marker; null when the bytes are not a whole JPEG. */
export function jpegSize(path) {
  const d = readFileSync(path);
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8 || d[d.length - 2] !== 0xff || d[d.length - 1] !== 0xd9) return null;
  let i = 2;
  while (i + 9 < d.length) {
    if (d[i] !== 0xff) return null;
    const marker = d[i + 1];
    const len = (d[i + 2] << 8) | d[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: (d[i + 7] << 8) | d[i + 8], height: (d[i + 5] << 8) | d[i + 6] };
    }
    i += 2 + len;
  }
  return null;
}

/** Parses ABR.m3u8 into its variants: attributes and URI. */
export function parseMasterPlaylist(path) {
  const lines = readFileSync(path, 'utf8').split('\n').map((l) => l.trim());
  const variants = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF:')) continue;
    const attrs = {};
    for (const m of lines[i].slice(18).matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)) attrs[m[1]] = m[2].replace(/^"|"$/g, '');
    variants.push({ attrs, uri: lines[i + 1] });
  }
  return { text: lines.join('\n'), variants };
}

/** Decodes every stream of a playlist or file with the ffmpeg CLI; returns what it printed at level error. */
export function decodeErrors(path) {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0', '-f', 'null', '-'], { maxBuffer: 64 * 1024 * 1024 });
  return `${r.stderr.toString()}${r.status === 0 ? '' : `exit status ${r.status}`}`;
}
