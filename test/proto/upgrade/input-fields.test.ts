// Net-level input / input_dim / input_shape → an Input layer (Caffe's UpgradeNetInput).
import { describe, expect, it } from 'vitest';
import { KdnetError } from '../../../src/errors.js';
import { netNeedsInputUpgrade, upgradeNetInput } from '../../../src/proto/upgrade/input-fields.js';
import { captureLog, net, obj } from './helpers.js';

const log = captureLog();

describe('netNeedsInputUpgrade', () => {
  it('is true exactly when the net names inputs', () => {
    expect(netNeedsInputUpgrade(net(`input: 'data' input_dim: 1 input_dim: 3 input_dim: 2 input_dim: 2`))).toBe(true);
    expect(netNeedsInputUpgrade(net(`layer { name: 'data' type: 'Input' top: 'data' }`))).toBe(false);
    // input_dim alone is not an input (Caffe leaves it alone)
    expect(netNeedsInputUpgrade(net(`input_dim: 1`))).toBe(false);
  });
});

describe('upgradeNetInput', () => {
  it('turns input + input_dim (4 per input) into a first Input layer named "input"', () => {
    const input = net(`
      name: 'ResNet-50'
      input: 'data'
      input_dim: 1 input_dim: 3 input_dim: 224 input_dim: 224
      layer { name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1' convolution_param { num_output: 64 kernel_size: 7 } }`);
    expect(upgradeNetInput(input)).toEqual({ inputs: 1, inputLayer: true });
    const expected = net(`
      name: 'ResNet-50'
      layer { name: 'input' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } } }
      layer { name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1' convolution_param { num_output: 64 kernel_size: 7 } }`);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('turns several inputs with input_shape into one Input layer with one shape per top', () => {
    const input = net(`
      input: 'data'
      input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }
      input: 'im_info'
      input_shape { dim: 1 dim: 3 }
      layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'data' }`);
    expect(upgradeNetInput(input)).toEqual({ inputs: 2, inputLayer: true });
    const expected = net(`
      layer {
        name: 'input' type: 'Input' top: 'data' top: 'im_info'
        input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } shape { dim: 1 dim: 3 } }
      }
      layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'data' }`);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('splits input_dim into groups of four, in input order', () => {
    const input = net(`input: 'a' input: 'b' input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 4 input_dim: 5 input_dim: 6 input_dim: 7 input_dim: 8`);
    upgradeNetInput(input);
    expect(obj(input)).toEqual(
      obj(net(`layer { name: 'input' type: 'Input' top: 'a' top: 'b'
        input_param { shape { dim: 1 dim: 2 dim: 3 dim: 4 } shape { dim: 5 dim: 6 dim: 7 dim: 8 } } }`)),
    );
  });

  it('drops inputs that have no shape at all, as Caffe does for old .caffemodel files', () => {
    const input = net(`input: 'data' layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'data' }`);
    expect(upgradeNetInput(input)).toEqual({ inputs: 1, inputLayer: false });
    expect(obj(input)).toEqual(obj(net(`layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'data' }`)));
    expect(log.warn()).toHaveLength(1);
    expect(log.warn()[0]).toMatch(/net input "data" without input_shape or input_dim dropped/);
  });

  it('refuses an input_dim count other than 4 per input', () => {
    const input = net(`input: 'a' input: 'b'\ninput_dim: 1 input_dim: 3 input_dim: 28 input_dim: 28`, 'deploy.prototxt');
    try {
      upgradeNetInput(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      expect((e as KdnetError).message).toBe(
        'the net has 2 inputs but 4 input_dim values; input_dim takes 4 values (num, channels, height, width) per input, so 8 here',
      );
      expect((e as KdnetError).where.path).toBe('input_dim');
      expect((e as KdnetError).where.position).toEqual({ file: 'deploy.prototxt', line: 2, column: 1 });
    }
  });

  it('refuses an input_shape count other than one per input', () => {
    const input = net(`input: 'a' input: 'b' input_shape { dim: 1 }`);
    expect(() => upgradeNetInput(input)).toThrow(
      'the net has 2 inputs but 1 input_shape; give exactly one input_shape per input',
    );
  });

  it('refuses input_shape and input_dim together', () => {
    const input = net(`input: 'a' input_shape { dim: 1 } input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1`);
    expect(() => upgradeNetInput(input)).toThrow(/both input_shape and the deprecated input_dim/);
  });
});
