// MaxPoolGrad for wasm: the shipped kernel loses gradient when a window has tied maxima (all zeros after a
// ReLU is the common case): on a 4×4 zero input with 2×2 windows it returns one 1 where every window should
// send its gradient to its own first element. Caffe (and tfjs' cpu backend) route each window's gradient to
// the first maximum in scan order; this replacement does exactly that.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { kernelReplacement } from './replace.js';
import { makeOutput, readFloats, scatterToFirstMax } from './max-pool-first.js';

export const maxPoolGradWasm = kernelReplacement('MaxPoolGrad', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const x = inputs.input!;
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const maxima = inputs.output && inputs.output.shape.join() === info.outShape.join() ? inputs.output : undefined;
  return makeOutput<Float32Array>(backend, x.shape, 'float32', (dx) => {
    scatterToFirstMax(readFloats(backend, x), info, maxima && readFloats(backend, maxima), readFloats(backend, inputs.dy!), dx);
  });
});

addWorkaround('wasm', () => maxPoolGradWasm.install());
