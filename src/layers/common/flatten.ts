// Flatten: merges axes axis..end_axis (inclusive) into one. A pure reshape, forward and backward.
import { type Shape } from '../layer.js';
import { ViewLayer } from './view-layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf } from './util.js';

export class FlattenLayer extends ViewLayer {
  protected topShape(shape: Shape): Shape {
    const p = paramOf(this, 'flatten_param', 'FlattenParameter');
    const start = canonicalAxis(this, p.axis, shape, 'flatten_param');
    const end = canonicalAxis(this, p.end_axis, shape, 'flatten_param');
    if (end + 1 < start) throw this.error(`flatten_param.end_axis (${p.end_axis}) comes before axis (${p.axis})`, 'flatten_param');
    return [...shape.slice(0, start), countOf(shape, start, end + 1), ...shape.slice(end + 1)];
  }
}

registerLayer('Flatten', FlattenLayer);
