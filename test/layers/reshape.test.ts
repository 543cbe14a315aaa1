// Caffe's Reshape contract for every layer family: set up for one bottom shape, then set up again for another
// (what Net.reshape does when an input changes size), a layer must behave exactly like a fresh layer set up
// for the second shape — same top shapes, same forward values, same parameters — and the second set-up must
// neither re-create nor re-fill a parameter blob (same tensors, same values, no random draws).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { makeLayer } from '../support/gradient-check.js';
import { initBackend } from '../../src/backend/select.js';
import { Phase } from '../../src/net/net-state.js';
import { Rng } from '../../src/util/rng.js';
import { KdnetError } from '../../src/errors.js';
import type { Layer } from '../../src/layers/layer.js';

beforeAll(async () => {
  await initBackend('cpu', true);
});

/** A bottom: its shape and what its values are (normal data, class labels below `max`, 0/1 flags). */
interface Bottom {
  shape: number[];
  kind?: 'normal' | 'label' | 'binary' | 'positive';
  max?: number;
}

interface Case {
  name: string;
  layer: string;
  a: Bottom[];
  b: Bottom[];
  phase?: number;
}

const F = 'weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -0.5 max: 0.5 }';
const x = (...shape: number[]): Bottom => ({ shape });
const label = (max: number, ...shape: number[]): Bottom => ({ shape, kind: 'label', max });
const L = (type: string, bottoms: number, param = '', tops = 1) =>
  `name: "l" type: "${type}" ${Array.from({ length: bottoms }, (_, i) => `bottom: "b${i}"`).join(' ')} ${Array.from({ length: tops }, (_, i) => `top: "t${i}"`).join(' ')} ${param}`;

