import { neuronSuite } from './neuron-suite.js';

neuronSuite('wasm');
