// Every deploy net of ../shared/corpus builds with the right output shape and runs forward on random input;
// every train/test net builds in both phases (its data layers stand in as Input layers of the data's shape,
// since the databases themselves are not part of the corpus). Nets with layers kdnet cannot run fail with
// one error naming exactly those layers.
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { corpusRoot, hasCorpus } from '../support/shared.js';
import { initBackend } from '../../src/backend/select.js';
import { loadNetFile } from '../../src/proto/load.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { Net } from '../../src/net/net.js';
import { newMessage, type Message } from '../../src/proto/schema.js';
import { setLogSink } from '../../src/log.js';
import { checkFile } from '../../src/net/check.js';
import { MemoryDataLayer } from '../../src/layers/data/memory-data.js';

const DEPLOY: Record<string, [string, number[]] | RegExp> = {
  'BVLC__caffe/examples/mnist/lenet.prototxt': ['prob', [64, 10]],
  'BVLC__caffe/examples/cifar10/cifar10_quick.prototxt': ['prob', [1, 10]],
  'BVLC__caffe/models/bvlc_alexnet/deploy.prototxt': ['prob', [10, 1000]],
  'BVLC__caffe/examples/net_surgery/conv.prototxt': ['conv', [1, 3, 96, 96]],
  'KaimingHe__deep-residual-networks/prototxt/ResNet-50-deploy.prototxt': ['prob', [1, 1000]],
  'forresti__SqueezeNet/SqueezeNet_v1.1/deploy.prototxt': ['prob', [10, 1000, 1, 1]],
  'shicai__MobileNet-Caffe/mobilenet_deploy.prototxt': ['prob', [1, 1000, 1, 1]],
  'shicai__DenseNet-Caffe/DenseNet_121.prototxt': ['fc6', [1, 1000, 1, 1]],
  'tuzand__logoretrieval/models/VGG_ILSVRC_16_layers_deploy.prototxt': ['prob', [1, 1000]],
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/test.prototxt':
    /^kdnet cannot run 2 layers: "proposal" \(Python, no JavaScript port\), "roi_pool5" \(ROIPooling, not in Caffe master\)$/,
};

/** Per file: [C, H, W] (or [D] for vectors) of each data top except the label, which is [batch]. */
const TRAIN_VAL: Record<string, Record<string, number[]> | RegExp> = {
  'BVLC__caffe/examples/mnist/lenet_train_test.prototxt': { data: [1, 28, 28] },
  'BVLC__caffe/examples/mnist/mnist_autoencoder.prototxt': { data: [1, 28, 28] },
  'BVLC__caffe/examples/cifar10/cifar10_quick_train_test.prototxt': { data: [3, 32, 32] },
  'BVLC__caffe/examples/cifar10/cifar10_full_train_test.prototxt': { data: [3, 32, 32] },
  'BVLC__caffe/examples/cifar10/cifar10_full_sigmoid_train_test_bn.prototxt': { data: [3, 32, 32] },
  'BVLC__caffe/examples/siamese/mnist_siamese_train_test.prototxt': { pair_data: [2, 28, 28] },
  'BVLC__caffe/examples/hdf5_classification/train_val.prototxt': { data: [4] },
  'BVLC__caffe/examples/hdf5_classification/nonlinear_auto_train.prototxt': { data: [4] },
  'BVLC__caffe/examples/feature_extraction/imagenet_val.prototxt': { data: [3, 227, 227] },
  'BVLC__caffe/models/bvlc_alexnet/train_val.prototxt': { data: [3, 227, 227] },
  'BVLC__caffe/models/bvlc_reference_caffenet/train_val.prototxt': { data: [3, 227, 227] },
  'BVLC__caffe/models/bvlc_googlenet/train_val.prototxt': { data: [3, 224, 224] },
  'BVLC__caffe/models/finetune_flickr_style/train_val.prototxt': { data: [3, 227, 227] },
  'BVLC__caffe__history/3c9a13c/examples/mnist/lenet_train_test.prototxt': { data: [1, 28, 28] },
  'BVLC__caffe__history/e6c80da_parent/models/bvlc_alexnet/train_val.prototxt': { data: [3, 227, 227] },
  'BVLC__caffe__history/20833e0/examples/lenet/lenet_train.prototxt': { data: [1, 28, 28] },
  'BVLC__caffe__history/1fbb5bb_parent/examples/imagenet/imagenet_train.prototxt': { data: [3, 227, 227] },
  'forresti__SqueezeNet/SqueezeNet_v1.1/train_val.prototxt': { data: [3, 227, 227] },
  'lim0606__caffe-googlenet-bn/train_val.prototxt': { data: [3, 224, 224] },
  'BVLC__caffe/examples/pycaffe/linreg.prototxt': /^no JavaScript port of Python module 'pyloss' \(class EuclideanLossLayer\): looked for pyloss.js, pyloss.mjs, pyloss.cjs in no folder;/,
  // Its data layer is TRAIN-only: the TEST net reads 'data' that no layer produces, where Caffe's Net::Init stops too.
  'chuanqi305__MobileNet-SSD/voc/MobileNetSSD_train.prototxt':
    /^kdnet cannot run \d+ layers: .*\(PriorBox, not in Caffe master\).*\(Permute, not in Caffe master\)|^unknown bottom blob 'data' \(bottom index 0\): no earlier layer produces it$/,
  'shelhamer__fcn.berkeleyvision.org/voc-fcn8s/train.prototxt': /^no JavaScript port of Python module 'voc_layers' \(class SBDDSegDataLayer\)/,
  'shelhamer__fcn.berkeleyvision.org/voc-fcn8s/val.prototxt': /^no JavaScript port of Python module 'voc_layers' \(class VOCSegDataLayer\)/,
  'rbgirshick__py-faster-rcnn/models/pascal_voc/VGG16/faster_rcnn_end2end/train.prototxt': /"input-data" \(Python, no JavaScript port\).*ROIPooling, not in Caffe master.*SmoothL1Loss, not in Caffe master/,
  's9xie__hed/examples/hed/train_val.prototxt': /"data" \(ImageLabelmapData, not in Caffe master\)/,
};

