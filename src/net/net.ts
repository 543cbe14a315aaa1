// A Caffe net on tfjs (Net::Init / ForwardFromTo / BackwardFromTo semantics): blobs by name, in-place layers,
// blobs consumed several times (gradients summed, as Caffe's inserted Split layers do), loss weights,
// force_backward / propagate_down, layers that need no backward, shared parameters, and Net::Reshape: new input
// shapes re-set-up every layer whose bottoms changed, with every size checked against the run-time limits
// before anything is allocated.
import * as tf from '@tensorflow/tfjs-core';
import { has, type Message } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { positionOf } from '../prototxt/side-tables.js';
import { Layer, type LayerContext, type Shape } from '../layers/layer.js';
import { layerFactory } from '../layers/registry.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { jsPortOf, missingPortsError } from '../layers/python/check-ports.js';
import { Rng } from '../util/rng.js';
import { log } from '../log.js';
import { formatG } from '../prototxt/number-format.js';
import { countOf, sameShape, shapeText } from '../layers/common/util.js';
import { resolveNeedBackward } from './need-backward.js';
import { checkNetBytes, checkTopSizes, NetBytesTally, resolveSizeLimits, type SizeLimits } from './size-limits.js';
import { assertNetStructure } from './structure.js';
import './all-layers.js';

/** One produced value of a named blob: in-place layers make a new version of the same name. */
interface BlobVersion {
  id: number;
  name: string;
  shape: Shape;
  producer: number; // layer index, -1 for none
}

/**
 * Waits for a layer's results before its time is read (`kdnet time`). kdnet's backends (wasm, cpu, tfjs-node)
 * run kernels synchronously, so there is nothing to wait for; reading the data back anyway (dataSync copies
 * every blob out of the wasm heap) made ReLU layers look 20× slower than they are. Other backends are read.
 */
function settle(ts: (tf.Tensor | null | undefined)[]): void {
  if (['wasm', 'cpu', 'tensorflow'].includes(tf.getBackend())) return;
  for (const t of ts) t?.dataSync();
}

export interface LearnableParam {
  /** Owning layer and blob index; shared params point at their owner. */
  layer: string;
  index: number;
  name: string;
  tensor: tf.Variable;
  lrMult: number;
  decayMult: number;
}

interface LayerEntry {
  layer: Layer;
  bottoms: BlobVersion[];
  tops: BlobVersion[];
  lossWeights: number[];
  needBackward: boolean;
  bottomNeedBackward: boolean[];
  /** Index into learnableParams for each blob, or -1 when the blob is not learnable from here. */
  paramIds: number[];
  paramNeedBackward: boolean[];
  /** The bottom shapes the layer was last set up for: a change re-runs its set-up (Caffe's Reshape). */
  setupShapes: Shape[];
}

export interface NetOptions {
  phase: number;
  seed?: number;
  baseDir?: string;
  /** Folders searched for the JavaScript ports of Python layers, before KDNET_LAYERS_PATH and baseDir. */
  layersPath?: string[];
  /** Print Caffe's per-layer set-up lines (default: quiet). */
  verbose?: boolean;
  /** Run-time size limits (default: resolveSizeLimits(): flags' env vars, then the machine). */
  sizeLimits?: Partial<SizeLimits>;
}

export class Net {
  readonly name: string;
  readonly phase: number;
  private readonly entries: LayerEntry[] = [];
  private readonly versions: BlobVersion[] = [];
  private readonly latest = new Map<string, BlobVersion>();
  /** Names of blobs fed from outside: tops of Input layers. */
  readonly inputNames: string[] = [];
  readonly learnableParams: LearnableParam[] = [];
  private readonly paramOwners = new Map<string, number>();
  private data = new Map<number, tf.Tensor>();
  private diffs = new Map<number, tf.Tensor>();
  private paramDiffs = new Map<number, tf.Tensor>();
  private inputs = new Map<string, tf.Tensor>();
  private extraTopDiffs = new Map<string, tf.Tensor>();
  private readonly ctx: LayerContext;
  /** Caffe's debug_info: log the mean absolute value of every top, bottom diff and parameter per pass. */
  debugInfo = false;
  /** When set, forward/backward add each layer's wall time (ms) here (`kdnet time`). */
  profile?: { forward: Map<string, number>; backward: Map<string, number> };
  /** Set when this net computes with another net's parameter tensors: it must not free them. */
  private sharesParameters = false;
  /** Set when an input's shape changed since the last reshape. */
  private inputsChanged = false;
  readonly sizeLimits: SizeLimits;
  /** The net's bytes so far while it is built (checked layer by layer against the memory limit). */
  private readonly buildTally: NetBytesTally;

