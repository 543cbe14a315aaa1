// InfogainLoss (modern Caffe's InfogainLossLayer): softmax over infogain_loss_param.axis, then
// −Σ_l H[label, l]·log(max(p_l, 1e−20)) per counted position, normalized like SoftmaxWithLoss. H (C×C) comes
// from infogain_loss_param.source (a binary BlobProto, read once; resolved against the net file's folder, then
// the working directory, where Caffe looks) or from a third bottom. An optional second top is the softmax
// output; Caffe accepts it only with one loss_weight per top, and its diff is not propagated.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { has } from '../../proto/schema.js';
import { readBinaryMessage, blobValues } from '../../proto/weights.js';
import {
  LOG_THRESHOLD,
  LossLayer,
  Normalization,
  canonicalAxis,
  classBack,
  classLast,
  countOf,
  fmtShape,
  ignoreLabelOf,
  normalizer,
  readLabels,
  subParam,
  zeroIgnored,
  LabelCache,
  type Labels,
} from './common.js';

export class InfogainLossLayer extends LossLayer {
  private outer = 0;
  private classes = 0;
  private inner = 0;
  private ignore: number | undefined;
  private mode: number = Normalization.VALID;
  /** H from the source file (when there is no third bottom). */
  private fileH: Float32Array | undefined;
  private readonly cache = new LabelCache();

  override bottomCount(): [number, number] {
    return [2, 3];
  }
  override topCount(): [number, number] {
    return [1, 2];
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0;
  }

  setup(shapes: Shape[]): Shape[] {
    const nTops = this.topNames().length;
    const nWeights = (this.param.loss_weight as number[]).length;
    if (nTops === 2 && nWeights !== 2) {
      throw this.error(
        `with a second top (the probabilities) give loss_weight once per top, e.g. loss_weight: 1 loss_weight: 0 ` +
          `(Caffe adds a single default loss_weight and then fails "loss_weight must be unspecified or specified once per top blob")`,
        nWeights ? 'loss_weight' : 'top',
      );
    }
    this.checkFirstDims(shapes);
    const lp = this.param.loss_param;
    if (lp && has(lp, 'normalize')) {
      throw this.error('loss_param.normalize is not accepted by InfogainLoss (Caffe: "normalize is deprecated. use normalization")', 'loss_param');
    }
    this.mode = lp && has(lp, 'normalization') ? (lp.normalization as number) : Normalization.VALID;
    this.ignore = ignoreLabelOf(this);
    const ip = subParam(this, 'infogain_loss_param', 'InfogainLossParameter');
    const [x, label] = [shapes[0]!, shapes[1]!];
    const axis = canonicalAxis(this, ip.axis as number, x, 'infogain_loss_param');
    this.outer = countOf(x, 0, axis);
    this.classes = x[axis]!;
    this.inner = countOf(x, axis + 1);
    if (this.outer * this.inner !== countOf(label)) {
      throw this.error(
        `number of labels must match number of predictions: '${this.bottomName(0)}' ${fmtShape(x)} has ${this.outer * this.inner} ` +
          `positions outside the class axis ${axis} but '${this.bottomName(1)}' ${fmtShape(label)} holds ${countOf(label)} labels`,
        'bottom',
      );
    }
    const hCount = shapes.length === 3 ? countOf(shapes[2]!) : (this.fileH ??= this.readH(ip.source as string, has(ip, 'source'))).length;
    if (hCount !== this.classes * this.classes) {
      const from = shapes.length === 3 ? `bottom '${this.bottomName(2)}' ${fmtShape(shapes[2]!)}` : `'${ip.source}'`;
      throw this.error(`H must be ${this.classes}×${this.classes} for ${this.classes} classes, but ${from} holds ${hCount} values`, shapes.length === 3 ? 'bottom' : 'infogain_loss_param');
    }
    this.cache.clear();
    const tops: Shape[] = [[]];
    if (nTops === 2) tops.push(x.slice());
    return tops;
  }

  private readH(source: string, given: boolean): Float32Array {
    if (!given || !source) throw this.error('infogain_loss_param.source must name the H matrix file when there is no third bottom', 'infogain_loss_param');
    const candidates = path.isAbsolute(source) ? [source] : [...(this.ctx.baseDir ? [path.resolve(this.ctx.baseDir, source)] : []), path.resolve(source)];
    const file = candidates.find((f) => fs.existsSync(f));
    if (!file) {
      throw this.error(`cannot find the infogain matrix '${source}' (looked in ${[...new Set(candidates)].join(', ')})`, 'infogain_loss_param');
    }
    return blobValues(readBinaryMessage(file, 'BlobProto'));
  }

  private labels(label: tf.Tensor): Labels {
    return this.cache.get(label, () => readLabels(this, label, this.outer * this.inner, this.ignore, this.classes));
  }

  private matrix(bottoms: tf.Tensor[]): tf.Tensor2D {
    return bottoms.length === 3 ? tf.reshape(bottoms[2]!, [this.classes, this.classes]) : tf.tensor2d(this.fileH!, [this.classes, this.classes]);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const lab = this.labels(label);
    const prob = tf.softmax(classLast(x, this.outer, this.classes, this.inner));
    // Row r of H picked by each position's label (row 0 for ignored positions, masked out below).
    const rows = tf.gather(this.matrix(bottoms), tf.tensor1d(lab.index.map((c) => Math.max(c, 0)), 'int32'));
    let perPos: tf.Tensor = tf.sum(tf.mul(rows, tf.log(tf.maximum(prob, LOG_THRESHOLD))), 1);
    if (lab.anyIgnored) perPos = zeroIgnored(perPos, lab.valid);
    const loss = tf.div(tf.sub(0, tf.sum(perPos)), normalizer(this.mode, this.outer, this.inner, lab.validCount));
    const tops: tf.Tensor[] = [loss];
    if (this.topNames().length === 2) tops.push(classBack(prob, x.shape, this.outer, this.classes, this.inner));
    return tops;
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'label');
    this.refuseBackprop(propagateDown, [2], 'infogain matrix');
    const none = bottoms.map(() => null);
    if (!propagateDown[0]) return { bottomDiffs: none, paramDiffs: [] };
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const lab = this.labels(label);
    const norm = normalizer(this.mode, this.outer, this.inner, lab.validCount);
    const dx = tf.tidy(() => {
      const prob = tf.softmax(classLast(x, this.outer, this.classes, this.inner));
      const H = this.matrix(bottoms);
      const idx = tf.tensor1d(lab.index.map((c) => Math.max(c, 0)), 'int32');
      const rows = tf.gather(H, idx);
      const rowSums = tf.reshape(tf.gather(tf.sum(H, 1), idx), [-1, 1]);
      // p_l · Σ_k H[label, k] − H[label, l] per counted position.
      let g: tf.Tensor = tf.sub(tf.mul(prob, rowSums), rows);
      if (lab.anyIgnored) g = zeroIgnored(g, lab.valid);
      return classBack(tf.mul(g, tf.div(topDiffs[0]!, norm)), x.shape, this.outer, this.classes, this.inner);
    });
    const bottomDiffs: (tf.Tensor | null)[] = none;
    bottomDiffs[0] = dx;
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('InfogainLoss', InfogainLossLayer);
