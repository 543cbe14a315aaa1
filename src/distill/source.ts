// The records a teacher's data layer reads, once, in order, each with its key: Data (LMDB/LevelDB records in
// key order, keyed as stored), ImageData (the list in its order, keyed `%08d_path` as convert_imageset keys
// them) and HDF5Data (the files' rows in list order, keyed `%08d` by row). Unlike the layers' cursors these
// never wrap around, shuffle or skip: extraction visits every record exactly once.
import type { Message } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { Rng } from '../util/rng.js';
import { openDbReader, recordKey, type Backend } from '../data/db/index.js';
import { datumPixels, decodeDatum } from '../data/datum.js';
import { readHdf5, readHdf5Datasets } from '../data/hdf5-file.js';
import { colorMode, transformSettings, type TransformSettings } from '../data/transform.js';
import type { ColorMode, ResizeTo } from '../data/image.js';
import { ImageListSource, readImageList, type PendingSample } from '../data/feed/sources.js';
import type { LayerContext } from '../layers/layer.js';
import { DataLayer } from '../layers/data/data.js';
import { ImageDataLayer } from '../layers/data/image-data.js';
import { HDF5DataLayer, readHdf5FileList } from '../layers/data/hdf5-data.js';

/** Where records come from and how they are decoded (what an ensemble's teachers must agree on). */
export type SourceSpec =
  | { kind: 'db'; path: string; backend: Backend; color: ColorMode }
  | { kind: 'images'; listFile: string; rootFolder: string; color: ColorMode; resize?: ResizeTo; searchDirs: string[] }
  | { kind: 'hdf5'; listSource: string; files: string[]; tops: string[] };

export const EXTRACT_LAYER_TYPES = ['Data', 'ImageData', 'HDF5Data'];

export interface DataLayerReading {
  spec: SourceSpec;
  batchSize: number;
  /** The teacher's transform_param as the TEST phase applies it: central crop, no mirror. */
  transform: TransformSettings;
}

/** How a teacher's data layer (one of EXTRACT_LAYER_TYPES) reads, with the layer's own checks and errors. */
export function readingOf(layer: Message, ctx: LayerContext): DataLayerReading {
  if (layer.type === 'HDF5Data') {
    const p = layer.hdf5_data_param;
    const hdf5 = new HDF5DataLayer(layer, ctx); // for errors positioned at the layer, as its own
    if (!p?.source) throw hdf5.error('hdf5_data_param.source is required', 'hdf5_data_param');
    if (!(p.batch_size > 0)) throw hdf5.error('hdf5_data_param.batch_size must be positive', 'hdf5_data_param');
    const tops = [...(layer.top as string[])];
    if (tops.length > 2) throw hdf5.error(`kdnet extract feeds HDF5Data's data and label tops; this layer has ${tops.length} tops`, 'top');
    if (p.shuffle) log.info(`${layer.name}: hdf5_data_param.shuffle is ignored: extraction follows the files' order`);
    const files = readHdf5FileList(p.source, ctx.baseDir, (m) => hdf5.error(m, 'hdf5_data_param.source')).map((e) => e.file);
    return { spec: { kind: 'hdf5', listSource: p.source, files, tops }, batchSize: p.batch_size, transform: transformSettings(undefined) };
  }
  const config = (layer.type === 'Data' ? new DataLayer(layer, ctx) : new ImageDataLayer(layer, ctx)).sourceConfig();
  const s = config.source;
  const transform = { ...config.transform, mirror: false };
  if (s.kind === 'db') {
    if (s.randSkip) log.info(`${layer.name}: rand_skip is ignored: extraction starts at the first record`);
    return { spec: { kind: 'db', path: s.path, backend: s.backend, color: colorMode(transform) }, batchSize: config.batchSize, transform };
  }
  if (s.kind !== 'images') throw new KdnetError(`kdnet extract cannot read ${layer.type} sources`, { layer: layer.name });
  if (s.shuffle || s.randSkip) log.info(`${layer.name}: shuffle and rand_skip are ignored: extraction follows the list's order`);
  const resize = s.newHeight > 0 && s.newWidth > 0 ? { height: s.newHeight, width: s.newWidth } : undefined;
  return {
    spec: { kind: 'images', listFile: s.listFile, rootFolder: s.rootFolder, color: s.isColor ? 'color' : 'gray', resize, searchDirs: s.searchDirs },
    batchSize: config.batchSize,
    transform,
  };
}

export function describeSource(spec: SourceSpec): string {
  if (spec.kind === 'db') return `${spec.backend === 'lmdb' ? 'LMDB' : 'LevelDB'} ${spec.path}`;
  if (spec.kind === 'images') return `image list ${spec.listFile}`;
  return `HDF5 list ${spec.listSource}`;
}

export interface SourceRecord extends PendingSample {
  key: Buffer;
}

