// Net::Reshape through the library: a fully convolutional net fed inputs of other sizes than its prototxt
// declares gives Caffe's shapes and exactly the values of the same net declared at that size; reshaping back
// and forth keeps parameters and leaks nothing; sizes a layer cannot take, and sizes past the run-time limits,
// are one KdnetError naming the layer, blob and shapes, raised before anything is allocated.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { parseCaffeText } from '../../src/proto/text.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { initBackend } from '../../src/backend/select.js';
import { KdnetError } from '../../src/errors.js';
import { copyTrainedLayers, netToWeightsMessage } from '../../src/proto/weights.js';
import { parseByteSize, resolveSizeLimits, TFJS_MAX_TENSOR_ELEMENTS } from '../../src/net/size-limits.js';
import { pnetInput, pnetShapes, pnetText } from '../support/pnet.js';

const SIZES: Array<[number, number]> = [
  [12, 12],
  [25, 31],
  [47, 40],
];

/** The one-line report of the KdnetError `fn` throws (file:line:col: layer: message). */
function reportOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KdnetError);
    return (e as KdnetError).report();
  }
  throw new Error('no error');
}

function build(text: string, options: Partial<ConstructorParameters<typeof Net>[1]> = {}): Net {
  return new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase: Phase.TEST, seed: 3, ...options });
}

/** A net declared for n × 3 × h × w with the weights of `source`. */
function declaredAt(source: Net, n: number, h: number, w: number): Net {
  const net = build(pnetText(n, h, w), { seed: 99 });
  copyTrainedLayers(net, netToWeightsMessage(source));
  return net;
}

function run(net: Net, shape: number[], seed: number): Record<string, { shape: number[]; values: Float32Array }> {
  net.setInput('data', tf.tensor(pnetInput(shape, seed), shape));
  net.forward();
  return Object.fromEntries(net.blobNames().map((b) => [b, { shape: net.blob(b).shape, values: net.blob(b).dataSync() as Float32Array }]));
}

