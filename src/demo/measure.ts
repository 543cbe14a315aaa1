// What a trained model costs once shipped: `kdnet distill export` writes its deploy.prototxt + .caffemodel, and
// that deploy net is timed (forward only, a batch of test-sized inputs) and its parameters counted.
import path from 'node:path';
import { exportStudent } from '../distill/export.js';
import { loadNetFile } from '../proto/load.js';
import { loadWeightsInto } from '../proto/weights.js';
import { Net } from '../net/net.js';
import { Phase } from '../net/net-state.js';

export interface DeployFacts {
  /** The exported folder (deploy.prototxt, deploy.caffemodel). */
  dir: string;
  params: number;
  forwardMsPerImage: number;
}

const BATCH = 100;
const WARMUP = 2;
const REPEATS = 10;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Exports the model of `trainNet` trained to `weights` into `dir` and measures it. */
export function deployAndMeasure(trainNet: string, weights: string, dir: string): DeployFacts {
  const exported = exportStudent({ model: trainNet, weights, out: dir, batch: BATCH, force: true });
  const net = new Net(loadNetFile(exported.deploy).message, { phase: Phase.TEST, baseDir: path.dirname(exported.deploy) });
  try {
    loadWeightsInto(net, [exported.caffemodel]);
    const params = net.learnableParams.reduce((sum, p) => sum + p.tensor.size, 0);
    const times: number[] = [];
    for (let i = 0; i < WARMUP + REPEATS; i++) {
      const t0 = performance.now();
      net.forward();
      net.blob(exported.logits).dataSync(); // wait for the result, as a user reading the output does
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
    return { dir, params, forwardMsPerImage: median(times) / BATCH };
  } finally {
    net.dispose();
  }
}
