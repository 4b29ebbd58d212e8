import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shared = join(repoRoot, '..', 'shared');
export const samples = join(shared, 'samples');
export const kwiver = (name: string) => join(samples, 'kwiver', name);

/** A scratch directory under test/.tmp (git-ignored), made on demand. */
export function scratch(name: string): string {
  const dir = join(repoRoot, 'test', '.tmp', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
