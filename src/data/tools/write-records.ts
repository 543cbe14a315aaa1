// Fills a new database through `produce`, atomically: on any error the temporary folder is removed and
// nothing appears at the target path.
import { createDbWriter, type Backend, type DbWriter } from '../db/index.js';

export type Progress = (done: number, total: number) => void;

export async function writeDatabase(dbPath: string, backend: Backend, produce: (writer: DbWriter) => Promise<void>): Promise<void> {
  const writer = createDbWriter(dbPath, backend);
  // Ctrl-C during a conversion: remove the partial database, then exit as interrupted.
  const onSignal = () => {
    void writer.abort().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    await produce(writer);
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
