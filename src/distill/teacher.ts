// A teacher for extraction: the layers of its net in the chosen phase, computing as at test time, with the data
// layer replaced by Input blobs of the same names (fed with records the extractor reads itself, so it knows each
// record's key and never wraps around), its weights copied, and the chosen blob checked to be one vector per record.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { newMessage, type Message } from '../proto/schema.js';
import { loadNetFile } from '../proto/load.js';
import { loadWeightsInto } from '../proto/weights.js';
import { filterNet, Phase, phaseName } from '../net/net-state.js';
import { Net } from '../net/net.js';
import { KdnetError } from '../errors.js';
import { positionOf } from '../prototxt/side-tables.js';
import { closest } from '../prototxt/suggest.js';
import { log } from '../log.js';
import { Rng } from '../util/rng.js';
import { DataTransformer } from '../data/transform.js';
import type { Batch } from '../data/feed/batch.js';
import { EXTRACT_LAYER_TYPES, readingOf, type DataLayerReading } from './source.js';

export interface TeacherSpec {
  model: string;
  /** Copied in order by layer name, as Caffe's `-weights a,b`. */
  weights: string[];
}

export interface TeacherPlan {
  spec: TeacherSpec;
  phase: number;
  /** The layers of `phase` (NetState rules), data layer still in place. */
  net: Message;
  dataLayer: Message;
  reading: DataLayerReading;
  transformer: DataTransformer;
}

function producerOf(layers: Message[], blob: string): Message | undefined {
  return [...layers].reverse().find((l) => (l.top as string[]).includes(blob));
}

/** Reads the teacher's net file and finds its data layer and the blob to extract, before any data is read. */
export function planTeacher(spec: TeacherSpec, blob: string, phase: number): TeacherPlan {
  const net = filterNet(loadNetFile(spec.model).message, { phase, level: 0, stage: [] });
  const layers = net.layer as Message[];
  const where = `${spec.model} (${phaseName(phase)})`;
  const data = layers.filter((l) => EXTRACT_LAYER_TYPES.includes(l.type));
  if (data.length !== 1) {
    const others = layers.filter((l) => !data.includes(l) && (l.bottom as string[]).length === 0 && l.type !== 'Input');
    const seen = (data.length ? data : others).map((l) => `"${l.name}" (${l.type})`).join(', ');
    throw new KdnetError(
      data.length
        ? `${where}: ${data.length} data layers, ${seen}: kdnet extract reads one source`
        : `${where}: no Data, ImageData or HDF5Data layer${seen ? ` (only ${seen})` : ''}: kdnet extract reads the records of the teacher's data layer`,
    );
  }
  const tops = layers.flatMap((l) => l.top as string[]);
  if (!tops.includes(blob)) {
    const guess = closest(blob, new Set(tops));
    throw new KdnetError(`${where}: no blob '${blob}'${guess ? ` (did you mean '${guess}'?)` : ''}`);
  }
  const producer = producerOf(layers, blob)!;
  if (producer.type === 'Softmax') {
    log.warn(`blob '${blob}' is the output of Softmax layer "${producer.name}": soft targets are made from logits (its bottom '${(producer.bottom as string[])[0]}')`);
  }
  const ctx = { phase, rng: new Rng(1), baseDir: path.dirname(spec.model) };
  const reading = readingOf(data[0]!, ctx);
  return { spec, phase, net, dataLayer: data[0]!, reading, transformer: new DataTransformer(reading.transform, false, new Rng(1)) };
}

/** A running teacher: batches in, the blob's rows out. */
export class TeacherNet {
  private constructor(
    private readonly net: Net,
    readonly plan: TeacherPlan,
    private readonly blob: string,
    /** Transformed C×H×W of every record. */
    readonly chw: number[],
    private readonly inputDims: number[],
    readonly dim: number,
  ) {}

  /** Builds the net for records of transformed shape `chw` (fed as `rowDims` when the source fixes them). */
  static build(plan: TeacherPlan, blob: string, chw: number[], rowDims?: number[]): TeacherNet {
    const batch = plan.reading.batchSize;
    const inputDims = rowDims ?? chw;
    const tops = plan.dataLayer.top as string[];
    const input = newMessage('LayerParameter', {
      name: plan.dataLayer.name,
      type: 'Input',
      top: [...tops],
      input_param: newMessage('InputParameter', { shape: tops.map((_, i) => newMessage('BlobShape', { dim: i === 0 ? [batch, ...inputDims] : [batch] })) }),
    });
    const param = newMessage('NetParameter');
    for (const key of Object.keys(plan.net)) param[key] = plan.net[key];
    param.layer = (plan.net.layer as Message[]).map((l) => (l === plan.dataLayer ? input : l));
    // Whichever phase chose the layers, a soft target is the teacher's test-time prediction: no dropout,
    // BatchNorm on its stored statistics.
    const net = new Net(param, { phase: Phase.TEST, baseDir: path.dirname(plan.spec.model) });
    try {
      if (plan.spec.weights.length) loadWeightsInto(net, plan.spec.weights);
      const shape = net.blobShape(blob)!;
      if (!(shape.length >= 2 && shape[0] === batch && shape.slice(2).every((d) => d === 1))) {
        const producer = producerOf(plan.net.layer as Message[], blob)!;
        throw new KdnetError(
          `shape ${shape.join('×')}, but soft targets need one vector per record, N×D or N×D×1×1 (N = batch_size ${batch}): name the logits blob, e.g. the top of the last InnerProduct`,
          { blob, layer: producer.name, position: positionOf(producer, 'top') },
        );
      }
      return new TeacherNet(net, plan, blob, chw, inputDims, shape[1]!);
    } catch (e) {
      net.dispose();
      throw e;
    }
  }

  /** The blob's rows for the first `n` samples of `batch` (padded to the net's batch size with repeats). */
  run(batch: Batch, n: number): Float32Array {
    const size = batch.data.length / n;
    const full = this.plan.reading.batchSize;
    let data = batch.data;
    let labels = batch.labels;
    if (n < full) {
      // The last partial batch: the net keeps its batch size (nets may fix it, e.g. in Reshape); extra rows are dropped.
      data = new Float32Array(full * size);
      labels = new Float32Array(full);
      for (let i = 0; i < full; i++) {
        data.set(batch.data.subarray((i % n) * size, ((i % n) + 1) * size), i * size);
        labels[i] = batch.labels[i % n]!;
      }
    }
    const [dataTop, labelTop] = this.plan.dataLayer.top as [string, string | undefined];
    this.net.setInput(dataTop, tf.tensor(data, [full, ...this.inputDims]));
    if (labelTop) this.net.setInput(labelTop, tf.tensor(labels, [full]));
    this.net.forward();
    return (this.net.blob(this.blob).dataSync() as Float32Array).slice(0, n * this.dim);
  }

  dispose(): void {
    this.net.dispose();
  }
}
