// `npm run bench`: every benchmark, one after another (run alone: another busy process halves the numbers);
// `npx tsx bench/run.ts NAME` one of them. `quickstart` (the README quick start's training, twice: minutes)
// runs only when named.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchParse } from './parse.js';
import { benchEngine } from './engine.js';
import { benchTrainMemory } from './train-memory.js';
import { benchData } from './data.js';
import { benchKernels } from './kernels.js';
import { benchTrainStep } from './train-step.js';
import { benchForward } from './forward.js';
import { benchQuickstart } from './quickstart.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '..', '..', 'shared', 'corpus');
const only = process.argv[2];

function report(name: string, value: string, target?: string, ok?: boolean) {
  const verdict = ok === undefined ? '' : ok ? '  ok' : '  BELOW TARGET';
  console.log(`${name.padEnd(34)} ${value.padStart(14)}${target ? `   (target ${target})` : ''}${verdict}`);
}

if (!only || only === 'parse') {
  const r = benchParse(corpus);
  if (!r) console.log('parse: ../shared/corpus not found, skipped');
  else report(`parse (${r.files} corpus files)`, `${r.mbPerSecond.toFixed(1)} MB/s`, '≥ 20 MB/s', r.mbPerSecond >= 20);
}

if (!only || only === 'engine') {
  await benchEngine(path.resolve(here, '..', '..', 'shared', 'fixtures', 'timing'), ['tensorflow', 'wasm', 'cpu']);
}

if (!only || only === 'kernels') {
  await benchKernels();
}

if (!only || only === 'train-step') {
  await benchTrainStep(path.resolve(here, '..', '..', 'shared', 'fixtures', 'timing'));
}

if (!only || only === 'forward') {
  await benchForward(path.resolve(here, '..', '..', 'shared', 'fixtures', 'timing'));
}

if (!only || only === 'memory') {
  await benchTrainMemory();
}

if (only === 'quickstart') {
  await benchQuickstart();
}

if (!only || only === 'data') {
  await benchData(path.resolve(here, '..', 'data', 'fashion-mnist', 'subset'), report);
}
