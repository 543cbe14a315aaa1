// What is in a database: backend, record count, the first keys, the first Datum's shape and encoding, and
// how often each label occurs.
import { openDbReader, type Backend } from '../db/index.js';
import { datumPixels, decodeDatum } from '../datum.js';
import type { Progress } from './write-records.js';

export interface DbInfo {
  backend: Backend;
  count: number;
  firstKeys: string[];
  /** C×H×W of the first record (decoded when encoded). */
  shape: [number, number, number] | undefined;
  encoded: boolean;
  /** float_data records (soft targets, features) rather than bytes. */
  floatData: boolean;
  labels: Map<number, number>;
}

export async function dbInfo(dbPath: string, backend?: Backend, progress?: Progress, keysShown = 5): Promise<DbInfo> {
  const db = await openDbReader(dbPath, backend);
  try {
    const total = await db.count();
    const info: DbInfo = { backend: db.backend, count: 0, firstKeys: [], shape: undefined, encoded: false, floatData: false, labels: new Map() };
    for await (const { key, value } of db.records()) {
      const where = `${dbPath}: record '${key.toString('latin1')}'`;
      const datum = decodeDatum(value, where);
      if (info.count === 0) {
        const px = await datumPixels(datum, where);
        info.shape = [px.channels, px.height, px.width];
        info.encoded = datum.encoded;
        info.floatData = !datum.encoded && !datum.data.length && datum.float_data.length > 0;
      }
      if (info.firstKeys.length < keysShown) info.firstKeys.push(key.toString('latin1'));
      info.labels.set(datum.label, (info.labels.get(datum.label) ?? 0) + 1);
      info.count++;
      progress?.(info.count, total);
    }
    return info;
  } finally {
    await db.close();
  }
}
