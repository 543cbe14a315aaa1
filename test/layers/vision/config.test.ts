// Configuration errors of the vision layers: every mistake Caffe CHECK-fails on is a positioned KdnetError with a
// message that says what is wrong; plus the layers' metadata (top counts) and N-D convolution's clear refusal.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeLayer } from '../../support/gradient-check.js';
import { initBackend } from '../../../src/backend/select.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { Phase } from '../../../src/net/net-state.js';
import { KdnetError } from '../../../src/errors.js';

beforeAll(async () => {
  await initBackend('cpu', true);
});

function setupError(text: string, shapes: number[][]): KdnetError {
  const layer = makeLayer(text);
  try {
    layer.setup(shapes);
  } catch (e) {
    expect(e).toBeInstanceOf(KdnetError);
    return e as KdnetError;
  } finally {
    layer.dispose();
  }
  throw new Error(`set-up of ${text} did not fail`);
}

const conv = (param: string, extra = '') => `name: "c" type: "Convolution" bottom: "x" top: "y" ${extra} convolution_param { ${param} }`;
const pool = (param: string, tops = 'top: "y"') => `name: "p" type: "Pooling" bottom: "x" ${tops} pooling_param { ${param} }`;
const X = [[2, 3, 7, 6]];

describe('Convolution / Deconvolution configuration errors', () => {
  const cases: Array<[string, string, number[][], RegExp]> = [
    ['no kernel', conv('num_output: 2'), X, /kernel_size must be specified once, or once per spatial dimension \(kernel_size specified 0 times; 2 spatial dims\)/],
    ['kernel_size and kernel_h', conv('num_output: 2 kernel_size: 3 kernel_h: 3 kernel_w: 3'), X, /either kernel_size or kernel_h\/kernel_w/],
    ['kernel_h without kernel_w', conv('num_output: 2 kernel_h: 3'), X, /filter dimensions must be nonzero.*set both kernel_h and kernel_w/],
    ['kernel_size three times for 2 spatial axes', conv('num_output: 2 kernel_size: 3 kernel_size: 3 kernel_size: 3'), X, /specified 3 times; 2 spatial dims/],
    ['kernel 0', conv('num_output: 2 kernel_size: 0'), X, /filter dimensions must be nonzero/],
    ['stride 0', conv('num_output: 2 kernel_size: 3 stride: 0'), X, /stride dimensions must be nonzero/],
    ['stride_h only', conv('num_output: 2 kernel_size: 3 stride_h: 2'), X, /set both stride_h and stride_w/],
    ['stride and stride_h', conv('num_output: 2 kernel_size: 3 stride: 2 stride_h: 2 stride_w: 2'), X, /either stride or stride_h\/stride_w/],
    ['pad and pad_h', conv('num_output: 2 kernel_size: 3 pad: 1 pad_h: 1'), X, /either pad or pad_h\/pad_w/],
    ['pad twice for one spatial axis', conv('num_output: 2 kernel_size: 3 pad: 1 pad: 1'), [[2, 3, 9]], /pad must be specified once, or once per spatial dimension \(pad specified 2 times; 1 spatial dims\)/],
    ['kernel_h on a 1-D convolution', conv('num_output: 2 kernel_h: 3 kernel_w: 1'), [[2, 3, 9]], /kernel_h & kernel_w can only be used for 2-D convolution/],
    ['dilation 0', conv('num_output: 2 kernel_size: 3 dilation: 0'), X, /dilation must be at least 1/],
    ['no num_output', conv('kernel_size: 3'), X, /num_output must be set/],
    ['group not dividing the channels', conv('num_output: 4 kernel_size: 3 group: 2'), X, /input channels \(3\) must be a multiple of group \(2\)/],
    ['num_output not a multiple of group', conv('num_output: 5 kernel_size: 3 group: 3'), X, /number of output \(5\) should be multiples of group \(3\)/],
    ['group 0', conv('num_output: 4 kernel_size: 3 group: 0'), X, /group must be at least 1/],
    ['3-D convolution', conv('num_output: 2 kernel_size: 3'), [[1, 2, 5, 5, 5]], /3-D convolution .* is not supported by kdnet: only 1-D and 2-D/],
    ['no spatial axis', conv('num_output: 2 kernel_size: 1'), [[4, 3]], /needs at least one spatial axis/],
    ['axis out of range', conv('num_output: 2 kernel_size: 1 axis: 4'), X, /axis 4 is out of range for a 4-D blob/],
    ['kernel larger than the padded input', conv('num_output: 2 kernel_size: 5'), [[1, 3, 3, 3]], /output would be empty: spatial input 3 x 3 with kernel extent 5 x 5/],
    ['dilated kernel larger than the input', conv('num_output: 2 kernel_size: 3 dilation: 4'), [[1, 3, 7, 9]], /kernel extent 9 x 9/],
    ['bottoms of different shapes', 'name: "c" type: "Convolution" bottom: "a" bottom: "b" top: "ya" top: "yb" convolution_param { num_output: 2 kernel_size: 1 }', [[1, 3, 4, 4], [1, 3, 5, 4]], /all bottoms must have the same shape/],
    ['more bottoms than tops', 'name: "c" type: "Convolution" bottom: "a" bottom: "b" top: "y" convolution_param { num_output: 2 kernel_size: 1 }', [[1, 3, 4, 4], [1, 3, 4, 4]], /same number of bottom and top blobs/],
    ['Deconvolution output would be empty', 'name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 2 pad: 3 }', [[1, 2, 2, 2]], /output would be empty/],
  ];
  for (const [name, text, shapes, message] of cases) {
    it(name, () => {
      const e = setupError(text, shapes);
      expect(e.message).toMatch(message);
      expect(e.where.layer).toMatch(/^[cd]$/);
    });
  }
  it('rejects a bottom whose channel count changed after the weights were made', () => {
    const layer = makeLayer(conv('num_output: 2 kernel_size: 1'));
    layer.setup([[1, 3, 4, 4]]);
    expect(() => layer.setup([[1, 4, 4, 4]])).toThrow(/input size incompatible with convolution kernel: bottom has 4 channels, the weights were made for 3/);
    expect(() => layer.setup([[1, 3, 4, 4, 4]])).toThrow(KdnetError);
    layer.dispose();
  });
  it('makes Caffe-shaped parameter blobs', () => {
    const c = makeLayer(conv('num_output: 6 kernel_h: 3 kernel_w: 2 group: 3'));
    c.setup([[1, 3, 7, 6]]);
    expect(c.blobs.map((b) => b.shape)).toEqual([[6, 1, 3, 2], [6]]);
    const d = makeLayer('name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 4 kernel_size: 3 group: 2 bias_term: false }');
    expect(d.setup([[1, 6, 5, 5]])).toEqual([[1, 4, 7, 7]]);
    expect(d.blobs.map((b) => b.shape)).toEqual([[6, 2, 3, 3]]);
    const one = makeLayer(conv('num_output: 2 kernel_size: 3'));
    expect(one.setup([[2, 4, 9]])).toEqual([[2, 2, 7]]);
    expect(one.blobs.map((b) => b.shape)).toEqual([[2, 4, 3], [2]]);
    [c, d, one].forEach((l) => l.dispose());
  });
});