  constructor(param: Message, options: NetOptions) {
    this.name = param.name;
    this.phase = options.phase;
    this.sizeLimits = resolveSizeLimits(options.sizeLimits);
    this.buildTally = new NetBytesTally((id) => this.learnableParams[id]!.tensor.shape, this.sizeLimits);
    this.ctx = { phase: options.phase, rng: new Rng(options.seed ?? 1701), baseDir: options.baseDir, sizeLimits: this.sizeLimits, layersPath: options.layersPath };
    if ((param.layers as Message[]).length) {
      throw new KdnetError('the net still has V1 `layers`: upgrade it first (loadCaffeFile does)');
    }
    assertNetStructure(param); // Net::Init's checks, all reported together before any layer is set up
    this.checkTypes(param.layer as Message[]);
    (param.layer as Message[]).forEach((lp, i) => this.appendLayer(lp, i, options.verbose ?? false));
    resolveNeedBackward(this.entries, param.force_backward === true);
  }

  /**
   * Every layer that cannot run, in one error: types kdnet lacks (one summary line, which also names the Python
   * layers without a JavaScript port) and a line for each Python layer without a port saying where it looked.
   */
  private checkTypes(layers: Message[]): void {
    const search = { layersPath: this.ctx.layersPath, baseDir: this.ctx.baseDir };
    const ports = layers.map((l) => ({ name: l.name, jsPort: jsPortOf(l, search) }));
    const noPort = missingPortsError(ports);
    const missing = layers.filter((l, i) => !layerFactory(l.type) || ports[i]!.jsPort?.problem);
    if (missing.every((l) => l.type === 'Python')) {
      if (noPort) throw noPort;
      return;
    }
    const list = missing.map((l) => `"${l.name}" (${l.type}${l.type === 'Python' ? ', no JavaScript port' : isKnownLayerType(l.type) ? '' : ', not in Caffe master'})`);
    const summary = new KdnetError(`kdnet cannot run ${missing.length} layer${missing.length > 1 ? 's' : ''}: ${list.join(', ')}`, { position: positionOf(missing[0]!) });
    throw KdnetError.combine(noPort ? [summary, noPort] : [summary]);
  }

  private appendLayer(lp: Message, index: number, verbose: boolean): void {
    const Factory = layerFactory(lp.type)!;
    const layer = new Factory(lp, this.ctx);
    const where = (field?: string) => ({ layer: lp.name, position: positionOf(lp, field), path: `layer "${lp.name}"` });
    const [minB, maxB] = layer.bottomCount();
    const [minT, maxT] = layer.topCount();
    const nb = (lp.bottom as string[]).length;
    // Like Caffe, a layer with AutoTopBlobs gets anonymous tops up to its minimum (V0 loss layers have none).
    const topNames = [...(lp.top as string[])];
    if (layer.autoTopBlobs()) while (topNames.length < minT) topNames.push('(automatic)');
    const nt = topNames.length;
    if (nb < minB || nb > maxB) {
      throw new KdnetError(`${lp.type} takes ${minB === maxB ? minB : `${minB} to ${maxB}`} bottom blob(s), got ${nb}`, where('bottom'));
    }
    if (nt < minT || nt > maxT) {
      throw new KdnetError(`${lp.type} takes ${minT === maxT ? minT : `${minT} to ${maxT}`} top blob(s), got ${nt}`, where('top'));
    }
    const bottoms = (lp.bottom as string[]).map((name, i) => {
      const v = this.latest.get(name);
      if (!v) throw new KdnetError(`unknown bottom blob '${name}' (no earlier layer produces it)`, { ...where('bottom'), blob: name, position: positionOf(lp, 'bottom', i) });
      return v;
    });
    const bottomShapes = bottoms.map((b) => b.shape.slice());
    const topShapes = this.setupLayer(layer, bottomShapes);
    checkTopSizes(layer, bottoms.map((b, i) => ({ name: b.name, shape: bottomShapes[i]! })), topNames.map((name, i) => ({ name, shape: topShapes[i] ?? [] })), this.sizeLimits);
    const tops = topNames.map((name, i) => {
      const v: BlobVersion = { id: this.versions.length, name, shape: topShapes[i] ?? [], producer: index };
      this.versions.push(v);
      this.latest.set(name, v);
      return v;
    });
    if (lp.type === 'Input') for (const top of lp.top as string[]) this.inputNames.push(top);

    // Loss weights: explicit per top, else 1 on a loss layer's first top.
    const lossWeights = tops.map((_, i) => {
      if ((lp.loss_weight as number[]).length) return (lp.loss_weight as number[])[i] ?? 0;
      return layer.isLoss() && i === 0 ? 1 : 0;
    });
    const nw = (lp.loss_weight as number[]).length;
    if (nw && nw !== nt) {
      throw new KdnetError(`loss_weight must be given once per top blob: ${nw} value(s) for ${nt} top(s)`, where('loss_weight'));
    }

    const paramIds = layer.blobs.map((blob, i) => this.registerParam(layer, lp, i, blob));
    const paramNeedBackward = layer.blobs.map((_, i) => {
      const spec = (lp.param as Message[])[i];
      return (spec && has(spec, 'lr_mult') ? spec.lr_mult : 1) !== 0 && !layer.frozenBlobs.has(i);
    });
    const entry: LayerEntry = { layer, bottoms, tops, lossWeights, needBackward: false, bottomNeedBackward: [], paramIds, paramNeedBackward, setupShapes: bottomShapes };
    this.entries.push(entry);
    this.buildTally.add(entry);
    if (verbose) log.info(`Setting up ${lp.name}\n` + tops.map((t) => topShapeLine(t.shape)).join('\n'));
  }

