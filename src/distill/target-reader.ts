// Reading soft targets back (what `kdnet extract` wrote, for merging and checking): records in key order
// with their label and values, and the set's metadata when it has any.
import fs from 'node:fs';
import { KdnetError } from '../errors.js';
import { openDbReader, checkDatabase } from '../data/db/index.js';
import { decodeDatum, rawDatumPixels } from '../data/datum.js';
import { hdf5Ready, readHdf5 } from '../data/hdf5-file.js';
import { META_ATTRIBUTE, metaFromJson, readDbMeta, type ExtractMeta } from './metadata.js';
import type { TargetFormat } from './target-writer.js';

export interface TargetRecord {
  key: Buffer;
  label: number;
  values: Float32Array;
}

export interface TargetsReader {
  readonly path: string;
  readonly format: TargetFormat;
  readonly meta: ExtractMeta | undefined;
  records(): AsyncIterable<TargetRecord>;
  close(): Promise<void>;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function isHdf5File(file: string): boolean {
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return false;
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head.equals(HDF5_SIGNATURE);
}

function readHdf5Meta(root: { get(path: string): unknown }, file: string): ExtractMeta | undefined {
  const attrs = (root as unknown as { attrs: Record<string, { value: unknown }> }).attrs;
  return attrs[META_ATTRIBUTE] ? metaFromJson(String(attrs[META_ATTRIBUTE]!.value), `${file} (attribute ${META_ATTRIBUTE})`) : undefined;
}

/** The metadata of an extracted set (without reading its records), or undefined when it has none. */
export async function targetsMeta(p: string): Promise<ExtractMeta | undefined> {
  if (!fs.existsSync(p)) throw new KdnetError(`${p}: no such database or file`);
  if (!isHdf5File(p)) {
    checkDatabase(p);
    return readDbMeta(p);
  }
  await hdf5Ready();
  return readHdf5(p, (root) => readHdf5Meta(root, p), 'kdnet extract');
}

export async function openTargets(p: string): Promise<TargetsReader> {
  if (!fs.existsSync(p)) throw new KdnetError(`${p}: no such database or file`);
  if (isHdf5File(p)) return openHdf5Targets(p);
  const backend = checkDatabase(p);
  const db = await openDbReader(p, backend);
  const meta = readDbMeta(p);
  return {
    path: p,
    format: backend,
    meta,
    async *records() {
      for await (const { key, value } of db.records()) {
        const where = `${p}: record '${key.toString('latin1')}'`;
        const datum = decodeDatum(value, where);
        const px = rawDatumPixels(datum, where);
        yield { key, label: datum.label, values: px.data instanceof Float32Array ? px.data : Float32Array.from(px.data) };
      }
    },
    close: () => db.close(),
  };
}

async function openHdf5Targets(file: string): Promise<TargetsReader> {
  await hdf5Ready();
  const context = 'kdnet extract';
  const { data, shape, keys, labels, meta } = readHdf5(
    file,
    (root) => {
      const names = root.keys();
      for (const n of ['data', 'keys']) if (!names.includes(n)) throw new KdnetError(`${file}: no '${n}' dataset (not written by kdnet extract?)`);
      const d = root.get('data') as { shape: number[]; value: Float32Array };
      const k = root.get('keys') as { value: string[] };
      const l = names.includes('label') ? (root.get('label') as { value: ArrayLike<number> }).value : undefined;
      return { data: Float32Array.from(d.value), shape: d.shape, keys: Array.from(k.value, String), labels: l, meta: readHdf5Meta(root, file) };
    },
    context,
  );
  const rows = shape[0] ?? 0;
  const dim = rows ? data.length / rows : 0;
  if (keys.length !== rows) throw new KdnetError(`${file}: ${keys.length} keys for ${rows} rows of 'data'`);
  return {
    path: file,
    format: 'hdf5',
    meta,
    async *records() {
      for (let i = 0; i < rows; i++) {
        yield { key: Buffer.from(keys[i]!, 'latin1'), label: labels ? Number(labels[i]) : 0, values: data.subarray(i * dim, (i + 1) * dim) };
      }
    },
    close: async () => {},
  };
}
