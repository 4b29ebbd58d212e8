// Preloaded by bench/klv.mjs into `fmv-ingest klv` (node --import): samples the JS heap in use
// while the command runs and writes the peaks and the CPU time used to the file named by
// KLV_MEMORY_PROBE at exit.
import { writeFileSync } from 'node:fs';

let maxHeapUsed = 0;
const sample = () => {
  const used = process.memoryUsage().heapUsed;
  if (used > maxHeapUsed) maxHeapUsed = used;
};
setInterval(sample, 10).unref();
process.on('exit', () => {
  sample();
  const out = process.env.KLV_MEMORY_PROBE;
  const cpu = process.cpuUsage();
  if (out) writeFileSync(out, JSON.stringify({ maxHeapUsed, maxRss: process.resourceUsage().maxRSS * 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
});
