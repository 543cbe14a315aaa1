// Accuracy (Caffe's AccuracyLayer): the fraction of positions whose label is among the top_k scores along
// accuracy_param.axis (a tie with the true class's score counts against it), skipping ignore_label; an optional
// second top holds the per-class accuracy. Forward only: it is computed on the host, exactly as Caffe loops.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { has, type Message } from '../../proto/schema.js';
import { canonicalAxis, countOf, fmtShape, readLabels, subParam } from './common.js';

export class AccuracyLayer extends Layer {
  private outer = 0;
  private classes = 0;
  private inner = 0;
  private topK = 1;
  private ignore: number | undefined;

  override bottomCount(): [number, number] {
    return [2, 2];
  }
  override topCount(): [number, number] {
    return [1, 2];
  }
  override hasBackward(): boolean {
    return false;
  }
  override allowForceBackward(): boolean {
    return false;
  }

  setup(shapes: Shape[]): Shape[] {
    const [x, label] = [shapes[0]!, shapes[1]!];
    const p: Message = subParam(this, 'accuracy_param', 'AccuracyParameter');
    this.topK = p.top_k as number;
    this.ignore = has(p, 'ignore_label') ? (p.ignore_label as number) : undefined;
    if (countOf(label) === 0 || this.topK > countOf(x) / countOf(label)) {
      throw this.error(
        `top_k (${this.topK}) must be less than or equal to the number of classes (${countOf(label) ? countOf(x) / countOf(label) : 0})`,
        'accuracy_param',
      );
    }
    const axis = canonicalAxis(this, p.axis as number, x, 'accuracy_param');
    this.outer = countOf(x, 0, axis);
    this.classes = x[axis]!;
    this.inner = countOf(x, axis + 1);
    if (this.outer * this.inner !== countOf(label)) {
      throw this.error(
        `number of labels must match number of predictions: '${(this.param.bottom as string[])[0]}' ${fmtShape(x)} has ` +
          `${this.outer * this.inner} positions outside the class axis ${axis} but '${(this.param.bottom as string[])[1]}' ` +
          `${fmtShape(label)} holds ${countOf(label)} labels`,
        'bottom',
      );
    }
    const tops: Shape[] = [[]];
    if ((this.param.top as string[]).length > 1) tops.push([this.classes]);
    return tops;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const data = x.dataSync();
    const lab = readLabels(this, label, this.outer * this.inner, this.ignore, this.classes);
    const dim = this.classes * this.inner;
    const perClass = new Float32Array(this.classes);
    const seen = new Float32Array(this.classes);
    let correct = 0;
    let count = 0;
    for (let i = 0; i < this.outer; i++) {
      for (let j = 0; j < this.inner; j++) {
        const c = lab.index[i * this.inner + j]!;
        if (c < 0) continue;
        seen[c]!++;
        const truth = data[i * dim + c * this.inner + j]!;
        // The true class is among the scores ≥ itself, so start at −1; stop once top_k is reached.
        let better = -1;
        for (let k = 0; k < this.classes && better < this.topK; k++) if (data[i * dim + k * this.inner + j]! >= truth) better++;
        if (better < this.topK) {
          correct++;
          perClass[c]!++;
        }
        count++;
      }
    }
    const tops: tf.Tensor[] = [tf.scalar(count === 0 ? 0 : correct / count)];
    if ((this.param.top as string[]).length > 1) {
      for (let c = 0; c < this.classes; c++) perClass[c] = seen[c] === 0 ? 0 : perClass[c]! / seen[c]!;
      tops.push(tf.tensor1d(perClass));
    }
    return tops;
  }
}

registerLayer('Accuracy', AccuracyLayer);
