import { visionSuite } from './vision-suite.js';

visionSuite('wasm');
