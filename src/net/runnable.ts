// Whether kdnet can run a layer, decided in one place: `kdnet check` reports every layer this refuses, with
// what Caffe would have needed for it (a Python layer's module and class).
import type { Message } from '../proto/schema.js';
import { layerFactory } from '../layers/registry.js';
import { positionOf } from '../prototxt/side-tables.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { layerLabel } from '../proto/forks.js';
import { KdnetError } from '../errors.js';
import './all-layers.js';

/** What, beyond the built-in layers, may make a layer runnable (e.g. where JavaScript ports of Python layers are found). */
export interface RunnableOptions {
  /** Folders searched for JavaScript ports of Python layers (not read yet: Python layers do not run today). */
  layersPath?: string[];
}

export function isRunnableLayer(lp: Message, _options: RunnableOptions = {}): boolean {
  return layerFactory(lp.type) !== undefined;
}

/**
 * The one error for layers of Caffe master's types that kdnet cannot run, every one listed (types Caffe
 * master lacks are forkTypesError's).
 */
export function unrunnableLayersError(layers: readonly Message[], options: RunnableOptions = {}): KdnetError | undefined {
  const refused = layers.filter((lp) => isKnownLayerType(lp.type) && !isRunnableLayer(lp, options));
  if (!refused.length) return undefined;
  const list = refused.map((lp) => (lp.type === 'Python' ? `${layerLabel(lp)}` : `"${lp.name}" (${lp.type})`));
  const python = refused.every((lp) => lp.type === 'Python');
  const what = python ? `Python layer${refused.length > 1 ? 's' : ''} (Caffe runs them in its embedded Python)` : `layer${refused.length > 1 ? 's' : ''}`;
  return new KdnetError(`kdnet cannot run ${refused.length} ${what}: ${list.join(', ')}`, { position: positionOf(refused[0]!) });
}
