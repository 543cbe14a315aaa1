// MemoryData: batches from arrays handed to the layer through the API (Caffe's MemoryDataLayer::Reset).
import * as tf from '@tensorflow/tfjs-core';
import { type Shape } from '../layer.js';
import { SourceLayer } from './source-layer.js';
import { registerLayer } from '../registry.js';

export class MemoryDataLayer extends SourceLayer {
  private data: Float32Array | undefined;
  private labels: Float32Array | undefined;
  private n = 0;
  private pos = 0;

  override topCount(): [number, number] {
    return [2, 2];
  }

  private dims(): [number, number, number, number] {
    const p = this.param.memory_data_param;
    return [p?.batch_size ?? 0, p?.channels ?? 0, p?.height ?? 0, p?.width ?? 0];
  }

  setup(): Shape[] {
    const [b, c, h, w] = this.dims();
    if (!(b > 0)) throw this.error('memory_data_param.batch_size must be positive', 'memory_data_param');
    if (!(c * h * w > 0)) throw this.error('memory_data_param needs positive channels, height and width', 'memory_data_param');
    return [[b, c, h, w], [b]];
  }

  /** Hands the layer `n` samples (data n×C×H×W, labels n); n must be a multiple of batch_size. */
  reset(data: Float32Array, labels: Float32Array, n: number): void {
    const [b, c, h, w] = this.dims();
    if (n % b !== 0) throw this.error(`MemoryData needs a multiple of batch_size ${b} samples, got ${n}`);
    if (data.length !== n * c * h * w) throw this.error(`MemoryData data has ${data.length} values, expected ${n}×${c}×${h}×${w}`);
    if (labels.length !== n) throw this.error(`MemoryData has ${labels.length} labels for ${n} samples`);
    this.data = data;
    this.labels = labels;
    this.n = n;
    this.pos = 0;
  }

  override saveState(): unknown {
    return { pos: this.pos };
  }

  override restoreState(state: unknown): void {
    this.pos = (state as { pos: number }).pos;
  }

  override forward(): tf.Tensor[] {
    if (!this.data || !this.labels) throw this.error('MemoryData has no data: hand it samples with reset() first (Caffe: MemoryDataLayer::Reset)');
    const [b, c, h, w] = this.dims();
    const size = c * h * w;
    const out = [
      tf.tensor(this.data.slice(this.pos * size, (this.pos + b) * size), [b, c, h, w]),
      tf.tensor(this.labels.slice(this.pos, this.pos + b), [b]),
    ];
    this.pos = (this.pos + b) % this.n;
    return out;
  }

  compute(): tf.Tensor[] {
    return this.forward();
  }
}

registerLayer('MemoryData', MemoryDataLayer);
