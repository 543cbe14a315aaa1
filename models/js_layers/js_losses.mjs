// Caffe "Python" loss layers written in JavaScript, each with its exact backward. Give them loss_weight: 1 in
// the net, as pycaffe loss layers need (a Python layer is not a loss layer by default).

/** Softmax over the channels of bottom[0] (N×C) and the mean negative log-likelihood of the labels in bottom[1]. */
export class SoftmaxCrossEntropyLoss {
  setup(bottom, top) {
    if (bottom.length !== 2) throw new Error('need two bottoms: scores and labels');
    if (top.length !== 1) throw new Error('need one top: the loss');
  }

  reshape(bottom, top) {
    const [scores, labels] = bottom;
    if (scores.count !== scores.num * scores.channels) throw new Error(`scores must be N×C, got [${scores.shape}]`);
    if (labels.count !== scores.num) throw new Error(`${scores.num} score rows but ${labels.count} labels`);
    this.prob = new Float32Array(scores.count);
    top[0].reshape(1);
  }

  forward(bottom, top) {
    const [scores, labels] = bottom;
    const n = scores.num;
    const c = scores.channels;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = scores.data.subarray(i * c, (i + 1) * c);
      const max = Math.max(...row);
      let sum = 0;
      for (let k = 0; k < c; k++) sum += (this.prob[i * c + k] = Math.exp(row[k] - max));
      for (let k = 0; k < c; k++) this.prob[i * c + k] /= sum;
      const label = labels.data[i];
      if (!Number.isInteger(label) || label < 0 || label >= c) throw new Error(`label ${label} of item ${i} is not a class in 0..${c - 1}`);
      loss -= Math.log(Math.max(this.prob[i * c + label], 1.1754943508222875e-38)); // Caffe's FLT_MIN floor
    }
    top[0].data[0] = loss / n;
  }

  backward(top, propagateDown, bottom) {
    if (propagateDown[1]) throw new Error('cannot backpropagate to the labels');
    if (!propagateDown[0]) return;
    const [scores, labels] = bottom;
    const n = scores.num;
    const c = scores.channels;
    const scale = top[0].diff[0] / n;
    const diff = scores.diff;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < c; k++) diff[i * c + k] = (this.prob[i * c + k] - (k === labels.data[i] ? 1 : 0)) * scale;
    }
  }
}

/** Σ (a − b)² / (2N), like Caffe's EuclideanLoss (and pycaffe's examples/pycaffe/layers/pyloss.py). */
export class EuclideanLoss {
  setup(bottom) {
    if (bottom.length !== 2) throw new Error('need two inputs to compute distance');
  }

  reshape(bottom, top) {
    if (bottom[0].count !== bottom[1].count) throw new Error('inputs must have the same dimension');
    this.difference = new Float32Array(bottom[0].count);
    top[0].reshape(1);
  }

  forward(bottom, top) {
    let sum = 0;
    for (let i = 0; i < this.difference.length; i++) {
      const d = (this.difference[i] = bottom[0].data[i] - bottom[1].data[i]);
      sum += d * d;
    }
    top[0].data[0] = sum / bottom[0].num / 2;
  }

  backward(top, propagateDown, bottom) {
    for (let i = 0; i < 2; i++) {
      if (!propagateDown[i]) continue;
      const sign = i === 0 ? 1 : -1;
      const scale = (sign * top[0].diff[0]) / bottom[i].num;
      for (let k = 0; k < this.difference.length; k++) bottom[i].diff[k] = scale * this.difference[k];
    }
  }
}
