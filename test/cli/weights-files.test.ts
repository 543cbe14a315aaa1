// Weights files a user hands kdnet (--weights), met through the CLI: garbage, truncated, empty or foreign
// files, blobs whose data does not fill their shape, non-finite values, missing files. Each is one message
// naming the file (and layer, blob) with exit 1, or a warning where Caffe would go on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { caffeType } from '../../src/proto/schema.js';
import { initBackend } from '../../src/backend/select.js';
import { hdf5Ready, writeHdf5Atomic } from '../../src/data/hdf5-file.js';
import { expectOneError } from '../support/cli-errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-weights-cli-'));
const net = path.join(dir, 'net.prototxt');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

/** `kdnet test` of the net with the given weights: the way a user meets a weights file. */
function testWith(weights: string) {
  return run('test', '--model', net, '--weights', weights, '--iterations', '1', '--backend', 'cpu');
}

const NetParameter = caffeType('NetParameter');
function writeWeights(name: string, object: Record<string, unknown>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, NetParameter.encode(NetParameter.fromObject(object)).finish());
  return file;
}
const ramp = (n: number) => Array.from({ length: n }, (_, i) => i / 10);
/** Weights for the net's InnerProduct "ip" (10 outputs, 5 inputs) with the given weight blob. */
const ipLayer = (weight: Record<string, unknown>) => ({ name: 'ip', blobs: [weight, { shape: { dim: [10] }, data: ramp(10) }] });

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  fs.writeFileSync(
    net,
    `name: "tiny"
layer { name: "in_x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 5 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 10 weight_filler { type: "gaussian" } } }
layer { name: "relu" type: "ReLU" bottom: "y" top: "y" }
`,
  );
});

describe('a file that is not a NetParameter is an error naming it (Caffe: "Failed to parse NetParameter file")', () => {
  it('random bytes (fixed), text files, a file of zeros', async () => {
    // 'hi' and the zeros decode without complaint with protobufjs alone (unknown fields are skipped).
    const cases: Array<[string, Buffer]> = [
      ['text.caffemodel', Buffer.from('hi')],
      ['notes.caffemodel', Buffer.from('weights for the tiny net\n')],
      ['zeros.caffemodel', Buffer.alloc(64)],
      ['random.caffemodel', crypto.createHash('sha512').update('kdnet').digest()],
    ];
    for (const [name, bytes] of cases) {
      fs.writeFileSync(path.join(dir, name), bytes);
      expectOneError(await testWith(path.join(dir, name)), new RegExp(`${name}: not a binary NetParameter file: .*byte \\d+`));
    }
  });

  it('a real file cut short names the byte, the record and its layer', async () => {
    const full = writeWeights('full.caffemodel', { name: 'tiny', layer: [{ name: 'in_x' }, ipLayer({ shape: { dim: [10, 5] }, data: ramp(50) })] });
    const bytes = fs.readFileSync(full);
    const cut = path.join(dir, 'cut.caffemodel');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    const r = await testWith(cut);
    expectOneError(r, new RegExp(`cut.caffemodel: not a binary NetParameter file: truncated at byte ${bytes.length - 30}: layer record "ip" \\(from byte \\d+\\) is \\d+ bytes long but only \\d+ remain`));
    expect((await testWith(full)).code).toBe(0);
  });
});

describe('a copy that matches nothing is a warning; partial copies log Caffe\'s lines', () => {
  it('an empty file', async () => {
    const empty = path.join(dir, 'empty.caffemodel');
    fs.writeFileSync(empty, '');
    const r = await testWith(empty);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^W.* kdnet\] No layer was copied from .*empty\.caffemodel: it holds no layers\. Layers keeping their fillers: ip$/m);
  });

  it('a file of another net: each source layer is ignored as Caffe logs it, then one warning', async () => {
    const other = writeWeights('other.caffemodel', { layer: [{ name: 'conv1', blobs: [{ shape: { dim: [1] }, data: [1] }] }, { name: 'fc7' }] });
    const r = await testWith(other);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^I.* kdnet\] Ignoring source layer conv1$/m);
    expect(r.stderr).toMatch(/^I.* kdnet\] Ignoring source layer fc7$/m);
    expect(r.stderr).toMatch(/^W.* kdnet\] No layer was copied from .*other\.caffemodel: none of its 2 layers \(conv1, fc7\) carries the parameters of a layer of the net \(ip\); every layer keeps its fillers$/m);
  });

  it('a partial match copies what matches, without the warning', async () => {
    const some = writeWeights('some.caffemodel', { layer: [ipLayer({ shape: { dim: [10, 5] }, data: ramp(50) }), { name: 'loss' }] });
    const r = await testWith(some);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^I.* kdnet\] Ignoring source layer loss$/m);
    expect(r.stderr).not.toMatch(/No layer was copied|^W/m);
  });
});

