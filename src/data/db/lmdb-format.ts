// Whether the installed lmdb binding was rebuilt with LMDB's classic on-disk format (scripts/build-lmdb.mjs,
// kdnet's postinstall). The prebuilt binary writes a newer format Caffe cannot read and cannot read Caffe's.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { KdnetError } from '../../errors.js';

let checked = false;

function lmdbPackageDir(): string | undefined {
  try {
    let dir = path.dirname(createRequire(import.meta.url).resolve('lmdb'));
    while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
      const up = path.dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
    return dir;
  } catch {
    return undefined;
  }
}

/** Throws a clear error when LMDB would be read or written with the incompatible prebuilt binary. */
export function requireCaffeLmdbFormat(): void {
  if (checked) return;
  const dir = lmdbPackageDir();
  if (!dir || !fs.existsSync(path.join(dir, 'build', 'Release', '.kdnet-data-v1'))) {
    throw new KdnetError(
      "the lmdb binding was not rebuilt with Caffe's LMDB format, so Caffe's databases cannot be read: run `node scripts/build-lmdb.mjs` in kdnet's folder (needs g++, make and Node's headers)",
    );
  }
  checked = true;
}
