// What Data and ImageData share: a prefetch worker (src/data/feed) fills batches in the background; the
// layer hands them out as its tops, data N×C×H×W and (with a second top) labels N.
import * as tf from '@tensorflow/tfjs-core';
import { type Shape } from '../layer.js';
import { SourceLayer } from './source-layer.js';
import { PrefetchClient } from '../../data/feed/client.js';
import type { FeedConfig, FeedState } from '../../data/feed/protocol.js';
import { transformSettings, type TransformSettings } from '../../data/transform.js';
import { resolveDataPath } from '../../util/resolve-path.js';
import { isKdnetError } from '../../errors.js';
import { Phase } from '../../net/net-state.js';
import { log } from '../../log.js';
import { resolveSizeLimits } from '../../net/size-limits.js';

type Batch = ReturnType<PrefetchClient['next']>;

export abstract class PrefetchingLayer extends SourceLayer {
  private client: PrefetchClient | undefined;
  private config: FeedConfig | undefined;
  private ready: Batch | undefined;
  /** The cursor after the last batch handed out (what a snapshot records). */
  private consumed: FeedState | undefined;

  override topCount(): [number, number] {
    return [1, 2];
  }

  override readsDataSource(): boolean {
    return true;
  }

  /** Where and how to read; called once, at set-up. */
  protected abstract feedConfig(): FeedConfig;

  /** Where and how this layer reads, checked, for tools that read the same records themselves (kdnet extract). */
  sourceConfig(): FeedConfig {
    return this.feedConfig();
  }

  /** Milliseconds forward passes spent waiting for a batch that was not prefetched in time. */
  get dataWaitMs(): number {
    return this.client?.waitMs ?? 0;
  }

  protected transform(): TransformSettings {
    try {
      return transformSettings(this.param.transform_param, (f) => resolveDataPath(f, this.ctx.baseDir));
    } catch (e) {
      throw isKdnetError(e) ? this.error(e.message, 'transform_param') : e;
    }
  }

  protected isTrain(): boolean {
    return this.ctx.phase === Phase.TRAIN;
  }

  protected seed(): number {
    return Math.floor(this.ctx.rng.uniform() * 4294967296);
  }

  setup(): Shape[] {
    if (!this.client) {
      const limits = this.ctx.sizeLimits ?? resolveSizeLimits();
      // A batch is one blob: at most maxBlobElements, and within the net's memory (4 bytes an element).
      this.config = { ...this.feedConfig(), maxBatchElements: Math.min(limits.maxBlobElements, Math.floor(limits.memoryBytes / 4)) };
      this.start(this.config);
      log.info(`output data size: ${this.ready!.shape.join(',')}`);
    }
    const shape = this.ready?.shape ?? [];
    return (this.param.top as string[]).length === 2 ? [shape, [shape[0]!]] : [shape];
  }

  /** Starts the worker and takes the first batch (Caffe sizes the tops from the first record). */
  private start(config: FeedConfig): void {
    this.client = new PrefetchClient(config, (m) => this.error(m));
    this.ready = this.client.next();
  }

  override saveState(): unknown {
    return this.consumed && { source: this.config!.source, feed: this.consumed };
  }

  override restoreState(state: unknown): void {
    const s = state as { source: unknown; feed: FeedState } | undefined;
    // Another source than the snapshot's: start from the beginning, as Caffe always does.
    if (!s || !this.config || JSON.stringify(s.source) !== JSON.stringify(this.config.source)) return;
    this.client?.close();
    this.start({ ...this.config, resume: s.feed });
    this.consumed = s.feed;
  }

  override forward(): tf.Tensor[] {
    const batch = this.ready ?? this.client!.next();
    this.ready = undefined;
    this.consumed = batch.state;
    const data = tf.tensor(batch.data, batch.shape);
    if ((this.param.top as string[]).length < 2) return [data];
    return [data, tf.tensor(batch.labels, [batch.shape[0]!])];
  }

  compute(): tf.Tensor[] {
    return this.forward();
  }

  override dispose(): void {
    this.client?.close();
    this.client = undefined;
    super.dispose();
  }
}
