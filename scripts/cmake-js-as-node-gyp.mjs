#!/usr/bin/env node
// prebuildify drives node-gyp; this stands in for it and builds with cmake-js instead.
// Accepts node-gyp's `rebuild [--debug|--release] ...` and ignores the rest.
import { join } from 'node:path';
import { root, run } from './lib.mjs';

const debug = process.argv.includes('--debug');
run(process.execPath, [join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), 'rebuild', ...(debug ? ['--debug'] : [])]);
