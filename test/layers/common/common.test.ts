// Common layers: configuration errors (positioned KdnetErrors with clear messages), Caffe behaviours the
// golden fixtures do not cover (tie-breaking, legacy fields, running statistics, data-dependent shapes),
// small nets using Split / Filter / Parameter / Silence, and tensor hygiene.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { makeLayer } from '../../support/gradient-check.js';
import { initBackend } from '../../../src/backend/select.js';
import { Phase } from '../../../src/net/net-state.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { KdnetError } from '../../../src/errors.js';
import type { Layer } from '../../../src/layers/layer.js';

beforeAll(async () => {
  await initBackend('cpu', true);
});

const values = (t: tf.Tensor | null | undefined) => Array.from(t!.dataSync());

function close(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `at ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!))));
}

/** makeLayer in any phase (its `phase` parameter is typed as the TRAIN literal). */
const at = (text: string, phase: number): Layer => (makeLayer as (t: string, p: number) => Layer)(text, phase);

/** Sets the layer up for the bottoms and runs forward. */
function forward(layer: Layer, bottoms: tf.Tensor[]): tf.Tensor[] {
  layer.setup(bottoms.map((b) => b.shape));
  return layer.forward(bottoms);
}

function setupError(text: string, shapes: number[][], phase: number = Phase.TRAIN): KdnetError {
  const layer = at(text, phase);
  try {
    layer.setup(shapes);
  } catch (e) {
    expect(e).toBeInstanceOf(KdnetError);
    return e as KdnetError;
  }
  throw new Error('expected set-up to fail');
}

function build(text: string, phase: number = Phase.TRAIN): Net {
  return new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase, seed: 3 });
}

const input = (name: string, dims: number[]) => `layer { name: "in_${name}" type: "Input" top: "${name}" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }`;

describe('InnerProduct', () => {
  it('creates weights N × K (K × N with transpose) and a bias N', () => {
    const a = makeLayer('name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 }');
    expect(a.setup([[2, 3, 5]])).toEqual([[2, 4]]);
    expect(a.blobs.map((b) => b.shape)).toEqual([[4, 15], [4]]);
    const b = makeLayer('name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 transpose: true bias_term: false axis: -1 }');
    expect(b.setup([[2, 3, 5]])).toEqual([[2, 3, 4]]);
    expect(b.blobs.map((x) => x.shape)).toEqual([[5, 4]]);
    a.dispose();
    b.dispose();
  });

  it('computes x·Wᵀ + b', () => {
    const layer = makeLayer('name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 }');
    layer.setup([[1, 3]]);
    layer.blobs[0]!.assign(tf.tensor([[1, 2, 3], [-1, 0, 1]]));
    layer.blobs[1]!.assign(tf.tensor([0.5, -0.5]));
    const [y] = layer.forward([tf.tensor([[1, 1, 2]])]);
    expect(values(y)).toEqual([9.5, 0.5]);
  });

  it('rejects a missing num_output and a bottom of another size after set-up', () => {
    expect(setupError('name: "ip" type: "InnerProduct" bottom: "x" top: "y"', [[2, 3]]).message).toMatch(/num_output/);
    const layer = makeLayer('name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 }');
    layer.setup([[2, 6]]);
    expect(layer.setup([[5, 6]])).toEqual([[5, 2]]);
    expect(() => layer.setup([[2, 7]])).toThrow(/incompatible with inner product parameters/);
    expect(setupError('name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 axis: 2 }', [[2, 6]]).message).toMatch(/axis 2 is out of range/);
  });
});

describe('Concat and Slice', () => {
  it('checks shapes and axis fields', () => {
    expect(setupError('name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y"', [[2, 3, 4], [2, 3, 5]]).message).toMatch(/same shape except at the concat axis 1/);
    expect(setupError('name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y"', [[2, 3], [2, 3, 1]]).message).toMatch(/same number of axes/);
    expect(setupError('name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { axis: 1 concat_dim: 1 }', [[2, 3], [2, 3]]).message).toMatch(/not both/);
    expect(setupError('name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { concat_dim: 2 }', [[2, 3], [2, 3]]).message).toMatch(/concat_dim 2 is out of range/);
    expect(makeLayer('name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { axis: -1 }').setup([[2, 3], [2, 4]])).toEqual([[2, 7]]);
  });

  it('copies a single bottom', () => {
    const [y] = forward(makeLayer('name: "c" type: "Concat" bottom: "a" top: "y"'), [tf.tensor([[1, 2]])]);
    expect(values(y)).toEqual([1, 2]);
  });

  it('slices at points, equally, or by the legacy slice_dim', () => {
    const layer = makeLayer('name: "s" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_point: 1 }');
    const tops = forward(layer, [tf.tensor([[1, 2, 3], [4, 5, 6]])]);
    expect(tops.map((t) => t.shape)).toEqual([[2, 1], [2, 2]]);
    expect(values(tops[1])).toEqual([2, 3, 5, 6]);
    expect(makeLayer('name: "s" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_dim: 0 }').setup([[4, 3]])).toEqual([[2, 3], [2, 3]]);
  });

  it('a slice point at the end of the axis gives an empty last top (as Caffe)', () => {
    const layer = makeLayer('name: "s" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_point: 3 }');
    const x = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    const tops = forward(layer, [x]);
    expect(tops.map((t) => t.shape)).toEqual([[2, 3], [2, 0]]);
    const { bottomDiffs } = layer.backward([x], tops, [tf.onesLike(tops[0]!), tf.zeros([2, 0])], [true]);
    expect(values(bottomDiffs[0])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('rejects bad slice points with clear messages', () => {
    const s = (param: string, shape: number[], tops = 'top: "a" top: "b" top: "c"') => setupError(`name: "s" type: "Slice" bottom: "x" ${tops} slice_param { ${param} }`, [shape]).message;
    expect(s('slice_point: 2', [2, 6])).toMatch(/slice_point has 1 value\(s\) for 3 top\(s\)/);
    expect(s('slice_point: 3 slice_point: 2', [2, 6])).toMatch(/strictly increasing/);
    expect(s('slice_point: 2 slice_point: 7', [2, 6])).toMatch(/beyond the size 6/);
    expect(s('axis: 1', [2, 7])).toMatch(/3 tops do not evenly divide axis 1 of size 7/);
    expect(s('axis: 1 slice_dim: 1', [2, 6])).toMatch(/not both/);
    expect(s('slice_point: 1 slice_point: 2', [2, 2])).toMatch(/cannot slice axis 1 of size 2 into 3 tops/);
  });
});

describe('Flatten and Reshape', () => {
  const reshape = (param: string, shape: number[]) => makeLayer(`name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { ${param} }`).setup([shape])[0];

  it('flattens axis..end_axis', () => {
    expect(makeLayer('name: "f" type: "Flatten" bottom: "x" top: "y"').setup([[2, 3, 4, 5]])).toEqual([[2, 60]]);
    expect(makeLayer('name: "f" type: "Flatten" bottom: "x" top: "y" flatten_param { axis: 0 end_axis: -2 }').setup([[2, 3, 4, 5]])).toEqual([[24, 5]]);
    expect(setupError('name: "f" type: "Flatten" bottom: "x" top: "x"', [[2, 3]]).message).toMatch(/does not allow in-place/);
  });

  it('copies 0s, infers -1, and replaces only axis..axis+num_axes', () => {
    expect(reshape('shape { dim: 0 dim: -1 }', [2, 3, 4])).toEqual([2, 12]);
    expect(reshape('shape { dim: 1 } axis: -1 num_axes: 0', [2, 3])).toEqual([2, 3, 1]);
    expect(reshape('shape { dim: 1 } axis: 0 num_axes: 0', [2, 3])).toEqual([1, 2, 3]);
    expect(reshape('shape { dim: -1 dim: 2 } axis: 1', [2, 3, 4])).toEqual([2, 6, 2]);
    expect(reshape('shape { dim: 2 dim: 2 } axis: 1 num_axes: 1', [3, 4, 5])).toEqual([3, 2, 2, 5]);
    expect(reshape('shape { }', [1])).toEqual([]);
  });

  it('rejects impossible shapes', () => {
    const r = (param: string, shape: number[]) => setupError(`name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { ${param} }`, [shape]).message;
    expect(r('shape { dim: -1 dim: -1 }', [2, 3])).toMatch(/more than one -1/);
    expect(r('shape { dim: 0 dim: 0 dim: 0 }', [6, 1])).toMatch(/no axis 2 to copy/);
    expect(r('shape { dim: 5 dim: -1 }', [2, 3])).toMatch(/not divisible by the product 5/);
    expect(r('shape { dim: 4 dim: 2 }', [2, 3])).toMatch(/does not keep the bottom's 6 values/);
    expect(r('shape { dim: 2 } axis: 3', [2, 3])).toMatch(/axis 3 is out of range/);
    expect(r('shape { dim: 2 } num_axes: -2', [2, 3])).toMatch(/num_axes must be >= 0/);
    expect(r('shape { dim: -3 }', [3])).toMatch(/dimension -3/);
  });
});

describe('Eltwise', () => {
  it("routes MAX gradients like Caffe: bottom 1 wins a tie with bottom 0, later bottoms must be strictly greater", () => {
    const layer = makeLayer('name: "e" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "y" eltwise_param { operation: MAX }');
    const a = tf.tensor([1, 2, 3, 0]);
    const b = tf.tensor([1, 1, 3, 0]);
    const c = tf.tensor([0, 2, 3, 5]);
    const tops = forward(layer, [a, b, c]);
    expect(values(tops[0])).toEqual([1, 2, 3, 5]);
    const { bottomDiffs } = layer.backward([a, b, c], tops, [tf.tensor([10, 20, 30, 40])], [true, true, true]);
    expect(bottomDiffs.map(values)).toEqual([
      [0, 20, 0, 0],
      [10, 0, 30, 0],
      [0, 0, 0, 40],
    ]);
  });

  it('PROD with stable_prod_grad: false divides the top by the bottom (NaN at zeros, as Caffe)', () => {
    const layer = makeLayer('name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: PROD stable_prod_grad: false }');
    const a = tf.tensor([2, 0]);
    const b = tf.tensor([3, 4]);
    const tops = forward(layer, [a, b]);
    const { bottomDiffs } = layer.backward([a, b], tops, [tf.tensor([1, 1])], [true, true]);
    expect(values(bottomDiffs[0])[0]).toBe(3);
    expect(values(bottomDiffs[0])[1]).toBeNaN();
    expect(values(bottomDiffs[1])).toEqual([2, 0]);
  });

  it('validates coeff and shapes', () => {
    const e = (param: string, shapes: number[][]) => setupError(`name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { ${param} }`, shapes).message;
    expect(e('coeff: 1', [[2], [2]])).toMatch(/coeff has 1 value\(s\) for 2 bottoms/);
    expect(e('operation: PROD coeff: 1 coeff: 2', [[2], [2]])).toMatch(/only applies to operation SUM/);
    expect(e('operation: SUM', [[2, 3], [3, 2]])).toMatch(/same shape: bottom 0 is \[2, 3\], bottom 1 is \[3, 2\]/);
  });
});

describe('Softmax and ArgMax', () => {
  it('softmax is stable for large inputs', () => {
    const [y] = forward(makeLayer('name: "s" type: "Softmax" bottom: "x" top: "y"'), [tf.tensor([[1000, 1000, -1000]])]);
    close(values(y), [0.5, 0.5, 0]);
  });

  it('ArgMax lists equal values by descending index (std::greater on (value, index))', () => {
    const layer = makeLayer('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { top_k: 3 }');
    const [y] = forward(layer, [tf.tensor([[1, 5, 5, 0, 5], [2, 2, 1, 3, 0]])]);
    expect(y!.shape).toEqual([2, 1, 3]);
    expect(values(y)).toEqual([4, 2, 1, 3, 1, 0]);
    const one = makeLayer('name: "a" type: "ArgMax" bottom: "x" top: "y"');
    expect(values(forward(one, [tf.tensor([[7, 7, 1]])])[0])).toEqual([1]);
  });

  it('ArgMax with axis and out_max_val gives the values only', () => {
    const layer = makeLayer('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { axis: 1 top_k: 2 out_max_val: true }');
    const [y] = forward(layer, [tf.tensor([[[1, 9], [3, 2], [2, 4]]])]);
    expect(y!.shape).toEqual([1, 2, 2]);
    expect(values(y)).toEqual([3, 9, 2, 4]);
    const idx = makeLayer('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { axis: -1 }');
    expect(values(forward(idx, [tf.tensor([[[1, 9], [3, 2], [2, 4]]])])[0])).toEqual([1, 0, 1]);
  });

  it('ArgMax without axis: N × 2 × top_k, indices then values, padded to the bottom rank', () => {
    const layer = makeLayer('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { out_max_val: true }');
    expect(layer.setup([[2, 3, 4, 5]])).toEqual([[2, 2, 1, 1]]);
    const [y] = forward(layer, [tf.tensor([[0.5, 3, 1], [4, -1, 0]])]);
    expect(y!.shape).toEqual([2, 2, 1]);
    expect(values(y)).toEqual([1, 3, 0, 4]);
    expect(layer.hasBackward()).toBe(false);
  });

  it('ArgMax rejects top_k beyond the axis size or below 1', () => {
    expect(setupError('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { top_k: 7 }', [[2, 3, 2]]).message).toMatch(/top_k 7 exceeds the 6 values per sample/);
    expect(setupError('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { top_k: 4 axis: 1 }', [[2, 3, 2]]).message).toMatch(/exceeds the size 3 of axis 1/);
    expect(setupError('name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { top_k: 0 }', [[2, 3]]).message).toMatch(/at least 1/);
  });
});

describe('MVN', () => {
  it('adds eps to the standard deviation and maps constant rows to 0', () => {
    const layer = makeLayer('name: "m" type: "MVN" bottom: "x" top: "y" mvn_param { eps: 0.5 }');
    const [y] = forward(layer, [tf.tensor([[[1, 3]], [[2, 2]]], [2, 1, 2])]);
    // row 0: mean 2, std 1 → (±1) / 1.5; row 1: constant → 0
    close(values(y), [-1 / 1.5, 1 / 1.5, 0, 0]);
  });

  it('rejects blobs of more than 4 axes', () => {
    expect(setupError('name: "m" type: "MVN" bottom: "x" top: "y"', [[1, 2, 3, 4, 5]]).message).toMatch(/at most 4 axes/);
  });
});

describe('BatchNorm', () => {
  const bn = (param = '', phase: number = Phase.TRAIN) => at(`name: "bn" type: "BatchNorm" bottom: "x" top: "y" ${param}`, phase);

  it('creates zeroed, frozen statistics blobs [C], [C], [1]', () => {
    const layer = bn();
    layer.setup([[2, 3, 4]]);
    expect(layer.blobs.map((b) => b.shape)).toEqual([[3], [3], [1]]);
    expect(layer.blobs.flatMap((b) => values(b))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([...layer.frozenBlobs]).toEqual([0, 1, 2]);
    expect(() => layer.setup([[2, 4, 4]])).toThrow(/4 channels but this BatchNorm was set up for 3/);
  });

  it('updates the running sums at every TRAIN forward', () => {
    const layer = bn('batch_norm_param { moving_average_fraction: 0.5 }');
    const x = tf.tensor([[1, 10], [3, 20]]); // 2-D: N=2, C=2; channel means 2, 15; biased vars 1, 25
    forward(layer, [x]);
    close(values(layer.blobs[0]), [2, 15]);
    close(values(layer.blobs[1]), [2, 50]); // m/(m-1) = 2
    close(values(layer.blobs[2]), [1]);
    const [y] = layer.forward([x]);
    close(values(y), [-1, -1, 1, 1], 1e-4);
    close(values(layer.blobs[0]), [3, 22.5]);
    close(values(layer.blobs[1]), [3, 75]);
    close(values(layer.blobs[2]), [1.5]);
  });

  it('uses the running statistics in TEST, and a zero scale factor means zero statistics', () => {
    const layer = bn('batch_norm_param { eps: 0.01 }', Phase.TEST);
    const [y0] = forward(layer, [tf.tensor([[0.3, -0.2]])]);
    close(values(y0), [0.3 / 0.1, -0.2 / 0.1], 1e-4);
    layer.blobs[0]!.assign(tf.tensor([2, 4]));
    layer.blobs[1]!.assign(tf.tensor([8, 2]));
    layer.blobs[2]!.assign(tf.tensor([2]));
    const [y] = layer.forward([tf.tensor([[3, 2]])]);
    close(values(y), [(3 - 1) / Math.sqrt(4.01), (2 - 2) / Math.sqrt(1.01)], 1e-5);
    expect(values(layer.blobs[2])).toEqual([2]); // TEST never touches the statistics
  });

  it('use_global_stats: false in TEST still normalizes by the batch and updates the sums', () => {
    const layer = bn('batch_norm_param { use_global_stats: false }', Phase.TEST);
    const [y] = forward(layer, [tf.tensor([[1], [3]])]);
    close(values(y), [-1, 1], 1e-4);
    close(values(layer.blobs[2]), [1]);
  });

  it('refuses to learn its statistics', () => {
    expect(setupError('name: "bn" type: "BatchNorm" bottom: "x" top: "y" param { lr_mult: 1 }', [[2, 3]]).message).toMatch(/statistics cannot be learned: param 0 needs lr_mult: 0/);
    expect(setupError('name: "bn" type: "BatchNorm" bottom: "x" top: "y" param { lr_mult: 0 } param { name: "v" }', [[2, 3]]).message).toMatch(/param 1 needs lr_mult: 0/);
  });

  it('in a net, old-style param { lr_mult: 0 } ×3 is accepted and the solver-visible blobs stay unlearned', () => {
    const net = build(`force_backward: true
${input('x', [4, 2])}
layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" param { lr_mult: 0 } param { lr_mult: 0 } param { lr_mult: 0 } }`);
    net.setInput('x', tf.tensor([[1, 2], [3, 4], [5, 6], [7, 9]]));
    net.forward();
    net.setTopDiff('x', tf.tensor([[1, 0], [0, 1], [2, 0], [0, 3]]));
    net.backward();
    expect(net.paramDiff('bn', 0)).toBeUndefined();
    expect(net.blobDiff('x')!.shape).toEqual([4, 2]);
    close(values(net.layer('bn').blobs[2]), [1]);
    net.dispose();
  });
});

