// One snapshot as files: <prefix>_iter_<N>.caffemodel (or .caffemodel.h5), the .kdnetstate sidecar and
// the .solverstate (or .solverstate.h5), with Caffe's log lines. The solver state, the file a resume starts
// from, is written last: a .solverstate under its final name always has its weights and sidecar beside it.
// Each file is written atomically, so a failure (a full disk) leaves no partial file under a final name.
import type * as tf from '@tensorflow/tfjs-core';
import type { Message } from '../proto/schema.js';
import type { Net } from '../net/net.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { log } from '../log.js';
import { writeNetSnapshot, writeSolverState } from './snapshot.js';
import { writeNetHdf5, writeSolverStateHdf5 } from './snapshot-hdf5.js';

export interface SnapshotContent {
  prefix: string;
  iter: number;
  hdf5: boolean;
  withDiff: boolean;
  net: Net;
  /** The train net's layer parameters as built (Caffe's Net::ToProto writes them beside the blobs). */
  layerParams: Message[];
  currentStep: number;
  history: tf.Tensor[];
  /** Data cursors and random streams, which Caffe's solver state has no place for. */
  sidecar: object;
}

export function snapshotFiles(prefix: string, iter: number, hdf5: boolean): { model: string; state: string; sidecar: string } {
  const base = `${prefix}_iter_${iter}`;
  return { model: `${base}.caffemodel${hdf5 ? '.h5' : ''}`, state: `${base}.solverstate${hdf5 ? '.h5' : ''}`, sidecar: `${base}.kdnetstate` };
}

export function writeSnapshot(c: SnapshotContent): { model: string; state: string } {
  const { model, state, sidecar } = snapshotFiles(c.prefix, c.iter, c.hdf5);
  const stateData = { iter: c.iter, learnedNet: model, currentStep: c.currentStep, history: c.history };
  if (c.hdf5) {
    log.info(`Snapshotting to HDF5 file ${model}`);
    writeNetHdf5(model, c.net, c.withDiff);
  } else {
    log.info(`Snapshotting to binary proto file ${model}`);
    writeNetSnapshot(model, c.net, c.layerParams, c.withDiff);
  }
  writeFileAtomic(sidecar, JSON.stringify(c.sidecar));
  if (c.hdf5) {
    log.info(`Snapshotting solver state to HDF5 file ${state}`);
    writeSolverStateHdf5(state, stateData);
  } else {
    log.info(`Snapshotting solver state to binary proto file ${state}`);
    writeSolverState(state, stateData);
  }
  return { model, state };
}
