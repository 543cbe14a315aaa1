// Every layer type name Caffe master registers (plus the two distillation layers of the forks kdnet
// supports), with the V1 enum name where one existed. This is what "known to Caffe" means in kdnet:
// a type outside this list belongs to a fork (SSD, Faster R-CNN, ...) and is reported as such.

export interface LayerTypeInfo {
  type: string;
  /** V1LayerParameter.LayerType name, if the type existed in V1. */
  v1?: string;
  family: 'data' | 'vision' | 'neuron' | 'common' | 'loss' | 'recurrent' | 'distillation' | 'utility';
  /** Where the type comes from when it is not BVLC master. */
  origin?: string;
  /** What running the type takes beyond kdnet itself, for the README's table. */
  runsWith?: string;
}

export const LAYER_CATALOG: readonly LayerTypeInfo[] = [
  { type: 'Data', v1: 'DATA', family: 'data' },
  { type: 'DummyData', v1: 'DUMMY_DATA', family: 'data' },
  { type: 'HDF5Data', v1: 'HDF5_DATA', family: 'data' },
  { type: 'HDF5Output', v1: 'HDF5_OUTPUT', family: 'data' },
  { type: 'ImageData', v1: 'IMAGE_DATA', family: 'data' },
  { type: 'Input', family: 'data' },
  { type: 'MemoryData', v1: 'MEMORY_DATA', family: 'data' },
  { type: 'WindowData', v1: 'WINDOW_DATA', family: 'data' },
  { type: 'Python', family: 'utility', runsWith: 'with a JavaScript port of its module' },

  { type: 'Convolution', v1: 'CONVOLUTION', family: 'vision' },
  { type: 'Deconvolution', v1: 'DECONVOLUTION', family: 'vision' },
  { type: 'Pooling', v1: 'POOLING', family: 'vision' },
  { type: 'LRN', v1: 'LRN', family: 'vision' },
  { type: 'SPP', family: 'vision' },
  { type: 'Im2col', v1: 'IM2COL', family: 'vision' },
  { type: 'Crop', family: 'vision' },

  { type: 'ReLU', v1: 'RELU', family: 'neuron' },
  { type: 'PReLU', family: 'neuron' },
  { type: 'ELU', family: 'neuron' },
  { type: 'Sigmoid', v1: 'SIGMOID', family: 'neuron' },
  { type: 'TanH', v1: 'TANH', family: 'neuron' },
  { type: 'AbsVal', v1: 'ABSVAL', family: 'neuron' },
  { type: 'BNLL', v1: 'BNLL', family: 'neuron' },
  { type: 'Power', v1: 'POWER', family: 'neuron' },
  { type: 'Exp', v1: 'EXP', family: 'neuron' },
  { type: 'Log', family: 'neuron' },
  { type: 'Threshold', v1: 'THRESHOLD', family: 'neuron' },
  { type: 'Dropout', v1: 'DROPOUT', family: 'neuron' },
  { type: 'Swish', family: 'neuron' },
  { type: 'Clip', family: 'neuron' },
  { type: 'Scale', family: 'neuron' },
  { type: 'Bias', family: 'neuron' },

  { type: 'InnerProduct', v1: 'INNER_PRODUCT', family: 'common' },
  { type: 'Concat', v1: 'CONCAT', family: 'common' },
  { type: 'Slice', v1: 'SLICE', family: 'common' },
  { type: 'Split', v1: 'SPLIT', family: 'common' },
  { type: 'Flatten', v1: 'FLATTEN', family: 'common' },
  { type: 'Reshape', family: 'common' },
  { type: 'Eltwise', v1: 'ELTWISE', family: 'common' },
  { type: 'Softmax', v1: 'SOFTMAX', family: 'common' },
  { type: 'ArgMax', v1: 'ARGMAX', family: 'common' },
  { type: 'MVN', v1: 'MVN', family: 'common' },
  { type: 'BatchNorm', family: 'common' },
  { type: 'BatchReindex', family: 'common' },
  { type: 'Embed', family: 'common' },
  { type: 'Filter', family: 'common' },
  { type: 'Tile', family: 'common' },
  { type: 'Reduction', family: 'common' },
  { type: 'Parameter', family: 'common' },
  { type: 'Silence', v1: 'SILENCE', family: 'common' },

  { type: 'SoftmaxWithLoss', v1: 'SOFTMAX_LOSS', family: 'loss' },
  { type: 'EuclideanLoss', v1: 'EUCLIDEAN_LOSS', family: 'loss' },
  { type: 'SigmoidCrossEntropyLoss', v1: 'SIGMOID_CROSS_ENTROPY_LOSS', family: 'loss' },
  { type: 'HingeLoss', v1: 'HINGE_LOSS', family: 'loss' },
  { type: 'InfogainLoss', v1: 'INFOGAIN_LOSS', family: 'loss' },
  { type: 'MultinomialLogisticLoss', v1: 'MULTINOMIAL_LOGISTIC_LOSS', family: 'loss' },
  { type: 'ContrastiveLoss', v1: 'CONTRASTIVE_LOSS', family: 'loss' },
  { type: 'Accuracy', v1: 'ACCURACY', family: 'loss' },

  { type: 'RNN', family: 'recurrent' },
  { type: 'LSTM', family: 'recurrent' },
  { type: 'LSTMUnit', family: 'recurrent' },

  { type: 'KnowledgeDistillation', family: 'distillation', origin: 'wentianli/knowledge_distillation_caffe' },
  { type: 'TempSoftmaxCrossEntropyLoss', family: 'distillation', origin: 'BVLC/caffe PR #4378 (kdistil)' },
];

const byType = new Map(LAYER_CATALOG.map((l) => [l.type, l]));

export function layerTypeInfo(type: string): LayerTypeInfo | undefined {
  return byType.get(type);
}

export function isKnownLayerType(type: string): boolean {
  return byType.has(type);
}