function expectSameBlobs(got: ReturnType<typeof run>, want: ReturnType<typeof run>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    expect(got[name]!.shape, name).toEqual(w.shape);
    expect(Array.from(got[name]!.values), name).toEqual(Array.from(w.values));
  }
}

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('Net.reshape on a fully convolutional net', () => {
  it('gives Caffe\'s shapes and the values of the net declared at each size', () => {
    const net = build(pnetText(1, 12, 12));
    try {
      for (const [h, w] of SIZES) {
        for (const n of [1, 2]) {
          const got = run(net, [n, 3, h, w], h * w + n);
          const expected = pnetShapes(n, h, w);
          for (const [blob, shape] of Object.entries(expected)) {
            expect(got[blob]!.shape, `${blob} at ${n}x3x${h}x${w}`).toEqual(shape);
            expect(net.blobShape(blob), `${blob} recorded shape`).toEqual(shape);
          }
          const fresh = declaredAt(net, n, h, w);
          try {
            expectSameBlobs(got, run(fresh, [n, 3, h, w], h * w + n));
          } finally {
            fresh.dispose();
          }
        }
      }
    } finally {
      net.dispose();
    }
  });

  it('reshapes large → small → large with the same values as fresh nets, the same parameters and no leak', () => {
    const net = build(pnetText(1, 12, 12));
    const params = net.learnableParams.map((p) => p.tensor);
    const paramValues = params.map((p) => Array.from(p.dataSync()));
    const rng = net.saveState().rng;
    const want = new Map<string, ReturnType<typeof run>>();
    for (const [h, w] of [SIZES[2]!, SIZES[0]!]) {
      const fresh = declaredAt(net, 1, h, w);
      want.set(`${h}x${w}`, run(fresh, [1, 3, h, w], 7));
      fresh.dispose();
    }
    try {
      const counts: number[] = [];
      for (const [h, w] of [SIZES[2]!, SIZES[0]!, SIZES[2]!, SIZES[0]!, SIZES[2]!]) {
        expectSameBlobs(run(net, [1, 3, h, w], 7), want.get(`${h}x${w}`)!);
        counts.push(tf.memory().numTensors);
      }
      // Same size, same number of live tensors: nothing accumulates across reshapes.
      expect(counts[2]).toBe(counts[0]);
      expect(counts[4]).toBe(counts[0]);
      expect(counts[3]).toBe(counts[1]);
      net.learnableParams.forEach((p, i) => {
        expect(p.tensor).toBe(params[i]);
        expect(Array.from(p.tensor.dataSync())).toEqual(paramValues[i]);
      });
      expect(net.saveState().rng).toEqual(rng); // no filler ran again
    } finally {
      net.dispose();
    }
  });

  it('reshape() without data computes every shape; setInputShape zero-fills at the next forward', () => {
    const net = build(pnetText(1, 12, 12));
    try {
      net.setInputShape('data', [2, 3, 47, 40]);
      net.reshape();
      for (const [blob, shape] of Object.entries(pnetShapes(2, 47, 40))) expect(net.blobShape(blob), blob).toEqual(shape);
      net.forward();
      expect(net.blob('data').shape).toEqual([2, 3, 47, 40]);
      expect(Array.from(net.blob('data').dataSync()).every((v) => v === 0)).toBe(true);
      expect(net.blob('prob1').shape).toEqual(pnetShapes(2, 47, 40).prob1);
    } finally {
      net.dispose();
    }
  });

  it('a too-small input is one error naming the layer and the shapes, and the net still works afterwards', () => {
    const net = build(pnetText(1, 12, 12));
    try {
      net.setInput('data', tf.zeros([1, 3, 8, 8]));
      let err: unknown;
      try {
        net.forward();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KdnetError);
      const e = err as KdnetError;
      expect(e.where.layer).toBe('conv3');
      expect(e.where.position?.file).toBe('net.prototxt');
      // conv1 6×6, pool1 3×3, conv2 1×1: conv3's 3×3 kernel does not fit.
      expect(e.message).toMatch(/output would be empty: spatial input 1 x 1 with kernel extent 3 x 3.*gives top \[1, 8, 0, 0\] from bottom \[1, 16, 1, 1\].*reshaping to bottom 'conv2' \[1, 16, 1, 1\]/);
      const ok = run(net, [1, 3, 25, 31], 5);
      expect(ok.prob1!.shape).toEqual(pnetShapes(1, 25, 31).prob1);
    } finally {
      net.dispose();
    }
  });

  it('an InnerProduct after the reshaped part refuses another row size, as Caffe does', () => {
    const net = build(`${pnetText(1, 12, 12)}
layer { name: "fc" type: "InnerProduct" bottom: "conv3" top: "fc" inner_product_param { num_output: 3 } }`);
    try {
      net.setInputShape('data', [4, 3, 12, 12]); // a new batch size is fine
      net.reshape();
      expect(net.blobShape('fc')).toEqual([4, 3]);
      net.setInputShape('data', [1, 3, 13, 12]);
      expect(reportOf(() => net.reshape())).toMatch(
        /layer "fc" \(InnerProduct\).*input size incompatible with inner product parameters: bottom \[1, 8, 2, 1\] has 16 values per row from axis 1, but the weights expect 8 \(reshaping to bottom 'conv3' \[1, 8, 2, 1\]\)/,
      );
    } finally {
      net.dispose();
    }
  });
});

