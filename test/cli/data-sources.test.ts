// Data sources a user names in a net, met through `kdnet test`: a Data source that is a regular file, an
// empty or unrelated directory, LMDB's data file, or the other store; an HDF5Data list naming a missing or
// non-HDF5 file. Each is one exit-1 message naming the layer and the path (and the list line), nothing is
// ever written beside what the user named, and the HDF5 library's diagnostics never reach the user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { hdf5Ready } from '../../src/data/hdf5-file.js';
import { createDbWriter } from '../../src/data/db/index.js';
import { writeDatums } from '../support/data.js';
import { writeH5 } from '../support/h5.js';
import { cliFromSource, projectRequire, runCliProcess } from '../support/cli-process.js';
import { expectOneError } from '../support/cli-errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-sources-cli-'));
/** Stands for a folder outside the project (a system folder): only read, never written. */
const outside = path.join(dir, 'outside');

async function testNet(name: string, layer: string) {
  const file = path.join(dir, `${name}.prototxt`);
  fs.writeFileSync(file, `name: "${name}"\n${layer}\n`);
  const io = bufferIO();
  const code = await runCli(['test', '--model', file, '--iterations', '1', '--backend', 'cpu'], io);
  return { code, ...io };
}

const dataLayer = (source: string, backend: 'LMDB' | 'LEVELDB') =>
  `layer { name: "mnist" type: "Data" top: "data" top: "label" data_param { source: "${source}" backend: ${backend} batch_size: 2 } }`;