  private setupLayer(layer: Layer, shapes: Shape[]): Shape[] {
    try {
      return layer.setup(shapes);
    } catch (e) {
      if (e instanceof KdnetError) throw e;
      throw layer.error(`set-up failed: ${(e as Error).message}`);
    }
  }

  private registerParam(layer: Layer, lp: Message, i: number, blob: tf.Variable): number {
    const spec = (lp.param as Message[])[i];
    const lrMult = spec && has(spec, 'lr_mult') ? spec.lr_mult : 1;
    const decayMult = spec && has(spec, 'decay_mult') ? spec.decay_mult : 1;
    const shareName: string = spec?.name ?? '';
    if (shareName && this.paramOwners.has(shareName)) {
      const ownerId = this.paramOwners.get(shareName)!;
      const owner = this.learnableParams[ownerId]!;
      const strict = (spec?.share_mode ?? 0) === 0;
      const sameShape = owner.tensor.shape.join(',') === blob.shape.join(',');
      if (strict ? !sameShape : owner.tensor.size !== blob.size) {
        throw new KdnetError(
          `shared parameter '${shareName}' has shape [${blob.shape.join(', ')}] here but [${owner.tensor.shape.join(', ')}] in layer "${owner.layer}"` +
            (strict ? ' (share_mode STRICT needs equal shapes)' : ' (share_mode PERMISSIVE needs equal counts)'),
          { layer: lp.name, position: positionOf(lp, 'param', i), path: `layer "${lp.name}".param[${i}]` },
        );
      }
      if (spec && has(spec, 'lr_mult') && spec.lr_mult !== owner.lrMult) {
        throw new KdnetError(`shared parameter '${shareName}' has lr_mult ${spec.lr_mult} here but ${owner.lrMult} in layer "${owner.layer}"`, {
          layer: lp.name,
          position: positionOf(lp, 'param', i),
        });
      }
      if (!sameShape) {
        throw new KdnetError(
          `shared parameter '${shareName}' has shape [${blob.shape.join(', ')}] here but [${owner.tensor.shape.join(', ')}] in layer "${owner.layer}": ` +
            'kdnet shares PERMISSIVE parameters only between blobs of the same shape',
          { layer: lp.name, position: positionOf(lp, 'param', i), path: `layer "${lp.name}".param[${i}]` },
        );
      }
      // The layer computes with the owner's tensor.
      blob.dispose();
      layer.blobs[i] = owner.tensor;
      return ownerId;
    }
    const id = this.learnableParams.length;
    this.learnableParams.push({ layer: lp.name, index: i, name: shareName || `${lp.name}.${i}`, tensor: blob, lrMult, decayMult });
    if (shareName) this.paramOwners.set(shareName, id);
    return id;
  }

  // ---------------------------------------------------------------- data in and out

