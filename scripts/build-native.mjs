// Builds kdnet's optional native kernels (native/: oneDNN convolutions and sgemm on the wasm backend's heap)
// at install, offline, with node-gyp against this node's headers. Optional: without a C++ compiler, make or
// the -dev packages it prints one line saying how to get the fast path and exits 0, and kdnet runs pure
// wasm. Skipped when the add-on is newer than its sources (`--force` rebuilds) or KDNET_NATIVE=0.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, nodeGypRebuildArgs } from './node-gyp.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const addon = path.join(nativeDir, 'build', 'Release', 'kdnet_native.node');
const logFile = path.join(nativeDir, 'build-native.log');
const HOW = 'apt-get install g++ make libopenblas-dev libdnnl-dev, then `node scripts/build-native.mjs`';

const note = (why) => {
  console.log(`kdnet: native kernels not built (${why}); kdnet runs pure wasm. For the fast path: ${HOW}`);
  process.exit(0);
};

if (['0', 'off', 'false'].includes((process.env.KDNET_NATIVE ?? '').trim().toLowerCase())) note('KDNET_NATIVE=0');
if (!fs.existsSync(path.join(nativeDir, 'binding.gyp'))) process.exit(0);
if (os.platform() !== 'linux') note(`only Linux is supported, this is ${os.platform()}`);

const sources = [path.join(nativeDir, 'binding.gyp'), ...fs.readdirSync(path.join(nativeDir, 'src')).map((f) => path.join(nativeDir, 'src', f))];
const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
if (!process.argv.includes('--force') && fs.existsSync(addon) && fs.statSync(addon).mtimeMs > newest) process.exit(0);

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });
const cxx = process.env.CXX || 'g++';
if (run(cxx, ['--version']).status !== 0) note(`no C++ compiler (${cxx})`);
if (run('make', ['--version']).status !== 0) note('no make');

// The libraries and headers, checked with a three-line program before node-gyp prints pages of errors.
const probe = `#include <cblas.h>\n#include <dnnl.hpp>\nint main() { openblas_get_config(); return dnnl_version()->major >= 2 ? 0 : 1; }\n`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-native-'));
try {
  fs.writeFileSync(path.join(tmp, 'probe.cc'), probe);
  const args = ['-std=c++17', '-I/usr/include/x86_64-linux-gnu/openblas-pthread', '-I/usr/include/x86_64-linux-gnu/openblas-openmp', 'probe.cc', '-o', 'probe', '-lopenblas', '-ldnnl'];
  const r = run(cxx, args, { cwd: tmp });
  if (r.status !== 0) note(/dnnl/.test(r.stderr) ? 'oneDNN (libdnnl-dev ≥ 2) not found' : /cblas|openblas/.test(r.stderr) ? 'OpenBLAS (libopenblas-dev) not found' : 'the probe program did not compile');
  if (run(path.join(tmp, 'probe'), []).status !== 0) note('oneDNN is older than 2.0');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) note('node-gyp not found');
const args = nodeGypRebuildArgs(nodeGyp);
const started = Date.now();
const result = run(process.execPath, args, { cwd: nativeDir, env: { ...process.env, JOBS: String(Math.max(1, os.cpus().length)) } });
fs.writeFileSync(logFile, `${result.stdout ?? ''}${result.stderr ?? ''}`);
if (result.status !== 0 || !fs.existsSync(addon)) note(`the build failed, see ${path.relative(process.cwd(), logFile)}`);
console.log(`kdnet: built the native kernels (oneDNN + OpenBLAS) in ${((Date.now() - started) / 1000).toFixed(0)} s: ${path.relative(process.cwd(), addon)}`);