export interface ExtractSource {
  readonly description: string;
  /** Per-record dims the data layer gives (HDF5 rows); otherwise the transformed C×H×W. */
  readonly rowDims?: number[];
  count(): Promise<number>;
  /** Records [start, end) in the source's order. */
  records(start: number, end: number): AsyncIterable<SourceRecord>;
  close(): Promise<void>;
}

export async function openExtractSource(spec: SourceSpec): Promise<ExtractSource> {
  if (spec.kind === 'db') return openDbSource(spec);
  if (spec.kind === 'images') return imageSource(spec);
  return hdf5Source(spec);
}

async function openDbSource(spec: Extract<SourceSpec, { kind: 'db' }>): Promise<ExtractSource> {
  const reader = await openDbReader(spec.path, spec.backend);
  return {
    description: describeSource(spec),
    count: () => reader.count(),
    async *records(start, end) {
      let i = 0;
      for await (const { key, value } of reader.records()) {
        if (i >= end) break;
        if (i++ < start) continue; // skipped without decoding
        const where = `${spec.path}: record '${key.toString('latin1')}'`;
        const datum = decodeDatum(value, where);
        yield { key, where, label: datum.label, pixels: () => datumPixels(datum, where, spec.color) };
      }
    },
    close: () => reader.close(),
  };
}

/** Record numbers in keys: 8 digits as Caffe's tools write them, more when needed to keep key order. */
function keyWidth(total: number): number {
  return Math.max(8, String(Math.max(0, total - 1)).length);
}

function imageSource(spec: Extract<SourceSpec, { kind: 'images' }>): ExtractSource {
  const entries = readImageList(spec.listFile);
  const width = keyWidth(entries.length);
  return {
    description: describeSource(spec),
    count: async () => entries.length,
    async *records(start, end) {
      // The layers' own list cursor, unshuffled, started at `start` and read exactly end - start times.
      const list = new ImageListSource({ ...spec, shuffle: false, skip: start }, new Rng(1));
      for (let i = start; i < end; i++) yield { ...(await list.next()), key: Buffer.from(`${recordKey(i, width)}_${entries[i]!.file}`, 'latin1') };
    },
    close: async () => {},
  };
}

/** HDF5 rows as C×H×W samples: D → D×1×1, C×H → C×H×1. */
function rowAsChw(dims: number[], where: string): { channels: number; height: number; width: number } {
  if (dims.length < 1 || dims.length > 3) throw new KdnetError(`${where}: rows of ${dims.length} dimensions; kdnet extract reads rows of 1 to 3`);
  return { channels: dims[0]!, height: dims[1] ?? 1, width: dims[2] ?? 1 };
}

function hdf5Source(spec: Extract<SourceSpec, { kind: 'hdf5' }>): ExtractSource {
  const context = `kdnet extract (${spec.listSource})`;
  const [dataTop, labelTop] = spec.tops as [string, string | undefined];
  const shapes = spec.files.map((f) =>
    readHdf5(
      f,
      (root) => {
        if (!root.keys().includes(dataTop)) throw new KdnetError(`${context}: ${f} has no dataset '${dataTop}' (it has ${root.keys().join(', ') || 'none'})`);
        return [...(root.get(dataTop) as { shape: number[] }).shape];
      },
      context,
    ),
  );
  const rowDims = shapes[0]!.slice(1);
  shapes.forEach((s, i) => {
    if (s.slice(1).join(',') !== rowDims.join(',')) {
      throw new KdnetError(`${context}: rows of ${spec.files[i]} are ${s.slice(1).join('×')} but rows of ${spec.files[0]} are ${rowDims.join('×')}`);
    }
  });
  const total = shapes.reduce((n, s) => n + s[0]!, 0);
  const width = keyWidth(total);
  return {
    description: describeSource(spec),
    rowDims,
    count: async () => total,
    async *records(start, end) {
      let offset = 0;
      for (const [fi, file] of spec.files.entries()) {
        const rows = shapes[fi]![0]!;
        const from = Math.max(start - offset, 0);
        const to = Math.min(end - offset, rows);
        if (from < to) {
          const sets = readHdf5Datasets(file, labelTop ? [dataTop, labelTop] : [dataTop], context);
          const data = sets.get(dataTop)!.data;
          const labels = labelTop ? sets.get(labelTop)! : undefined;
          const size = data.length / rows;
          for (let r = from; r < to; r++) {
            const where = `${file}: row ${r}`;
            const chw = rowAsChw(rowDims, where);
            const label = labels ? Math.trunc(labels.data[r * (labels.data.length / rows)]!) : 0;
            const values = data.subarray(r * size, (r + 1) * size);
            yield { key: Buffer.from(recordKey(offset + r, width)), where, label, pixels: async () => ({ ...chw, data: values }) };
          }
        }
        offset += rows;
        if (offset >= end) break;
      }
    },
    close: async () => {},
  };
}
