// Copying weights into a net by layer name, as Net::CopyTrainedLayersFrom does: a source layer the net lacks
// is logged ("Ignoring source layer X") and skipped, blob counts and shapes must match, layers the file
// lacks keep their fillers. kdnet adds what Caffe leaves to chance: a blob whose data count does not match
// its shape is an error (Caffe CHECK-fails), non-finite values and a copy that matched nothing are warned.
import * as tf from '@tensorflow/tfjs-core';
import { has, type Message } from './schema.js';
import { KdnetError } from '../errors.js';
import type { Net } from '../net/net.js';
import { log } from '../log.js';

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

/** `[10, 5]`, or for V1 blobs `[1, 1, 10, 5] (num, channels, height, width)`; `count` adds the value count. */
function shapeText(blob: Message, count?: number): string {
  const notes = [hasLegacyShape(blob) ? 'num, channels, height, width' : '', count === undefined ? '' : `${count} values`].filter(Boolean);
  return `[${blobShape(blob).join(', ')}]${notes.length ? ` (${notes.join(': ')})` : ''}`;
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
  const layers = sourceLayers(weights);
  for (const src of layers) {
    if (!targetNames.has(src.name)) {
      log.info(`Ignoring source layer ${src.name}`);
      continue;
    }
    const layer = net.layer(src.name);
    if (!src.blobs.length) continue;
    if (src.blobs.length !== layer.blobs.length) {
      throw new KdnetError(`${source}: layer "${src.name}" has ${src.blobs.length} blobs in the file but ${layer.blobs.length} in the net`);
    }
    src.blobs.forEach((b, i) => {
      const target = layer.blobs[i]!;
      if (!shapeMatches(target.shape, b)) {
        throw new KdnetError(`${source}: blob ${i} of layer "${src.name}" has shape ${shapeText(b)} in the file but [${target.shape.join(', ')}] in the net`);
      }
      const values = blobValues(b);
      if (values.length !== target.size) {
        const field = (b.data as number[]).length || !(b.double_data as number[]).length ? 'data' : 'double_data';
        throw new KdnetError(`${source}: blob ${i} of layer "${src.name}" has shape ${shapeText(b, target.size)} but its ${field} holds ${values.length} values (a damaged or hand-edited file?)`);
      }
      warnNonFinite(values, source, src.name, i);
      const value = tf.tensor(values, target.shape, 'float32');
      target.assign(value);
      value.dispose();
    });
    filled.add(src.name);
  }
  return reportCopy(net, source, layers.map((l) => l.name), filled);
}

/** One warning per blob holding NaN or ±Inf: they would flow through every forward pass silently. */
export function warnNonFinite(values: ArrayLike<number>, source: string, layer: string, index: number): void {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
  }
  if (!nan && !inf) return;
  const parts = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
  log.warn(`${source}: blob ${index} of layer "${layer}" holds ${parts} value${nan + inf > 1 ? 's' : ''} (of ${values.length})`);
}

function briefList(names: string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * After a copy: the layers keeping their fillers, and a warning when nothing at all was copied (an empty file,
 * or one from another net), which otherwise looks like a successful load. Returns the untouched layers.
 */
export function reportCopy(net: Net, source: string, sourceNames: string[], filled: Set<string>): string[] {
  const untouched = net.layers().filter((l) => l.blobs.length && !filled.has(l.name)).map((l) => l.name);
  if (!untouched.length) return untouched;
  if (filled.size) {
    log.info(`Layers not in ${source} keep their fillers: ${untouched.join(', ')}`);
  } else if (!sourceNames.length) {
    log.warn(`No layer was copied from ${source}: it holds no layers. Layers keeping their fillers: ${briefList(untouched)}`);
  } else {
    log.warn(
      `No layer was copied from ${source}: none of its ${sourceNames.length} layer${sourceNames.length > 1 ? 's' : ''} (${briefList(sourceNames)}) ` +
        `carries the parameters of a layer of the net (${briefList(untouched)}); every layer keeps its fillers`,
    );
  }
  return untouched;
}
