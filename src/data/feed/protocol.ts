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
    };

export interface FeedConfig {
  source: FeedSource;
  batchSize: number;
  transform: TransformSettings;
  train: boolean;
  seed: number;
  /** Batches read ahead (data_param.prefetch). */
  prefetch: number;
}

export type FeedMessage =
  | { type: 'batch'; shape: number[]; data: Float32Array; labels: Float32Array }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'error'; message: string };

/** Slots of the shared Int32Array both sides synchronise on. */
export const SIGNAL = { posted: 0, consumed: 1, dead: 2 } as const;
