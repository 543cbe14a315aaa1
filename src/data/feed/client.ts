// The layer's side of prefetching: starts the worker and takes its batches synchronously (the net's forward
// pass is synchronous), blocking on a shared counter only when no batch is ready yet.
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { SIGNAL, SIGNAL_SLOTS, type FeedConfig, type FeedMessage } from './protocol.js';

const STARTUP_TIMEOUT_MS = 120_000;
const CLOSE_TIMEOUT_MS = 5_000;

type BatchMessage = Extract<FeedMessage, { type: 'batch' }>;

/**
 * The worker module beside this one. From the TypeScript sources (tests, tsx) a small bootstrap registers
 * tsx's loader in the worker first, since Node cannot load .ts worker files itself.
 */
function startWorker(options: WorkerOptions): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), options);
  const tsx = pathToFileURL(path.join(path.dirname(createRequire(here).resolve('tsx')), 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./worker.ts', here).href;
  // If even loading fails, say so through the same port and signal the layer is waiting on.
  const bootstrap = `import(${JSON.stringify(tsx)})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })
    .catch((e) => {
      const { workerData } = require('node:worker_threads');
      const signal = new Int32Array(workerData.signal);
      workerData.port.postMessage({ type: 'error', message: 'the data worker failed to load: ' + (e && e.stack || e) });
      Atomics.add(signal, ${SIGNAL.posted}, 1);
      Atomics.store(signal, ${SIGNAL.dead}, 1);
      Atomics.notify(signal, ${SIGNAL.posted});
    });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class PrefetchClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4 * SIGNAL_SLOTS));
  private closed = false;
  /** Milliseconds the layer spent waiting for a batch that was not ready. */
  waitMs = 0;

  constructor(
    config: FeedConfig,
    private readonly fail: (message: string) => Error,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = startWorker({
      workerData: { port: port2, signal: this.signal.buffer, config },
      transferList: [port2],
    });
    // A data worker never keeps the process alive on its own.
    this.worker.unref();
    this.worker.on('error', () => Atomics.store(this.signal, SIGNAL.dead, 1));
    this.worker.on('exit', () => {
      Atomics.store(this.signal, SIGNAL.dead, 1);
      Atomics.notify(this.signal, SIGNAL.posted);
    });
  }

  /** The next message from the worker, or undefined after waiting up to `waitMs` for one. */
  private receive(waitMs: number): FeedMessage | undefined {
    const seen = Atomics.load(this.signal, SIGNAL.posted);
    const received = receiveMessageOnPort(this.port);
    if (received) return received.message as FeedMessage;
    Atomics.wait(this.signal, SIGNAL.posted, seen, waitMs);
    return undefined;
  }

  /** The next batch, waiting for the worker if it is not ready. */
  next(): BatchMessage {
    if (this.closed) throw new KdnetError('the data layer was closed');
    const t0 = performance.now();
    let waited = false;
    for (;;) {
      // Read before receiving: a worker that died after posting its error still has that error queued.
      const dead = Atomics.load(this.signal, SIGNAL.dead) === 1;
      const m = this.receive(1000);
      if (!m) {
        waited = true;
        if (dead) {
          this.close();
          throw this.fail('the data worker stopped unexpectedly');
        }
        // A worker that never got going (it could not even load) cannot report it: give up eventually.
        if (Atomics.load(this.signal, SIGNAL.posted) === 0 && performance.now() - t0 > STARTUP_TIMEOUT_MS) {
          this.close();
          throw this.fail('the data worker did not start');
        }
        continue;
      }
      if (m.type === 'log') {
        (m.level === 'I' ? log.info : m.level === 'W' ? log.warn : log.error)(m.message);
        continue;
      }
      if (m.type === 'closed') continue;
      if (m.type === 'error') {
        this.close();
        throw this.fail(m.message);
      }
      if (waited) this.waitMs += performance.now() - t0;
      Atomics.add(this.signal, SIGNAL.consumed, 1);
      Atomics.notify(this.signal, SIGNAL.consumed);
      return m;
    }
  }

  /** Stops the worker after it has closed its database (waits up to a few seconds). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.signal, SIGNAL.closing, 1);
    Atomics.notify(this.signal, SIGNAL.consumed);
    const deadline = performance.now() + CLOSE_TIMEOUT_MS;
    while (!Atomics.load(this.signal, SIGNAL.dead) && performance.now() < deadline) {
      if (this.receive(50)?.type === 'closed') break;
    }
    this.port.close();
    void this.worker.terminate();
  }
}