  /** The version of `name` an Input layer produces. */
  private inputVersion(name: string): BlobVersion {
    const e = this.entries.find((x) => x.layer.type === 'Input' && x.tops.some((t) => t.name === name));
    if (!e) throw new KdnetError(`'${name}' is not an input blob of net "${this.name}" (inputs: ${this.inputNames.join(', ') || 'none'})`, { blob: name });
    return e.tops.find((t) => t.name === name)!;
  }

  /**
   * Sets the data of an input blob (a top of an Input layer). The net takes ownership of the tensor. Another
   * shape than the blob's reshapes the net at the next forward (or reshape()).
   */
  setInput(name: string, value: tf.Tensor): void {
    const v = this.inputVersion(name);
    this.inputs.get(name)?.dispose();
    this.inputs.set(name, value);
    if (!sameShape(value.shape, v.shape)) this.inputsChanged = true;
  }

  /**
   * Gives an input blob a new shape without data (pycaffe's `net.blobs[name].reshape(...)`): it is zero-filled
   * at the next forward, after reshape() has checked every size. Data of another shape is dropped.
   */
  setInputShape(name: string, shape: Shape): void {
    const v = this.inputVersion(name);
    const bad = shape.find((d) => !(Number.isInteger(d) && d >= 0));
    if (bad !== undefined) throw new KdnetError(`input blob '${name}' cannot take shape ${shapeText(shape)}: dimension ${bad} is not a non-negative whole number`, { blob: name });
    const held = this.inputs.get(name);
    if (held && !sameShape(held.shape, shape)) {
      held.dispose();
      this.inputs.delete(name);
    }
    if (!sameShape(v.shape, shape)) {
      v.shape = shape.slice();
      this.inputsChanged = true;
    }
  }

  /**
   * Caffe's Net::Reshape: every layer, in order, recomputes its top shapes from its bottoms' (the inputs'
   * current shapes first), re-running the set-up of the layers whose bottoms changed. Parameters are kept.
   * Throws, before anything is allocated, when a layer cannot take its new bottoms or a size passes a limit.
   * forward() calls it when an input's shape changed.
   */
  reshape(): void {
    for (const e of this.entries) {
      if (e.layer.type === 'Input') {
        e.tops.forEach((t) => {
          const held = this.inputs.get(t.name);
          if (held) t.shape = held.shape.slice();
        });
        checkTopSizes(e.layer, [], e.tops, this.sizeLimits);
      } else {
        this.reshapeLayer(e, e.bottoms.map((b) => b.shape));
      }
    }
    checkNetBytes(this.entries, (id) => this.learnableParams[id]!.tensor.shape, this.sizeLimits);
    this.inputsChanged = false;
  }

  /** Re-runs a layer's set-up when its bottom shapes differ from the ones it was set up for. */
  private reshapeLayer(e: LayerEntry, shapes: Shape[]): void {
    if (shapes.length === e.setupShapes.length && shapes.every((s, i) => sameShape(s, e.setupShapes[i]!))) return;
    e.setupShapes = []; // until it succeeds: a failed set-up is run again next time, whatever the shapes
    const bottomNames = e.bottoms.map((b) => b.name);
    let topShapes: Shape[];
    try {
      topShapes = this.setupLayer(e.layer, shapes);
    } catch (err) {
      if (!(err instanceof KdnetError)) throw err;
      const bottoms = bottomNames.map((b, i) => `'${b}' ${shapeText(shapes[i]!)}`).join(', ');
      throw new KdnetError(`${err.message} (reshaping to bottom ${bottoms})`, err.where, err.others);
    }
    const tops = e.tops.map((t, i) => ({ name: t.name, shape: (topShapes[i] ?? t.shape).slice() }));
    checkTopSizes(e.layer, bottomNames.map((name, i) => ({ name, shape: shapes[i]! })), tops, this.sizeLimits);
    e.tops.forEach((t, i) => (t.shape = tops[i]!.shape));
    e.setupShapes = shapes.map((s) => s.slice());
  }

  /** Each layer's top blobs and their current shapes, in forward order (Caffe's "Top shape:" lines). */
  layerTopShapes(): Array<{ layer: string; tops: Array<{ blob: string; shape: Shape }> }> {
    return this.entries.map((e) => ({ layer: e.layer.name, tops: e.tops.map((t) => ({ blob: t.name, shape: t.shape.slice() })) }));
  }

