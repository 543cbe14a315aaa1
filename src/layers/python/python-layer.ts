// Python: a Caffe Python layer run through its JavaScript port. Caffe's PythonLayer sets `param_str` and
// `phase` (0 TRAIN, 1 TEST) on the object, calls setup(bottom, top) once, reshape(bottom, top) before every
// forward, forward(bottom, top) and backward(top, propagate_down, bottom); this wrapper does the same with
// pycaffe-like blobs (flat NCHW Float32Arrays), copying tensors in and out at the boundary. It is not a loss
// layer unless it is given loss_weight, exactly as in Caffe. Learnable blobs added in setup with
// this.blobs.add_blob(...dims) become parameters the solver updates.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { JsBlob, newBlobVec, type BlobVec } from './js-blob.js';
import { resolvePortClass, type PortInstance } from './port.js';
import { callUser, type UserCode } from './user-call.js';

interface Port {
  instance: PortInstance;
  code: UserCode;
  params: BlobVec;
}

export class PythonLayer extends Layer {
  private port?: Port;
  private bottomBlobs: JsBlob[] = [];
  private topBlobs: JsBlob[] = [];

  /** Its shapes come from running user code, which `kdnet check` (static) does not do. */
  override readsDataSource(): boolean {
    return true;
  }

  /** A port with no bottoms and no parameter blobs (a data layer) has nothing to backpropagate to. */
  override hasBackward(): boolean {
    return (this.param.bottom as string[]).length > 0 || this.blobs.length > 0;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    if (!this.port) {
      this.bottomBlobs = (this.param.bottom as string[]).map((name, i) => new JsBlob(`bottom[${i}] '${name}'`));
      this.topBlobs = (this.param.top as string[]).map((name, i) => new JsBlob(`top[${i}] '${name}'`));
      bottomShapes.forEach((s, i) => JsBlob.resize(this.bottomBlobs[i]!, s));
      this.port = this.createPort();
    } else {
      bottomShapes.forEach((s, i) => JsBlob.resize(this.bottomBlobs[i]!, s));
    }
    this.reshapeTops();
    return this.topBlobs.map((t) => t.shape);
  }

  private fail = (message: string): Error => this.error(message, 'python_param');

  /** Finds and constructs the port, sets param_str/phase/blobs, runs its setup and registers its parameter blobs. */
  private createPort(): Port {
    const { spec, file, cls } = resolvePortClass(this.param, { layersPath: this.ctx.layersPath, baseDir: this.ctx.baseDir }, this.fail);
    const code: UserCode = { className: spec.layer, file };
    const instance = callUser(code, 'constructor', () => new cls(), this.fail);
    const params = newBlobVec();
    instance.param_str = spec.paramStr;
    instance.phase = this.ctx.phase;
    instance.blobs = params;
    callUser(code, 'setup', () => instance.setup(Object.freeze([...this.bottomBlobs]), Object.freeze([...this.topBlobs])), this.fail);
    params.forEach((p) => JsBlob.lockShape(p));
    this.blobs = params.map((p) => {
      const initial = tf.tensor(p.data.slice(), p.shape);
      const v = tf.variable(initial, true);
      initial.dispose();
      return v;
    });
    return { instance, code, params };
  }

  private call<T>(method: string, fn: (instance: PortInstance) => T): T {
    const port = this.port!;
    const result = callUser(port.code, method, () => fn(port.instance), this.fail);
    if (port.params.length !== this.blobs.length) {
      throw this.fail(`${port.code.className}.${method} changed this.blobs from ${this.blobs.length} to ${port.params.length} blobs: add parameter blobs in setup only`);
    }
    return result;
  }

  private reshapeTops(): void {
    this.call('reshape', (p) => p.reshape(Object.freeze([...this.bottomBlobs]), Object.freeze([...this.topBlobs])));
    const unshaped = this.topBlobs.filter((t) => !JsBlob.hasShape(t));
    if (unshaped.length) {
      throw this.fail(
        `${this.port!.code.className}.reshape left ${unshaped.map((t) => t.label).join(', ')} without a shape: ` +
          'give every top its shape with top[i].reshape(...dims) in setup or reshape',
      );
    }
  }

  /** Copies tensors into the port's blobs: bottoms' data and the current parameter values. */
  private loadInputs(bottoms: tf.Tensor[], params: tf.Tensor[]): void {
    bottoms.forEach((t, i) => {
      const b = this.bottomBlobs[i]!;
      JsBlob.resize(b, t.shape);
      b.data.set(t.dataSync());
    });
    params.forEach((t, i) => this.port!.params[i]!.data.set(t.dataSync()));
  }

  private run(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    this.loadInputs(bottoms, params);
    this.reshapeTops(); // Caffe's Layer::Forward reshapes before every forward
    this.call('forward', (p) => p.forward(Object.freeze([...this.bottomBlobs]), Object.freeze([...this.topBlobs])));
    return this.topBlobs.map((t) => tf.tensor(t.data.slice(), t.shape));
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    return this.run(bottoms, params);
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    return this.run(bottoms, this.blobs);
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const port = this.port!;
    if (typeof port.instance.backward !== 'function') {
      throw this.fail(`class ${port.code.className} has no backward(top, propagate_down, bottom) method, but the net needs gradients through this layer`);
    }
    this.loadInputs(bottoms, this.blobs);
    for (const b of this.bottomBlobs) b.diff.fill(0);
    for (const p of port.params) p.diff.fill(0);
    tops.forEach((t, i) => {
      const blob = this.topBlobs[i]!;
      JsBlob.resize(blob, t.shape);
      blob.data.set(t.dataSync());
      blob.diff.set(topDiffs[i]!.dataSync());
    });
    this.call('backward', (p) => p.backward!(Object.freeze([...this.topBlobs]), Object.freeze([...propagateDown]), Object.freeze([...this.bottomBlobs])));
    const bottomDiffs = bottoms.map((t, i) => {
      if (!propagateDown[i]) return null;
      const blob = this.bottomBlobs[i]!;
      if (blob.count !== t.size) {
        throw this.fail(`${port.code.className}.backward reshaped ${blob.label} to [${blob.shape.join(', ')}]; its diff must keep the bottom's shape [${t.shape.join(', ')}]`);
      }
      return tf.tensor(blob.diff.slice(), t.shape);
    });
    const paramDiffs = port.params.map((p) => tf.tensor(p.diff.slice(), p.shape));
    return { bottomDiffs, paramDiffs };
  }

  override dispose(): void {
    super.dispose();
    this.port = undefined;
  }
}

registerLayer('Python', PythonLayer);
