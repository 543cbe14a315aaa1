// Snapshot files as Caffe writes them: <prefix>_iter_<N>.caffemodel (binary NetParameter with each layer's
// parameter and blobs) and <prefix>_iter_<N>.solverstate (binary SolverState: iter, learned_net,
// current_step, history blobs). Written atomically: a killed process never leaves half a file.
import * as tf from '@tensorflow/tfjs-core';
import { caffeType, newMessage, type Message } from '../proto/schema.js';
import { readBinaryMessage, blobShape, blobValues } from '../proto/weights.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Net } from '../net/net.js';
import { KdnetError } from '../errors.js';

export function blobProto(t: tf.Tensor, diff?: tf.Tensor): Message {
  const bp = newMessage('BlobProto', { shape: newMessage('BlobShape', { dim: [...t.shape] }) });
  bp.data = Array.from(t.dataSync());
  if (diff) bp.diff = Array.from(diff.dataSync());
  return bp;
}

/** Net::ToProto: every layer's parameter (as built) with its blobs. */
export function netToProto(net: Net, layerParams: Message[], withDiff: boolean): Message {
  const msg = newMessage('NetParameter', { name: net.name });
  const byName = new Map(layerParams.map((l) => [l.name as string, l]));
  msg.layer = net.layers().map((layer) => {
    const src = byName.get(layer.name);
    const l = src ? (caffeType('LayerParameter').fromObject(caffeType('LayerParameter').toObject(src)) as unknown as Message) : newMessage('LayerParameter', { name: layer.name, type: layer.type });
    l.blobs = layer.blobs.map((b, i) => blobProto(b, withDiff ? net.paramDiff(layer.name, i) : undefined));
    return l;
  });
  return msg;
}

export function writeNetSnapshot(file: string, net: Net, layerParams: Message[], withDiff: boolean): void {
  writeFileAtomic(file, caffeType('NetParameter').encode(netToProto(net, layerParams, withDiff)).finish());
}

export interface SolverStateData {
  iter: number;
  learnedNet: string;
  currentStep: number;
  history: tf.Tensor[];
}

export function writeSolverState(file: string, s: SolverStateData): void {
  const msg = newMessage('SolverState', { iter: s.iter, learned_net: s.learnedNet, current_step: s.currentStep });
  msg.history = s.history.map((h) => blobProto(h));
  writeFileAtomic(file, caffeType('SolverState').encode(msg).finish());
}

export function readSolverState(file: string): { iter: number; learnedNet: string; currentStep: number; history: Array<{ shape: number[]; data: Float32Array }> } {
  const msg = readBinaryMessage(file, 'SolverState');
  if (!Object.prototype.hasOwnProperty.call(msg, 'iter')) throw new KdnetError(`${file}: not a solver state (no iter)`);
  return {
    iter: Number(msg.iter),
    learnedNet: msg.learned_net ?? '',
    currentStep: Number(msg.current_step ?? 0),
    history: (msg.history as Message[]).map((h) => ({ shape: blobShape(h), data: blobValues(h) })),
  };
}
