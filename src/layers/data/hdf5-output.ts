// HDF5Output: writes its two bottoms (data and label) to hdf5_output_param.file_name as datasets `data` and
// `label`. Every forward pass appends its batch; the file is rewritten atomically each time, so it always
// holds everything seen so far (Caffe writes only a single batch correctly).
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { writeHdf5Atomic } from '../../data/hdf5-file.js';
import { isKdnetError } from '../../errors.js';

export class HDF5OutputLayer extends Layer {
  private rows: Float32Array[][] = [[], []];
  private rowShapes: number[][] = [];
  private count = 0;

  override bottomCount(): [number, number] {
    return [2, 2];
  }
  override topCount(): [number, number] {
    return [0, 0];
  }
  override hasBackward(): boolean {
    return false;
  }

  setup(bottoms: Shape[]): Shape[] {
    if (!this.param.hdf5_output_param?.file_name) throw this.error('hdf5_output_param.file_name is required', 'hdf5_output_param');
    if (bottoms[0]![0] !== bottoms[1]![0]) throw this.error(`data has ${bottoms[0]![0]} rows but label has ${bottoms[1]![0]}`);
    return [];
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    const shapes = bottoms.map((b) => b.shape.slice(1));
    if (this.count && shapes.some((s, i) => s.join(',') !== this.rowShapes[i]!.join(','))) {
      throw this.error(`bottom shapes changed from ${this.rowShapes.map((s) => s.join('×')).join(', ')} to ${shapes.map((s) => s.join('×')).join(', ')}`);
    }
    this.rowShapes = shapes;
    bottoms.forEach((b, i) => this.rows[i]!.push(b.dataSync() as Float32Array));
    this.count += bottoms[0]!.shape[0]!;
    this.save();
    return [];
  }

  private save(): void {
    const file = this.param.hdf5_output_param.file_name as string;
    const concat = (parts: Float32Array[]) => {
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) (out.set(p, at), (at += p.length));
      return out;
    };
    try {
      writeHdf5Atomic(file, (root) => {
        ['data', 'label'].forEach((name, i) => root.create_dataset({ name, data: concat(this.rows[i]!), shape: [this.count, ...this.rowShapes[i]!] }));
      });
    } catch (e) {
      throw this.error(isKdnetError(e) ? e.message : `cannot write ${file}: ${(e as Error).message}`, 'hdf5_output_param.file_name');
    }
  }

  compute(): tf.Tensor[] {
    return [];
  }
}

registerLayer('HDF5Output', HDF5OutputLayer);
