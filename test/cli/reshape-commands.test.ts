// Inputs whose size differs from the prototxt, and run-time size limits, where a user meets them: `kdnet
// forward --input` reshapes the net (dumped shapes by Caffe's formulas, values equal to the net declared at
// that size), `kdnet time` / `kdnet test` take --input-shape (and time --phase), and sizes a layer cannot take
// or that pass the limits are one exit-1 error naming the layer, the blob and the size.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { encodeNpy, readNpy } from '../../src/util/npy.js';
import { initBackend } from '../../src/backend/select.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { writeCaffemodel } from '../../src/proto/weights.js';
import { pnetInput, pnetShapes, pnetText } from '../support/pnet.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-reshape-cli-'));
const file = (name: string) => path.join(dir, name);

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli([...argv, '--backend', 'cpu'], io);
  return { code, ...io };
}

/** An exit-1 run: one `error:` line, no stack, no internal error. */
function expectOneError(r: { code: number; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

function writeNet(name: string, text: string): string {
  fs.writeFileSync(file(name), text);
  return file(name);
}

beforeAll(async () => {
  await initBackend('cpu', true);
  writeNet('pnet.prototxt', pnetText(1, 12, 12));
  // Fixed weights, written once: every run below loads them.
  const net = new Net(parseCaffeText(pnetText(1, 12, 12), 'NetParameter').message, { phase: Phase.TEST, seed: 21 });
  writeCaffemodel(net, file('pnet.caffemodel'));
  net.dispose();
});

afterEach(() => {
  delete process.env.KDNET_MEMORY_LIMIT;
});

describe('kdnet forward with inputs of another size than declared', () => {
  for (const [h, w] of [
    [12, 12],
    [25, 31],
    [47, 40],
  ] as const) {
    it(`${h}×${w}: Caffe's shapes in the dump, the values of the net declared at ${h}×${w}`, async () => {
      const shape = [2, 3, h, w];
      fs.writeFileSync(file(`x${h}.npy`), encodeNpy(pnetInput(shape, h), shape));
      const declared = writeNet(`pnet${h}x${w}.prototxt`, pnetText(2, h, w));
      const weights = file('pnet.caffemodel');
      const reshaped = await run('forward', '--model', file('pnet.prototxt'), '--weights', weights, '--input', `data=${file(`x${h}.npy`)}`, '--dump', file(`reshaped${h}`));
      expect(reshaped.code, reshaped.stderr).toBe(0);
      const fresh = await run('forward', '--model', declared, '--weights', weights, '--input', `data=${file(`x${h}.npy`)}`, '--dump', file(`declared${h}`));
      expect(fresh.code, fresh.stderr).toBe(0);
      for (const [blob, expected] of Object.entries(pnetShapes(2, h, w))) {
        const got = readNpy(file(`reshaped${h}/${blob}.npy`));
        const want = readNpy(file(`declared${h}/${blob}.npy`));
        expect(got.shape, blob).toEqual(expected);
        expect(want.shape, blob).toEqual(expected);
        expect(Array.from(got.data), blob).toEqual(Array.from(want.data));
      }
    });
  }

  it('a too-small input is one error naming the layer and the shapes', async () => {
    fs.writeFileSync(file('x8.npy'), encodeNpy(pnetInput([1, 3, 8, 8], 1), [1, 3, 8, 8]));
    const r = await run('forward', '--model', file('pnet.prototxt'), '--input', `data=${file('x8.npy')}`);
    const line = expectOneError(r);
    expect(line).toContain(`${file('pnet.prototxt')}:8:`); // conv3's line
    expect(line).toMatch(/layer "conv3" \(Convolution\)\.convolution_param: output would be empty: spatial input 1 x 1 with kernel extent 3 x 3/);
    expect(line).toContain("gives top [1, 8, 0, 0] from bottom [1, 16, 1, 1] (reshaping to bottom 'conv2' [1, 16, 1, 1])");
  });
});

describe('kdnet time / test --input-shape', () => {
  const withTestOnlyLayer = () =>
    writeNet('pnet-phases.prototxt', `${pnetText(1, 12, 12)}layer { name: "test_only" type: "Softmax" bottom: "conv4-2" top: "p2" include { phase: TEST } }\n`);

  it('time runs the net at the given shape in the given phase', async () => {
    const model = withTestOnlyLayer();
    const r = await run('time', '--model', model, '--input-shape', 'data=1,3,24,24', '--phase', 'TEST', '--iterations', '1');
    expect(r.code, r.stderr).toBe(0);
    const s = pnetShapes(1, 24, 24);
    for (const blob of ['data', 'conv1', 'pool1', 'conv2', 'conv3', 'pool2', 'prob1']) {
      const dims = s[blob]!;
      expect(r.stderr, blob).toContain(`Top shape: ${dims.join(' ')} (${dims.reduce((a, b) => a * b, 1)})`);
    }
    expect(r.stderr).toMatch(/test_only\tforward: [\d.e+-]+ ms\./);
    expect(r.stderr).toMatch(/     conv1\tforward: [\d.e+-]+ ms\./);
    expect(r.stderr).toMatch(/Average Forward pass: /);
    // TRAIN (the default, as in Caffe) has no TEST-only layer.
    const train = await run('time', '--model', model, '--input-shape', 'data=1,3,24,24', '--iterations', '1');
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).not.toContain('test_only');
  });

  it('test scores the outputs at the given shape', async () => {
    const r = await run('test', '--model', file('pnet.prototxt'), '--weights', file('pnet.caffemodel'), '--input-shape', 'data=2,3,25,31', '--iterations', '1');
    expect(r.code, r.stderr).toBe(0);
    const s = pnetShapes(2, 25, 31);
    const count = (d: number[]) => d.reduce((a, b) => a * b, 1);
    // `caffe test` logs every element of every output per batch.
    expect(r.stderr.match(/Batch 0, prob1 = /g)).toHaveLength(count(s.prob1!));
    expect(r.stderr.match(/Batch 0, conv4-2 = /g)).toHaveLength(count(s['conv4-2']!));
  });

  it('an --input-shape the net cannot take, or for a blob that is not an input, is one error', async () => {
    const small = await run('time', '--model', file('pnet.prototxt'), '--input-shape', 'data=1,3,8,8', '--iterations', '1');
    expect(expectOneError(small)).toMatch(/layer "conv3".*output would be empty/);
    const notInput = await run('test', '--model', file('pnet.prototxt'), '--input-shape', 'conv1=1,10,5,5', '--iterations', '1');
    expect(expectOneError(notInput)).toContain(`'conv1' is not an input blob of net "PNetLike" (inputs: data)`);
    const bad = await run('time', '--model', file('pnet.prototxt'), '--input-shape', 'data=1,3,x', '--iterations', '1');
    expect(expectOneError(bad)).toContain("--input-shape expects BLOB=D1,D2,..., got 'data=1,3,x'");
  });
});

describe('run-time size limits through the CLI', () => {
  const rssGrowth = async (fn: () => Promise<void>): Promise<number> => {
    const before = process.memoryUsage().rss;
    await fn();
    return process.memoryUsage().rss - before;
  };

  it('DummyData 1×3×32768×32768: exit 1 naming layer, blob and size, nothing allocated', async () => {
    const model = writeNet('dummy.prototxt', 'layer { name: "dummy" type: "DummyData" top: "d" dummy_data_param { shape { dim: 1 dim: 3 dim: 32768 dim: 32768 } } }\n');
    const tensors = tf.memory().numBytes;
    let line = '';
    const growth = await rssGrowth(async () => {
      line = expectOneError(await run('forward', '--model', model));
    });
    expect(line).toContain(`${model}:1:77: layer "dummy".dummy_data_param.shape[0]: 1x3x32768x32768: 3221225472 elements (12.00 GiB) are more than the limit`);
    expect(tf.memory().numBytes).toBe(tensors);
    expect(growth).toBeLessThan(512 * 2 ** 20);
  });

  it('Input 1e9×1e9: exit 1, not a raw "Invalid typed array length"', async () => {
    const model = writeNet('huge-input.prototxt', 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1000000000 dim: 1000000000 } } }\n');
    for (const cmd of ['forward', 'time', 'test']) {
      const line = expectOneError(await run(cmd, '--model', model, ...(cmd === 'forward' ? [] : ['--iterations', '1'])));
      expect(line).toMatch(/:1:70: layer "data"\.input_param\.shape\[0\]: 1000000000x1000000000: 1\.000e\+18 elements \(3\.47 EiB\) are more than the limit/);
    }
  });

  it('InnerProduct num_output 1e10 (past uint32) and 4e9 (past the blob limit): exit 1, nothing filled', async () => {
    const ip = (n: string) => `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 100 } } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: ${n} weight_filler { type: "xavier" } } }
`;
    const growth = await rssGrowth(async () => {
      const e10 = expectOneError(await run('forward', '--model', writeNet('ip1e10.prototxt', ip('10000000000'))));
      expect(e10).toMatch(/layer\[1\] "fc"\.inner_product_param\.num_output: value 10000000000 is out of range/);
      const e9 = expectOneError(await run('forward', '--model', writeNet('ip4e9.prototxt', ip('4000000000'))));
      expect(e9).toContain('layer "fc" (InnerProduct).inner_product_param: parameter blob 0 of shape 4000000000x100: 400000000000 elements (1.46 TiB)');
    });
    expect(growth).toBeLessThan(512 * 2 ** 20);
  });

  it('--max-blob-elements, --memory-limit and KDNET_MEMORY_LIMIT override the defaults', async () => {
    fs.writeFileSync(file('x47.npy'), encodeNpy(pnetInput([1, 3, 47, 40], 4), [1, 3, 47, 40]));
    const args = ['forward', '--model', file('pnet.prototxt'), '--input', `data=${file('x47.npy')}`];
    expect((await run(...args)).code).toBe(0);
    const blob = expectOneError(await run(...args, '--max-blob-elements', '10000'));
    expect(blob).toMatch(/layer "conv1" \(Convolution\): top blob 'conv1' of shape \[1, 10, 45, 38\] from bottom 'data' \[1, 3, 47, 40\]: 17100 elements \(66\.80 KiB\) are more than the limit of 10000 elements per blob/);
    const total = expectOneError(await run(...args, '--memory-limit', '100K'));
    expect(total).toMatch(/layer "PReLU1".*need [\d.]+ KiB, more than the memory limit of 100\.00 KiB \(--memory-limit or KDNET_MEMORY_LIMIT\)/);
    process.env.KDNET_MEMORY_LIMIT = '100K';
    expect(expectOneError(await run(...args))).toMatch(/more than the memory limit of 100\.00 KiB/);
    expect((await run(...args, '--memory-limit', '1G')).code).toBe(0); // the flag wins over the environment
    expect(expectOneError(await run(...args, '--memory-limit', 'plenty'))).toContain("--memory-limit expects a size like 8G, 512M or 1073741824 (bytes), got 'plenty'");
  });
});
