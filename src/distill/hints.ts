// FitNets-style hints for `kdnet distill init`: an adapter maps a student blob onto a teacher blob's shape (a 1×1
// Convolution for 4-D blobs, after an AVE Pooling when the student's map is larger by an integer ratio; an
// InnerProduct for 2-D), then an EuclideanLoss pulls it toward the frozen teacher's blob.
import { KdnetError } from '../errors.js';
import { newMessage, type Message } from '../proto/schema.js';
import { closest } from '../prototxt/suggest.js';

export interface HintSpec {
  teacherBlob: string;
  studentBlob: string;
  weight: number;
}

/** Parses `t_blob:s_blob[:weight]` (weight defaults to 1). */
export function parseHint(text: string): HintSpec {
  const parts = text.split(':');
  const weight = parts.length === 3 ? Number(parts[2]) : 1;
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || !Number.isFinite(weight) || weight < 0) {
    throw new KdnetError(`--hint wants TEACHER_BLOB:STUDENT_BLOB[:WEIGHT] with a non-negative weight, got '${text}'`);
  }
  return { teacherBlob: parts[0], studentBlob: parts[1], weight };
}

/** The blob must be one the net makes; else one error with a did-you-mean. */
export function requireBlob(blob: string, known: Set<string>, whose: string, file: string): void {
  if (known.has(blob)) return;
  const guess = closest(blob, known);
  throw new KdnetError(`--hint: ${whose} ${file} has no blob '${blob}'${guess ? `; did you mean '${guess}'?` : ''}`);
}

const fmt = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Adapter + EuclideanLoss layers for one hint. `student`/`teacher` are the composed net's blob names; shapes
 * are the TRAIN-phase shapes (batch first). `unique` makes a layer/blob name that the net does not use yet.
 */
export function hintLayers(hint: HintSpec, student: string, teacher: string, sShape: number[], tShape: number[], unique: (n: string) => string): Message[] {
  const layers: Message[] = [];
  const adapter = unique(`hint_adapter_${student}`);
  const mismatch = () =>
    new KdnetError(
      `--hint ${hint.teacherBlob}:${hint.studentBlob}: cannot map the student's ${fmt(sShape)} onto the teacher's ${fmt(tShape)} ` +
        '(both must be 4-D with the student map equal or larger by one integer ratio, or both 2-D)',
    );
  let input = student;
  if (sShape.length === 4 && tShape.length === 4) {
    const [, , sh, sw] = sShape as [number, number, number, number];
    const [, tc, th, tw] = tShape as [number, number, number, number];
    const ratio = sh / th;
    if (!Number.isInteger(ratio) || ratio < 1 || sw !== tw * ratio) throw mismatch();
    if (ratio > 1) {
      const pool = unique(`hint_pool_${student}`);
      layers.push(newMessage('LayerParameter', { name: pool, type: 'Pooling', bottom: [input], top: [pool], pooling_param: newMessage('PoolingParameter', { pool: 1, kernel_size: ratio, stride: ratio }) }));
      input = pool;
    }
    layers.push(
      newMessage('LayerParameter', {
        name: adapter,
        type: 'Convolution',
        bottom: [input],
        top: [adapter],
        convolution_param: newMessage('ConvolutionParameter', { num_output: tc, kernel_size: [1], weight_filler: newMessage('FillerParameter', { type: 'xavier' }), bias_filler: newMessage('FillerParameter', { type: 'constant', value: 0 }) }),
      }),
    );
  } else if (sShape.length === 2 && tShape.length === 2) {
    layers.push(
      newMessage('LayerParameter', {
        name: adapter,
        type: 'InnerProduct',
        bottom: [input],
        top: [adapter],
        inner_product_param: newMessage('InnerProductParameter', { num_output: tShape[1], weight_filler: newMessage('FillerParameter', { type: 'xavier' }), bias_filler: newMessage('FillerParameter', { type: 'constant', value: 0 }) }),
      }),
    );
  } else {
    throw mismatch();
  }
  const loss = unique(`hint_loss_${student}`);
  // Caffe's EuclideanLoss backpropagates into both bottoms: the teacher side must get none.
  layers.push(newMessage('LayerParameter', { name: loss, type: 'EuclideanLoss', bottom: [adapter, teacher], top: [loss], propagate_down: [true, false], loss_weight: [hint.weight] }));
  return layers;
}
