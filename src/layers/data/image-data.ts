// ImageData: images named in a "path label" list file (image_data_param), decoded, optionally resized,
// then transformed by transform_param.
import path from 'node:path';
import { PrefetchingLayer } from './prefetching-layer.js';
import { registerLayer } from '../registry.js';
import type { FeedConfig } from '../../data/feed/protocol.js';
import { resolveDataPath } from '../../util/resolve-path.js';

export class ImageDataLayer extends PrefetchingLayer {
  protected feedConfig(): FeedConfig {
    const p = this.param.image_data_param;
    if (!p?.source) throw this.error('image_data_param.source is required', 'image_data_param');
    const batchSize = p.batch_size ?? 1;
    if (!(batchSize > 0)) throw this.error('image_data_param.batch_size must be positive', 'image_data_param');
    const newHeight = p.new_height ?? 0;
    const newWidth = p.new_width ?? 0;
    if ((newHeight > 0) !== (newWidth > 0)) {
      throw this.error('image_data_param: new_height and new_width must be set together', 'image_data_param');
    }
    const listFile = resolveDataPath(p.source, this.ctx.baseDir);
    return {
      source: {
        kind: 'images',
        listFile,
        rootFolder: p.root_folder ?? '',
        isColor: p.is_color ?? true,
        newHeight,
        newWidth,
        shuffle: p.shuffle ?? false,
        randSkip: p.rand_skip ?? 0,
        searchDirs: [this.ctx.baseDir, path.dirname(listFile)].filter((d): d is string => !!d),
      },
      batchSize,
      transform: this.transform(),
      train: this.isTrain(),
      seed: this.seed(),
      prefetch: 4,
    };
  }
}

registerLayer('ImageData', ImageDataLayer);
