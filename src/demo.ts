/**
 * `npm run demo`: needs no input. Synthesises a clip carrying a simulated flight's KLV in-process,
 * ingests it into a streaming service (ABR ladder, poster, previews, decoded telemetry), prints
 * the job JSON and where the outputs are.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ProgressReporter } from './cli/ingest-command.js';
import { ingest } from './jobs/manager.js';
import { synthesizeFlightClip } from './jobs/synthetic-flight.js';
import { packageRoot } from './native.js';

async function main(): Promise<void> {
  const dir = join(packageRoot, 'demo-output');
  const services = join(dir, 'services');
  mkdirSync(dir, { recursive: true });
  // Each run publishes afresh, so the layer is always 0 and the paths below stay the same.
  rmSync(services, { recursive: true, force: true });
  const clip = join(dir, 'Synthetic_Flight.ts');
  const made = await synthesizeFlightClip(clip, { width: 1280, height: 720, fps: 30, durationSeconds: 10, audio: true });
  process.stderr.write(`synthesised ${clip}: ${made.videoFrames} frames, ${made.klvUnits} ST 0601 packets at 10 Hz, ${made.bytes} bytes\n`);

  const job = ingest(clip, { outDir: services, requestedResolutions: 'fhd', username: 'demo' });
  new ProgressReporter(process.stderr).attach(job);
  const result = await job.done.catch(() => null);
  const resource = job.toJSON();
  process.stdout.write(`${JSON.stringify(resource, null, 2)}\n`);
  if (!result) {
    process.stderr.write(`demo failed: ${resource.messages.at(-1) ?? resource.status}\n`);
    process.exitCode = 1;
    return;
  }
  const files = result.files;
  process.stdout.write(
    [
      '',
      `outputs:   ${result.location}`,
      `playlist:  ${result.masterPlaylist}`,
      `telemetry: ${join(result.location, 'klv.ndjson')} (${resource.customAttributes.klv?.packets ?? 0} packets), ${join(result.location, 'klv.geojson')}`,
      `poster:    ${files.includes('poster.jpg') ? join(result.location, 'poster.jpg') : '(none)'}`,
      `files:     ${files.length}, ${resource.customAttributes.outputs?.bytes ?? 0} bytes`,
      `hardware:  ${resource.customAttributes.hardware?.used ?? '?'} (${resource.customAttributes.hardware?.reason ?? ''})`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