describe('Pooling configuration errors', () => {
  const cases: Array<[string, string, number[][], RegExp]> = [
    ['no kernel', pool('pool: MAX stride: 2'), X, /pooling needs kernel_size/],
    ['kernel_size and kernel_h', pool('pool: MAX kernel_size: 2 kernel_h: 2 kernel_w: 2'), X, /kernel_size OR kernel_h and kernel_w, not both/],
    ['kernel_h only', pool('pool: MAX kernel_h: 2'), X, /both kernel_h and kernel_w are required/],
    ['global pooling with a kernel', pool('pool: AVE global_pooling: true kernel_size: 2'), X, /with global_pooling: true the filter size cannot be specified/],
    ['global pooling with stride 2', pool('pool: AVE global_pooling: true stride: 2'), X, /only pad = 0 and stride = 1/],
    ['kernel 0', pool('pool: MAX kernel_size: 0'), X, /filter dimensions cannot be zero/],
    ['pad and pad_h', pool('pool: MAX kernel_size: 3 pad: 1 pad_h: 1 pad_w: 1'), X, /pad is pad OR pad_h and pad_w are required/],
    ['pad_h without pad_w', pool('pool: MAX kernel_size: 3 pad_h: 1'), X, /pad is pad OR pad_h and pad_w are required/],
    ['stride_w without stride_h', pool('pool: MAX kernel_size: 3 stride_w: 1'), X, /stride is stride OR stride_h and stride_w are required/],
    ['stride 0', pool('pool: MAX kernel_size: 3 stride: 0'), X, /stride must be positive/],
    ['pad not smaller than the kernel', pool('pool: MAX kernel_size: 2 pad: 2'), X, /pad \(2 x 2\) must be smaller than the kernel \(2 x 2\)/],
    ['padded STOCHASTIC pooling', pool('pool: STOCHASTIC kernel_size: 3 pad: 1'), X, /padding is implemented only for average and max pooling/],
    ['3-D bottom', pool('pool: MAX kernel_size: 2'), [[2, 3, 7]], /input must have 4 axes/],
    ['FLOOR output would be empty', pool('pool: MAX kernel_size: 5 round_mode: FLOOR stride: 1'), [[1, 1, 2, 2]], /pooling output would be empty/],
  ];
  for (const [name, text, shapes, message] of cases) {
    it(name, () => {
      const e = setupError(text, shapes);
      expect(e.message).toMatch(message);
      expect(e.where.layer).toBe('p');
    });
  }
  it('takes a second (mask) top only for MAX', () => {
    expect(makeLayer(pool('pool: MAX kernel_size: 2')).topCount()).toEqual([1, 2]);
    expect(makeLayer(pool('pool: AVE kernel_size: 2')).topCount()).toEqual([1, 1]);
    expect(makeLayer(pool('pool: STOCHASTIC kernel_size: 2')).topCount()).toEqual([1, 1]);
    const text = `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } } }
      layer { ${pool('pool: AVE kernel_size: 2', 'top: "y" top: "m"')} }`;
    expect(() => new Net(parseCaffeText(text, 'NetParameter').message, { phase: Phase.TRAIN })).toThrow(/Pooling takes 1 top blob\(s\), got 2/);
  });
  it('CEIL keeps a partial last window, FLOOR drops it; padding clips a window that would start in the padding', () => {
    expect(makeLayer(pool('pool: MAX kernel_size: 2 stride: 2')).setup([[1, 1, 7, 6]])).toEqual([[1, 1, 4, 3]]);
    expect(makeLayer(pool('pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR')).setup([[1, 1, 7, 6]])).toEqual([[1, 1, 3, 3]]);
    // H = 6, pad 1, k 2, s 2: ⌈(6 + 2 − 2) / 2⌉ + 1 = 4, and the last window starts at 3·2 − 1 = 5 < 6: kept
    expect(makeLayer(pool('pool: AVE kernel_size: 2 stride: 2 pad: 1')).setup([[1, 1, 6, 6]])).toEqual([[1, 1, 4, 4]]);
    // H = 5, pad 1, k 3, s 3: ⌈(5 + 2 − 3) / 3⌉ + 1 = 3, and (3 − 1)·3 = 6 ≥ 5 + 1: clipped to 2
    expect(makeLayer(pool('pool: AVE kernel_size: 3 stride: 3 pad: 1')).setup([[1, 1, 5, 5]])).toEqual([[1, 1, 2, 2]]);
    expect(makeLayer(pool('pool: MAX global_pooling: true')).setup([[2, 3, 5, 4]])).toEqual([[2, 3, 1, 1]]);
  });
});

