// One-time tfjs set-up, imported before any layer runs:
// - tfjs-core's Node build registers no gradient functions (tf.grads fails with "gradient function not
//   found"); the @tensorflow/tfjs package's Node bundle registers all of them into the same tfjs-core
//   instance. Loaded through require so Node picks that CommonJS bundle and the shared tfjs-core copy.
// - tfjs' own console banners ("looks like you are running TensorFlow.js in Node.js") are silenced: kdnet
//   states the backend it picked, and why, itself. The PROD flag only gates those messages.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);
require('@tensorflow/tfjs');
tf.env().set('PROD', true);
