// Arithmetic of a net's step, for GFLOP/s: only Convolution and InnerProduct layers are counted (pooling,
// ReLU, softmax and the losses are a few flops per value and are left out, as is usual for GFLOP/s figures).
//   forward:  Convolution 2·|top|·kh·kw·Cin/group, InnerProduct 2·M·N·K — both 2·|top|·|W|/num_output;
//   backward: the same count once for the weight gradient if the layer learns (some lr_mult ≠ 0) and once for
//             the input gradient if its bottom carries a gradient (Caffe's need-backward: produced by a layer
//             that learns or whose own bottom carries one). So ×2 per layer, except the first convolution
//             (its bottom is the data: no input gradient) and frozen layers (a teacher with lr_mult 0: none).
// And this machine's peak to compare with: a 1024³ float32 matMul through tfjs, best of 10.
import * as tf from '@tensorflow/tfjs-core';
import type { Net } from '../dist/net/net.js';

export interface NetFlops {
  forward: number;
  backward: number;
}

const COUNTED: Record<string, string> = { Convolution: 'convolution_param', InnerProduct: 'inner_product_param' };

export function netFlops(net: Net): NetFlops {
  const tops = new Map(net.layerTopShapes().map((l) => [l.layer, l.tops]));
  const withGradient = new Set<string>();
  let forward = 0;
  let backward = 0;
  for (const layer of net.layers()) {
    const params = net.learnableParams.filter((p) => p.layer === layer.name);
    const learns = params.some((p) => p.lrMult !== 0);
    const bottoms = layer.param.bottom as string[];
    const bottomGradient = bottoms.some((b) => withGradient.has(b));
    if (learns || bottomGradient) for (const t of tops.get(layer.name) ?? []) withGradient.add(t.blob);
    const field = COUNTED[layer.type];
    if (!field) continue;
    const weight = params.find((p) => p.index === 0)?.tensor;
    if (!weight) continue;
    const top = tops.get(layer.name)![0]!.shape.reduce((a, b) => a * b, 1);
    const f = (2 * top * weight.size) / (layer.param[field].num_output as number);
    forward += f;
    backward += (learns ? f : 0) + (bottomGradient ? f : 0);
  }
  return { forward, backward };
}

/** GFLOP/s of `flops` done in `ms`. */
export const gflops = (flops: number, ms: number) => flops / ms / 1e6;

/** Best of 10 of a 1024×1024×1024 float32 matMul (+ reading the result) with the kernels active now, in GFLOP/s. */
export function sgemmPeak(): number {
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  let best = Infinity;
  for (let i = 0; i < 11; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const ms = performance.now() - t0;
    c.dispose();
    if (i > 0) best = Math.min(best, ms); // the first call builds oneDNN's primitive
  }
  tf.dispose([a, b]);
  return gflops(2 * n ** 3, best);
}
