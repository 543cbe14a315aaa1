// `kdnet distill export`: the student alone, as a user ships it — deploy.prototxt (an Input of the data's shape,
// the student's layers, a Softmax "prob") and deploy.caffemodel holding only the student's trained blobs.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { newMessage, type Message } from '../proto/schema.js';
import { loadNetFile } from '../proto/load.js';
import { printCaffeText } from '../proto/text.js';
import { copyTrainedLayers, readCaffemodel, writeWeightsMessage } from '../proto/weights.js';
import { filterNet, Phase } from '../net/net-state.js';
import { Net } from '../net/net.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { splitStudent } from './student-split.js';

export interface ExportOptions {
  /** The teacher+student training net (.prototxt). */
  model: string;
  /** The trained snapshot (.caffemodel). */
  weights: string;
  /** Output folder: deploy.prototxt and deploy.caffemodel go here. */
  out: string;
  /** Input batch size (default 1). */
  batch?: number;
  /** C,H,W (or any per-sample shape) of the input, instead of reading it from the data layer. */
  inputShape?: number[];
  /** Add a Softmax "prob" on the logits (default true). */
  softmax?: boolean;
  /** Write into a non-empty output folder. */
  force?: boolean;
}

export interface ExportResult {
  deploy: string;
  caffemodel: string;
  inputs: Array<{ blob: string; shape: number[] }>;
  logits: string;
  studentLayers: string[];
  teacherLayers: string[];
  droppedLayers: string[];
}

export function checkOutDir(out: string, force: boolean): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new KdnetError(`--out ${out} exists and is not a directory`);
  if (!force && fs.readdirSync(out).length) throw new KdnetError(`--out ${out} exists and is not empty: give --force to write into it`);
}

/** Per-sample shapes of the data tops, as the data layers themselves produce them (Data reads one record). */
export function dataShapes(net: Message, inputs: Array<{ layer: number; top: string }>, baseDir: string): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const layerIndex of new Set(inputs.map((i) => i.layer))) {
    const lp = (net.layer as Message[])[layerIndex]!;
    const only = newMessage('NetParameter', { name: 'data', layer: [lp] });
    const dataNet = new Net(only, { phase: Phase.TRAIN, baseDir });
    try {
      const tops = dataNet.layerTopShapes()[0]!.tops;
      for (const { blob, shape } of tops) if (inputs.some((i) => i.layer === layerIndex && i.top === blob)) shapes.set(blob, shape.slice(1));
    } finally {
      dataNet.dispose();
    }
  }
  return shapes;
}

function inputLayer(name: string, tops: Array<{ blob: string; shape: number[] }>): Message {
  return newMessage('LayerParameter', {
    name,
    type: 'Input',
    top: tops.map((t) => t.blob),
    input_param: newMessage('InputParameter', { shape: tops.map((t) => newMessage('BlobShape', { dim: t.shape })) }),
  });
}

/** A kept layer without its phase rules (the deploy net has one phase). */
function deployCopy(l: Message): Message {
  return newMessage('LayerParameter', { ...l, include: [], exclude: [] });
}

export function exportStudent(o: ExportOptions): ExportResult {
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new KdnetError(`--batch must be a positive integer, got ${o.batch}`);
  checkOutDir(o.out, o.force ?? false);
  const { message } = loadNetFile(o.model);
  const train = filterNet(message, { phase: Phase.TRAIN, level: 0, stage: [] });
  const split = splitStudent(train, o.model);
  const layers = train.layer as Message[];

  if (o.inputShape && split.inputs.length !== 1) {
    throw new KdnetError(`--input-shape sets one input, but the student reads ${split.inputs.length}: ${split.inputs.map((i) => i.top).join(', ')}`);
  }
  const perSample = o.inputShape ? new Map([[split.inputs[0]!.top, o.inputShape]]) : dataShapes(train, split.inputs, path.dirname(o.model));
  const inputs = split.inputs.map((i) => ({ blob: i.top, shape: [batch, ...perSample.get(i.top)!], layer: i.layer }));
  const inputLayers = [...new Set(inputs.map((i) => i.layer))].map((li) => inputLayer(layers[li]!.name, inputs.filter((i) => i.layer === li)));

  const kept = split.student.map((i) => deployCopy(layers[i]!));
  if (o.softmax ?? true) {
    if (kept.some((l) => l.name === 'prob' || (l.top as string[]).includes('prob'))) {
      throw new KdnetError(`${o.model}: the student already has a layer or blob named "prob": give --no-softmax`);
    }
    kept.push(newMessage('LayerParameter', { name: 'prob', type: 'Softmax', bottom: [split.logits], top: ['prob'] }));
  }
  const deploy = newMessage('NetParameter', { name: train.name || 'student', layer: [...inputLayers, ...kept] });

  // Build the deploy net and fill it from the snapshot: shapes are checked and missing layers named before writing.
  const snapshot = readCaffemodel(o.weights);
  const net = new Net(deploy, { phase: Phase.TEST });
  try {
    const untouched = copyTrainedLayers(net, snapshot, o.weights);
    if (untouched.length) {
      throw new KdnetError(`${o.weights} has no weights for the student's layer${untouched.length > 1 ? 's' : ''} ${untouched.map((n) => `"${n}"`).join(', ')}`);
    }
  } finally {
    net.dispose();
  }
  // The student's own layers only: the snapshot's data layer may share the Input's name but is not shipped.
  const names = new Set(split.student.map((i) => layers[i]!.name as string));
  const snapshotLayers = [...(snapshot.layer as Message[]), ...(snapshot.layers as Message[])];
  const weights = newMessage('NetParameter', {
    name: deploy.name,
    layer: snapshotLayers.filter((l) => names.has(l.name)).map((l) => newMessage('LayerParameter', { name: l.name, type: typeof l.type === 'string' ? l.type : undefined, blobs: l.blobs })),
  });

  fs.mkdirSync(o.out, { recursive: true });
  const deployFile = path.join(o.out, 'deploy.prototxt');
  const caffemodel = path.join(o.out, 'deploy.caffemodel');
  writeFileAtomic(deployFile, printCaffeText(deploy, 'NetParameter'));
  writeWeightsMessage(caffemodel, weights);
  const studentLayers = kept.map((l) => l.name as string);
  return {
    deploy: deployFile,
    caffemodel,
    inputs: inputs.map(({ blob, shape }) => ({ blob, shape })),
    logits: split.logits,
    studentLayers,
    teacherLayers: split.teacher,
    droppedLayers: layers.map((l) => l.name as string).filter((n) => !names.has(n)),
  };
}

export function formatExport(r: ExportResult): string {
  const lines = [
    `student: ${r.studentLayers.length} layers (${r.studentLayers.join(', ')}), logits '${r.logits}'`,
    ...r.inputs.map((i) => `input ${i.blob}: [${i.shape.join(', ')}]`),
    `dropped: ${r.droppedLayers.join(', ') || '(none)'}${r.teacherLayers.length ? ` (teacher: ${r.teacherLayers.join(', ')})` : ''}`,
    `wrote ${r.deploy}`,
    `wrote ${r.caffemodel}`,
  ];
  return lines.join('\n') + '\n';
}
