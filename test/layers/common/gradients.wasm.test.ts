import { commonGradientSuite, embedFixtureSuite } from './gradient-suite.js';

commonGradientSuite('wasm');
embedFixtureSuite('wasm');