describe('blob data that does not fill its shape is an error naming file, layer, blob, shape and count', () => {
  it('current blobs (shape.dim) and V1 blobs (num/channels/height/width), float and double data', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['short.caffemodel', { layer: [ipLayer({ shape: { dim: [10, 5] }, data: ramp(49) })] }, /short\.caffemodel: blob 0 of layer "ip" has shape \[10, 5\] \(50 values\) but its data holds 49 values/],
      ['long_double.caffemodel', { layer: [ipLayer({ shape: { dim: [10, 5] }, double_data: ramp(51) })] }, /blob 0 of layer "ip" has shape \[10, 5\] \(50 values\) but its double_data holds 51 values/],
      ['v1.caffemodel', { layers: [ipLayer({ num: 1, channels: 1, height: 10, width: 5, data: ramp(49) })] }, /v1\.caffemodel: blob 0 of layer "ip" has shape \[1, 1, 10, 5\] \(num, channels, height, width: 50 values\) but its data holds 49 values/],
      ['nodata.caffemodel', { layer: [ipLayer({ shape: { dim: [10, 5] } })] }, /has shape \[10, 5\] \(50 values\) but its data holds 0 values/],
    ];
    for (const [name, object, pattern] of cases) expectOneError(await testWith(writeWeights(name, object)), pattern);
  });
});

describe('non-finite weights', () => {
  it('warns once per blob with the counts, and still copies', async () => {
    const values = ramp(50);
    values[3] = NaN;
    values[7] = NaN;
    values[9] = -Infinity;
    const file = writeWeights('nan.caffemodel', { layer: [{ name: 'ip', blobs: [{ shape: { dim: [10, 5] }, data: values }, { shape: { dim: [10] }, data: [NaN, ...ramp(9)] }] }] });
    const r = await testWith(file);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('W'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/nan\.caffemodel: blob 0 of layer "ip" holds 2 NaN and 1 infinite values \(of 50\)$/);
    expect(warnings[1]).toMatch(/nan\.caffemodel: blob 1 of layer "ip" holds 1 NaN value \(of 10\)$/);
  });
});

describe('--weights a,b', () => {
  it('every missing file is named in one error before anything is copied', async () => {
    const good = writeWeights('good.caffemodel', { layer: [ipLayer({ shape: { dim: [10, 5] }, data: ramp(50) })] });
    const r = await testWith(`${good},${path.join(dir, 'missing.caffemodel')},${dir}`);
    expectOneError(r, /cannot read weights files .*missing\.caffemodel \(no such file\), .*kdnet-weights-cli-\w+ \(it is a directory\)$/);
    expect(r.stderr).not.toMatch(/Ignoring|Layers not in/);
    expectOneError(await testWith(`${good},,${good}`), /empty file name in the weights list/);
  });

  it('a missing file in train --weights is the same one error', async () => {
    fs.writeFileSync(path.join(dir, 'solver.prototxt'), `net: "${net}"\nbase_lr: 0.1\nmax_iter: 1\nlr_policy: "fixed"\n`);
    const r = await run('train', '--solver', path.join(dir, 'solver.prototxt'), '--weights', path.join(dir, 'nope.caffemodel'), '--backend', 'cpu');
    expectOneError(r, /cannot read weights file .*nope\.caffemodel \(no such file\)$/);
  });
});

describe('HDF5 weights (snapshot_format: HDF5)', () => {
  it('log ignored layers and warn non-finite values the same way; a file that is not HDF5 is one error', async () => {
    const file = path.join(dir, 'w.caffemodel.h5');
    type Group = { get(p: string): Group; create_group(n: string): unknown; create_dataset(o: object): unknown };
    writeHdf5Atomic(file, (root) => {
      root.create_group('data');
      const data = root.get('data') as unknown as Group;
      data.create_group('ip');
      data.create_group('fc7');
      const values = Float32Array.from(ramp(50));
      values[0] = Infinity;
      data.get('ip').create_dataset({ name: '0', data: values, shape: [10, 5] });
      data.get('ip').create_dataset({ name: '1', data: Float32Array.from(ramp(10)), shape: [10] });
    });
    const r = await testWith(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^I.* kdnet\] Ignoring source layer fc7$/m);
    expect(r.stderr).toMatch(/^W.* kdnet\] .*w\.caffemodel\.h5: blob 0 of layer "ip" holds 1 infinite value \(of 50\)$/m);
    expect(r.stderr).not.toMatch(/No layer was copied/);

    const fake = path.join(dir, 'fake.h5');
    fs.writeFileSync(fake, 'not hdf5 at all');
    expectOneError(await testWith(fake), /^error: weights: .*fake\.h5: not an HDF5 file \(no HDF5 signature; it starts with "not hdf5 at all"\)$/);
  });
});
