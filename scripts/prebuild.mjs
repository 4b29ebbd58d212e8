#!/usr/bin/env node
// Makes prebuilds/<platform>-<arch>/fmv-ingest.node with prebuildify (Node-API: one build serves
// every Node version), building through cmake-js.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { root, run } from './lib.mjs';

const shim = join(root, 'scripts', 'cmake-js-as-node-gyp.mjs');
chmodSync(shim, 0o755);
run(process.execPath, [join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip'], {
  env: { ...process.env, PREBUILD_NODE_GYP: shim },
});
