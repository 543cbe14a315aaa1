import { distillSuite } from './distill-suite.js';

distillSuite('wasm');
