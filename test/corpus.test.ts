// Every real Caffe file of ../shared/corpus parses, upgrades where legacy, round-trips through the printer,
// and `kdnet check` either succeeds or names exactly the layer types the file uses that Caffe master lacks.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { corpusEntries, hasCorpus } from './support/shared.js';
import { parseCaffeText, detectKind, printCaffeText } from '../src/proto/text.js';
import { loadCaffeFile } from '../src/proto/load.js';
import { checkFile, checkError } from '../src/net/check.js';
import { messagesEqual } from '../src/prototxt/equal.js';
import { caffeType } from '../src/proto/schema.js';
import { runCli } from '../src/cli/main.js';
import { bufferIO } from '../src/cli/io.js';

// Layer types in corpus files that BVLC master does not have (from each file's MANIFEST description and
// the forks' own sources). A check of these files must fail naming exactly these, and nothing else.
const FORK_TYPES: Record<string, string[]> = {
  'chuanqi305__MobileNet-SSD/voc/MobileNetSSD_train.prototxt': ['AnnotatedData', 'PriorBox', 'Permute', 'MultiBoxLoss'],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/train.prototxt': ['ROIPooling', 'SmoothL1Loss'],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/test.prototxt': ['ROIPooling'],
  's9xie__hed/examples/hed/train_val.prototxt': ['ImageLabelmapData'],
};

// Python layers in corpus files: kdnet cannot run them, so a check fails listing each with its python_param.
const PYTHON_LAYERS: Record<string, string[]> = {
  'BVLC__caffe/examples/pycaffe/linreg.prototxt': ['layer "loss" (Python).python_param: no JavaScript port of Python module \'pyloss\' (class EuclideanLossLayer)'],
  'shelhamer__fcn.berkeleyvision.org/voc-fcn8s/train.prototxt': ['layer "data" (Python).python_param: no JavaScript port of Python module \'voc_layers\' (class SBDDSegDataLayer)'],
  'shelhamer__fcn.berkeleyvision.org/voc-fcn8s/val.prototxt': ['layer "data" (Python).python_param: no JavaScript port of Python module \'voc_layers\' (class VOCSegDataLayer)'],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/train.prototxt': [
    'layer "input-data" (Python).python_param: no JavaScript port of Python module \'roi_data_layer.layer\' (class RoIDataLayer)',
    'layer "rpn-data" (Python).python_param: no JavaScript port of Python module \'rpn.anchor_target_layer\' (class AnchorTargetLayer)',
    'layer "proposal" (Python).python_param: no JavaScript port of Python module \'rpn.proposal_layer\' (class ProposalLayer)',
    'layer "roi-data" (Python).python_param: no JavaScript port of Python module \'rpn.proposal_target_layer\' (class ProposalTargetLayer)',
  ],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/test.prototxt': ['layer "proposal" (Python).python_param: no JavaScript port of Python module \'rpn.proposal_layer\' (class ProposalLayer)'],
};

// The upgrades each legacy file needs (checked by hand against Caffe's upgrade_proto rules); every other file
// needs none.
const EXPECTED_UPGRADES: Record<string, string[]> = {
  'BVLC__caffe/examples/cifar10/cifar10_full_sigmoid_train_test_bn.prototxt': ['batchnorm'],
  'BVLC__caffe__history/3c9a13c/examples/mnist/lenet_train_test.prototxt': ['v1-to-v2'],
  'BVLC__caffe__history/e6c80da_parent/models/bvlc_alexnet/train_val.prototxt': ['v1-to-v2'],
  'BVLC__caffe__history/9563537_parent/examples/mnist/lenet_solver_adam.prototxt': ['solver-type'],
  'BVLC__caffe__history/20833e0/examples/lenet/lenet_train.prototxt': ['v0-to-v1', 'v1-to-v2'],
  'BVLC__caffe__history/1fbb5bb_parent/examples/imagenet/imagenet_train.prototxt': ['v0-to-v1', 'v1-to-v2'],
  'KaimingHe__deep-residual-networks/prototxt/ResNet-50-deploy.prototxt': ['input-fields'],
  'shicai__MobileNet-Caffe/mobilenet_deploy.prototxt': ['input-fields'],
  'shicai__DenseNet-Caffe/DenseNet_121.prototxt': ['input-fields', 'fork-fields'],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/test.prototxt': ['input-fields'],
};

describe.skipIf(!hasCorpus)('real Caffe corpus (../shared/corpus)', () => {
  const entries = corpusEntries();

  it('has the files its manifest lists', () => {
    expect(entries.length).toBeGreaterThanOrEqual(50);
    for (const e of entries) expect(fs.existsSync(e.file), e.localPath).toBe(true);
  });

  for (const entry of entries) {
    describe(entry.localPath, () => {
      const text = fs.existsSync(entry.file) ? fs.readFileSync(entry.file, 'utf8') : '';
      const kind = entry.format.startsWith('SolverParameter') ? 'SolverParameter' : 'NetParameter';

      it('is detected as the right message type', () => {
        expect(detectKind(text)).toBe(kind);
      });

      it('round-trips: parse → print → parse is identity on the message', () => {
        const first = parseCaffeText(text, kind, entry.file).message;
        const printed = printCaffeText(first, kind);
        const second = parseCaffeText(printed, kind, 'printed').message;
        expect(messagesEqual(first, second, caffeType(kind))).toBe(true);
        // and printing is stable
        expect(printCaffeText(second, kind)).toBe(printed);
      });

      it('upgrades to the current format', () => {
        const loaded = loadCaffeFile(entry.file, kind);
        expect(loaded.upgrades).toEqual(EXPECTED_UPGRADES[entry.localPath] ?? []);
        if (kind === 'NetParameter') {
          expect(loaded.message.layers).toHaveLength(0);
          expect(loaded.format).toBe(/V0/.test(entry.format) ? 'V0' : /V1/.test(entry.format) ? 'V1' : 'V2');
          // the upgraded net still round-trips
          const printed = printCaffeText(loaded.message, kind);
          expect(messagesEqual(parseCaffeText(printed, kind).message, loaded.message, caffeType(kind))).toBe(true);
        } else {
          expect(loaded.message.solver_type === 0 || !Object.hasOwn(loaded.message, 'solver_type')).toBe(true);
          expect(typeof loaded.message.type).toBe('string');
        }
      });

      it('passes `kdnet check` or names exactly its fork layer types and the layers kdnet cannot run', async () => {
        const report = checkFile(entry.file, {}, kind);
        const expected = FORK_TYPES[entry.localPath] ?? [];
        const python = PYTHON_LAYERS[entry.localPath] ?? [];
        if (report.kind === 'NetParameter') {
          expect([...report.unknownTypes.keys()].sort()).toEqual([...expected].sort());
          expect(report.layers.filter((l) => !l.runnable && l.known).map((l) => l.type)).toEqual(python.map(() => 'Python'));
          // nothing else is wrong with these real files: every problem is a fork type or a Python layer
          expect(report.errors).toHaveLength((expected.length ? 1 : 0) + (python.length ? 1 : 0));
          expect(checkError(report) === undefined).toBe(expected.length + python.length === 0);
        }
        const io = bufferIO();
        const code = await runCli(['check', entry.file], io);
        expect(code, io.stderr).toBe(expected.length || python.length ? 1 : 0);
        for (const t of [...expected, ...python]) expect(io.stderr).toContain(t);
        expect(io.stderr).not.toContain('internal error');
      });
    });
  }
});
