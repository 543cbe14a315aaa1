// Reshape: replaces axes [axis, axis + num_axes) of the bottom by reshape_param.shape, where a 0 copies the
// bottom's dimension at that position and one -1 is inferred from the total count. Data is unchanged.
import { type Shape } from '../layer.js';
import { ViewLayer } from './view-layer.js';
import { registerLayer } from '../registry.js';
import { countOf, paramOf, shapeText } from './util.js';

export class ReshapeLayer extends ViewLayer {
  protected topShape(bottom: Shape): Shape {
    const p = paramOf(this, 'reshape_param', 'ReshapeParameter');
    const dims = ((p.shape?.dim ?? []) as number[]).map(Number);
    let inferred = -1;
    let constant = 1;
    const copies: number[] = [];
    dims.forEach((d, i) => {
      if (d === 0) copies.push(i);
      else if (d === -1) {
        if (inferred !== -1) throw this.error('reshape_param.shape has more than one -1 dimension (at most one can be inferred)', 'reshape_param');
        inferred = i;
      } else if (d < -1) throw this.error(`reshape_param.shape has dimension ${d}: use a positive size, 0 to copy or -1 to infer`, 'reshape_param');
      else constant *= d;
    });
    const n = bottom.length;
    const axisIn = Number(p.axis);
    const start = axisIn >= 0 ? axisIn : n + axisIn + 1;
    if (start < 0 || start > n) throw this.error(`reshape_param.axis ${axisIn} is out of range for a ${n}-D bottom of shape ${shapeText(bottom)}`, 'reshape_param');
    const numAxes = Number(p.num_axes);
    if (numAxes < -1) throw this.error(`reshape_param.num_axes must be >= 0, or -1 for all remaining axes (got ${numAxes})`, 'reshape_param');
    const end = numAxes === -1 ? n : start + numAxes;
    if (end > n) throw this.error(`reshape_param axis ${axisIn} + num_axes ${numAxes} go beyond the ${n} axes of bottom ${shapeText(bottom)}`, 'reshape_param');
    const top = [...bottom.slice(0, start), ...dims, ...bottom.slice(end)];
    for (const c of copies) {
      if (start + c >= n) throw this.error(`reshape_param.shape has a 0 at position ${c} but the bottom ${shapeText(bottom)} has no axis ${start + c} to copy`, 'reshape_param');
      top[start + c] = bottom[start + c]!;
    }
    const total = countOf(bottom);
    if (inferred !== -1) {
      let explicit = constant * countOf(bottom, 0, start) * countOf(bottom, end);
      for (const c of copies) explicit *= bottom[start + c]!;
      if (explicit === 0 || total % explicit !== 0) {
        throw this.error(`bottom count ${total} (shape ${shapeText(bottom)}) is not divisible by the product ${explicit} of the specified dimensions`, 'reshape_param');
      }
      top[start + inferred] = total / explicit;
    }
    if (countOf(top) !== total) {
      throw this.error(`reshape to ${shapeText(top)} (${countOf(top)} values) does not keep the bottom's ${total} values of shape ${shapeText(bottom)}`, 'reshape_param');
    }
    return top;
  }
}

registerLayer('Reshape', ReshapeLayer);
