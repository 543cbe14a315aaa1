// The kdistil recipe (BVLC PR #4378): TempSoftmaxCrossEntropyLoss between the student's logits and the
// teacher's logits, read from a second database written by convert_vectors, often behind an MVN layer with
// normalize_variance: false. kdnet runs TempSoftmaxCrossEntropyLoss natively, so what is right stays; the MVN
// is redundant when it does what the loss does first anyway — zero-mean each item over C·H·W (the PR's
// internal MVN is across_channels, mean only): the mean of a zero-mean input is 0, and MVN's mean-only
// backward (dy − mean dy) leaves the loss's gradient, zero-mean per item already, unchanged. So dropping it
// changes neither the loss nor the gradient.
import type { Message } from '../../proto/schema.js';
import { newMessage } from '../../proto/schema.js';
import { Phase } from '../../net/net-state.js';
import { NetGraph } from './graph.js';
import { freezeTeacherOf } from './teacher.js';
import { layerError, lossWeight, num, removeLayers, type ConvertContext, type Recipe } from './recipe.js';

const LOSS = 'TempSoftmaxCrossEntropyLoss';

/** Whether an MVN layer only zero-means each item over C·H·W, as TempSoftmaxCrossEntropyLoss does itself. */
function sameAsLossCentering(mvn: Message): boolean {
  const p: Message = (mvn.mvn_param as Message | null) ?? newMessage('MVNParameter');
  return p.normalize_variance === false && p.across_channels === true;
}

/**
 * Handles an MVN feeding bottom `b` of the loss at `loss`: dropped when redundant and read only by this
 * recipe's losses (its readers then read its input), kept with the reason otherwise. Returns the layer to drop.
 */
function redundantMvn(g: NetGraph, test: NetGraph, loss: number, b: number, ctx: ConvertContext): Message | undefined {
  const mvn = g.producer(loss, b);
  if (mvn < 0 || g.layers[mvn]!.type !== 'MVN') return undefined;
  const layer = g.layers[mvn]!;
  const lossName = `"${g.layers[loss]!.name}"`;
  if (!sameAsLossCentering(layer)) {
    const p: Message = (layer.mvn_param as Message | null) ?? newMessage('MVNParameter');
    ctx.report.changes.push(
      `kept "${layer.name}" (MVN) before ${lossName}: it ${p.normalize_variance !== false ? 'also divides by the standard deviation' : 'zero-means each channel over H×W (across_channels: false)'}, ` +
        `which the loss's own zero-meaning (each item over C·H·W) does not do` +
        (p.across_channels !== true ? '; on N×C logits (H = W = 1) that outputs zeros, so this recipe trained nothing through it' : ''),
    );
    return undefined;
  }
  const top = layer.top[0] as string;
  const readers = [g, test].flatMap((graph) => graph.consumers(mvn, top).map((u) => graph.layers[u.layer]!));
  const others = readers.filter((r) => r.type !== LOSS);
  if (others.length) {
    ctx.report.changes.push(`kept "${layer.name}" (MVN): redundant before ${lossName}, which zero-means its inputs itself, but ${others.map((o) => `"${o.name}"`).join(', ')} also read it`);
    return undefined;
  }
  const input = layer.bottom[0] as string;
  if (input !== top) {
    const inputProducer = g.producer(mvn, 0);
    for (const graph of [g, test]) {
      for (const u of graph.consumers(mvn, top)) {
        if (graph.latestBefore(u.layer, input) !== inputProducer) {
          throw layerError(graph.layers[u.layer]!, `reads '${top}' from MVN "${layer.name}", whose input '${input}' is changed in place before this layer: kdnet cannot drop the MVN`);
        }
        (graph.layers[u.layer]!.bottom as string[])[u.bottom] = input;
      }
    }
  }
  ctx.report.changes.push(
    `dropped "${layer.name}" (MVN, mean only, across channels) before ${lossName}: TempSoftmaxCrossEntropyLoss zero-means each item over C·H·W itself, so the loss and its gradient are unchanged`,
  );
  return layer;
}

export const kdistil: Recipe = {
  id: 'kdistil',
  title: 'TempSoftmaxCrossEntropyLoss (BVLC PR #4378, kdistil), soft targets from a second database',
  looksFor: 'a TempSoftmaxCrossEntropyLoss layer',
  convert(net, ctx) {
    const g = new NetGraph(net, Phase.TRAIN);
    const test = new NetGraph(net, Phase.TEST);
    const losses = g.layersOfType(LOSS).filter((i) => !ctx.created.has(g.layers[i]!));
    const drop = new Set<Message>();
    for (const i of losses) {
      const loss = g.layers[i]!;
      const param: Message = (loss.tempsoftmax_param as Message | null) ?? newMessage('TempSoftmaxParameter');
      const T = param.temperature as number;
      if (!(T > 1)) throw layerError(loss, `tempsoftmax_param.temperature is ${num(T)}; TempSoftmaxCrossEntropyLoss needs T > 1 (its gradient assumes a high temperature)`, 'tempsoftmax_param');
      ctx.report.changes.push(`"${loss.name}": TempSoftmaxCrossEntropyLoss, temperature ${num(T)}, runs natively in kdnet: kept`);
      for (const b of [0, 1]) {
        const dropped = redundantMvn(g, test, i, b, ctx);
        if (dropped) drop.add(dropped);
      }
      freezeTeacherOf(g, i, ctx.report);
      const w = lossWeight(loss);
      if (Math.fround(w) !== Math.fround(T * T)) {
        ctx.report.warnings.push(
          `"${loss.name}": loss_weight ${num(w)}; its gradient is Hinton's (z_s − z_t)/(C·T²·N), 1/T² in size, which is why kdnet's README (after Hinton) weights it T² = ${num(T * T)} next to a hard SoftmaxWithLoss`,
        );
      }
    }
    removeLayers(net, drop);
    return losses.length;
  },
};