describe('BatchReindex, Embed, Filter', () => {
  it('BatchReindex gathers rows, truncating float indices, and sums diffs back', () => {
    const layer = makeLayer('name: "r" type: "BatchReindex" bottom: "x" bottom: "i" top: "y"');
    const x = tf.tensor([[1, 2], [3, 4], [5, 6]]);
    const i = tf.tensor([2, 0.9, 2]);
    const tops = forward(layer, [x, i]);
    expect(values(tops[0])).toEqual([5, 6, 1, 2, 5, 6]);
    const { bottomDiffs } = layer.backward([x, i], tops, [tf.tensor([[1, 1], [2, 2], [3, 3]])], [true, false]);
    expect(values(bottomDiffs[0])).toEqual([2, 2, 0, 0, 4, 4]);
    expect(bottomDiffs[1]).toBeNull();
    expect(() => layer.forward([x, tf.tensor([3])])).toThrow(/below the batch size 3/);
    expect(() => layer.forward([x, tf.tensor([-0.5])])).toThrow(/must not be negative/);
    expect(() => layer.backward([x, i], tops, [tops[0]!], [true, true])).toThrow(/cannot backpropagate to its index/);
    expect(setupError('name: "r" type: "BatchReindex" bottom: "x" bottom: "i" top: "y"', [[3, 2], [2, 1]]).message).toMatch(/index bottom must be 1-D/);
    expect(layer.allowForceBackward(1)).toBe(false);
  });

  it('Embed looks rows up, accumulates repeated rows, and rejects out-of-range indices', () => {
    const layer = makeLayer('name: "e" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 2 input_dim: 3 }');
    expect(layer.setup([[2, 2]])).toEqual([[2, 2, 2]]);
    expect(layer.blobs.map((b) => b.shape)).toEqual([[3, 2], [2]]);
    layer.blobs[0]!.assign(tf.tensor([[0, 1], [10, 11], [20, 21]]));
    layer.blobs[1]!.assign(tf.tensor([0.5, -0.5]));
    const x = tf.tensor([[2, 0], [2, 1]]);
    const tops = layer.forward([x]);
    expect(values(tops[0])).toEqual([20.5, 20.5, 0.5, 0.5, 20.5, 20.5, 10.5, 10.5]);
    const dy = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const { paramDiffs, bottomDiffs } = layer.backward([x], tops, [dy], [false]);
    expect(values(paramDiffs[0])).toEqual([3, 4, 7, 8, 6, 8]);
    expect(values(paramDiffs[1])).toEqual([16, 20]);
    expect(bottomDiffs).toEqual([null]);
    expect(() => layer.forward([tf.tensor([3])])).toThrow(/outside \[0, 3\)/);
    expect(layer.allowForceBackward(0)).toBe(false);
    expect(setupError('name: "e" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 2 }', [[2]]).message).toMatch(/input_dim/);
  });

  it('Filter keeps the selected rows; its tops change size with the selector', () => {
    const net = build(`force_backward: true
${input('x', [4, 2])}
${input('s', [4, 1])}
layer { name: "f" type: "Filter" bottom: "x" bottom: "s" top: "y" }`);
    net.setInput('x', tf.tensor([[1, 2], [3, 4], [5, 6], [7, 8]]));
    net.setInput('s', tf.tensor([[0], [1], [0], [-2]]));
    net.forward();
    expect(net.blob('y').shape).toEqual([2, 2]);
    expect(values(net.blob('y'))).toEqual([3, 4, 7, 8]);
    net.setTopDiff('y', tf.tensor([[1, 2], [3, 4]]));
    net.backward();
    expect(values(net.blobDiff('x'))).toEqual([0, 0, 1, 2, 0, 0, 3, 4]);
    expect(net.blobDiff('s')).toBeUndefined();
    net.setInput('s', tf.zeros([4, 1]));
    net.forward();
    expect(net.blob('y').shape).toEqual([0, 2]);
    net.dispose();
    expect(setupError('name: "f" type: "Filter" bottom: "x" bottom: "s" top: "y"', [[4, 2], [4, 2]]).message).toMatch(/singletons after the first axis/);
    expect(setupError('name: "f" type: "Filter" bottom: "x" bottom: "s" top: "y"', [[3, 2], [4, 1]]).message).toMatch(/differ in their first dimension/);
    expect(setupError('name: "f" type: "Filter" bottom: "x" bottom: "s" top: "y" top: "z"', [[4, 2], [4, 1]]).message).toMatch(/one top per filtered bottom/);
  });
});

