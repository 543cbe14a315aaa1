// KnowledgeDistillation, as wentianli/knowledge_distillation_caffe defines it: bottoms are the student's logits,
// the teacher's logits and optionally labels. Both logits are divided by temperature T and softmaxed over
// softmax_param.axis; the loss is KL(p_teacher ‖ p_student) summed over positions and divided per
// loss_param.normalization (like SoftmaxWithLoss). With a label bottom (which requires loss_param.ignore_label),
// positions labelled ignore_label are skipped. The student's gradient is T·(p_s − p_t)/normalizer, i.e. T² times
// the derivative of the reported loss (Hinton et al.); teacher and labels get none (the fork aborts if asked).
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import {
  FLT_MIN,
  LossLayer,
  Normalization,
  canonicalAxis,
  classBack,
  classLast,
  countOf,
  fmtShape,
  ignoreLabelOf,
  normalizationMode,
  normalizer,
  readLabels,
  subParam,
  zeroIgnored,
  LabelCache,
  type Labels,
} from '../loss/common.js';

export class KnowledgeDistillationLayer extends LossLayer {
  private outer = 0;
  private classes = 0;
  private inner = 0;
  private temperature = 1;
  private ignore: number | undefined;
  private mode: number = Normalization.VALID;
  private readonly cache = new LabelCache();

  override bottomCount(): [number, number] {
    return [2, 3];
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0;
  }

  setup(shapes: Shape[]): Shape[] {
    this.temperature = subParam(this, 'knowledge_distillation_param', 'KnowledgeDistillationParameter').temperature as number;
    if (!(this.temperature > 0) || !Number.isFinite(this.temperature)) {
      throw this.error(`knowledge_distillation_param.temperature must be a positive number, got ${this.temperature}`, 'knowledge_distillation_param');
    }
    this.ignore = ignoreLabelOf(this);
    const withLabel = shapes.length === 3;
    if (withLabel !== (this.ignore !== undefined)) {
      throw this.error(
        withLabel
          ? `a label bottom ('${this.bottomName(2)}') needs loss_param { ignore_label: ... }: labels are only used to skip ` +
              `positions with that label (the fork's check "ignore_label is only valid when label inputs are given as bottom[2]")`
          : `loss_param.ignore_label needs the labels as a third bottom (the fork's check "ignore_label is only valid when ` +
              `label inputs are given as bottom[2]")`,
        withLabel ? 'bottom' : 'loss_param',
      );
    }
    this.checkFirstDims(shapes, 'teacher logits');
    const [s, t] = [shapes[0]!, shapes[1]!];
    const axis = canonicalAxis(this, subParam(this, 'softmax_param', 'SoftmaxParameter').axis as number, s, 'softmax_param');
    this.outer = countOf(s, 0, axis);
    this.classes = s[axis]!;
    this.inner = countOf(s, axis + 1);
    const tAxis = axis < t.length ? axis : -1;
    if (tAxis < 0 || countOf(t, 0, tAxis) !== this.outer || countOf(t, tAxis + 1) !== this.inner || t[tAxis] !== this.classes) {
      throw this.error(
        `the teacher logits '${this.bottomName(1)}' ${fmtShape(t)} must match the student logits '${this.bottomName(0)}' ${fmtShape(s)} ` +
          `(same outer, class and inner sizes around the softmax axis ${axis})`,
        'bottom',
      );
    }
    if (withLabel && countOf(shapes[2]!) !== this.outer * this.inner) {
      throw this.error(
        `number of labels must match number of predictions: '${this.bottomName(2)}' ${fmtShape(shapes[2]!)} holds ${countOf(shapes[2]!)} ` +
          `labels for ${this.outer * this.inner} positions (for N×C×H×W logits the label count must be N·H·W)`,
        'bottom',
      );
    }
    this.mode = normalizationMode(this, Normalization.VALID);
    this.cache.clear();
    return [[]];
  }

  private labels(bottoms: tf.Tensor[]): Labels | undefined {
    const label = bottoms[2];
    if (!label) return undefined;
    return this.cache.get(label, () => readLabels(this, label, this.outer * this.inner, this.ignore, undefined, 2));
  }

  private norm(lab: Labels | undefined): number {
    return normalizer(this.mode, this.outer, this.inner, lab ? lab.validCount : this.outer * this.inner);
  }

  /** Softmax at temperature T, rows = positions, columns = classes. */
  private probs(x: tf.Tensor): tf.Tensor {
    return tf.softmax(tf.mul(classLast(x, this.outer, this.classes, this.inner), 1 / this.temperature));
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const lab = this.labels(bottoms);
    const ps = this.probs(bottoms[0]!);
    const pt = this.probs(bottoms[1]!);
    const logRatio = tf.sub(tf.log(tf.maximum(ps, FLT_MIN)), tf.log(tf.maximum(pt, FLT_MIN)));
    let perPos: tf.Tensor = tf.sum(tf.mul(pt, logRatio), 1);
    if (lab?.anyIgnored) perPos = zeroIgnored(perPos, lab.valid);
    return [tf.div(tf.sub(0, tf.sum(perPos)), this.norm(lab))];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'teacher (soft label)');
    this.refuseBackprop(propagateDown, [2], 'label');
    const bottomDiffs: (tf.Tensor | null)[] = bottoms.map(() => null);
    if (!propagateDown[0]) return { bottomDiffs, paramDiffs: [] };
    const lab = this.labels(bottoms);
    const s = bottoms[0]!;
    bottomDiffs[0] = tf.tidy(() => {
      let g: tf.Tensor = tf.mul(tf.sub(this.probs(s), this.probs(bottoms[1]!)), this.temperature);
      if (lab?.anyIgnored) g = zeroIgnored(g, lab.valid);
      return classBack(tf.mul(g, tf.div(topDiffs[0]!, this.norm(lab))), s.shape, this.outer, this.classes, this.inner);
    });
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('KnowledgeDistillation', KnowledgeDistillationLayer);