  /** The current data of a blob (its latest version). */
  blob(name: string): tf.Tensor {
    const v = this.latest.get(name);
    const t = v && this.data.get(v.id);
    if (!t) throw new KdnetError(`no data for blob '${name}' (run forward first)`, { blob: name });
    return t;
  }

  /** The diff of a blob after backward: d objective / d blob at its first version (Caffe's shared diff). */
  blobDiff(name: string): tf.Tensor | undefined {
    const first = this.versions.find((v) => v.name === name);
    return first && this.diffs.get(first.id);
  }

  blobNames(): string[] {
    return [...this.latest.keys()];
  }

  blobShape(name: string): Shape | undefined {
    return this.latest.get(name)?.shape;
  }

  /** Output blobs: produced and never consumed afterwards (Caffe's net outputs). */
  outputNames(): string[] {
    const consumed = new Set<number>();
    for (const e of this.entries) for (const b of e.bottoms) consumed.add(b.id);
    return [...this.latest.values()].filter((v) => !consumed.has(v.id) && v.producer >= 0).map((v) => v.name);
  }

  layerNames(): string[] {
    return this.entries.map((e) => e.layer.name);
  }

  layer(name: string): Layer {
    const e = this.entries.find((x) => x.layer.name === name);
    if (!e) throw new KdnetError(`no layer named "${name}" in net "${this.name}"`);
    return e.layer;
  }

  layers(): Layer[] {
    return this.entries.map((e) => e.layer);
  }

  /** Loss weight of each top of each layer, for display (`* w = ...`). */
  lossTops(): Array<{ layer: string; blob: string; weight: number }> {
    const out: Array<{ layer: string; blob: string; weight: number }> = [];
    for (const e of this.entries) e.tops.forEach((t, i) => e.lossWeights[i] !== 0 && out.push({ layer: e.layer.name, blob: t.name, weight: e.lossWeights[i]! }));
    return out;
  }

  /** Diff of a learnable parameter after backward (owner's accumulated diff for shared ones). */
  paramDiff(layer: string, index: number): tf.Tensor | undefined {
    const e = this.entries.find((x) => x.layer.name === layer);
    const id = e?.paramIds[index];
    return id === undefined || id < 0 ? undefined : this.paramDiffs.get(id);
  }

  /** Accumulated diff of learnable parameter `id` (index into learnableParams) after backward. */
  learnableParamDiff(id: number): tf.Tensor | undefined {
    return this.paramDiffs.get(id);
  }

  /** Replaces the accumulated diff of learnable parameter `id` (the solver's normalize/clip/regularize steps). */
  setLearnableParamDiff(id: number, diff: tf.Tensor): void {
    const old = this.paramDiffs.get(id);
    if (old && old !== diff) old.dispose();
    this.paramDiffs.set(id, diff);
  }

  /**
   * Caffe's ShareTrainedLayersWith: every layer of this net whose name exists in `source` computes with the
   * source layer's parameter tensors (test nets share the train net's weights and BatchNorm statistics).
   */
  shareParametersWith(source: Net): void {
    const byName = new Map(source.layers().map((l) => [l.name, l]));
    for (const e of this.entries) {
      const src = byName.get(e.layer.name);
      if (!src || !src.blobs.length) continue;
      if (src.blobs.length !== e.layer.blobs.length) {
        throw new KdnetError(`layer "${e.layer.name}" has ${e.layer.blobs.length} parameter blobs in one net and ${src.blobs.length} in the other`, { layer: e.layer.name });
      }
      e.layer.blobs.forEach((b, i) => {
        const sb = src.blobs[i]!;
        if (b === sb) return;
        if (b.shape.join(',') !== sb.shape.join(',')) {
          throw new KdnetError(`layer "${e.layer.name}" blob ${i} has shape [${b.shape}] here but [${sb.shape}] in the net it shares with`, { layer: e.layer.name });
        }
        const id = e.paramIds[i]!;
        if (id >= 0 && this.learnableParams[id]!.tensor === b) this.learnableParams[id]!.tensor = sb;
        this.sharesParameters = true;
        b.dispose();
        e.layer.blobs[i] = sb;
      });
    }
  }

  /** A diff to seed into a non-loss output before backward (like writing net.blobs[o].diff in pycaffe). */
  setTopDiff(name: string, diff: tf.Tensor): void {
    this.extraTopDiffs.get(name)?.dispose();
    this.extraTopDiffs.set(name, diff);
  }

