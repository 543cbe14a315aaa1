// What a recipe converter is, and the small edits the converters share: reading a Power layer's temperature,
// building the replacement loss layer, removing layers, and the wording of numbers in the report.
import { KdnetError } from '../../errors.js';
import { has, newMessage, type Message } from '../../proto/schema.js';
import { copySideTables, positionOf } from '../../prototxt/side-tables.js';
import { formatFloat } from '../../prototxt/number-format.js';
import type { NetGraph } from './graph.js';

export interface ConvertOptions {
  /** Rescale the soft loss weights so the converted net's gradients equal the old recipe's (where exact). */
  matchOldGradients?: boolean;
}

/** What a conversion did: the recipes found, each change with its reason, and where old numerics differ. */
export interface ConversionReport {
  recipes: string[];
  changes: string[];
  warnings: string[];
}

export interface ConvertContext {
  report: ConversionReport;
  options: ConvertOptions;
  /** Layers this conversion wrote: later recipes leave them alone. */
  created: Set<Message>;
}

export interface Recipe {
  id: string;
  /** One line naming the recipe, for the report. */
  title: string;
  /** What the matcher looks for, for the message when a file matches no recipe. */
  looksFor: string;
  /** Converts every occurrence in `net` (in place); returns how many it converted. */
  convert(net: Message, ctx: ConvertContext): number;
}

export const num = (x: number): string => formatFloat(Math.fround(x));

/** A KdnetError about a layer of the net being converted, at its place in the file. */
export function layerError(layer: Message, message: string, field?: string): KdnetError {
  return new KdnetError(message, { layer: layer.name, position: positionOf(layer, field) ?? positionOf(layer), path: `layer "${layer.name}" (${layer.type})` });
}

/** T from a Power layer that only divides by a temperature: power 1, shift 0, scale 1/T > 0. */
export function powerTemperature(power: Message): number {
  const p: Message = (power.power_param as Message | null) ?? newMessage('PowerParameter');
  const [pw, scale, shift] = [p.power as number, p.scale as number, p.shift as number];
  if (pw !== 1 || shift !== 0 || !(scale > 0) || !Number.isFinite(scale)) {
    throw layerError(
      power,
      `is not a temperature scaling: a distillation recipe's Power layer has power 1, shift 0 and scale 1/T > 0, ` +
        `this one has power ${num(pw)}, scale ${num(scale)}, shift ${num(shift)}`,
      'power_param',
    );
  }
  return 1 / scale;
}

/** The weight of a loss layer's first top (loss layers default to 1). */
export function lossWeight(loss: Message): number {
  const w = loss.loss_weight as number[];
  return w.length ? w[0]! : 1;
}

/**
 * A new loss layer standing where `old` stood: same name, top, phase rules and loss weight, the given type,
 * bottoms and parameter message. Its position in the file is the old layer's, for error messages.
 */
export function replacementLoss(old: Message, type: string, bottoms: string[], param: [string, string, Record<string, unknown>], weight: number): Message {
  const layer = newMessage('LayerParameter', { name: old.name, type });
  copySideTables(old, layer);
  layer.bottom = bottoms;
  layer.top = (old.top as string[]).length ? [...(old.top as string[])] : [old.name];
  layer.include = [...(old.include as Message[])];
  layer.exclude = [...(old.exclude as Message[])];
  if (has(old, 'phase')) layer.phase = old.phase;
  layer.loss_weight = [weight];
  const [field, typeName, values] = param;
  layer[field] = newMessage(typeName, values);
  return layer;
}

/** The blob a layer's bottom reads must still be the same version where the new loss layer will read it. */
export function assertSameVersion(g: NetGraph, position: number, blob: string, producer: number, removed: ReadonlySet<number>): void {
  const seen = g.latestBefore(position, blob, removed);
  if (seen !== producer) {
    throw layerError(
      g.layers[position]!,
      `blob '${blob}' is changed in place by layer ${g.name(seen)} before this loss reads it: kdnet cannot put the distillation loss on the logits ${g.name(producer)} wrote`,
    );
  }
}

/** Layers in `removed` read by any layer outside it (in either phase's graph) — those would lose their input. */
export function assertOnlyUsedWithin(graphs: NetGraph[], removed: ReadonlySet<number>, why: string): void {
  for (const g of graphs) {
    for (const i of removed) {
      for (const top of g.layers[i]!.top as string[]) {
        const outside = g.consumers(i, top).find((u) => !removed.has(u.layer));
        if (outside) {
          throw layerError(
            g.layers[outside.layer]!,
            `reads '${top}' from layer ${g.name(i)} (${g.layers[i]!.type}), which the conversion removes (${why}); ` +
              `kdnet cannot convert the recipe without changing this layer — read the unscaled logits here instead`,
          );
        }
      }
    }
  }
}

export function removeLayers(net: Message, removed: ReadonlySet<Message>): void {
  net.layer = (net.layer as Message[]).filter((l) => !removed.has(l));
}

export function quoted(layers: Message[]): string {
  return layers.map((l) => `"${l.name}" (${l.type})`).join(', ');
}
