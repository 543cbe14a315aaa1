// What Caffe's Net::Init refuses before any layer is set up, checked statically on a filtered net: bottoms
// that no earlier layer produces (with a "did you mean" among the blobs that exist there, or the layer that
// produces the blob only later), tops produced twice by layers that are not in place, the number of bottoms
// and tops a layer type takes, loss_weight and propagate_down counts, and shapes written in parameters that
// no blob can have. Used by `kdnet check` and at the start of the Net constructor, so both say the same.
// One pass over the layers: no work grows faster than the net.
import type { Message } from '../proto/schema.js';
import { positionOf } from '../prototxt/side-tables.js';
import { closest } from '../prototxt/suggest.js';
import { KdnetError, combineBounded, REPORTED_ERRORS_LIMIT } from '../errors.js';
import { layerFactory } from '../layers/registry.js';
import type { Layer } from '../layers/layer.js';
import { Rng } from '../util/rng.js';
import { declaredShapeErrors } from './blob-limits.js';
import './all-layers.js';

/** A layer object used only for its metadata (bottomCount, topCount, ...): never set up. */
export function describeLayer(lp: Message, phase = 0, baseDir?: string): Layer | undefined {
  const Factory = layerFactory(lp.type);
  return Factory && new Factory(lp, { phase, rng: new Rng(1), baseDir });
}

const range = ([min, max]: [number, number]) => (min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`);

/** The tops a layer ends up with: Caffe's AutoTopBlobs adds anonymous ones up to the minimum. */
export function topCountOf(layer: Layer, lp: Message): number {
  const n = (lp.top as string[]).length;
  return layer.autoTopBlobs() ? Math.max(n, layer.topCount()[0]) : n;
}

/** Whether the layer has a number of bottoms and tops its type accepts (set-up may be called). */
export function arityErrors(layer: Layer, lp: Message): KdnetError[] {
  const errors: KdnetError[] = [];
  const where = (field: string) => ({ layer: lp.name, position: positionOf(lp, field) ?? positionOf(lp), path: `layer "${lp.name}"` });
  const nb = (lp.bottom as string[]).length;
  const nt = topCountOf(layer, lp);
  const [minB, maxB] = layer.bottomCount();
  const [minT, maxT] = layer.topCount();
  if (nb < minB || nb > maxB) errors.push(new KdnetError(`${lp.type} takes ${range([minB, maxB])} bottom blob(s), got ${nb}`, where('bottom')));
  if (nt < minT || nt > maxT) errors.push(new KdnetError(`${lp.type} takes ${range([minT, maxT])} top blob(s), got ${nt}`, where('top')));
  return errors;
}

function countErrors(lp: Message, nTops: number): KdnetError[] {
  const errors: KdnetError[] = [];
  const where = (field: string) => ({ layer: lp.name, position: positionOf(lp, field) ?? positionOf(lp), path: `layer "${lp.name}".${field}` });
  const nw = (lp.loss_weight as number[]).length;
  if (nw && nw !== nTops) errors.push(new KdnetError(`loss_weight must be given once per top blob: ${nw} value(s) for ${nTops} top(s)`, where('loss_weight')));
  const nb = (lp.bottom as string[]).length;
  const np = (lp.propagate_down as boolean[]).length;
  if (np && np !== nb) errors.push(new KdnetError(`propagate_down must be given once per bottom blob: ${np} value(s) for ${nb} bottom(s)`, where('propagate_down')));
  return errors;
}

/** Every structural problem of a (filtered) net, in layer order; "did you mean" only for the reported ones. */
export function structureErrors(net: Message): KdnetError[] {
  const layers = net.layer as Message[];
  // First producer of every top, to tell "produced later" from "produced nowhere".
  const firstProducer = new Map<string, number>();
  layers.forEach((lp, i) => (lp.top as string[]).forEach((t) => firstProducer.has(t) || firstProducer.set(t, i)));
  const producedBy = new Map<string, number>(); // blobs available so far → their latest producer
  const errors: KdnetError[] = [];
  layers.forEach((lp, li) => {
    const layer = describeLayer(lp);
    if (!lp.type) errors.push(new KdnetError('the layer has no type', { layer: lp.name, position: positionOf(lp), path: `layer "${lp.name}"` }));
    if (layer) errors.push(...arityErrors(layer, lp));
    errors.push(...countErrors(lp, layer ? topCountOf(layer, lp) : (lp.top as string[]).length), ...declaredShapeErrors(lp));
    (lp.bottom as string[]).forEach((name, i) => {
      if (producedBy.has(name)) return;
      const later = firstProducer.get(name);
      let why: string;
      if (later !== undefined && later > li) {
        const p = layers[later]!;
        const line = positionOf(p)?.line;
        why = `it is produced only later, by layer "${p.name}"${line ? ` (line ${line})` : ''}: a layer can only read blobs of layers above it`;
      } else {
        why = 'no earlier layer produces it';
        // The suggestion scans every blob so far: only for the errors that will be shown.
        const guess = errors.length < REPORTED_ERRORS_LIMIT ? closest(name, producedBy.keys()) : undefined;
        if (guess) why += `; did you mean '${guess}'?`;
      }
      errors.push(
        new KdnetError(`unknown bottom blob '${name}' (bottom index ${i}): ${why}`, {
          layer: lp.name,
          blob: name,
          position: positionOf(lp, 'bottom', i),
          path: `layer "${lp.name}"`,
        }),
      );
    });
    (lp.top as string[]).forEach((name, i) => {
      const inPlace = (lp.bottom as string[])[i] === name;
      const earlier = producedBy.get(name);
      if (earlier !== undefined && !inPlace) {
        const by = earlier === li ? 'this layer' : `layer "${layers[earlier]!.name}"`;
        errors.push(
          new KdnetError(
            `top blob '${name}' (top index ${i}) is produced by multiple sources: ${by} already produces it, and only an in-place layer (top[i] = bottom[i]) may produce a blob again`,
            { layer: lp.name, blob: name, position: positionOf(lp, 'top', i), path: `layer "${lp.name}"` },
          ),
        );
      }
      producedBy.set(name, li);
    });
  });
  return errors;
}

/** Throws every structural problem of the net together (the first 20 and a count of the rest). */
export function assertNetStructure(net: Message): void {
  const errors = structureErrors(net);
  if (errors.length) throw combineBounded(errors);
}
