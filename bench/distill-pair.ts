// The distillation pair the benches time: LeNet b64 of ../shared/fixtures/timing as the frozen teacher and the
// 784-256-10 MLP of models/fashion_mnist_kd/student.prototxt as the student, composed into ONE training net by
// `kdnet distill init` itself (initDistillation: teacher layers keep their names with lr_mult 0, its loss layers
// dropped; KnowledgeDistillation at T = 4 with the weights models/fashion_mnist_kd uses: hard 0.1, soft 0.9 via
// softLossWeight). The student is fed by Input layers instead of its LMDBs (an Input-fed copy is written), so
// the bench needs no data. The teacher's .caffemodel that init requires is kdnet's own xavier fill: the
// values do not change the time.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNetFile } from '../dist/proto/load.js';
import { newMessage, type Message } from '../dist/proto/schema.js';
import { printCaffeText } from '../dist/proto/text.js';
import { Net } from '../dist/net/net.js';
import { Phase } from '../dist/net/net-state.js';
import { writeCaffemodel } from '../dist/proto/weights.js';
import { initDistillation } from '../dist/distill/init.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const STUDENT = path.resolve(here, '..', 'models', 'fashion_mnist_kd', 'student.prototxt');
export const PAIR = { name: 'distill_lenet_mlp256_b64', batch: 64, temperature: 4, alpha: 0.1 };
/** The teacher's and the student's logits in the composed net. */
export const PAIR_OUTPUTS = ['ip2', 's_ip2'];

const input = (name: string, dim: number[]) => newMessage('LayerParameter', { name, type: 'Input', top: [name], input_param: newMessage('InputParameter', { shape: [newMessage('BlobShape', { dim })] }) });

/** The student with its TRAIN/TEST Data layers replaced by Input layers (data N×1×28×28, label N). */
function inputFedStudent(batch: number): string {
  const net = loadNetFile(STUDENT).message;
  const layers = (net.layer as Message[]).filter((l) => l.type !== 'Data' && l.type !== 'Accuracy');
  net.layer = [input('data', [batch, 1, 28, 28]), input('label', [batch]), ...layers];
  return printCaffeText(net, 'NetParameter');
}

/** Writes the composed training net (and what init needs) into `dir`; returns its path. */
export function writeDistillPair(timingDir: string, dir: string): string {
  const teacher = path.join(timingDir, 'lenet_b64.prototxt');
  const student = path.join(dir, 'student_input.prototxt');
  fs.writeFileSync(student, inputFedStudent(PAIR.batch));
  const weights = path.join(dir, 'teacher.caffemodel');
  const net = new Net(loadNetFile(teacher).message, { phase: Phase.TEST, seed: 1 });
  writeCaffemodel(net, weights);
  net.dispose();
  return initDistillation({ teacher, teacherWeights: weights, student, temperature: PAIR.temperature, alpha: PAIR.alpha, out: dir, name: 'pair', force: true }).trainVal;
}
