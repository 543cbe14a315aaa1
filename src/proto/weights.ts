// .caffemodel files: binary NetParameter with each layer's blobs (or its text form), read and written here;
// copy-layers.ts copies them into a net by layer name. Layouts stay Caffe's (OIHW conv weights, output ×
// input InnerProduct weights).
import fs from 'node:fs';
import { caffeType, newMessage, type Message } from './schema.js';
import { KdnetError } from '../errors.js';
import type { Net } from '../net/net.js';
import { decodeBinaryMessage, readUserBytes, unreadableReason } from './binary-message.js';
import { copyTrainedLayers } from './copy-layers.js';
export { readBinaryMessage } from './binary-message.js';
export { blobShape, blobValues, copyTrainedLayers } from './copy-layers.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { copyLayersFromHdf5 } from '../solvers/snapshot-hdf5.js';
import { parseCaffeText, printCaffeText, readTextFile } from './text.js';

const TEXT_WEIGHTS = /\.(prototxt|pbtxt)$/;

/** A weights file: binary NetParameter, or its text form when the name ends in .prototxt / .pbtxt. */
export function readCaffemodel(file: string): Message {
  if (TEXT_WEIGHTS.test(file)) return parseCaffeText(readTextFile(file), 'NetParameter', file).message;
  return decodeBinaryMessage(readUserBytes(file, 'weights file'), 'NetParameter', file);
}

/** Writes a weights message in the form its name asks for (text for .prototxt / .pbtxt, else binary). */
export function writeWeightsMessage(file: string, msg: Message): void {
  writeFileAtomic(file, TEXT_WEIGHTS.test(file) ? printCaffeText(msg, 'NetParameter') : caffeType('NetParameter').encode(msg).finish());
}

/** Every file of a `--weights a,b` list is checked before any is copied: one error names all that are missing. */
function checkWeightsFiles(files: string[]): void {
  if (files.some((f) => !f.trim())) throw new KdnetError(`empty file name in the weights list '${files.join(',')}'`);
  const problems: string[] = [];
  for (const f of files) {
    try {
      fs.accessSync(f, fs.constants.R_OK);
      if (fs.statSync(f).isDirectory()) problems.push(`${f} (it is a directory)`);
    } catch (e) {
      problems.push(`${f} (${unreadableReason(e)})`);
    }
  }
  if (problems.length) throw new KdnetError(`cannot read weights file${problems.length > 1 ? 's' : ''} ${problems.join(', ')}`);
}

export function loadWeightsInto(net: Net, files: string[]): void {
  checkWeightsFiles(files);
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
