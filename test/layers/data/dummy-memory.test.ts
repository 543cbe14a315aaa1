// DummyData (shapes, legacy dims, 0/1/N fillers, constant once vs random every pass) and MemoryData (reset,
// batches in order, wrap-around, cursor state, errors).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import type { MemoryDataLayer } from '../../../src/layers/data/memory-data.js';
import { netFromText } from '../../support/data.js';

beforeAll(async () => {
  await initBackend('cpu', true);
});

const values = (net: ReturnType<typeof netFromText>, blob: string) => Array.from(net.blob(blob).dataSync());

describe('DummyData', () => {
  it('one shape for every top; no filler means zeros; a constant filler is the same every pass', () => {
    const net = netFromText(`layer { name: "d" type: "DummyData" top: "a" top: "b"
      dummy_data_param { shape { dim: 2 dim: 3 } data_filler { type: "constant" value: 1.5 } } }`);
    net.forward();
    expect(net.blobShape('a')).toEqual([2, 3]);
    expect(values(net, 'b')).toEqual(new Array(6).fill(1.5));
    const zeros = netFromText(`layer { name: "d" type: "DummyData" top: "z" dummy_data_param { shape { dim: 4 } } }`);
    zeros.forward();
    expect(values(zeros, 'z')).toEqual([0, 0, 0, 0]);
  });

  it('legacy num/channels/height/width, one filler per top; random fillers draw anew each pass', () => {
    const net = netFromText(`layer { name: "d" type: "DummyData" top: "u" top: "g"
      dummy_data_param { num: 50 channels: 2 height: 3 width: 4
        data_filler { type: "uniform" min: -2 max: 3 } data_filler { type: "gaussian" mean: 10 std: 0.5 } } }`);
    net.forward();
    expect(net.blobShape('u')).toEqual([50, 2, 3, 4]);
    const u = values(net, 'u');
    const g = values(net, 'g');
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThanOrEqual(3);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    const sd = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length);
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(0.45);
    expect(sd).toBeLessThan(0.55);
    net.forward();
    expect(values(net, 'u')).not.toEqual(u);
  });

  it('xavier and msra fill with their variances (fan-in C·H·W)', () => {
    const net = netFromText(`layer { name: "d" type: "DummyData" top: "x" top: "m"
      dummy_data_param { shape { dim: 400 dim: 5 dim: 2 dim: 2 } data_filler { type: "xavier" } data_filler { type: "msra" } } }`);
    net.forward();
    const x = values(net, 'x');
    // xavier: uniform ±sqrt(3 / fan_in), fan_in = 20
    expect(Math.max(...x.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(3 / 20) + 1e-6);
    const m = values(net, 'm');
    const variance = m.reduce((s, v) => s + v * v, 0) / m.length;
    expect(variance).toBeGreaterThan(0.9 * (2 / 20));
    expect(variance).toBeLessThan(1.1 * (2 / 20));
  });

  it('refuses two fillers for three tops, and shape with num', () => {
    expect(() => netFromText(`layer { name: "d" type: "DummyData" top: "a" top: "b" top: "c"
      dummy_data_param { shape { dim: 1 } data_filler { value: 1 } data_filler { value: 2 } } }`)).toThrow(/give 0, 1 or 3 data_filler/);
    expect(() => netFromText(`layer { name: "d" type: "DummyData" top: "a" dummy_data_param { shape { dim: 1 } num: 1 channels: 1 height: 1 width: 1 } }`)).toThrow(
      /either shape or num\/channels\/height\/width/,
    );
  });
});

describe('MemoryData', () => {
  const text = `layer { name: "m" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 2 channels: 1 height: 1 width: 3 } }`;

  it('serves the samples handed to reset() batch by batch, wrapping around, with a resumable cursor', () => {
    const net = netFromText(text);
    const layer = net.layer('m') as MemoryDataLayer;
    layer.reset(Float32Array.from({ length: 12 }, (_, i) => i), Float32Array.of(7, 8, 9, 10), 4);
    net.forward();
    expect(values(net, 'data')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values(net, 'label')).toEqual([7, 8]);
    const state = layer.saveState();
    net.forward();
    expect(values(net, 'label')).toEqual([9, 10]);
    net.forward();
    expect(values(net, 'label')).toEqual([7, 8]);
    layer.restoreState(state);
    net.forward();
    expect(values(net, 'data')).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('refuses a count that is not a multiple of batch_size, wrong sizes, and a forward pass before reset()', () => {
    const net = netFromText(text);
    const layer = net.layer('m') as MemoryDataLayer;
    expect(() => layer.reset(new Float32Array(9), new Float32Array(3), 3)).toThrow(/multiple of batch_size 2/);
    expect(() => layer.reset(new Float32Array(5), new Float32Array(2), 2)).toThrow(/5 values, expected 2×1×1×3/);
    expect(() => net.forward()).toThrow(/hand it samples with reset\(\) first/);
  });
});
