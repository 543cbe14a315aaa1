// Reads training curves back from a Caffe-format log (kdnet's or Caffe's own) or a --log-json file.
import fs from 'node:fs';
import { KdnetError } from '../errors.js';

export interface CurvePoint {
  series: string;
  iter: number;
  value: number;
}

// The display line, and the final `Iteration N, loss = X` line Solve() prints after the last update.
const DISPLAY = /Iteration (\d+)(?: \([^)]*\))?, loss = ([-+\w.]+)/;
const LR = /Iteration (\d+), lr = ([-+\w.]+)/;
const TESTING = /Iteration (\d+), Testing net \(#(\d+)\)/;
const TEST_OUTPUT = /Test net output #\d+: (\S+) = ([-+\w.]+)/;

export function readTrainingCurves(file: string): CurvePoint[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new KdnetError(`cannot read ${file}: no such file`);
  }
  const points: CurvePoint[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let e: { event: string; iter: number; loss?: number; lr?: number; net?: number; outputs?: Array<{ name: string; value: number }> };
      try {
        e = JSON.parse(line);
      } catch {
        throw new KdnetError(`${file}:${i + 1}: not a JSON object`);
      }
      if (e.event === 'train') {
        if (e.loss !== undefined) points.push({ series: 'train loss', iter: e.iter, value: e.loss });
        if (e.lr !== undefined) points.push({ series: 'lr', iter: e.iter, value: e.lr });
      } else if (e.event === 'test') {
        for (const o of e.outputs ?? []) points.push({ series: `test #${e.net ?? 0} ${o.name}`, iter: e.iter, value: o.value });
      }
    });
    return points;
  }
  let testIter = -1;
  let testNet = 0;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = DISPLAY.exec(line))) points.push({ series: 'train loss', iter: Number(m[1]), value: Number(m[2]) });
    else if ((m = LR.exec(line))) points.push({ series: 'lr', iter: Number(m[1]), value: Number(m[2]) });
    else if ((m = TESTING.exec(line))) {
      testIter = Number(m[1]);
      testNet = Number(m[2]);
    } else if ((m = TEST_OUTPUT.exec(line)) && testIter >= 0) points.push({ series: `test #${testNet} ${m[1]}`, iter: testIter, value: Number(m[2]) });
  }
  if (!points.length) throw new KdnetError(`${file}: no training lines found (expected Caffe log lines or --log-json output)`);
  return points;
}
