// A file cut off at any byte (an interrupted copy, a half-saved edit) either still reads or gives a KdnetError
// whose every line says where: never a crash. Every prefix of a current net, a solver, a V1 and a V0 net goes
// through what `kdnet check` runs. The in-repo LeNet files run without ../shared.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { corpusRoot, hasCorpus, projectRoot } from '../support/shared.js';
import { checkBackend, checkLikeCli, describeInternal, scratchDir, unplaced } from '../support/check-path.js';
import { KdnetError } from '../../src/errors.js';
import { setLogSink } from '../../src/log.js';

const inRepo = ['models/lenet/lenet_train_test.prototxt', 'models/lenet/lenet_solver.prototxt'].map((f) => path.join(projectRoot, f));
const fromCorpus = [
  'BVLC__caffe/examples/mnist/lenet_train_test.prototxt', // V2 net
  'BVLC__caffe/examples/mnist/lenet_solver.prototxt', // solver
  'BVLC__caffe__history/3c9a13c/examples/mnist/lenet_train_test.prototxt', // V1 `layers` net
  'BVLC__caffe__history/20833e0/examples/lenet/lenet_train.prototxt', // V0 net
].map((f) => path.join(corpusRoot, f));

describe('every prefix of a real file', () => {
  const dir = scratchDir('kdnet-truncation-');
  beforeAll(checkBackend);

  for (const file of [...inRepo, ...(hasCorpus ? fromCorpus : [])]) {
    it(path.relative(path.dirname(projectRoot), file), () => {
      const bytes = fs.readFileSync(file);
      const target = path.join(dir, path.basename(file));
      const internal: string[] = [];
      const unpositioned: string[] = [];
      let read = 0;
      let refused = 0;
      const restore = setLogSink(() => {});
      try {
        for (let n = 0; n <= bytes.length; n++) {
          fs.writeFileSync(target, bytes.subarray(0, n));
          try {
            checkLikeCli(target);
            read++;
          } catch (e) {
            if (!(e instanceof KdnetError)) {
              internal.push(`${n} bytes: ${describeInternal(e)}`);
              continue;
            }
            refused++;
            for (const m of unplaced(e)) unpositioned.push(`${n} bytes: ${m}`);
          }
        }
      } finally {
        setLogSink(restore);
      }
      expect(internal.slice(0, 5), `${internal.length} prefixes crashed`).toEqual([]);
      expect(unpositioned.slice(0, 5), `${unpositioned.length} problems without a place`).toEqual([]);
      expect(read + refused).toBe(bytes.length + 1);
      // The whole file reads; many cuts leave a block open, a string or a field without its value (in a
      // solver, mostly comments, fewer do).
      expect(read).toBeGreaterThanOrEqual(1);
      expect(refused).toBeGreaterThan(bytes.length / 10);
    });
  }
});
