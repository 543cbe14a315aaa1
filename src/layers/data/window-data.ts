// WindowData: R-CNN style detection batches from a window file (window_data_param): foreground and
// background boxes sampled at random, grown by context padding, warped to transform_param.crop_size,
// mirrored, mean-subtracted and scaled as Caffe's window_data_layer.cpp does (src/data/feed/windows.ts).
import fs from 'node:fs';
import path from 'node:path';
import { PrefetchingLayer } from './prefetching-layer.js';
import { registerLayer } from '../registry.js';
import type { FeedConfig } from '../../data/feed/protocol.js';
import { transformSettings, type TransformSettings } from '../../data/transform.js';
import { resolveDataPath } from '../../util/resolve-path.js';
import { has } from '../../proto/schema.js';
import { isKdnetError } from '../../errors.js';
import { log } from '../../log.js';

const TRANSFORM_FIELDS = ['scale', 'mirror', 'crop_size', 'mean_file', 'mean_value', 'force_color', 'force_gray'];
/** window_data_param's own copies of transform fields (Caffe's upgrade moves them for V1 nets). */
const LEGACY_FIELDS = ['scale', 'mirror', 'crop_size', 'mean_file'];

export class WindowDataLayer extends PrefetchingLayer {
  /** Caffe: ExactNumTopBlobs 2 (data and label). */
  override topCount(): [number, number] {
    return [2, 2];
  }

  /**
   * Caffe's WindowData takes crop_size, mirror and the mean from transform_param and the scale from
   * window_data_param. Each falls back to the other message when only that one sets it.
   */
  private windowTransform(): TransformSettings {
    const wp = this.param.window_data_param;
    const tp = this.param.transform_param;
    const merged: Record<string, unknown> = {};
    for (const f of TRANSFORM_FIELDS) {
      if (tp && has(tp, f)) merged[f] = tp[f];
      else if (LEGACY_FIELDS.includes(f) && has(wp, f)) merged[f] = wp[f];
    }
    if (has(wp, 'scale')) {
      if (tp && has(tp, 'scale') && tp.scale !== wp.scale) {
        log.warn(`layer "${this.name}": WindowData uses window_data_param.scale ${wp.scale} (as Caffe does), not transform_param.scale ${tp.scale}`);
      }
      merged.scale = wp.scale;
    }
    try {
      return transformSettings(merged, (f) => resolveDataPath(f, this.ctx.baseDir));
    } catch (e) {
      throw isKdnetError(e) ? this.error(e.message, 'transform_param') : e;
    }
  }

  protected feedConfig(): FeedConfig {
    const p = this.param.window_data_param;
    if (!p || !p.source) throw this.error('window_data_param.source is required', 'window_data_param');
    const batchSize = p.batch_size ?? 0;
    if (!(batchSize > 0)) throw this.error('window_data_param.batch_size must be positive', 'window_data_param');
    const transform = this.windowTransform();
    const crop = transform.cropSize;
    if (!(crop > 0)) throw this.error('WindowData needs transform_param.crop_size > 0 (the size windows are warped to)', 'transform_param');
    const contextPad = p.context_pad ?? 0;
    if (crop - 2 * contextPad <= 0) {
      throw this.error(`context_pad ${contextPad} leaves no room for the window in a ${crop}×${crop} crop (needs 2·context_pad < crop_size)`, 'window_data_param.context_pad');
    }
    const fgFraction = p.fg_fraction ?? 0.25;
    if (!(fgFraction >= 0 && fgFraction <= 1)) throw this.error(`fg_fraction must be between 0 and 1, got ${fgFraction}`, 'window_data_param.fg_fraction');
    const cropMode = p.crop_mode ?? 'warp';
    if (cropMode !== 'warp' && cropMode !== 'square') throw this.error(`crop_mode must be "warp" or "square", got "${cropMode}"`, 'window_data_param.crop_mode');
    // The mean file and mean values are checked against the 3-channel crop where they are read (windows.ts).
    const windowFile = resolveDataPath(p.source, this.ctx.baseDir);
    if (!fs.existsSync(windowFile)) throw this.error(`${p.source}: no such window file`, 'window_data_param.source');
    return {
      source: {
        kind: 'windows',
        windowFile,
        rootFolder: p.root_folder ?? '',
        searchDirs: [this.ctx.baseDir, path.dirname(windowFile)].filter((d): d is string => !!d),
        fgThreshold: p.fg_threshold ?? 0.5,
        bgThreshold: p.bg_threshold ?? 0.5,
        fgFraction,
        contextPad,
        cropMode,
        cacheImages: p.cache_images ?? false,
      },
      batchSize,
      transform,
      train: this.isTrain(),
      seed: this.seed(),
      prefetch: 4,
    };
  }
}

registerLayer('WindowData', WindowDataLayer);
