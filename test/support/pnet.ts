// A small fully convolutional net in the shape of MTCNN's PNet (Convolution → PReLU → MAX pooling with Caffe's
// ceil rounding → Convolution → PReLU → Convolution → PReLU, then an AVE pooling with pad 1 whose last window
// Caffe clips on odd sizes, an Eltwise sum with a 1×1 convolution of it, and two heads: 1×1 Convolution +
// Softmax, and a 1×1 Convolution regression), and the top shapes Caffe's formulas give for any input size,
// computed here independently of kdnet's layers.
import { Rng } from '../../src/util/rng.js';

const FILL = 'weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "uniform" min: -0.2 max: 0.2 }';

export function pnetText(n: number, h: number, w: number): string {
  return `name: "PNetLike"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: ${n} dim: 3 dim: ${h} dim: ${w} } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 10 kernel_size: 3 ${FILL} } }
layer { name: "PReLU1" type: "PReLU" bottom: "conv1" top: "conv1" prelu_param { filler { type: "uniform" min: 0.1 max: 0.4 } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 16 kernel_size: 3 ${FILL} } }
layer { name: "PReLU2" type: "PReLU" bottom: "conv2" top: "conv2" prelu_param { filler { type: "uniform" min: 0.1 max: 0.4 } } }
layer { name: "conv3" type: "Convolution" bottom: "conv2" top: "conv3" convolution_param { num_output: 8 kernel_size: 3 ${FILL} } }
layer { name: "PReLU3" type: "PReLU" bottom: "conv3" top: "conv3" prelu_param { filler { type: "uniform" min: 0.1 max: 0.4 } } }
layer { name: "pool2" type: "Pooling" bottom: "conv3" top: "pool2" pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "mix" type: "Convolution" bottom: "pool2" top: "mix" convolution_param { num_output: 8 kernel_size: 1 ${FILL} } }
layer { name: "sum" type: "Eltwise" bottom: "pool2" bottom: "mix" top: "sum" }
layer { name: "conv4-1" type: "Convolution" bottom: "sum" top: "conv4-1" convolution_param { num_output: 2 kernel_size: 1 ${FILL} } }
layer { name: "prob1" type: "Softmax" bottom: "conv4-1" top: "prob1" }
layer { name: "conv4-2" type: "Convolution" bottom: "sum" top: "conv4-2" convolution_param { num_output: 4 kernel_size: 1 ${FILL} } }
`;
}

/** Caffe's ConvolutionLayer output size (floor). */
export function convOut(size: number, kernel: number, stride = 1, pad = 0, dilation = 1): number {
  return Math.floor((size + 2 * pad - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** Caffe's PoolingLayer output size: ceil, and with padding the last window must start inside the image. */
export function poolOut(size: number, kernel: number, stride: number, pad = 0): number {
  let out = Math.ceil((size + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Every blob's shape for an input of n × 3 × h × w, by Caffe's rules. */
export function pnetShapes(n: number, h: number, w: number): Record<string, number[]> {
  const c1 = [convOut(h, 3), convOut(w, 3)];
  const p1 = c1.map((s) => poolOut(s, 2, 2));
  const c2 = p1.map((s) => convOut(s, 3));
  const c3 = c2.map((s) => convOut(s, 3));
  const p2 = c3.map((s) => poolOut(s, 2, 2, 1));
  return {
    data: [n, 3, h, w],
    conv1: [n, 10, ...c1],
    pool1: [n, 10, ...p1],
    conv2: [n, 16, ...c2],
    conv3: [n, 8, ...c3],
    pool2: [n, 8, ...p2],
    mix: [n, 8, ...p2],
    sum: [n, 8, ...p2],
    'conv4-1': [n, 2, ...p2],
    prob1: [n, 2, ...p2],
    'conv4-2': [n, 4, ...p2],
  };
}

/** Deterministic input values for a shape. */
export function pnetInput(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1);
}