  // ---------------------------------------------------------------- passes

  private releaseData(): void {
    for (const t of this.data.values()) if (![...this.inputs.values()].includes(t)) t.dispose();
    this.data.clear();
  }

  private releaseDiffs(): void {
    for (const t of this.diffs.values()) t.dispose();
    this.diffs.clear();
  }

  clearParamDiffs(): void {
    for (const t of this.paramDiffs.values()) t.dispose();
    this.paramDiffs.clear();
  }

  /** Forward through every layer; returns the total loss Σ loss_weight · sum(top). */
  forward(): number {
    if (this.inputsChanged) this.reshape();
    this.releaseData();
    this.releaseDiffs();
    for (const e of this.entries) {
      let tops: tf.Tensor[];
      if (e.layer.type === 'Input') {
        tops = e.tops.map((t) => {
          let v = this.inputs.get(t.name);
          if (!v) {
            // Caffe's Input blobs start zero-filled; a net trained without feeding them sees zeros.
            if (t.shape.some((d) => !(d >= 0)) || !t.shape.length) {
              throw new KdnetError(`input blob '${t.name}' has no data and no declared shape (give it data, or a shape: setInput / setInputShape, --input / --input-shape)`, { blob: t.name });
            }
            v = tf.zeros(t.shape);
            this.inputs.set(t.name, v);
          }
          return v;
        });
      } else {
        const bottoms = e.bottoms.map((b) => this.data.get(b.id)!);
        // Caffe's Layer::Forward reshapes first: a data layer's batch may change shape from one pass to the next.
        this.reshapeLayer(e, bottoms.map((b) => b.shape));
        const t0 = this.profile ? performance.now() : 0;
        tops = e.layer.forward(bottoms);
        if (this.profile) {
          settle(tops);
          const m = this.profile.forward;
          m.set(e.layer.name, (m.get(e.layer.name) ?? 0) + performance.now() - t0);
        }
      }
      e.tops.forEach((t, i) => {
        const v = tops[i];
        if (!v) throw e.layer.error(`produced ${tops.length} top(s), expected ${e.tops.length}`);
        t.shape = v.shape;
        this.data.set(t.id, v);
      });
      if (this.debugInfo) {
        e.tops.forEach((t) => log.info(`    [Forward] Layer ${e.layer.name}, top blob ${t.name} data: ${absMean(this.data.get(t.id)!)}`));
        e.layer.blobs.forEach((b, i) => log.info(`    [Forward] Layer ${e.layer.name}, param blob ${i} data: ${absMean(b)}`));
      }
    }
    return this.currentLoss();
  }

  private currentLoss(): number {
    let loss = 0;
    for (const e of this.entries) {
      e.tops.forEach((t, i) => {
        const w = e.lossWeights[i]!;
        if (w !== 0) loss += w * tf.tidy(() => tf.sum(this.data.get(t.id)!).dataSync()[0]!);
      });
    }
    return loss;
  }

  private addDiff(store: Map<number, tf.Tensor>, id: number, d: tf.Tensor): void {
    const prev = store.get(id);
    if (!prev) {
      store.set(id, d);
      return;
    }
    store.set(id, tf.add(prev, d));
    prev.dispose();
    d.dispose();
  }