const CASES: Case[] = [
  // vision
  { name: 'Convolution 3x3 stride 2 pad 1', layer: L('Convolution', 1, `convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 ${F} }`), a: [x(1, 3, 12, 12)], b: [x(2, 3, 25, 31)] },
  { name: 'Convolution dilated, grouped', layer: L('Convolution', 1, `convolution_param { num_output: 4 kernel_size: 3 dilation: 2 group: 2 ${F} }`), a: [x(1, 2, 9, 9)], b: [x(1, 2, 14, 11)] },
  { name: 'Convolution two bottom/top pairs', layer: L('Convolution', 2, `convolution_param { num_output: 2 kernel_size: 3 ${F} }`, 2), a: [x(1, 2, 5, 5), x(1, 2, 5, 5)], b: [x(2, 2, 8, 6), x(2, 2, 8, 6)] },
  { name: 'Convolution 1-D', layer: L('Convolution', 1, `convolution_param { num_output: 3 kernel_size: 3 stride: 2 ${F} }`), a: [x(2, 2, 9)], b: [x(3, 2, 14)] },
  { name: 'Deconvolution stride 2', layer: L('Deconvolution', 1, `convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 ${F} }`), a: [x(1, 3, 4, 4)], b: [x(2, 3, 7, 5)] },
  { name: 'Im2col', layer: L('Im2col', 1, 'convolution_param { kernel_size: 3 stride: 2 }'), a: [x(1, 2, 6, 6)], b: [x(2, 2, 9, 7)] },
  { name: 'Pooling MAX ceil (two tops)', layer: L('Pooling', 1, 'pooling_param { pool: MAX kernel_size: 3 stride: 2 }', 2), a: [x(1, 2, 12, 12)], b: [x(2, 2, 25, 31)] },
  { name: 'Pooling AVE pad 1 (last window clipped)', layer: L('Pooling', 1, 'pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }'), a: [x(1, 2, 12, 12)], b: [x(1, 2, 47, 40)] },
  { name: 'Pooling global', layer: L('Pooling', 1, 'pooling_param { pool: AVE global_pooling: true }'), a: [x(1, 3, 4, 4)], b: [x(2, 3, 7, 9)] },
  { name: 'Pooling STOCHASTIC (TEST)', layer: L('Pooling', 1, 'pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }'), a: [{ shape: [1, 2, 6, 6], kind: 'positive' }], b: [{ shape: [1, 2, 9, 7], kind: 'positive' }], phase: Phase.TEST },
  { name: 'SPP', layer: L('SPP', 1, 'spp_param { pyramid_height: 2 }'), a: [x(1, 2, 8, 8)], b: [x(2, 2, 13, 11)] },
  { name: 'LRN across channels', layer: L('LRN', 1, 'lrn_param { local_size: 3 alpha: 0.1 }'), a: [x(1, 5, 6, 6)], b: [x(2, 5, 9, 7)] },
  { name: 'LRN within channel', layer: L('LRN', 1, 'lrn_param { local_size: 3 alpha: 0.1 norm_region: WITHIN_CHANNEL }'), a: [x(1, 2, 6, 6)], b: [x(2, 2, 9, 7)] },
  { name: 'Crop', layer: L('Crop', 2, 'crop_param { axis: 2 offset: 1 }'), a: [x(1, 2, 10, 10), x(1, 2, 6, 6)], b: [x(1, 2, 15, 13), x(1, 2, 9, 8)] },
  // common
  { name: 'Eltwise SUM with coefficients', layer: L('Eltwise', 2, 'eltwise_param { operation: SUM coeff: 0.5 coeff: -2 }'), a: [x(1, 2, 3, 3), x(1, 2, 3, 3)], b: [x(2, 2, 5, 4), x(2, 2, 5, 4)] },
  { name: 'Eltwise PROD', layer: L('Eltwise', 3, 'eltwise_param { operation: PROD }'), a: [x(1, 2, 3, 3), x(1, 2, 3, 3), x(1, 2, 3, 3)], b: [x(2, 2, 5, 4), x(2, 2, 5, 4), x(2, 2, 5, 4)] },
  { name: 'Eltwise MAX', layer: L('Eltwise', 2, 'eltwise_param { operation: MAX }'), a: [x(1, 2, 3, 3), x(1, 2, 3, 3)], b: [x(2, 2, 5, 4), x(2, 2, 5, 4)] },
  { name: 'Concat channels', layer: L('Concat', 2), a: [x(1, 2, 5, 5), x(1, 3, 5, 5)], b: [x(2, 2, 7, 9), x(2, 3, 7, 9)] },
  { name: 'Slice channels', layer: L('Slice', 1, 'slice_param { slice_point: 1 }', 2), a: [x(1, 4, 5, 5)], b: [x(2, 4, 7, 9)] },
  { name: 'Split', layer: L('Split', 1, '', 2), a: [x(1, 4, 5, 5)], b: [x(2, 4, 7, 9)] },
  { name: 'Reshape 0 and -1', layer: L('Reshape', 1, 'reshape_param { shape { dim: 0 dim: -1 } }'), a: [x(1, 3, 4, 4)], b: [x(2, 3, 6, 7)] },
  { name: 'Flatten', layer: L('Flatten', 1), a: [x(1, 3, 4, 4)], b: [x(2, 3, 6, 7)] },
  { name: 'Softmax', layer: L('Softmax', 1), a: [x(1, 3, 4, 4)], b: [x(2, 3, 6, 7)] },
  { name: 'InnerProduct (batch changes, row size kept)', layer: L('InnerProduct', 1, `inner_product_param { num_output: 5 ${F} }`), a: [x(1, 3, 4, 4)], b: [x(5, 3, 4, 4)] },
  { name: 'InnerProduct axis 2', layer: L('InnerProduct', 1, `inner_product_param { num_output: 3 axis: 2 ${F} }`), a: [x(1, 2, 6)], b: [x(4, 5, 6)] },
  { name: 'Tile', layer: L('Tile', 1, 'tile_param { axis: 2 tiles: 3 }'), a: [x(1, 2, 3, 3)], b: [x(2, 2, 5, 4)] },
  { name: 'Reduction MEAN axis 1', layer: L('Reduction', 1, 'reduction_param { operation: MEAN axis: 1 }'), a: [x(1, 2, 3, 3)], b: [x(2, 2, 5, 4)] },
  { name: 'ArgMax top 2 with values', layer: L('ArgMax', 1, 'argmax_param { top_k: 2 out_max_val: true axis: 1 }'), a: [x(1, 5, 3, 3)], b: [x(2, 5, 4, 2)] },
  { name: 'MVN', layer: L('MVN', 1), a: [x(2, 3, 4, 4)], b: [x(1, 3, 6, 5)] },
  { name: 'BatchNorm (TRAIN: batch statistics)', layer: L('BatchNorm', 1), a: [x(2, 3, 4, 4)], b: [x(3, 3, 6, 5)] },
  { name: 'BatchReindex', layer: L('BatchReindex', 2), a: [x(3, 2, 2), label(3, 4)], b: [x(5, 2, 2), label(5, 7)] },
  { name: 'Embed', layer: L('Embed', 1, `embed_param { num_output: 3 input_dim: 6 ${F} }`), a: [label(6, 4)], b: [label(6, 2, 5)] },
  // neurons and parameterised element-wise layers
  { name: 'ReLU leaky', layer: L('ReLU', 1, 'relu_param { negative_slope: 0.1 }'), a: [x(1, 2, 3, 3)], b: [x(2, 2, 5, 7)] },
  { name: 'PReLU', layer: L('PReLU', 1, 'prelu_param { filler { type: "uniform" min: 0 max: 0.5 } }'), a: [x(1, 3, 3, 3)], b: [x(2, 3, 5, 7)] },
  { name: 'PReLU channel-shared', layer: L('PReLU', 1, 'prelu_param { channel_shared: true }'), a: [x(1, 3, 3, 3)], b: [x(2, 3, 5, 7)] },
  { name: 'Scale with bias', layer: L('Scale', 1, 'scale_param { bias_term: true filler { type: "uniform" min: 0.5 max: 1.5 } bias_filler { type: "uniform" min: -1 max: 1 } }'), a: [x(1, 3, 3, 3)], b: [x(2, 3, 5, 7)] },
  { name: 'Scale by a second bottom', layer: L('Scale', 2, 'scale_param { axis: 0 }'), a: [x(1, 3, 3, 3), x(1, 3)], b: [x(2, 3, 5, 7), x(2, 3)] },
  { name: 'Bias', layer: L('Bias', 1, 'bias_param { filler { type: "uniform" min: -1 max: 1 } }'), a: [x(1, 3, 3, 3)], b: [x(2, 3, 5, 7)] },
  { name: 'Power', layer: L('Power', 1, 'power_param { power: 2 scale: 0.5 shift: 1 }'), a: [x(1, 2, 3, 3)], b: [x(2, 2, 5, 7)] },
  { name: 'Dropout (TEST)', layer: L('Dropout', 1), a: [x(1, 2, 3, 3)], b: [x(2, 2, 5, 7)], phase: Phase.TEST },
  // losses and metrics
  { name: 'SoftmaxWithLoss spatial', layer: L('SoftmaxWithLoss', 2), a: [x(2, 3, 4, 4), label(3, 2, 1, 4, 4)], b: [x(1, 3, 5, 6), label(3, 1, 1, 5, 6)] },
  { name: 'EuclideanLoss', layer: L('EuclideanLoss', 2), a: [x(2, 3), x(2, 3)], b: [x(4, 3), x(4, 3)] },
  { name: 'SigmoidCrossEntropyLoss', layer: L('SigmoidCrossEntropyLoss', 2), a: [x(2, 3), { shape: [2, 3], kind: 'binary' }], b: [x(5, 3), { shape: [5, 3], kind: 'binary' }] },
  { name: 'Accuracy top 2', layer: L('Accuracy', 2, 'accuracy_param { top_k: 2 }'), a: [x(4, 5), label(5, 4)], b: [x(7, 5), label(5, 7)] },
  { name: 'KnowledgeDistillation', layer: L('KnowledgeDistillation', 2, 'knowledge_distillation_param { temperature: 2 }'), a: [x(2, 4), x(2, 4)], b: [x(5, 4), x(5, 4)] },
  // recurrent: the number of streams may change, the number of timesteps may not (Caffe's check)
  { name: 'LSTM (more streams)', layer: L('LSTM', 2, `recurrent_param { num_output: 3 ${F} }`), a: [x(3, 2, 4), { shape: [3, 2], kind: 'binary' }], b: [x(3, 5, 4), { shape: [3, 5], kind: 'binary' }] },
  { name: 'RNN (more streams)', layer: L('RNN', 2, `recurrent_param { num_output: 3 ${F} }`), a: [x(3, 2, 4), { shape: [3, 2], kind: 'binary' }], b: [x(3, 5, 4), { shape: [3, 5], kind: 'binary' }] },
];

