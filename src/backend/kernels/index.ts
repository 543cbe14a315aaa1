// Kernel workarounds, one file per replaced kernel; each file calls addWorkaround(...).
import './conv2d-backprop-filter.js';
import './conv2d-backprop-input.js';
import './depthwise-conv2d-backprop-filter.js';
import './depthwise-conv2d-backprop-input.js';
import './max-pool-grad.js';
import './max-pool-with-argmax.js';
import './batch-mat-mul.js';
import './conv2d.js';
import './max-pool-caffe.js';
import './avg-pool-caffe.js';
import './avg-pool-caffe-grad.js';
import './transpose.js';
