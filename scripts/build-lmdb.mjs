// Rebuilds the lmdb binding from source with LMDB's classic on-disk format (LMDB_DATA_V1), the format
// Caffe and py-lmdb write. The prebuilt binary lmdb ships uses a newer format and cannot read Caffe's
// databases, nor can Caffe read its output. Runs as kdnet's postinstall; offline, about 20 s.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { findNodeGyp, nodeGypRebuildArgs } from './node-gyp.mjs';

const require = createRequire(import.meta.url);
let lmdbDir;
try {
  // lmdb's exports map hides package.json: walk up from its entry point.
  lmdbDir = path.dirname(require.resolve('lmdb'));
  while (!fs.existsSync(path.join(lmdbDir, 'binding.gyp'))) {
    const up = path.dirname(lmdbDir);
    if (up === lmdbDir) throw new Error('lmdb sources not found');
    lmdbDir = up;
  }
} catch {
  console.warn('kdnet: lmdb is not installed; LMDB data will be unavailable');
  process.exit(0);
}
const marker = path.join(lmdbDir, 'build', 'Release', '.kdnet-data-v1');
if (fs.existsSync(marker)) process.exit(0);

const nodeGyp = findNodeGyp();
if (!nodeGyp) {
  console.warn('kdnet: node-gyp not found; LMDB data stays unavailable until `node scripts/build-lmdb.mjs` succeeds');
  process.exit(0);
}
console.log(`kdnet: building lmdb with Caffe's LMDB data format (${nodeGyp})`);
const args = nodeGypRebuildArgs(nodeGyp);
const result = spawnSync(process.execPath, args, {
  cwd: lmdbDir,
  stdio: 'inherit',
  env: { ...process.env, LMDB_DATA_V1: 'true' },
});
if (result.status !== 0) {
  // The install still succeeds (everything but LMDB works); kdnet refuses LMDB with this same advice.
  console.warn('kdnet: building lmdb failed; LMDB data stays unavailable until `node scripts/build-lmdb.mjs` succeeds');
  process.exit(0);
}
fs.writeFileSync(marker, 'built with LMDB_DATA_V1=true\n');
