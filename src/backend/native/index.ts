// The native kernels, one file each; importing this module registers them (installed by
// activateNativeKernels() when the wasm backend starts and the add-on loads).
import './batch-mat-mul.js';
import './conv2d.js';
import './conv2d-backprop-input.js';
import './conv2d-backprop-filter.js';
import './caffe-conv.js';
import './flat-gemm.js';
import './max-pool.js';
import './max-pool-grad.js';
import './max-pool-caffe.js';
import './avg-pool.js';
import './avg-pool-grad.js';
export { activateNativeKernels, kernelSet, requestThreads, nativeKernels } from './kernel-set.js';
export { nativeStatus } from './addon.js';
