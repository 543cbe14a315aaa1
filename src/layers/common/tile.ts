// Tile: repeats the bottom `tiles` times along `axis` (each block count(axis..) is repeated whole).
// Backward sums the diffs of the copies.
import * as tf from '@tensorflow/tfjs-core';
import { has } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf, rejectInPlace } from './util.js';

export class TileLayer extends Layer {
  private axis = 1;
  private tiles = 1;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    rejectInPlace(this);
    const p = paramOf(this, 'tile_param', 'TileParameter');
    if (!has(p, 'tiles')) throw this.error('tile_param.tiles (the number of copies) must be given', 'tile_param');
    this.tiles = Number(p.tiles);
    if (!(this.tiles > 0)) throw this.error(`tile_param.tiles must be positive (got ${this.tiles})`, 'tile_param');
    const shape = bottomShapes[0]!;
    this.axis = canonicalAxis(this, p.axis, shape, 'tile_param');
    const top = shape.slice();
    top[this.axis]! *= this.tiles;
    return [top];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const outer = countOf(x.shape, 0, this.axis);
    const inner = countOf(x.shape, this.axis);
    const top = x.shape.slice();
    top[this.axis]! *= this.tiles;
    return [tf.reshape(tf.tile(tf.reshape(x, [outer, 1, inner]), [1, this.tiles, 1]), top)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const x = bottoms[0]!;
    const outer = countOf(x.shape, 0, this.axis);
    const inner = countOf(x.shape, this.axis);
    const dx = tf.tidy(() => tf.reshape(tf.sum(tf.reshape(topDiffs[0]!, [outer, this.tiles, inner]), 1), x.shape));
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('Tile', TileLayer);
