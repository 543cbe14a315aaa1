// The temperature hack on stock Caffe layers: the student's logits z divided by T in a Power layer (power 1,
// scale 1/T, shift 0), and a SigmoidCrossEntropyLoss against soft targets p read from a second database (a
// Data layer with one top). SigmoidCrossEntropyLoss takes probabilities as targets, so the database holds the
// teacher's softmax at T.
//
// Old loss: −Σ[p·log σ(z/T) + (1 − p)·log(1 − σ(z/T))]/N, a separate sigmoid per class, gradient on the
// logits (σ(z/T) − p)/(N·T): each class is pulled toward σ(z_k/T) = p_k on its own, not toward the
// distribution p, so it is a different loss, not a rescaled one — no loss_weight reproduces it.
// New: TempSoftmaxCrossEntropyLoss (PR #4378) on the unscaled logits, the cross-entropy −Σ p·log softmax(z/T)/N
// with Hinton's high-temperature gradient (z_s − z_t)/(C·T²·N). Its target must be logits: a Log layer with
// base e^(1/T) gives T·ln p, logits of p up to a per-sample constant, which the loss's zero-meaning removes,
// so the loss trains toward exactly the stored p.
import type { Message } from '../../proto/schema.js';
import { newMessage } from '../../proto/schema.js';
import { copySideTables } from '../../prototxt/side-tables.js';
import { Phase } from '../../net/net-state.js';
import { NetGraph } from './graph.js';
import {
  assertOnlyUsedWithin,
  assertSameVersion,
  layerError,
  lossWeight,
  num,
  powerTemperature,
  removeLayers,
  replacementLoss,
  type ConvertContext,
  type Recipe,
} from './recipe.js';

/** Added to the probabilities before the log so that a target of exactly 0 stays finite (below float32's ulp of any p ≥ 1e-23). */
const LOG_SHIFT = 1e-30;

function unusedName(taken: Set<string>, base: string): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

/** The Log layer turning probabilities p (blob `targets`) into logits T·ln p, with the loss's phase rules. */
function logitsOfTargets(loss: Message, targets: string, T: number, names: Set<string>): Message {
  const log = newMessage('LayerParameter', { type: 'Log' });
  copySideTables(loss, log);
  log.name = unusedName(names, `${targets}_logits`);
  log.bottom = [targets];
  log.top = [log.name];
  log.include = [...(loss.include as Message[])];
  log.exclude = [...(loss.exclude as Message[])];
  log.log_param = newMessage('LogParameter', { base: Math.fround(Math.exp(1 / T)), shift: Math.fround(LOG_SHIFT) });
  return log;
}

export const powerSigmoid: Recipe = {
  id: 'power-sigmoid',
  title: 'Power (scale 1/T) on the student logits, SigmoidCrossEntropyLoss against soft targets from a second database',
  looksFor: 'a SigmoidCrossEntropyLoss reading Power-scaled logits (bottom 0) and soft targets from a data layer (bottom 1)',
  convert(net, ctx: ConvertContext) {
    const { report, options } = ctx;
    const g = new NetGraph(net, Phase.TRAIN);
    const test = new NetGraph(net, Phase.TEST);
    const losses = g.layersOfType('SigmoidCrossEntropyLoss').filter((i) => g.producer(i, 0) >= 0 && g.layers[g.producer(i, 0)]!.type === 'Power');
    const names = new Set([...(net.layer as Message[]).flatMap((l) => [l.name as string, ...(l.top as string[])])]);
    const removed = new Set<number>();
    const edits: Array<{ at: number; loss: Message; log: Message }> = [];
    for (const i of losses) {
      const old = g.layers[i]!;
      const power = g.producer(i, 0);
      const T = powerTemperature(g.layers[power]!);
      const source = g.producer(i, 1);
      if (source < 0 || (g.layers[source]!.bottom as string[]).length > 0) {
        throw layerError(old, `reads Power-scaled logits, so its targets '${old.bottom[1]}' should be soft targets from a database (a Data layer with one top), but they come from ${source < 0 ? 'no layer' : `${g.name(source)} (${g.layers[source]!.type})`}`, 'bottom');
      }
      if (!(T > 1)) {
        throw layerError(g.layers[power]!, `divides by T = ${num(T)}; TempSoftmaxCrossEntropyLoss needs T > 1 (its gradient assumes a high temperature)`, 'power_param');
      }
      assertOnlyUsedWithin([g, test], new Set([power, i]), 'TempSoftmaxCrossEntropyLoss applies the temperature itself');
      removed.add(power);
      const logits = g.layers[power]!.bottom[0] as string;
      assertSameVersion(g, i, logits, g.producer(power, 0), removed);
      const log = logitsOfTargets(old, old.bottom[1] as string, T, names);
      const w = lossWeight(old);
      const loss = replacementLoss(old, 'TempSoftmaxCrossEntropyLoss', [logits, log.top[0] as string], ['tempsoftmax_param', 'TempSoftmaxParameter', { temperature: T }], w);
      edits.push({ at: i, loss, log });
      ctx.created.add(loss);
      report.changes.push(
        `"${old.name}": SigmoidCrossEntropyLoss on Power-scaled logits → TempSoftmaxCrossEntropyLoss on the unscaled logits '${logits}', temperature ${num(T)} (= 1 / power_param.scale ${num(1 / T)})`,
        `removed ${g.name(power)} (Power): TempSoftmaxCrossEntropyLoss divides by T itself`,
        `added "${log.name}" (Log, base e^(1/T) = ${num(log.log_param.base)}): T·ln p turns the probabilities in '${old.bottom[1]}' into logits, which TempSoftmaxCrossEntropyLoss ` +
          `expects as its target (it zero-means them, divides by T and takes the softmax: exactly p again); if that database holds logits rather than probabilities, delete this layer`,
      );
      report.warnings.push(
        `"${old.name}": the old loss was a separate sigmoid cross-entropy per class at T, gradient (σ(z/T) − p)/(N·T), pulling each σ(z_k/T) toward p_k; the new one is the softmax ` +
          `cross-entropy −Σ p·log softmax(z/T)/N with Hinton's gradient (z_s − z_t)/(C·T²·N), C classes. They differ in kind, not by a factor` +
          (options.matchOldGradients ? ' (--match-old-gradients cannot apply: no loss_weight reproduces the old gradients)' : '') +
          `. loss_weight ${num(w)} is kept; Hinton's weighting of the soft loss next to a hard one is T² = ${num(T * T)}: loss_weight ${num(w * T * T)}.`,
      );
    }
    const gone = new Set([...removed].map((i) => g.layers[i]!));
    const layers = net.layer as Message[];
    // From the last edit back, so earlier indices stay valid: the loss in place, its Log layer just before it.
    for (const e of edits.sort((a, b) => b.at - a.at)) layers.splice(e.at, 1, e.log, e.loss);
    removeLayers(net, gone);
    return losses.length;
  },
};
