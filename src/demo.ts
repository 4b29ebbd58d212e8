/**
 * `npm run demo`: needs no input. Synthesises a short clip with KLV in-process, then runs the
 * library's main operations on it and prints what they produced.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native.js';
import { probe } from './probe.js';
import { KlvUnitStream } from './klv-extract.js';
import { synthesizeClip } from './synthetic.js';
import { formatProbe } from './cli/probe-command.js';

async function main(): Promise<void> {
  const dir = join(packageRoot, 'demo-output');
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, 'synthetic-flight.ts');
  // One ST 0601 packet from MISB ST 0902 Annex C, repeated at 10 Hz.
  const packet = readFileSync(join(packageRoot, 'scripts', 'demo-packet.bin'));
  const klv = Array.from({ length: 100 }, (_, i) => ({ seconds: i / 10, data: packet }));
  const made = await synthesizeClip(clip, { width: 1280, height: 720, fps: 30, durationSeconds: 10, klv });
  process.stdout.write(`synthesised ${clip}: ${made.videoFrames} frames, ${made.klvUnits} KLV units, ${made.bytes} bytes\n\n`);
  process.stdout.write(`${formatProbe(await probe(clip))}\n\n`);
  const stream = new KlvUnitStream(clip);
  let units = 0;
  for await (const batch of stream) units += batch.length;
  const stats = await stream.stats;
  process.stdout.write(`extracted ${units} KLV units (${stats.bytes} bytes) from ${stats.klvStreams} KLV stream(s)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
