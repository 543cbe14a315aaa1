// DummyData: tops of given shapes filled by fillers (constant fillers once, on the first forward; others anew
// every forward).
import * as tf from '@tensorflow/tfjs-core';
import { type Shape } from '../layer.js';
import { SourceLayer } from './source-layer.js';
import { registerLayer } from '../registry.js';
import { fillValues } from '../fillers.js';
import type { Message } from '../../proto/schema.js';

export class DummyDataLayer extends SourceLayer {
  private shapes: Shape[] = [];
  private fillers: (Message | undefined)[] = [];
  private fixed: (tf.Tensor | undefined)[] = [];

  setup(): Shape[] {
    const p = this.param.dummy_data_param;
    const nt = (this.param.top as string[]).length;
    if (!p) throw this.error('dummy_data_param is required', 'dummy_data_param');
    const fillers = p.data_filler as Message[];
    if (![0, 1, nt].includes(fillers.length)) throw this.error(`give 0, 1 or ${nt} data_filler (one per top), got ${fillers.length}`, 'dummy_data_param');
    const legacy = (p.num as number[]).length > 0;
    if (legacy) {
      if ((p.shape as Message[]).length) throw this.error('give either shape or num/channels/height/width, not both', 'dummy_data_param');
      const pick = (xs: number[], i: number, field: string) => {
        if (xs.length !== 1 && xs.length !== nt) throw this.error(`${field} must be given once or once per top`, 'dummy_data_param');
        return Number(xs[xs.length === 1 ? 0 : i]);
      };
      this.shapes = Array.from({ length: nt }, (_, i) => ['num', 'channels', 'height', 'width'].map((f) => pick(p[f], i, f)));
    } else {
      const shapes = p.shape as Message[];
      if (shapes.length !== 1 && shapes.length !== nt) throw this.error(`give one shape, or one per top (${nt}), got ${shapes.length}`, 'dummy_data_param');
      this.shapes = Array.from({ length: nt }, (_, i) => (shapes[shapes.length === 1 ? 0 : i]!.dim as number[]).map(Number));
    }
    this.fillers = Array.from({ length: nt }, (_, i) => fillers[fillers.length === 1 ? 0 : i]);
    for (const t of this.fixed) t?.dispose();
    this.fixed = [];
    return this.shapes;
  }

  // Nothing is allocated at set-up: the net checks the top sizes against its limits first.
  override forward(): tf.Tensor[] {
    return this.shapes.map((shape, i) => {
      const f = this.fillers[i];
      const fill = () => tf.tensor(fillValues(f, shape, this.ctx.rng, `layer "${this.name}"`), shape);
      if (f && (f.type ?? 'constant') !== 'constant') return fill();
      this.fixed[i] ??= tf.keep(fill()); // kept across tidy scopes: it lives until dispose()
      return tf.clone(this.fixed[i]!);
    });
  }

  compute(): tf.Tensor[] {
    return this.forward();
  }

  override dispose(): void {
    for (const t of this.fixed) t?.dispose();
    this.fixed = [];
    super.dispose();
  }
}

registerLayer('DummyData', DummyDataLayer);
