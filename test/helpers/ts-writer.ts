/**
 * A tiny MPEG-TS writer for KLV carriage fixtures that FFmpeg's own muxer cannot make:
 * sync KLV (stream_type 0x15) with metadata AU cell headers, several cells per PES, async KLV
 * without PTS, PIDs that are declared but send nothing. No video: the KLV scan does not need it.
 */
export interface KlvPid {
  pid: number;
  sync: boolean;
  /** PES payloads to send: each an array of KLV units (several units → several AU cells when sync). */
  pes: Array<{ pts?: number; units: Uint8Array[] }>;
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

function section(tableId: number, idExt: number, body: number[]): Uint8Array {
  const len = 5 + body.length + 4;
  const s = [tableId, 0xb0 | ((len >> 8) & 0x0f), len & 0xff, idExt >> 8, idExt & 0xff, 0xc1, 0x00, 0x00, ...body];
  const crc = crc32(Uint8Array.from(s));
  return Uint8Array.from([...s, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
}

export function writeKlvTransportStream(pids: KlvPid[]): Buffer {
  const packets: Buffer[] = [];
  const cc = new Map<number, number>();
  const emit = (pid: number, payload: Uint8Array, unitStart: boolean) => {
    let offset = 0;
    let first = true;
    while (offset < payload.length || first) {
      const pkt = Buffer.alloc(188, 0xff);
      const counter = cc.get(pid) ?? 0;
      cc.set(pid, (counter + 1) & 0x0f);
      pkt[0] = 0x47;
      pkt[1] = ((first && unitStart ? 0x40 : 0) | (pid >> 8)) & 0xff;
      pkt[2] = pid & 0xff;
      const remaining = payload.length - offset;
      if (remaining >= 184) {
        pkt[3] = 0x10 | counter;
        Buffer.from(payload.subarray(offset, offset + 184)).copy(pkt, 4);
        offset += 184;
      } else {
        // Adaptation field stuffing so the payload ends the packet.
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
  const pat = section(0x00, 1, [0x00, 0x01, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]);
  const es: number[] = [];
  for (const p of pids) {
    const desc = p.sync
      ? [0x26, 0x09, 0x01, 0x00, 0xff, 0x4b, 0x4c, 0x56, 0x41, 0x00, 0x0f] // metadata_descriptor KLVA
      : [0x05, 0x04, 0x4b, 0x4c, 0x56, 0x41]; // registration KLVA
    es.push(p.sync ? 0x15 : 0x06, 0xe0 | (p.pid >> 8), p.pid & 0xff, 0xf0, desc.length, ...desc);
  }
  const pmt = section(0x02, 1, [0xe0 | 0x1f, 0xff, 0xf0, 0x00, ...es]);
  emit(0, Uint8Array.from([0, ...pat]), true);
  emit(pmtPid, Uint8Array.from([0, ...pmt]), true);

  const rounds = Math.max(...pids.map((p) => p.pes.length));
  let seq = 0;
  for (let r = 0; r < rounds; r++) {
    for (const p of pids) {
      const pes = p.pes[r];
      if (!pes) continue;
      const body: number[] = [];
      for (const unit of pes.units) {
        if (p.sync) body.push(0x00, seq++ & 0xff, 0xc0 | 0x10, (unit.length >> 8) & 0xff, unit.length & 0xff);
        body.push(...unit);
      }
      const hasPts = pes.pts !== undefined;
      const header: number[] = [0x00, 0x00, 0x01, p.sync ? 0xfc : 0xbd];
      const optional = hasPts ? 5 : 0;
      const pesLength = 3 + optional + body.length;
      header.push((pesLength >> 8) & 0xff, pesLength & 0xff, 0x84, hasPts ? 0x80 : 0x00, optional);
      if (hasPts) {
        const t = Math.round(pes.pts! * 90000);
        const hi = Math.floor(t / 2 ** 30) & 0x07;
        const mid = Math.floor(t / 2 ** 15) & 0x7fff;
        const lo = t & 0x7fff;
        header.push(0x21 | (hi << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1);
      }
      emit(p.pid, Uint8Array.from([...header, ...body]), true);
    }
  }
  return Buffer.concat(packets);
}
