// A progress bar between Caffe's display lines, only on a terminal (plain log lines otherwise).
import cliProgress from 'cli-progress';
import { setLogSink, type LogSink } from '../log.js';

export interface ProgressReporter {
  update(iter: number, maxIter: number): void;
  stop(): void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr, task = 'training', unit = 'iterations'): ProgressReporter {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${task} |{bar}| {value}/{total} ${unit}`, stream, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  // Log lines must not be drawn over by the bar: clear it, print, redraw.
  const previous: LogSink = setLogSink((level, message) => {
    if (started) bar.stop();
    previous(level, message);
    if (started) bar.start(bar.getTotal(), lastValue);
  });
  let lastValue = 0;
  return {
    update(iter, maxIter) {
      lastValue = iter;
      if (!started) {
        bar.start(maxIter, iter);
        started = true;
      } else bar.update(iter);
    },
    stop() {
      if (started) bar.stop();
      setLogSink(previous);
    },
  };
}
