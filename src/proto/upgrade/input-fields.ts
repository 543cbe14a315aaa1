// Net-level inputs (`input: "data"` with `input_dim: 1 input_dim: 3 …` or `input_shape { dim: … }`) → one
// `Input` layer named "input", first in the net, as Caffe's UpgradeNetInput does it.
import { clear, newMessage, type Message } from '../schema.js';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { positionOf } from '../../prototxt/side-tables.js';

/** Caffe's NetNeedsInputUpgrade: the net names inputs with the deprecated `input` field. */
export function netNeedsInputUpgrade(net: Message): boolean {
  return (net.input as string[]).length > 0;
}

/**
 * The consistency rules Caffe enforced on these fields when it still read them (Net::Init before the Input
 * layer existed): not both forms, four input_dim values per input, one input_shape per input.
 */
function checkInputFields(net: Message): void {
  const inputs = (net.input as string[]).length;
  const dims = (net.input_dim as number[]).length;
  const shapes = (net.input_shape as Message[]).length;
  const where = (field: string) => ({ path: field, position: positionOf(net, field) });
  if (dims > 0 && shapes > 0) {
    throw new KdnetError(
      'the net gives both input_shape and the deprecated input_dim; give one of them',
      where('input_dim'),
    );
  }
  if (dims > 0 && dims !== inputs * 4) {
    throw new KdnetError(
      `the net has ${inputs} input${inputs === 1 ? '' : 's'} but ${dims} input_dim value${dims === 1 ? '' : 's'}; ` +
        `input_dim takes 4 values (num, channels, height, width) per input, so ${inputs * 4} here`,
      where('input_dim'),
    );
  }
  if (shapes > 0 && shapes !== inputs) {
    throw new KdnetError(
      `the net has ${inputs} input${inputs === 1 ? '' : 's'} but ${shapes} input_shape${shapes === 1 ? '' : 's'}; ` +
        'give exactly one input_shape per input',
      where('input_shape'),
    );
  }
}

/**
 * Caffe's UpgradeNetInput, in place. With shapes (input_shape or input_dim), the inputs become the tops of
 * a new first layer `{ name: "input" type: "Input" input_param { shape … } }`; without any (old .caffemodel
 * files), the input names are simply dropped. `input`, `input_shape` and `input_dim` are cleared either way.
 * Returns how many inputs there were and whether an Input layer was added for them.
 */
export function upgradeNetInput(net: Message): { inputs: number; inputLayer: boolean } {
  checkInputFields(net);
  const inputs = net.input as string[];
  const shapes = net.input_shape as Message[];
  const dims = net.input_dim as number[];
  const count = inputs.length;
  let inputLayer = false;
  if (shapes.length > 0 || dims.length > 0) {
    const layer = newMessage('LayerParameter', { name: 'input', type: 'Input' });
    const inputParam = newMessage('InputParameter');
    layer.input_param = inputParam;
    inputs.forEach((name, i) => {
      (layer.top as string[]).push(name);
      if (shapes.length > 0) {
        (inputParam.shape as Message[]).push(shapes[i]!);
      } else {
        (inputParam.shape as Message[]).push(newMessage('BlobShape', { dim: dims.slice(i * 4, i * 4 + 4) }));
      }
    });
    net.layer = [layer, ...(net.layer as Message[])];
    inputLayer = true;
  } else if (inputs.length > 0) {
    log.warn(
      `net input${inputs.length === 1 ? '' : 's'} ${inputs.map((i) => `"${i}"`).join(', ')} without input_shape or input_dim dropped ` +
        '(as Caffe does for old .caffemodel files); give them shapes to keep them',
    );
  }
  clear(net, 'input');
  clear(net, 'input_shape');
  clear(net, 'input_dim');
  return { inputs: count, inputLayer };
}

