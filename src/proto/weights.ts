// .caffemodel files: binary NetParameter with each layer's blobs. Copying by layer name follows
// Net::CopyTrainedLayersFrom: unknown source layers are ignored, shapes must match, absent layers keep
// their fillers. Layouts stay Caffe's (OIHW conv weights, output × input InnerProduct weights).
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { caffeType, has, newMessage, type Message } from './schema.js';
import { KdnetError } from '../errors.js';
import type { Net } from '../net/net.js';
import { log } from '../log.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { copyLayersFromHdf5 } from '../solvers/snapshot-hdf5.js';
import { parseCaffeText, printCaffeText, readTextFile } from './text.js';
import { renumberForkLayerFields } from './fork-binary.js';

export function readBinaryMessage(file: string, typeName: string): Message {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new KdnetError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return caffeType(typeName).decode(typeName === 'NetParameter' ? renumberForkLayerFields(bytes, file) : bytes) as unknown as Message;
  } catch (e) {
    throw new KdnetError(`${file}: not a binary ${typeName} (${(e as Error).message})`);
  }
}

const TEXT_WEIGHTS = /\.(prototxt|pbtxt)$/;

/** A weights file: binary NetParameter, or its text form when the name ends in .prototxt / .pbtxt. */
export function readCaffemodel(file: string): Message {
  if (TEXT_WEIGHTS.test(file)) return parseCaffeText(readTextFile(file), 'NetParameter', file).message;
  return readBinaryMessage(file, 'NetParameter');
}

/** Writes a weights message in the form its name asks for (text for .prototxt / .pbtxt, else binary). */
export function writeWeightsMessage(file: string, msg: Message): void {
  writeFileAtomic(file, TEXT_WEIGHTS.test(file) ? printCaffeText(msg, 'NetParameter') : caffeType('NetParameter').encode(msg).finish());
}

const LEGACY_DIMS = ['num', 'channels', 'height', 'width'] as const;

/** Whether a BlobProto uses the V1 num/channels/height/width fields (Caffe checks has_* of any of them). */
function hasLegacyShape(blob: Message): boolean {
  return LEGACY_DIMS.some((k) => has(blob, k));
}

/** Shape of a BlobProto: the legacy 4-D fields when set, else `shape.dim` (absent = a 0-axis blob). */
export function blobShape(blob: Message): number[] {
  if (hasLegacyShape(blob)) return LEGACY_DIMS.map((k) => Number(blob[k] ?? 0));
  return has(blob, 'shape') ? (blob.shape.dim as number[]).map(Number) : [];
}

export function blobValues(blob: Message): Float32Array {
  const data = blob.data as number[];
  if (data.length) return Float32Array.from(data);
  return Float32Array.from(blob.double_data as number[]);
}

/** Caffe's Blob::ShapeEquals: legacy 4-D blobs match a blob whose shape, left-padded with 1s, is the same. */
function shapeMatches(target: number[], source: Message): boolean {
  if (!hasLegacyShape(source)) return blobShape(source).join(',') === target.join(',');
  if (target.length > 4) return false;
  const padded = [...Array(4 - target.length).fill(1), ...target];
  return blobShape(source).join(',') === padded.join(',');
}

function sourceLayers(weights: Message): Array<{ name: string; blobs: Message[] }> {
  const v2 = (weights.layer as Message[]).map((l) => ({ name: l.name as string, blobs: l.blobs as Message[] }));
  const v1 = (weights.layers as Message[]).map((l) => ({ name: l.name as string, blobs: l.blobs as Message[] }));
  return [...v2, ...v1];
}

/** Copies blobs by layer name into the net; returns the names of target layers with blobs left untouched. */
export function copyTrainedLayers(net: Net, weights: Message, source = 'weights'): string[] {
  const filled = new Set<string>();
  const targetNames = new Set(net.layerNames());
  const ignored: string[] = [];
  for (const src of sourceLayers(weights)) {
    if (!targetNames.has(src.name)) {
      if (src.blobs.length) ignored.push(src.name);
      continue;
    }
    const layer = net.layer(src.name);
    if (!src.blobs.length) continue;
    if (src.blobs.length !== layer.blobs.length) {
      throw new KdnetError(`${source}: layer "${src.name}" has ${src.blobs.length} blobs in the file but ${layer.blobs.length} in the net`, { layer: src.name });
    }
    src.blobs.forEach((b, i) => {
      const target = layer.blobs[i]!;
      if (!shapeMatches(target.shape, b)) {
        throw new KdnetError(
          `${source}: blob ${i} of layer "${src.name}" has shape [${blobShape(b).join(', ')}] in the file but [${target.shape.join(', ')}] in the net`,
          { layer: src.name },
        );
      }
      const value = tf.tensor(blobValues(b), target.shape, 'float32');
      target.assign(value);
      value.dispose();
    });
    filled.add(src.name);
  }
  if (ignored.length) log.info(`Ignoring source layers not in the net (${source}): ${ignored.join(', ')}`);
  const untouched = net.layers().filter((l) => l.blobs.length && !filled.has(l.name)).map((l) => l.name);
  if (untouched.length) log.info(`Layers not in ${source} keep their fillers: ${untouched.join(', ')}`);
  return untouched;
}

export function loadWeightsInto(net: Net, files: string[]): void {
  for (const f of files) {
    // Caffe picks the reader by extension: .h5 is an HDF5 snapshot, anything else a binary NetParameter.
    if (f.endsWith('.h5')) copyLayersFromHdf5(net, f);
    else copyTrainedLayers(net, readCaffemodel(f), f);
  }
}

/** The net's parameters as a binary NetParameter (layer name, type, blobs with shape and data). */
export function netToWeightsMessage(net: Net, withDiff = false): Message {
  const msg = newMessage('NetParameter', { name: net.name });
  msg.layer = net.layers().map((layer) => {
    const l = newMessage('LayerParameter', { name: layer.name, type: layer.type });
    l.blobs = layer.blobs.map((b, i) => {
      const bp = newMessage('BlobProto', { shape: newMessage('BlobShape', { dim: b.shape }) });
      bp.data = Array.from(b.dataSync());
      if (withDiff) {
        const d = net.paramDiff(layer.name, i);
        if (d) bp.diff = Array.from(d.dataSync());
      }
      return bp;
    });
    return l;
  });
  return msg;
}

export function writeCaffemodel(net: Net, file: string, withDiff = false): void {
  writeWeightsMessage(file, netToWeightsMessage(net, withDiff));
}