  /** Backward from the losses (and any seeded output diffs); bottom and parameter diffs accumulate. */
  backward(): void {
    this.releaseDiffs();
    for (const e of this.entries) {
      e.tops.forEach((t, i) => {
        const w = e.lossWeights[i]!;
        // A diff written into an output replaces its loss-weight seed, as writing blob.diff does in Caffe.
        const overridden = this.extraTopDiffs.has(t.name) && this.latest.get(t.name) === t;
        if (w !== 0 && !overridden) this.addDiff(this.diffs, t.id, tf.fill(this.data.get(t.id)!.shape, w));
      });
    }
    for (const [name, d] of this.extraTopDiffs) {
      const v = this.latest.get(name);
      if (v) this.addDiff(this.diffs, v.id, tf.clone(d));
    }
    for (let li = this.entries.length - 1; li >= 0; li--) {
      const e = this.entries[li]!;
      if (!e.needBackward) continue;
      if (!e.tops.some((t) => this.diffs.has(t.id))) continue;
      const tops = e.tops.map((t) => this.data.get(t.id)!);
      const zeros: tf.Tensor[] = [];
      const topDiffs = e.tops.map((t, i) => {
        const d = this.diffs.get(t.id);
        if (d) return d;
        const z = tf.zerosLike(tops[i]!);
        zeros.push(z);
        return z;
      });
      const bottoms = e.bottoms.map((b) => this.data.get(b.id)!);
      const t0 = this.profile ? performance.now() : 0;
      const { bottomDiffs, paramDiffs } = e.layer.backward(bottoms, tops, topDiffs, e.bottomNeedBackward);
      if (this.profile) {
        settle([...bottomDiffs, ...paramDiffs]);
        const m = this.profile.backward;
        m.set(e.layer.name, (m.get(e.layer.name) ?? 0) + performance.now() - t0);
      }
      zeros.forEach((z) => z.dispose());
      if (this.debugInfo) {
        bottomDiffs.forEach((d, i) => d && e.bottomNeedBackward[i] && log.info(`    [Backward] Layer ${e.layer.name}, bottom blob ${e.bottoms[i]!.name} diff: ${absMean(d)}`));
        paramDiffs.forEach((d, i) => d && log.info(`    [Backward] Layer ${e.layer.name}, param blob ${i} diff: ${absMean(d)}`));
      }
      bottomDiffs.forEach((d, i) => {
        if (!d) return;
        if (e.bottomNeedBackward[i]) this.addDiff(this.diffs, e.bottoms[i]!.id, d);
        else d.dispose();
      });
      paramDiffs.forEach((d, i) => {
        if (!d) return;
        const id = e.paramIds[i]!;
        if (id >= 0 && e.paramNeedBackward[i]) {
          const owner = this.learnableParams[id]!;
          this.addDiff(this.paramDiffs, id, d.shape.join(',') === owner.tensor.shape.join(',') ? d : reshapeOwned(d, owner.tensor.shape));
        } else d.dispose();
      });
    }
  }

  /** RNG stream and layer cursors, for exact resume (see Layer.saveState). */
  saveState(): { rng: [number, number | null]; layers: Record<string, unknown> } {
    const layers: Record<string, unknown> = {};
    for (const e of this.entries) {
      const s = e.layer.saveState();
      if (s !== undefined) layers[e.layer.name] = s;
    }
    return { rng: this.ctx.rng.getState(), layers };
  }

  restoreState(state: { rng: [number, number | null]; layers: Record<string, unknown> }): void {
    this.ctx.rng.setState(state.rng);
    for (const e of this.entries) if (e.layer.name in state.layers) e.layer.restoreState(state.layers[e.layer.name]);
  }

  /** The first layer output (in forward order) holding NaN or ±Inf, for a clear message when training diverges. */
  firstNonFiniteBlob(): { layer: string; blob: string } | undefined {
    for (const e of this.entries) {
      for (const t of e.tops) {
        const d = this.data.get(t.id);
        if (d && tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(d))).dataSync()[0])) return { layer: e.layer.name, blob: t.name };
      }
    }
    return undefined;
  }

  /** Releases every tensor the net holds. */
  dispose(): void {
    this.releaseData();
    this.releaseDiffs();
    this.clearParamDiffs();
    for (const t of this.inputs.values()) t.dispose();
    this.inputs.clear();
    for (const t of this.extraTopDiffs.values()) t.dispose();
    this.extraTopDiffs.clear();
    if (!this.sharesParameters) {
      const seen = new Set<tf.Tensor>();
      for (const e of this.entries) {
        for (const b of e.layer.blobs) if (!seen.has(b)) (seen.add(b), b.dispose());
      }
    }
    for (const e of this.entries) {
      e.layer.blobs = [];
      e.layer.dispose(); // layer-held state (Dropout's mask, recurrent states)
    }
  }
}

/** Caffe's set-up line for a top: `Top shape: 1 3 24 24 (1728)`. */
export function topShapeLine(shape: Shape): string {
  return `Top shape: ${shape.join(' ')} (${countOf(shape)})`;
}

/** Caffe's asum / count, printed like its debug lines (also used by the solver's [Update] lines). */
export function absMean(t: tf.Tensor): string {
  const v = tf.tidy(() => tf.mean(tf.abs(t)).dataSync()[0]!);
  return formatG(v, 6);
}

function reshapeOwned(d: tf.Tensor, shape: number[]): tf.Tensor {
  const r = tf.reshape(d, shape);
  d.dispose();
  return r;
}
