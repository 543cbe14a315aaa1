// `kdnet time`'s per-layer profile waits for nothing on kdnet's synchronous backends: reading every top and
// diff back (dataSync) made the timed layers look many times slower than they are (CIFAR-10 quick's ReLU
// 9.4 ms instead of 0.26 ms; the whole forward-backward 190 ms instead of 54 ms).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { parseCaffeText } from '../../src/proto/text.js';

const NET = `force_backward: true
layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "gaussian" std: 0.1 } } }
layer { name: "relu" type: "ReLU" bottom: "c" top: "c" }
layer { name: "ip" type: "InnerProduct" bottom: "c" top: "y" inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.1 } } }`;

describe('the per-layer profile of kdnet time', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  it('times every layer both ways without reading any blob back on wasm', () => {
    const net = new Net(parseCaffeText(NET, 'NetParameter').message, { phase: Phase.TRAIN, seed: 3 });
    net.setInput('x', tf.randomNormal([2, 3, 8, 8]));
    net.profile = { forward: new Map(), backward: new Map() };
    const reads = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    try {
      net.forward();
      net.setTopDiff('y', tf.onesLike(net.blob('y')));
      net.backward();
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
    expect([...net.profile.forward.keys()]).toEqual(['conv', 'relu', 'ip']);
    expect([...net.profile.backward.keys()].sort()).toEqual(['conv', 'ip', 'relu']);
    for (const ms of [...net.profile.forward.values(), ...net.profile.backward.values()]) expect(ms).toBeGreaterThanOrEqual(0);
    net.dispose();
  });
});