describe('Tile, Reduction, Parameter, Split, Silence', () => {
  it('Tile repeats whole blocks from the axis on', () => {
    const [y] = forward(makeLayer('name: "t" type: "Tile" bottom: "x" top: "y" tile_param { axis: 1 tiles: 2 }'), [tf.tensor([[1, 2], [3, 4]])]);
    expect(values(y)).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
    expect(setupError('name: "t" type: "Tile" bottom: "x" top: "y"', [[2]]).message).toMatch(/tiles .* must be given/);
    expect(setupError('name: "t" type: "Tile" bottom: "x" top: "y" tile_param { tiles: 0 }', [[2, 2]]).message).toMatch(/must be positive/);
    expect(setupError('name: "t" type: "Tile" bottom: "x" top: "x" tile_param { tiles: 2 }', [[2, 2]]).message).toMatch(/in-place/);
  });

  it('Reduction keeps the leading axes (axis 0: a scalar) and uses sign(0) = 0 for ASUM', () => {
    const layer = makeLayer('name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: ASUM }');
    const x = tf.tensor([[0, -2], [3, 0]]);
    const tops = forward(layer, [x]);
    expect(tops[0]!.shape).toEqual([]);
    expect(values(tops[0])).toEqual([5]);
    const { bottomDiffs } = layer.backward([x], tops, [tf.scalar(2)], [true]);
    expect(values(bottomDiffs[0])).toEqual([0, -2, 2, 0]);
    const mean = makeLayer('name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: MEAN axis: 1 coeff: 3 }');
    expect(values(forward(mean, [tf.tensor([[1, 2, 3], [4, 5, 9]])])[0])).toEqual([6, 18]);
    expect(setupError('name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { axis: 2 }', [[2, 3]]).message).toMatch(/axis 2 is out of range/);
  });

  it('Parameter exposes its blob; the top diff is the parameter diff', () => {
    const net = build(`
layer { name: "p" type: "Parameter" top: "w" parameter_param { shape { dim: 2 dim: 2 } } }
layer { name: "r" type: "Reduction" bottom: "w" top: "loss" reduction_param { operation: SUMSQ } loss_weight: 0.5 }`);
    expect(values(net.layer('p').blobs[0])).toEqual([0, 0, 0, 0]);
    net.layer('p').blobs[0]!.assign(tf.tensor([[1, -2], [3, 0.5]]));
    expect(net.forward()).toBeCloseTo(0.5 * 14.25, 5);
    net.backward();
    expect(values(net.paramDiff('p', 0))).toEqual([1, -2, 3, 0.5]);
    net.dispose();
  });

  it('explicit Split layers copy forward and sum diffs backward; Split refuses in-place', () => {
    const net = build(`force_backward: true
${input('x', [1, 3])}
layer { name: "split" type: "Split" bottom: "x" top: "x1" top: "x2" }
layer { name: "r" type: "Reduction" bottom: "x1" top: "l1" reduction_param { operation: SUM } loss_weight: 2 }
layer { name: "q" type: "Reduction" bottom: "x2" top: "l2" reduction_param { operation: SUMSQ } loss_weight: 1 }`);
    net.setInput('x', tf.tensor([[1, 2, 3]]));
    expect(net.forward()).toBeCloseTo(2 * 6 + 14, 5);
    net.backward();
    expect(values(net.blobDiff('x'))).toEqual([4, 6, 8]);
    net.dispose();
    expect(setupError('name: "s" type: "Split" bottom: "x" top: "y" top: "x"', [[2]]).message).toMatch(/in-place/);
  });

  it('Silence swallows blobs (they stop being outputs) and backward gives zeros', () => {
    const net = build(`${input('x', [2])}
${input('y', [3])}
layer { name: "s" type: "Silence" bottom: "x" bottom: "y" }`);
    net.setInput('x', tf.tensor([1, 2]));
    net.setInput('y', tf.tensor([1, 2, 3]));
    expect(net.forward()).toBe(0);
    expect(net.outputNames()).toEqual([]);
    net.dispose();
    const layer = makeLayer('name: "s" type: "Silence" bottom: "x"');
    const x = tf.tensor([1, 2]);
    expect(forward(layer, [x])).toEqual([]);
    expect(values(layer.backward([x], [], [], [true]).bottomDiffs[0])).toEqual([0, 0]);
  });
});

