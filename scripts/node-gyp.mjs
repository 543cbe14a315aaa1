// Where node-gyp is and how to run it offline: the install scripts build native code (lmdb with Caffe's data
// format, kdnet's own kernels) against the headers installed beside this node instead of downloading them.
import fs from 'node:fs';
import path from 'node:path';

/** node-gyp.js from npm's own copy (or Debian's), or undefined when there is none. */
export function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/share/nodejs/npm/node_modules/node-gyp/bin/node-gyp.js',
  ].filter(Boolean);
  return candidates.find((p) => fs.existsSync(p));
}

/** Arguments for `node <these>`: node-gyp rebuild, with --nodedir when this node has its headers. */
export function nodeGypRebuildArgs(nodeGyp) {
  const args = [nodeGyp, 'rebuild'];
  const localHeaders = path.resolve(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(localHeaders, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${localHeaders}`);
  return args;
}
