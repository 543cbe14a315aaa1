// The im2col rows of a filter gradient: for every tap (i, j) of a kh×kw filter and input channel c, the
// N·OH·OW values of x that tap multiplies, x[c, n, oh·sh + i − top, ow·sw + j − left] (0 outside the image),
// as row (i·kw + j)·C + c of a [kh·kw·C, N·OH·OW] matrix. Written by block copies within the wasm heap (one
// copyWithin a run of output columns, zeros left where the tap falls into the padding): the 25 slices and
// the concatenation of tfjs kernels this replaces took 4.2 ms of LeNet's conv1 and 25 ms of CIFAR-10 quick's.
import * as tf from '@tensorflow/tfjs-core';
import { makeOutput, readFloats } from './max-pool-first.js';

export interface Im2colGeometry {
  kernel: [number, number];
  stride: [number, number];
  /** Top and left padding (bottom/right follow from the output size). */
  pad: [number, number];
  output: [number, number];
}

/** Output columns ow with 0 ≤ ow·s + offset < size: [first, end). */
function insideRange(offset: number, s: number, size: number, out: number): [number, number] {
  const first = offset >= 0 ? 0 : Math.ceil(-offset / s);
  const end = Math.min(out, Math.floor((size - 1 - offset) / s) + 1);
  return [first, Math.max(first, end)];
}

/** `x` channels first, [C, N, H, W] (float32): the [kh·kw·C, N·OH·OW] rows. */
export function im2colRows(x: tf.Tensor4D, g: Im2colGeometry): tf.Tensor2D {
  const backend = tf.backend();
  const [c, n, h, w] = x.shape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [oh, ow] = g.output;
  const plane = oh * ow;
  const info = makeOutput<Float32Array>(backend, [kh * kw * c, n * plane], 'float32', (out) => {
    const src = readFloats(backend, x);
    // Within one heap both are views of the same buffer: copy with copyWithin on one view (no allocation).
    const same = src.buffer === out.buffer;
    const heap = same ? new Float32Array(out.buffer) : out;
    const input = same ? heap : src;
    const outBase = same ? out.byteOffset / 4 : 0;
    const srcBase = same ? src.byteOffset / 4 : 0;
    let row = outBase;
    for (let i = 0; i < kh; i++) {
      const [y0, y1] = insideRange(i - g.pad[0], sh, h, oh);
      for (let j = 0; j < kw; j++) {
        const [x0, x1] = insideRange(j - g.pad[1], sw, w, ow);
        const run = x1 - x0;
        for (let ch = 0; ch < c; ch++, row += n * plane) {
          if (run <= 0) continue;
          for (let b = 0; b < n; b++) {
            const image = srcBase + (ch * n + b) * h * w;
            for (let y = y0; y < y1; y++) {
              const from = image + (y * sh + i - g.pad[0]) * w + x0 * sw + j - g.pad[1];
              const to = row + b * plane + y * ow + x0;
              if (sw === 1) {
                if (same) heap.copyWithin(to, from, from + run);
                else out.set(src.subarray(from, from + run), to);
              } else {
                for (let q = 0; q < run; q++) heap[to + q] = input[from + q * sw]!;
              }
            }
          }
        }
      }
    }
  });
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D;
}
