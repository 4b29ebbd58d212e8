/** Small tmpfs mounts for disk-full and read-only faults (needs root; tests skip without it). */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** True when this process may mount a tmpfs (root with the mount capability). */
export function canMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    const m = mountTmpfs(join(dir, 'probe-mount'), 64);
    m.unmount();
    return true;
  } catch {
    return false;
  }
}

export interface Mount {
  dir: string;
  /** Remounts read-only (or back to read-write). */
  readOnly(on: boolean): void;
  unmount(): void;
}

export function mountTmpfs(dir: string, sizeKb: number): Mount {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  let mounted = true;
  return {
    dir,
    readOnly: (on) => execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' }),
    unmount: () => {
      if (!mounted) return;
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a file that takes all the space left in dir's file system; returns its path. */
export function fillDisk(dir: string): string {
  const path = join(dir, 'filler.bin');
  const fd = openSync(path, 'w');
  try {
    for (const size of [65536, 4096, 1]) {
      const chunk = Buffer.alloc(size, 0xaa);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
