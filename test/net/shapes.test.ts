// Static shape inference (src/net/shapes.ts): shapes and parameter counts without allocating anything,
// sizes no blob can have as positioned errors, every set-up error of a net at once.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { parseCaffeText } from '../../src/proto/text.js';
import { inferShapes } from '../../src/net/shapes.js';
import { Phase } from '../../src/net/net-state.js';
import { initBackend } from '../../src/backend/select.js';

const net = (text: string) => parseCaffeText(text, 'NetParameter', 'n.prototxt').message;
const input = (dims: number[]) => `layer { name: "in" type: "Input" top: "data" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }\n`;

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('inferShapes', () => {
  it('gives top shapes, parameter counts and FLOPs', () => {
    const { rows, errors } = inferShapes(
      net(`${input([2, 3, 8, 8])}layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 3 } }
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 10 } }`),
      Phase.TEST,
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.name, r.tops, r.params])).toEqual([
      ['in', [[2, 3, 8, 8]], 0],
      ['conv', [[2, 8, 6, 6]], 8 * 3 * 3 * 3 + 8],
      ['ip', [[2, 10]], 10 * 288 + 10],
    ]);
    expect(rows[1]!.flops).toBe(2 * 2 * 8 * 6 * 6 * 27);
  });

  it('describes a 6 GB weight without allocating a byte', () => {
    const before = tf.memory();
    const { rows, errors } = inferShapes(
      net(`${input([1, 3, 100, 100])}layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 50000 } }
layer { name: "dd" type: "Deconvolution" bottom: "data" top: "dd" convolution_param { num_output: 4096 kernel_size: 11 } }`),
      Phase.TEST,
    );
    expect(errors).toEqual([]);
    expect(rows[1]!.params).toBe(50000 * 30000 + 50000);
    expect(rows[2]!.params).toBe(3 * 4096 * 121 + 4096);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('turns sizes no blob can have into errors naming the layer and the field, one per layer', () => {
    const { rows, errors } = inferShapes(
      net(`${input([1, 3, 8, 8])}layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 4000000000 } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 2147483648 } }
layer { name: "tile" type: "Tile" bottom: "data" top: "t" tile_param { tiles: 20000000 } }`),
      Phase.TEST,
    );
    expect(errors.map((e) => e.oneLine)).toEqual([
      'n.prototxt:2:66: layer "ip" (InnerProduct).inner_product_param: parameter blob 0 of shape 4000000000x192: 768000000000 elements (2.79 TiB) are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)',
      'n.prototxt:3:66: layer "conv" (Convolution).convolution_param: parameter blob 0 of shape 2x3x2147483648x2147483648: 2.767e+19 elements (96.00 EiB) are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)',
      `n.prototxt:4:50: layer "tile".top: top blob 't': 1x60000000x8x8: 3840000000 elements (14.31 GiB) are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)`,
    ]);
    expect(rows.slice(1).map((r) => r.tops)).toEqual([[undefined], [undefined], [undefined]]);
  });

  it('never sets up a layer with the wrong number of bottoms, or one reading a blob no layer produced', () => {
    const { rows, errors } = inferShapes(
      net(`${input([1, 3])}layer { name: "relu" type: "ReLU" top: "r" }
layer { name: "loss" type: "SoftmaxWithLoss" top: "l" }
layer { name: "typo" type: "ReLU" bottom: "dta" top: "t" }`),
      Phase.TRAIN,
    );
    expect(errors).toEqual([]); // the structural check reports these
    expect(rows.slice(1).map((r) => r.note)).toEqual(['not set up: see the errors below', 'not set up: see the errors below', 'depends on an unknown shape']);
  });
});