function values(b: Bottom, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = b.shape.reduce((p, d) => p * d, 1);
  const v = Float32Array.from({ length: n }, () => {
    switch (b.kind) {
      case 'label':
        return Math.floor(rng.uniform() * b.max!);
      case 'binary':
        return rng.uniform() < 0.7 ? 1 : 0;
      case 'positive':
        return rng.uniform() + 0.01;
      default:
        return rng.normal();
    }
  });
  return tf.tensor(v, b.shape);
}

/** Top shapes, top values and parameter values after set-up for `bottoms` and one forward. */
function forwardAll(layer: Layer, bottoms: Bottom[]): { shapes: number[][]; tops: number[][] } {
  const inputs = bottoms.map((b, i) => values(b, 100 + i));
  const tops = layer.forward(inputs);
  const out = { shapes: tops.map((t) => t.shape), tops: tops.map((t) => Array.from(t.dataSync())) };
  tf.dispose([...inputs, ...tops]);
  return out;
}

describe('a second set-up for new bottom shapes equals a fresh set-up (Caffe Reshape)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const before = tf.memory().numTensors;
      const reshaped = makeLayer(c.layer, c.phase ?? Phase.TRAIN, 11);
      const fresh = makeLayer(c.layer, c.phase ?? Phase.TRAIN, 11);
      try {
        reshaped.setup(c.a.map((b) => b.shape));
        const initialParams = reshaped.blobs.map((p) => Array.from(p.dataSync()));
        forwardAll(reshaped, c.a); // may update state held in parameters (BatchNorm's running statistics)
        const params = reshaped.blobs.slice();
        const paramValues = params.map((p) => Array.from(p.dataSync()));
        const rngBefore = reshaped.ctx.rng.getState();

        const shapes = reshaped.setup(c.b.map((b) => b.shape));
        // No parameter re-created or re-filled, no random draws.
        expect(reshaped.blobs.length).toBe(params.length);
        reshaped.blobs.forEach((p, i) => {
          expect(p).toBe(params[i]);
          expect(Array.from(p.dataSync())).toEqual(paramValues[i]);
        });
        expect(reshaped.ctx.rng.getState()).toEqual(rngBefore);

        const freshShapes = fresh.setup(c.b.map((b) => b.shape));
        expect(shapes).toEqual(freshShapes);
        fresh.blobs.forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(initialParams[i]));
        const r = forwardAll(reshaped, c.b);
        const f = forwardAll(fresh, c.b);
        expect(r.shapes).toEqual(f.shapes);
        expect(r.shapes).toEqual(freshShapes);
        expect(r.tops).toEqual(f.tops);
      } finally {
        reshaped.dispose();
        fresh.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('bottoms a set-up layer cannot take', () => {
  const refusal = (text: string, a: number[][], b: number[][]): KdnetError => {
    const layer = makeLayer(text);
    try {
      layer.setup(a);
      layer.setup(b);
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      return e as KdnetError;
    } finally {
      layer.dispose();
    }
    throw new Error('the second set-up did not fail');
  };

  it('InnerProduct refuses another row size (Caffe: "Input size incompatible with inner product parameters")', () => {
    const e = refusal(L('InnerProduct', 1, 'inner_product_param { num_output: 5 }'), [[1, 3, 4, 4]], [[1, 3, 5, 4]]);
    expect(e.message).toMatch(/input size incompatible with inner product parameters: bottom \[1, 3, 5, 4\] has 60 values per row from axis 1, but the weights expect 48/);
  });

  it('Convolution refuses another channel count', () => {
    const e = refusal(L('Convolution', 1, 'convolution_param { num_output: 2 kernel_size: 3 }'), [[1, 3, 8, 8]], [[1, 4, 8, 8]]);
    expect(e.message).toMatch(/bottom has 4 channels, the weights were made for 3/);
  });

  it('Convolution whose kernel no longer fits names both shapes', () => {
    const e = refusal(L('Convolution', 1, 'convolution_param { num_output: 2 kernel_size: 3 }'), [[1, 3, 8, 8]], [[1, 3, 2, 5]]);
    expect(e.message).toMatch(/output would be empty: spatial input 2 x 5 with kernel extent 3 x 3.*gives top \[1, 2, 0, 3\] from bottom \[1, 3, 2, 5\]/);
  });

  it('Pooling whose output would be empty', () => {
    const e = refusal(L('Pooling', 1, 'pooling_param { pool: MAX kernel_size: 3 round_mode: FLOOR }'), [[1, 3, 8, 8]], [[1, 3, 2, 2]]);
    expect(e.message).toMatch(/pooling output would be empty: input 2 x 2, kernel 3 x 3, pad 0 x 0, stride 1 x 1 give an output of 0 x 0/);
  });

  it('LSTM refuses another number of timesteps (Caffe unrolls for a fixed T)', () => {
    const e = refusal(L('LSTM', 2, 'recurrent_param { num_output: 3 }'), [[3, 2, 4], [3, 2]], [[4, 2, 4], [4, 2]]);
    expect(e.message).toMatch(/number of timesteps of x changed from 3 to 4/);
  });
});
