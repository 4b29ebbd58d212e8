/**
 * Loads the native addon once per environment, with failures that say which file or library is
 * missing and the exact command that fixes it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaError } from './errors.js';

const require = createRequire(import.meta.url);
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The raw functions the addon exports; TypeScript validates everything before calling them. */
export interface NativeAddon {
  init(errorClass: typeof MediaError): void;
  versions(): Record<string, string>;
  probe(url: string, options: Record<string, unknown>): Promise<unknown>;
  [name: string]: unknown;
}

let addon: NativeAddon | undefined;

function explain(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // The package scripts run only in a checkout; an installed copy is rebuilt through npm.
  const installed = packageRoot.split(/[\\/]/).includes('node_modules');
  const rebuild = installed ? 'npm rebuild fmv-ingest' : 'npm run build:addon';
  const lines = [`fmv-ingest: the native addon could not be loaded (${process.platform}-${process.arch}, Node ${process.version}).`, `  cause: ${text}`];
  const missingLib = /(lib(av\w+|sw\w+|postproc)\.so[.\d]*)/.exec(text);
  if (missingLib) {
    lines.push(`  The FFmpeg shared library ${missingLib[1]} is missing on this machine.`);
    lines.push(`  Fix (Debian/Ubuntu): sudo apt-get install -y libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev && ${rebuild}`);
  } else if (/Cannot find module|No native build was found/.test(text)) {
    lines.push('  The addon has not been built for this machine.');
    lines.push(
      installed
        ? '  Fix: install the FFmpeg dev packages (libavformat-dev and friends), then npm rebuild fmv-ingest'
        : '  Fix: npm run bootstrap   (installs the FFmpeg dev packages when possible and builds the addon)',
    );
  } else if (/GLIBC_|GLIBCXX_/.test(text)) {
    lines.push(`  The prebuilt addon needs a newer C/C++ runtime than this machine has. Fix: ${rebuild}`);
  } else if (/NODE_MODULE_VERSION|napi/i.test(text)) {
    lines.push(`  The addon was built for another Node.js. Fix: ${rebuild}`);
  }
  if (process.execArgv.includes('--no-addons')) lines.push('  Node runs with --no-addons: native addons are disabled.');
  lines.push(`  An explicit addon path can be given with FMV_INGEST_ADDON=/path/to/fmv_ingest.node.`);
  return lines.join('\n');
}

export function loadAddon(): NativeAddon {
  if (addon) return addon;
  try {
    const explicit = process.env.FMV_INGEST_ADDON;
    if (explicit) {
      addon = require(explicit) as NativeAddon;
    } else {
      const localBuild = join(packageRoot, 'build', 'Release', 'fmv_ingest.node');
      // node-gyp-build looks at build/Release first, then prebuilds/<platform>-<arch>.
      addon = existsSync(localBuild)
        ? (require(localBuild) as NativeAddon)
        : ((require('node-gyp-build') as (dir: string) => NativeAddon)(packageRoot));
    }
  } catch (err) {
    throw new MediaError(explain(err), { code: 'ERR_ADDON_LOAD', step: 'load' });
  }
  addon.init(MediaError);
  return addon;
}