describe('run-time size limits', () => {
  const errorOf = (fn: () => unknown): KdnetError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      return e as KdnetError;
    }
    throw new Error('no error');
  };

  it('refuses a DummyData of 1×3×32768×32768 before allocating it', () => {
    const before = tf.memory().numBytes;
    const e = errorOf(() => build('layer { name: "dummy" type: "DummyData" top: "d" dummy_data_param { shape { dim: 1 dim: 3 dim: 32768 dim: 32768 } } }'));
    // Caught where the shape is written, by the structural check that runs before any layer is set up.
    expect(e.where.layer).toBe('dummy');
    expect(e.oneLine).toContain('layer "dummy".dummy_data_param.shape[0]: 1x3x32768x32768: 3221225472 elements (12.00 GiB) are more than the limit of 2147483647 elements per blob');
    expect(tf.memory().numBytes).toBe(before);
  });

  it('refuses an Input of 1e9×1e9', () => {
    const e = errorOf(() => build('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1000000000 dim: 1000000000 } } }'));
    expect(e.where.layer).toBe('in');
    expect(e.message).toMatch(/^1000000000x1000000000: 1\.000e\+18 elements \(.* EiB\) are more than the limit/);
  });

  it('refuses a parameter blob past the limit before filling it', () => {
    const before = tf.memory().numBytes;
    const e = errorOf(() =>
      build(`layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 100 } } }
layer { name: "fc" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4000000000 weight_filler { type: "gaussian" } } }`),
    );
    expect(e.where.layer).toBe('fc');
    expect(e.message).toContain('parameter blob 0 of shape 4000000000x100: 400000000000 elements (1.46 TiB) are more than the limit of 2147483647 elements per blob');
    expect(tf.memory().numBytes).toBe(before);
  });

  it('checks the net\'s total against the memory limit, at the layer where it is passed', () => {
    const text = `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 1000 } } }
layer { name: "r" type: "ReLU" bottom: "x" top: "r" }
layer { name: "s" type: "Sigmoid" bottom: "r" top: "s" }`;
    // 3 blobs of 4000 bytes: a 10 000-byte budget is passed at the third.
    const e = errorOf(() => build(text, { sizeLimits: { memoryBytes: 10000 } }));
    expect(e.where.layer).toBe('s');
    expect(e.message).toMatch(/blobs and parameters up to this layer \(tops 's' \[1, 1000\]\) need 11\.72 KiB, more than the memory limit of 9\.77 KiB/);
    build(text, { sizeLimits: { memoryBytes: 12000 } }).dispose();
    // A reshape past the budget is refused before the forward allocates.
    const net = build(text, { sizeLimits: { memoryBytes: 12000, maxBlobElements: 1500 } });
    try {
      net.setInputShape('x', [1, 1001]);
      expect(reportOf(() => net.reshape())).toMatch(/layer "s".*need 11\.73 KiB, more than the memory limit of 11\.72 KiB/);
      net.setInputShape('x', [1, 2000]);
      expect(reportOf(() => net.forward())).toMatch(/layer "in".*top blob 'x' of shape \[1, 2000\]: 2000 elements .* more than the limit of 1500 elements per blob/);
    } finally {
      net.dispose();
    }
  });

  it('reads its limits from the options, then KDNET_MAX_BLOB_ELEMENTS / KDNET_MEMORY_LIMIT, then the machine', () => {
    expect(resolveSizeLimits({}, {}).maxBlobElements).toBe(TFJS_MAX_TENSOR_ELEMENTS);
    expect(resolveSizeLimits({}, {}).memoryBytes).toBeGreaterThan(0);
    expect(resolveSizeLimits({}, { KDNET_MAX_BLOB_ELEMENTS: '1000', KDNET_MEMORY_LIMIT: '2G' })).toEqual({ maxBlobElements: 1000, memoryBytes: 2 * 2 ** 30 });
    expect(resolveSizeLimits({ memoryBytes: 5 }, { KDNET_MEMORY_LIMIT: '2G' }).memoryBytes).toBe(5);
    expect(parseByteSize('512M', 'x')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1.5GiB', 'x')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('4096', 'x')).toBe(4096);
    expect(() => parseByteSize('lots', '--memory-limit')).toThrow(/--memory-limit expects a size like 8G/);
    expect(() => resolveSizeLimits({}, { KDNET_MAX_BLOB_ELEMENTS: '-3' })).toThrow(/KDNET_MAX_BLOB_ELEMENTS expects a positive whole number/);
  });
});
