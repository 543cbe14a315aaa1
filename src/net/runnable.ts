// Whether kdnet can run a layer, decided in one place: `kdnet check` reports every layer this refuses, with
// what it would need (a Python layer's JavaScript port, and where kdnet looked for it).
import type { Message } from '../proto/schema.js';
import { layerFactory } from '../layers/registry.js';
import { positionOf } from '../prototxt/side-tables.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { findPortFile } from '../layers/python/port.js';
import { jsPortOf, missingPortsError } from '../layers/python/check-ports.js';
import type { JsLayerSearch } from '../layers/python/search-path.js';
import { KdnetError } from '../errors.js';
import './all-layers.js';

/** What, beyond the built-in layers, makes a layer runnable: where JavaScript ports of Python layers are found. */
export type RunnableOptions = JsLayerSearch;

export function isRunnableLayer(lp: Message, options: RunnableOptions = {}): boolean {
  if (lp.type === 'Python') return !findPortFile(lp, options).problem;
  return layerFactory(lp.type) !== undefined;
}

/**
 * The one error for layers of Caffe master's types that kdnet cannot run, every one listed: a line for the
 * built-in types kdnet lacks, and a line for each Python layer without a port saying where kdnet looked (types
 * Caffe master lacks are forkTypesError's).
 */
export function unrunnableLayersError(layers: readonly Message[], options: RunnableOptions = {}): KdnetError | undefined {
  const refused = layers.filter((lp) => lp.type !== 'Python' && isKnownLayerType(lp.type) && !isRunnableLayer(lp, options));
  const errors: KdnetError[] = [];
  if (refused.length) {
    const list = refused.map((lp) => `"${lp.name}" (${lp.type})`);
    errors.push(new KdnetError(`kdnet cannot run ${refused.length} layer${refused.length > 1 ? 's' : ''}: ${list.join(', ')}`, { position: positionOf(refused[0]!) }));
  }
  const ports = missingPortsError(layers.filter((lp) => lp.type === 'Python').map((lp) => ({ name: lp.name, jsPort: jsPortOf(lp, options) })));
  if (ports) errors.push(ports);
  return errors.length ? KdnetError.combine(errors) : undefined;
}