/** Every path under `root` with its size, to compare before and after. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(`${path.relative(root, p)}${e.isDirectory() ? '/' : ` ${fs.statSync(p).size}`}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

function kdnetTempDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('kdnet-lmdb-'));
}

const records = [0, 1, 2].map((i) => ({ channels: 1, height: 2, width: 2, data: Uint8Array.of(i, i, i, i), label: i }));

afterAll(() => {
  // The read-only database folder must be writable again for its files to be removed.
  const ro = path.join(outside, 'readonly_lmdb');
  if (fs.existsSync(ro)) fs.chmodSync(ro, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  fs.mkdirSync(path.join(outside, 'empty'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  fs.mkdirSync(path.join(outside, 'photos'));
  fs.writeFileSync(path.join(outside, 'photos', 'cat.jpg'), 'not really');
  await writeDatums(path.join(outside, 'train_lmdb'), 'lmdb', records);
  await writeDatums(path.join(outside, 'train_leveldb'), 'leveldb', records);
});

describe('a Data source that is not the database asked for', () => {
  it('is one error naming the layer, the path and what it is, and writes nothing anywhere', async () => {
    const before = listing(dir);
    const tempsBefore = kdnetTempDirs();
    const cases: Array<[string, 'LMDB' | 'LEVELDB', RegExp]> = [
      ['passwd', 'LMDB', /outside\/passwd: a regular file, not a database: an LMDB is a directory holding data\.mdb, a LevelDB one holding CURRENT$/],
      ['passwd', 'LEVELDB', /outside\/passwd: a regular file, not a database/],
      ['empty', 'LMDB', /outside\/empty: an empty directory, not a database/],
      ['photos', 'LEVELDB', /outside\/photos: a directory holding cat\.jpg, not a database/],
      ['nothing', 'LMDB', /nothing: no such database$/],
      ['train_lmdb/data.mdb', 'LMDB', /train_lmdb\/data\.mdb: this is the data file of an LMDB database: give its directory, .*outside\/train_lmdb$/],
      ['train_lmdb', 'LEVELDB', /train_lmdb: this is an LMDB database but the backend is LEVELDB \(set backend: LMDB\)$/],
      ['train_leveldb', 'LMDB', /train_leveldb: this is a LevelDB database but the backend is LMDB \(set backend: LEVELDB\)$/],
    ];
    for (const [name, backend, pattern] of cases) {
      const r = await testNet('source', dataLayer(path.join(outside, name), backend));
      expectOneError(r, /^error: .*source\.prototxt:2:\d+: layer "mnist" \(Data\)\.data_param\.source: /);
      expectOneError(r, pattern);
    }
    // Only the nets written above are new.
    expect(listing(dir).filter((f) => !f.endsWith('.prototxt') && !/^source\.prototxt /.test(f))).toEqual(before);
    expect(kdnetTempDirs()).toEqual(tempsBefore);
  });

  it('a valid LMDB in a read-only directory reads, and gains no lock file', async () => {
    const ro = path.join(outside, 'readonly_lmdb');
    await writeDatums(ro, 'lmdb', records);
    fs.rmSync(path.join(ro, 'lock.mdb'));
    fs.chmodSync(path.join(ro, 'data.mdb'), 0o444);
    fs.chmodSync(ro, 0o555);
    const before = listing(ro);
    const tempsBefore = kdnetTempDirs();
    const r = await testNet('readonly', dataLayer(ro, 'LMDB'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Batch 0, label = /);
    expect(fs.readdirSync(ro)).toEqual(['data.mdb']);
    expect(listing(ro)).toEqual(before);
    // kdnet's private view of the database is gone once the net is closed.
    expect(kdnetTempDirs()).toEqual(tempsBefore);
  });

  it('a database that fails mid-read leaves no private view behind', async () => {
    const bad = path.join(outside, 'bad_lmdb');
    const w = createDbWriter(bad, 'lmdb');
    await w.put('00000000', Uint8Array.of(0xff, 0xff, 0xff));
    await w.finish();
    const tempsBefore = kdnetTempDirs();
    expectOneError(await testNet('junk', dataLayer(bad, 'LMDB')), /bad_lmdb: record '00000000': not a Caffe Datum/);
    expect(kdnetTempDirs()).toEqual(tempsBefore);
  });

  // As root every directory is writable; a user without write permission is the real case (LMDB alone fails
  // there with "Permission denied" because it must create lock.mdb).
  const asNobody = process.getuid?.() === 0 && spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!asNobody)('a user without write permission reads it too', () => {
    const ro = path.join(outside, 'readonly_lmdb');
    fs.chmodSync(dir, 0o755);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `
      const { open } = require(${JSON.stringify(projectRequire.resolve('lmdb'))});
      try { open({ path: ${JSON.stringify(ro)}, readOnly: true }); console.log('lmdb alone: opened'); } catch (e) { console.log('lmdb alone: ' + e.message); }
    `], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/lmdb alone: .*(Permission denied|EACCES)/i);
    const viaKdnet = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${os.tmpdir()}`, process.execPath, ...cliFromSource, 'db-info', ro], { encoding: 'utf8', timeout: 300_000 });
    expect(viaKdnet.status, viaKdnet.stderr).toBe(0);
    expect(viaKdnet.stdout).toMatch(/readonly_lmdb: lmdb, 3 records/);
  }, 300_000);
});

describe('an HDF5Data list naming a file that is not HDF5', () => {
  it('names the list file and line of each bad entry, before the HDF5 library sees it', async () => {
    await writeH5(path.join(dir, 'good.h5'), { data: { data: new Float32Array(8), shape: [2, 2, 2] }, label: { data: new Float32Array(2), shape: [2] } });
    fs.writeFileSync(path.join(dir, 'notes.h5'), 'this is not HDF5\n');
    fs.writeFileSync(path.join(dir, 'list.txt'), `${dir}/good.h5\n${dir}/missing.h5\n\n${dir}/notes.h5\n${outside}\n`);
    const layer = `layer { name: "h5" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/list.txt" batch_size: 2 } }`;
    const r = await testNet('h5', layer);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^I\d/.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^error: .*h5\.prototxt:2:\d+: layer "h5" \(HDF5Data\)\.hdf5_data_param\.source: .*list\.txt:2: .*missing\.h5: no such file$/);
    expect(lines[1]).toMatch(/list\.txt:4: .*notes\.h5: not an HDF5 file \(no HDF5 signature; it starts with "this is not HDF5\\n"\)$/);
    expect(lines[2]).toMatch(/list\.txt:5: .*outside: it is a directory$/);

    // Given the .h5 file itself as the source (a common slip), or a binary file, the message says what source is.
    expectOneError(await testNet('h5', layer.replace(`${dir}/list.txt`, `${dir}/good.h5`)), /good\.h5 is an HDF5 file, but hdf5_data_param\.source names a text file listing \.h5 files, one per line$/);
    expectOneError(await testNet('h5', layer.replace(`${dir}/list.txt`, `${outside}/train_lmdb/data.mdb`)), /data\.mdb is binary data, but hdf5_data_param\.source names a text file/);
  });

  it('prints no HDF5-DIAG lines (the library writes them straight to the process\'s stderr)', () => {
    fs.writeFileSync(path.join(dir, 'list2.txt'), `${dir}/missing.h5\n${dir}/notes.h5\n`);
    const net = path.join(dir, 'h5_process.prototxt');
    fs.writeFileSync(net, `layer { name: "h5" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/list2.txt" batch_size: 2 } }\n`);
    // One child process (it starts slowly): both bad lines are reported by the one run.
    const r = runCliProcess(['test', '--model', net, '--iterations', '1', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/list2\.txt:1: .*missing\.h5: no such file/);
    expect(r.stderr).toMatch(/list2\.txt:2: .*notes\.h5: not an HDF5 file/);
    expect(r.stdout + r.stderr).not.toMatch(/HDF5-DIAG|truncated or corrupt/);
  }, 300_000);
});
