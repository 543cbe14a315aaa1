// Input: tops whose data is set from outside the net (Net.setInput); shapes from input_param.
import * as tf from '@tensorflow/tfjs-core';
import { type Shape } from './layer.js';
import { SourceLayer } from './data/source-layer.js';
import { registerLayer } from './registry.js';

export class InputLayer extends SourceLayer {
  setup(): Shape[] {
    const shapes = (this.param.input_param?.shape ?? []) as Array<{ dim: number[] }>;
    const nt = (this.param.top as string[]).length;
    if (shapes.length !== 0 && shapes.length !== 1 && shapes.length !== nt) {
      throw this.error(`input_param has ${shapes.length} shapes for ${nt} tops (give one, or one per top)`, 'input_param');
    }
    return (this.param.top as string[]).map((_, i) => [...(shapes[shapes.length === 1 ? 0 : i]?.dim ?? [])].map(Number));
  }
  compute(): tf.Tensor[] {
    throw new Error('Input layers are fed by Net.setInput');
  }
}

registerLayer('Input', InputLayer);
