// Layer types by name (Caffe's LayerRegistry). Each layer file registers its classes; V1 enum names are
// resolved through the catalog before lookup (upgrades turn them into type strings anyway).
import type { Message } from '../proto/schema.js';
import type { Layer, LayerContext } from './layer.js';
import { markImplemented } from './implemented.js';

export type LayerFactory = new (param: Message, ctx: LayerContext) => Layer;

const factories = new Map<string, LayerFactory>();

export function registerLayer(type: string, factory: LayerFactory): void {
  if (factories.has(type)) throw new Error(`layer type ${type} registered twice`);
  factories.set(type, factory);
  markImplemented(type);
}

export function layerFactory(type: string): LayerFactory | undefined {
  return factories.get(type);
}

export function registeredLayerTypes(): string[] {
  return [...factories.keys()];
}
