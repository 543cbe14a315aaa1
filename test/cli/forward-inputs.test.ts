// `kdnet forward --input blob=x.npy` with .npy files a user may hand it: converted as numpy would, or one
// exit-1 message naming the file and the blob (never a tfjs error or an internal error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { encodeNpy, readNpy } from '../../src/util/npy.js';
import { initBackend } from '../../src/backend/select.js';
import { expectOneError } from '../support/cli-errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-forward-inputs-'));
const net = path.join(dir, 'net.prototxt');

async function forward(input: string, ...more: string[]) {
  const io = bufferIO();
  const code = await runCli(['forward', '--model', net, '--input', `x=${input}`, '--backend', 'cpu', ...more], io);
  return { code, ...io };
}

/** A .npy file by hand: v1.0 header padded to 64 bytes, then the data bytes. */
function npyFile(name: string, descr: string, shape: number[], data: Buffer): string {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const header = dict.padEnd(Math.ceil((11 + dict.length) / 64) * 64 - 11, ' ') + '\n';
  const head = Buffer.from('\x93NUMPY\x01\x00\x00\x00', 'latin1');
  head.writeUInt16LE(header.length, 8);
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
  return file;
}

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.writeFileSync(
    net,
    `name: "tiny"
layer { name: "in_x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "constant" value: 1 } } }
`,
  );
});

describe('kdnet forward --input', () => {
  it('bool, int64 and big-endian arrays convert to float32 as numpy does', async () => {
    const cases: Array<[string, string, Buffer]> = [
      ['bool.npy', '|b1', Buffer.from([1, 0, 1, 1, 1, 0])],
      ['int64.npy', '<i8', Buffer.concat([1n, 0n, 1n, 1n, 1n, 0n].map((v) => { const b = Buffer.alloc(8); b.writeBigInt64LE(v); return b; }))],
      ['be.npy', '>f4', Buffer.concat([1, 0, 1, 1, 1, 0].map((v) => { const b = Buffer.alloc(4); b.writeFloatBE(v); return b; }))],
    ];
    for (const [name, descr, data] of cases) {
      const out = path.join(dir, `dump_${name}`);
      const r = await forward(npyFile(name, descr, [2, 3], data), '--dump', out);
      expect(r.code, r.stderr).toBe(0);
      // Constant weights 1: each output is the row sum.
      expect(Array.from(readNpy(path.join(out, 'y.npy')).data)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    }
  });

  it('a file that cannot be numbers names the file, the blob and what kdnet reads', async () => {
    expectOneError(await forward(npyFile('complex.npy', '<c8', [2, 3], Buffer.alloc(48))), /^error: blob "x": .*complex\.npy: dtype '<c8' \(complex numbers\) cannot be read as numbers: kdnet reads bool, int8/);
    expectOneError(await forward(npyFile('strings.npy', '<U5', [2, 3], Buffer.alloc(120))), /^error: blob "x": .*strings\.npy: dtype '<U5' \(a string array\)/);
    expectOneError(await forward(npyFile('objects.npy', '|O', [2, 3], Buffer.from('\x80\x02]q\x00.', 'latin1'))), /objects\.npy: dtype '\|O' \(pickled Python objects\)/);
  });

  it('data shorter than the header says is one error with both sizes', async () => {
    expectOneError(await forward(npyFile('short.npy', '<f4', [2, 3], Buffer.alloc(20))), /^error: blob "x": .*short\.npy: truncated: its header says shape \(2, 3\) of '<f4', 6 values in 24 bytes, but only 20 bytes follow the 128-byte header$/);
  });

  it('another number of axes than the input blob is an error; another size is the net\'s reshape', async () => {
    expectOneError(await forward(path.join(dir, 'flat.npy')), /^error: blob "x": cannot read .*flat\.npy: no such file$/);
    fs.writeFileSync(path.join(dir, 'flat.npy'), encodeNpy(new Float32Array(6), [6]));
    expectOneError(await forward(path.join(dir, 'flat.npy')), /^error: blob "x": .*flat\.npy: shape \(6,\) has 1 axis but the input blob has 2 axes \(\[2, 3\] in .*net\.prototxt\)$/);
    fs.writeFileSync(path.join(dir, 'batch4.npy'), encodeNpy(new Float32Array(12).fill(1), [4, 3]));
    const r = await forward(path.join(dir, 'batch4.npy'), '--dump', path.join(dir, 'batch4'));
    expect(r.code, r.stderr).toBe(0);
    expect(readNpy(path.join(dir, 'batch4', 'y.npy')).shape).toEqual([4, 4]);
  });

  it('a --top-diff whose shape is not its blob\'s is an error naming both', async () => {
    fs.writeFileSync(path.join(dir, 'x.npy'), encodeNpy(new Float32Array(6), [2, 3]));
    fs.writeFileSync(path.join(dir, 'dy.npy'), encodeNpy(new Float32Array(6), [2, 3]));
    const r = await forward(path.join(dir, 'x.npy'), '--top-diff', `y=${path.join(dir, 'dy.npy')}`, '--backward');
    expectOneError(r, /^error: blob "y": .*dy\.npy: shape \(2, 3\) is not the shape of the blob whose diff it seeds \(\[2, 4\]\)$/);
  });
});
