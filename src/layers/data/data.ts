// Data: batches of Datum records from an LMDB or LevelDB database (data_param), transformed by transform_param.
import fs from 'node:fs';
import { PrefetchingLayer } from './prefetching-layer.js';
import { registerLayer } from '../registry.js';
import type { FeedConfig } from '../../data/feed/protocol.js';
import { backendFromEnum, checkDatabase } from '../../data/db/index.js';
import { resolveDataPath } from '../../util/resolve-path.js';
import { isKdnetError } from '../../errors.js';
import { log } from '../../log.js';

export class DataLayer extends PrefetchingLayer {
  protected feedConfig(): FeedConfig {
    const p = this.param.data_param;
    if (!p?.source) throw this.error('data_param.source is required', 'data_param');
    if (!(p.batch_size > 0)) throw this.error('data_param.batch_size must be positive', 'data_param');
    const source = resolveDataPath(p.source, this.ctx.baseDir);
    const backend = backendFromEnum(p.backend);
    try {
      checkDatabase(source, backend);
    } catch (e) {
      if (isKdnetError(e)) throw this.error(fs.existsSync(source) ? e.message : `${p.source}: no such database`, 'data_param.source');
      throw e;
    }
    log.info(`Opened ${backend} ${p.source}`);
    const transform = this.transform();
    if (p.force_encoded_color) transform.forceColor = true;
    return {
      source: { kind: 'db', path: source, backend, randSkip: p.rand_skip ?? 0 },
      batchSize: p.batch_size,
      transform,
      train: this.isTrain(),
      seed: this.seed(),
      prefetch: Math.max(1, p.prefetch ?? 4),
    };
  }
}

registerLayer('Data', DataLayer);
