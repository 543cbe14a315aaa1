// The prefetch worker: reads, decodes and transforms batches on its own thread, up to `prefetch` batches ahead
// of the layer, and posts them (buffers transferred, not copied) through the port it was given.
import { workerData, type MessagePort } from 'node:worker_threads';
import { setLogSink } from '../../log.js';
import { isKdnetError } from '../../errors.js';
import { Rng } from '../../util/rng.js';
import { DataTransformer, colorMode } from '../transform.js';
import { loadBatch } from './batch.js';
import { DatumSource, ImageListSource, type SampleSource } from './sources.js';
import { WindowSampler } from './windows.js';
import { SIGNAL, type FeedConfig, type FeedMessage } from './protocol.js';

const { port, signal: signalBuffer, config } = workerData as { port: MessagePort; signal: SharedArrayBuffer; config: FeedConfig };
const signal = new Int32Array(signalBuffer);

function post(message: FeedMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(signal, SIGNAL.posted, 1);
  Atomics.notify(signal, SIGNAL.posted);
}

setLogSink((level, message) => post({ type: 'log', level, message }));

async function openSource(rng: Rng): Promise<SampleSource | WindowSampler> {
  const s = config.source;
  if (s.kind === 'windows') return WindowSampler.open(s, config.transform, config.batchSize, rng);
  // Caffe's rand_skip: skip a random number of records below it, once, at the start.
  const skip = s.randSkip > 0 ? Math.floor(rng.uniform() * s.randSkip) : 0;
  if (s.kind === 'db') return DatumSource.open(s.path, s.backend, colorMode(config.transform), skip);
  return new ImageListSource(
    {
      listFile: s.listFile,
      rootFolder: s.rootFolder,
      color: s.isColor ? 'color' : 'gray',
      resize: s.newHeight > 0 && s.newWidth > 0 ? { height: s.newHeight, width: s.newWidth } : undefined,
      shuffle: s.shuffle,
      skip,
      searchDirs: s.searchDirs,
    },
    rng,
  );
}

async function run(): Promise<void> {
  const rng = new Rng(config.seed);
  const transformRng = rng.fork();
  const source = await openSource(rng);
  try {
    // WindowData transforms its windows itself.
    const transformer = source instanceof WindowSampler ? undefined : new DataTransformer(config.transform, config.train, transformRng);
    const resumable = 'saveState' in source;
    if (config.resume) {
      if (resumable) await source.restoreState(config.resume.source);
      rng.setState(config.resume.rng);
      transformRng.setState(config.resume.transformRng);
    }
    const closing = () => Atomics.load(signal, SIGNAL.closing) === 1;
    for (let produced = 0; !closing(); produced++) {
      // Wait for the layer to take a batch when `prefetch` are already waiting.
      for (;;) {
        const consumed = Atomics.load(signal, SIGNAL.consumed);
        if (produced - consumed < config.prefetch || closing()) break;
        Atomics.wait(signal, SIGNAL.consumed, consumed);
      }
      if (closing()) break;
      const batch =
        source instanceof WindowSampler ? await source.nextBatch(config.batchSize) : await loadBatch(source, transformer!, config.batchSize, config.maxBatchElements);
      const state = { source: resumable ? source.saveState() : undefined, rng: rng.getState(), transformRng: transformRng.getState() };
      post({ type: 'batch', ...batch, state }, [batch.data.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
    }
  } catch (e) {
    // Release the database on a failure too: LevelDB allows one open handle per process, LMDB's view is removed.
    await source.close().catch(() => {});
    throw e;
  }
  // Release the database (LevelDB allows one open handle per process) before the layer lets go.
  await source.close();
  post({ type: 'closed' });
}

run().catch((e: unknown) => {
  const message = isKdnetError(e) ? e.oneLine : `internal error in the data worker: ${(e as Error)?.stack ?? String(e)}`;
  post({ type: 'error', message });
  Atomics.store(signal, SIGNAL.dead, 1);
});
