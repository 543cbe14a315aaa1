// MaxPoolWithArgmax for wasm: the shipped kernel returns the LAST of tied maxima (and index 0 for windows of
// zeros), where tfjs' cpu backend and Caffe's pooling mask give the FIRST maximum in scan order. Indices are
// flat NHWC positions in the input, with or without the batch offset as `includeBatchInIndex` says.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { kernelReplacement } from './replace.js';
import { firstMaxIndex, makeOutput, readFloats } from './max-pool-first.js';

export const maxPoolWithArgmaxWasm = kernelReplacement('MaxPoolWithArgmax', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  const x = inputs.x!;
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad);
  const perImage = info.inHeight * info.inWidth * info.inChannels;
  let index: Int32Array = new Int32Array(0);
  const indexes = makeOutput<Int32Array>(backend, info.outShape, 'int32', (out) => {
    index = firstMaxIndex(readFloats(backend, x), info);
    for (let o = 0; o < index.length; o++) {
      const i = index[o]!;
      out[o] = i < 0 || a.includeBatchInIndex ? i : i % perImage;
    }
  });
  const pooled = makeOutput<Float32Array>(backend, info.outShape, 'float32', (out) => {
    const xv = readFloats(backend, x);
    for (let o = 0; o < index.length; o++) out[o] = index[o]! >= 0 ? xv[index[o]!]! : -Infinity;
  });
  return [pooled, indexes];
});

addWorkaround('wasm', () => maxPoolWithArgmaxWasm.install());