describe('errors carry the layer and its position', () => {
  it('a net with a bad Reshape points at the layer', () => {
    try {
      build(`${input('x', [2, 3])}
layer { name: "bad" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: 4 dim: -1 } } }`);
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      const err = e as KdnetError;
      expect(err.where.layer).toBe('bad');
      expect(err.where.position?.line).toBe(2);
      expect(err.message).toMatch(/not divisible/);
    }
  });
});

describe('no tensor leaks', () => {
  const cases: Array<[string, number[][], number[][]?]> = [
    ['name: "l" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 }', [[2, 4]]],
    ['name: "l" type: "Concat" bottom: "a" bottom: "b" top: "y"', [[2, 1], [2, 3]]],
    ['name: "l" type: "Slice" bottom: "x" top: "a" top: "b"', [[2, 4]]],
    ['name: "l" type: "Split" bottom: "x" top: "a" top: "b"', [[2, 4]]],
    ['name: "l" type: "Flatten" bottom: "x" top: "y"', [[2, 2, 2]]],
    ['name: "l" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: -1 } }', [[2, 2, 2]]],
    ['name: "l" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: MAX }', [[2, 3], [2, 3]]],
    ['name: "l" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: PROD }', [[2, 3], [2, 3]]],
    ['name: "l" type: "Softmax" bottom: "x" top: "y"', [[2, 3]]],
    ['name: "l" type: "ArgMax" bottom: "x" top: "y"', [[2, 3]]],
    ['name: "l" type: "MVN" bottom: "x" top: "y"', [[2, 3, 2]]],
    ['name: "l" type: "BatchNorm" bottom: "x" top: "y"', [[2, 3, 2]]],
    ['name: "l" type: "BatchReindex" bottom: "x" bottom: "i" top: "y"', [[2, 3], [3]]],
    ['name: "l" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 2 input_dim: 4 }', [[3]]],
    ['name: "l" type: "Filter" bottom: "x" bottom: "s" top: "y"', [[3, 2], [3]]],
    ['name: "l" type: "Tile" bottom: "x" top: "y" tile_param { tiles: 2 }', [[2, 3]]],
    ['name: "l" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: ASUM axis: 1 }', [[2, 3]]],
    ['name: "l" type: "Parameter" top: "y" parameter_param { shape { dim: 2 } }', []],
    ['name: "l" type: "Silence" bottom: "x"', [[2]]],
  ];
  for (const [text, shapes] of cases) {
    it(text.match(/type: "(\w+)"/)![1]!, () => {
      const layer = makeLayer(text);
      layer.setup(shapes);
      const bottoms = shapes.map((s) => tf.tidy(() => tf.floor(tf.mul(tf.randomUniform(s), 2))));
      const before = tf.memory().numTensors;
      const tops = layer.forward(bottoms);
      const diffs = tops.map((t) => tf.onesLike(t));
      const propagate = bottoms.map((_, i) => !/Embed|BatchReindex|Filter/.test(text) || i === 0);
      const res = layer.hasBackward() ? layer.backward(bottoms, tops, diffs, /Embed/.test(text) ? [false] : propagate) : { bottomDiffs: [], paramDiffs: [] };
      tf.dispose([...tops, ...diffs, ...res.bottomDiffs.filter((d): d is tf.Tensor => !!d), ...res.paramDiffs.filter((d): d is tf.Tensor => !!d)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(bottoms);
      layer.dispose();
    });
  }
});