describe('LRN, Crop, SPP, Im2col configuration errors', () => {
  const cases: Array<[string, string, number[][], RegExp]> = [
    ['LRN even local_size', 'name: "l" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 4 }', X, /LRN only supports odd values for local_size \(got 4\)/],
    ['LRN on a 2-D bottom', 'name: "l" type: "LRN" bottom: "x" top: "y"', [[4, 5]], /input must have 4 axes/],
    ['Crop with too few offsets', 'name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: 1 offset: 1 offset: 1 }', [[2, 3, 7, 6], [2, 2, 4, 3]], /2 offsets for 3 cropped axes/],
    ['Crop out of bounds', 'name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { offset: 4 }', [[2, 3, 7, 6], [2, 3, 4, 3]], /the crop for dimension 2 is out-of-bounds with size 4 and offset 4/],
    ['Crop reference with fewer axes', 'name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: 1 }', [[2, 3, 7, 6], [2, 3]], /fewer axes/],
    ['Crop axis out of range', 'name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: 4 }', [[2, 3, 7, 6], [2, 3, 4, 3]], /axis 4 is out of range/],
    ['SPP without pyramid_height', 'name: "s" type: "SPP" bottom: "x" top: "y"', X, /pyramid_height must be at least 1/],
    ['SPP input too small for its deepest level', 'name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 }', [[1, 2, 3, 3]], /pyramid level 2 \(4 x 4 bins over 3 x 3: kernel 1 x 1, pad 1 x 1\): pad \(1 x 1\) must be smaller than the kernel/],
    ['SPP STOCHASTIC with padded levels', 'name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 2 pool: STOCHASTIC }', [[1, 2, 5, 5]], /pyramid level 1 .*padding is implemented only for average and max pooling/],
    ['Im2col 3-D', 'name: "i" type: "Im2col" bottom: "x" top: "y" convolution_param { kernel_size: 2 }', [[1, 2, 4, 4, 4]], /3-D im2col .* is not supported/],
  ];
  for (const [name, text, shapes, message] of cases) {
    it(name, () => {
      const e = setupError(text, shapes);
      expect(e.message).toMatch(message);
    });
  }
  it('shapes', () => {
    expect(makeLayer('name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 1 }').setup([[2, 3, 5, 4]])).toEqual([[2, 3, 1, 1]]);
    expect(makeLayer('name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 }').setup([[2, 3, 13, 13]])).toEqual([[2, 63]]);
    expect(makeLayer('name: "i" type: "Im2col" bottom: "x" top: "y" convolution_param { kernel_size: 3 stride: 2 pad: 1 }').setup([[2, 3, 7, 6]])).toEqual([[2, 27, 4, 3]]);
    expect(makeLayer('name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: -3 offset: 1 }').setup([[2, 3, 7, 6], [9, 2, 4, 3]])).toEqual([[2, 2, 4, 3]]);
  });
});
