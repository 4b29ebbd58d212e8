import type { Command } from 'commander';
import { probe, type ProbeResult } from '../probe.js';
import { fmtBitRate, fmtSeconds, hex, parseMilliseconds, table } from './output.js';

export function formatProbe(r: ProbeResult): string {
  const rows: Array<[string, string]> = [
    ['input', r.url],
    ['format', `${r.format} (${r.formatLongName})`],
    ['duration', fmtSeconds(r.duration)],
    ['start time', fmtSeconds(r.startTime)],
    ['bit rate', fmtBitRate(r.bitRate)],
    ['size', r.size === null ? 'unknown' : `${r.size} bytes`],
  ];
  if (r.video) {
    const v = r.video;
    const fps = v.frameRate.den ? (v.frameRate.num / v.frameRate.den).toFixed(3) : '?';
    rows.push([
      `video #${v.index}`,
      `${v.codec}${v.profile ? ` (${v.profile})` : ''} ${v.width}x${v.height} DAR ${v.displayAspectRatio.num}:${v.displayAspectRatio.den} ${v.pixelFormat} ${fps} fps ${v.fieldOrder}${v.pid !== null ? ` PID ${hex(v.pid)}` : ''}`,
    ]);
  } else {
    rows.push(['video', 'none']);
  }
  for (const a of r.audio) {
    rows.push([`audio #${a.index}`, `${a.codec}${a.profile ? ` (${a.profile})` : ''} ${a.channels} ch (${a.channelLayout}) ${a.sampleRate} Hz ${fmtBitRate(a.bitRate)}${a.pid !== null ? ` PID ${hex(a.pid)}` : ''}`]);
  }
  if (r.audio.length === 0) rows.push(['audio', 'none']);
  for (const k of r.klv) {
    const stype = k.streamType === null ? '' : ` stream_type ${hex(k.streamType, 2)}`;
    const sid = k.pesStreamId === null ? '' : ` PES id ${hex(k.pesStreamId, 2)}`;
    rows.push([
      `klv #${k.index}`,
      `PID ${hex(k.pid)} ${k.carriage}${stype}${k.registration ? ` ${k.registration}` : ''}${sid} pts ${k.pts}${k.hybrid ? ' (hybrid)' : ''}, ${k.packets} packets in probe window`,
    ]);
  }
  if (r.klv.length === 0) rows.push(['klv', 'none']);
  return table(rows);
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('describe an input: container, video, audio and KLV streams (PID, sync/async carriage)')
    .argument('<input>', 'file or URL')
    .option('--json', 'print JSON instead of a table')
    .option('--timeout <ms>', 'give up after this many milliseconds', parseMilliseconds('--timeout'))
    .action(async (input: string, opts: { json?: boolean; timeout?: number }) => {
      const result = await probe(input, opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {});
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatProbe(result)}\n`);
    });
}
