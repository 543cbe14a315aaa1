// snapshot_format: HDF5, in Caffe's layout. Model: groups data/<layer>/<i> (and diff/<layer>/<i> with
// snapshot_diff), one group per layer even without parameters, shared parameters stored by their owner only.
// Solver state: datasets iter, learned_net, current_step and group history/<i>.
import * as tf from '@tensorflow/tfjs-core';
import { readHdf5, writeHdf5Atomic } from '../data/hdf5-file.js';
import type { Net } from '../net/net.js';
import type { SolverStateData } from './snapshot.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { reportCopy, warnNonFinite } from '../proto/copy-layers.js';

type Group = { keys(): string[]; get(path: string): any; create_group(name: string): unknown; create_dataset(o: object): unknown };

function putArray(g: Group, name: string, t: tf.Tensor): void {
  g.create_dataset({ name, data: Float32Array.from(t.dataSync()), shape: t.shape.length ? t.shape : [1] });
}

export function writeNetHdf5(file: string, net: Net, withDiff: boolean): void {
  const owners = new Set(net.learnableParams.map((p) => `${p.layer}/${p.index}`));
  writeHdf5Atomic(file, (root) => {
    root.create_group('data');
    if (withDiff) root.create_group('diff');
    const data = root.get('data') as Group;
    const diff = withDiff ? (root.get('diff') as Group) : undefined;
    for (const layer of net.layers()) {
      data.create_group(layer.name);
      diff?.create_group(layer.name);
      layer.blobs.forEach((b, i) => {
        // A blob shared from another layer is stored once, by the layer that owns it (as Caffe does).
        const owned = owners.has(`${layer.name}/${i}`) || !net.learnableParams.some((p) => p.tensor === b);
        if (owned) putArray(data.get(layer.name) as Group, String(i), b);
        const d = net.paramDiff(layer.name, i);
        if (diff && d) putArray(diff.get(layer.name) as Group, String(i), d);
      });
    }
  });
}

/** CopyTrainedLayersFromHDF5: layers by name; absent layers keep their fillers. */
export function copyLayersFromHdf5(net: Net, file: string): void {
  readHdf5(
    file,
    (h5) => {
      const root = h5 as unknown as Group;
      if (!root.keys().includes('data')) throw new KdnetError(`${file}: no 'data' group (not a Caffe HDF5 model)`);
      const data = root.get('data') as Group;
      const names = new Set(net.layerNames());
      const filled = new Set<string>();
      for (const name of data.keys()) {
        if (!names.has(name)) {
          log.info(`Ignoring source layer ${name}`);
          continue;
        }
        const layer = net.layer(name);
        const g = data.get(name) as Group;
        const keys = g.keys();
        layer.blobs.forEach((b, i) => {
          if (!keys.includes(String(i))) {
            if (net.learnableParams.some((p) => p.tensor === b && p.layer !== name)) return; // shared: stored by its owner
            throw new KdnetError(`${file}: layer "${name}" has no dataset ${i}`, { layer: name });
          }
          const ds = g.get(String(i));
          const shape: number[] = [...ds.shape];
          const count = shape.reduce((a, c) => a * c, 1);
          if (count !== b.size) {
            throw new KdnetError(`${file}: blob ${i} of layer "${name}" has shape [${shape.join(', ')}] in the file but [${b.shape.join(', ')}] in the net`, { layer: name });
          }
          const values = Float32Array.from(ds.value as ArrayLike<number>);
          warnNonFinite(values, file, name, i);
          const value = tf.tensor(values, b.shape);
          b.assign(value);
          value.dispose();
        });
        if (layer.blobs.length) filled.add(name);
      }
      reportCopy(net, file, data.keys(), filled);
    },
    'weights',
  );
}

export function writeSolverStateHdf5(file: string, s: SolverStateData): void {
  writeHdf5Atomic(file, (root) => {
    root.create_dataset({ name: 'iter', data: new Int32Array([s.iter]), shape: [1] });
    root.create_dataset({ name: 'learned_net', data: [s.learnedNet], dtype: `S${Math.max(1, Buffer.byteLength(s.learnedNet))}` });
    root.create_dataset({ name: 'current_step', data: new Int32Array([s.currentStep]), shape: [1] });
    root.create_group('history');
    const h = root.get('history') as Group;
    s.history.forEach((t, i) => putArray(h, String(i), t));
  });
}

export function readSolverStateHdf5(file: string): { iter: number; learnedNet: string; currentStep: number; history: Array<{ shape: number[]; data: Float32Array }> } {
  return readHdf5(
    file,
    (h5) => {
      const root = h5 as unknown as Group;
      const keys = root.keys();
      if (!keys.includes('iter') || !keys.includes('history')) throw new KdnetError(`${file}: not a Caffe HDF5 solver state (no iter/history)`);
      const scalar = (name: string) => Number((root.get(name).value as ArrayLike<number>)[0] ?? root.get(name).value);
      const ln = keys.includes('learned_net') ? root.get('learned_net').value : '';
      const h = root.get('history') as Group;
      const history = h
        .keys()
        .map(Number)
        .sort((a, b) => a - b)
        .map((i) => {
          const ds = h.get(String(i));
          return { shape: [...ds.shape] as number[], data: Float32Array.from(ds.value as ArrayLike<number>) };
        });
      return {
        iter: scalar('iter'),
        learnedNet: String(Array.isArray(ln) ? ln[0] : ln).trim(),
        currentStep: keys.includes('current_step') ? scalar('current_step') : 0,
        history,
      };
    },
    'solver state',
  );
}
