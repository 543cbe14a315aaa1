// The temperature of a distillation net, rewritten for one point of `kdnet distill sweep`: every
// KnowledgeDistillation and TempSoftmaxCrossEntropyLoss layer gets the new T, and a TempSoftmaxCrossEntropyLoss's
// loss_weight follows the T² convention of `kdnet distill init` (w·T_new²/T_old²; KnowledgeDistillation's gradient
// already carries T², so its weight stays).
import { KdnetError } from '../errors.js';
import { has, newMessage, type Message } from '../proto/schema.js';
import { checkTemperature, softLossWeight, SOFT_LOSS_PARAM as PARAM, type SoftLossLayer } from './soft-loss.js';

export interface TemperatureChange {
  layer: string;
  type: SoftLossLayer;
  from: number;
  to: number;
  lossWeight: { from: number; to: number };
}

export function isDistillationLayer(l: Message): boolean {
  return l.type in PARAM;
}

/** The layer's temperature: its parameter's, or the proto default (1 for KnowledgeDistillation, 2 for TempSoftmax). */
export function layerTemperature(l: Message): number {
  const { field, type } = PARAM[l.type as SoftLossLayer];
  return Number((has(l, field) ? l[field] : newMessage(type)).temperature);
}

/** A copy of `net` at temperature T, with what changed. Throws when the net has no distillation layer. */
export function withTemperature(net: Message, temperature: number, where: string): { net: Message; changes: TemperatureChange[] } {
  const changes: TemperatureChange[] = [];
  const layers = (net.layer as Message[]).map((l) => {
    if (!isDistillationLayer(l)) return l;
    const type = l.type as SoftLossLayer;
    checkTemperature(type, temperature, `temperature ${temperature} (layer "${l.name}" in ${where})`);
    const from = layerTemperature(l);
    const weights = (l.loss_weight as number[]).length ? (l.loss_weight as number[]) : [1];
    // The weight the layer would have at T = 1 under init's convention, then the same convention at the new T.
    const rescale = (w: number) => softLossWeight(type, temperature, w / softLossWeight(type, from, 1));
    const lossWeight = type === 'KnowledgeDistillation' ? weights : weights.map(rescale);
    changes.push({ layer: l.name, type, from, to: temperature, lossWeight: { from: weights[0]!, to: lossWeight[0]! } });
    const { field, type: paramType } = PARAM[type];
    return newMessage('LayerParameter', { ...l, loss_weight: type === 'KnowledgeDistillation' ? l.loss_weight : lossWeight, [field]: newMessage(paramType, { ...(has(l, field) ? l[field] : {}), temperature }) });
  });
  if (!changes.length) throw new KdnetError(`${where} has no KnowledgeDistillation or TempSoftmaxCrossEntropyLoss layer: there is no temperature to sweep`);
  return { net: newMessage('NetParameter', { ...net, layer: layers }), changes };
}
