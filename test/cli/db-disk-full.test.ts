// Converters on a full disk (a real 256 KiB tmpfs; skipped where mount is not permitted): LMDB's and
// LevelDB's own write failures are one error naming the database, and no partial database is left.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { tempDir } from '../support/data.js';
import { projectRoot } from '../support/shared.js';
import { mountSmallTmpfs } from '../support/disk-full.js';

const subset = path.join(projectRoot, 'data', 'fashion-mnist', 'subset');
const disk = tempDir('kdnet-db-full-');

const mounted = mountSmallTmpfs(disk, '256k');

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe.skipIf(!mounted)('convert-mnist on a full disk (256 KiB tmpfs)', () => {
  for (const backend of ['lmdb', 'leveldb']) {
    it(`${backend}: one error naming the database, nothing left behind`, async () => {
      const db = path.join(disk, `train_${backend}`);
      const io = bufferIO();
      const code = await runCli(
        ['convert-mnist', path.join(subset, 'train-images-idx3-ubyte.gz'), path.join(subset, 'train-labels-idx1-ubyte.gz'), db, '--backend', backend],
        io,
      );
      expect(code, io.stderr).toBe(1);
      expect(io.stderr).not.toContain('internal error');
      expect(io.stderr).not.toMatch(/\n\s+at /);
      const errors = io.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`cannot write the database ${db}`);
      expect(fs.readdirSync(disk)).toEqual([]);
    });
  }
});
