// What the data layers and their prefetch worker say to each other.
import type { Backend } from '../db/index.js';
import type { LogLevel } from '../../log.js';
import type { TransformSettings } from '../transform.js';

export type FeedSource =
  | { kind: 'db'; path: string; backend: Backend; randSkip: number }
  | {
      kind: 'images';
      listFile: string;
      rootFolder: string;
      isColor: boolean;
      newHeight: number;
      newWidth: number;
      shuffle: boolean;
      randSkip: number;
      searchDirs: string[];
    }
  | {
      /** WindowData (window_data_param); crop_size, mirror, mean and scale come in FeedConfig.transform. */
      kind: 'windows';
      windowFile: string;
      rootFolder: string;
      searchDirs: string[];
      fgThreshold: number;
      bgThreshold: number;
      fgFraction: number;
      contextPad: number;
      cropMode: 'warp' | 'square';
      cacheImages: boolean;
    };

export interface FeedConfig {
  source: FeedSource;
  batchSize: number;
  transform: TransformSettings;
  train: boolean;
  seed: number;
  /** Batches read ahead (data_param.prefetch). */
  prefetch: number;
  /** Most elements one batch may hold (the net's run-time size limits), checked before a batch is read. */
  maxBatchElements?: number;
  /** Continue from this cursor (a resumed snapshot) rather than from the start. */
  resume?: FeedState;
}

/** Where the worker stands after a batch: enough to continue exactly from there. */
export interface FeedState {
  source: unknown;
  rng: [number, number | null];
  transformRng: [number, number | null];
}

export type FeedMessage =
  | { type: 'batch'; shape: number[]; data: Float32Array; labels: Float32Array; state: FeedState }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'error'; message: string }
  | { type: 'closed' };

/** Slots of the shared Int32Array both sides synchronise on. */
export const SIGNAL = { posted: 0, consumed: 1, dead: 2, closing: 3 } as const;
export const SIGNAL_SLOTS = 4;