const DATA_TYPES = new Set(['Data', 'ImageData', 'HDF5Data', 'WindowData']);

function batchOf(l: Message): number {
  return Number(l.data_param?.batch_size ?? l.image_data_param?.batch_size ?? l.hdf5_data_param?.batch_size ?? l.window_data_param?.batch_size ?? 1);
}

/** The net with its data layers replaced by Input layers of the given shapes. */
function withInputs(net: Message, shapes: Record<string, number[]>): Message {
  net.layer = (net.layer as Message[]).map((l) => {
    if (!DATA_TYPES.has(l.type)) return l;
    const n = batchOf(l);
    const shape = (top: string) => newMessage('BlobShape', { dim: shapes[top] ? [n, ...shapes[top]!] : [n] });
    return newMessage('LayerParameter', {
      name: l.name,
      type: 'Input',
      top: [...l.top],
      include: l.include,
      input_param: newMessage('InputParameter', { shape: (l.top as string[]).map(shape) }),
    });
  });
  return net;
}

describe.skipIf(!hasCorpus)('corpus nets on the engine', () => {
  const restore = setLogSink(() => {});
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  for (const [file, expected] of Object.entries(DEPLOY)) {
    it(`deploy ${file}`, () => {
      const { message } = loadNetFile(path.join(corpusRoot, file));
      const build = () => new Net(filterNet(message, { phase: Phase.TEST, level: 0, stage: [] }), { phase: Phase.TEST });
      if (expected instanceof RegExp) {
        expect(build).toThrow(expected);
        return;
      }
      // kdnet check prints the same output shape statically.
      const report = checkFile(path.join(corpusRoot, file), { phase: Phase.TEST });
      if (report.kind !== 'NetParameter') throw new Error('not a net');
      const producer = report.layers.find((l) => l.tops.includes(expected[0]));
      expect(producer?.topShapes[producer.tops.indexOf(expected[0])]).toEqual(expected[1]);
      const net = build();
      for (const i of net.inputNames) net.setInput(i, tf.randomNormal(net.blobShape(i)!));
      for (const layer of net.layers()) {
        // MemoryData nets are fed through the API (Caffe's Reset).
        if (layer instanceof MemoryDataLayer) {
          const [b, c, h, w] = net.blobShape(layer.param.top[0])!;
          layer.reset(Float32Array.from({ length: b! * c! * h! * w! }, () => Math.random()), new Float32Array(b!), b!);
        }
      }
      net.forward();
      const out = net.blob(expected[0]);
      expect(out.shape).toEqual(expected[1]);
      const values = out.dataSync();
      expect(values.every(Number.isFinite)).toBe(true);
      if (expected[0] === 'prob') {
        // softmax rows sum to 1
        const rows = expected[1][0]!;
        const per = values.length / rows;
        for (let r = 0; r < rows; r++) expect(values.slice(r * per, (r + 1) * per).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
      net.dispose();
    });
  }

  for (const [file, shapes] of Object.entries(TRAIN_VAL)) {
    for (const phase of [Phase.TRAIN, Phase.TEST]) {
      it(`train/test ${file} builds in ${phase === Phase.TRAIN ? 'TRAIN' : 'TEST'}`, () => {
        const { message } = loadNetFile(path.join(corpusRoot, file));
        const state = { phase, level: 0, stage: file.includes('autoencoder') ? ['test-on-test'] : [] };
        const build = () => new Net(filterNet(shapes instanceof RegExp ? message : withInputs(message, shapes), state), { phase });
        if (shapes instanceof RegExp) {
          expect(build).toThrow(shapes);
          return;
        }
        const net = build();
        expect(net.layerNames().length).toBeGreaterThan(1);
        net.dispose();
      });
    }
  }

  it('restores logging', () => {
    setLogSink(restore);
  });
});
