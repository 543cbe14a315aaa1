import { fixtureSuite } from './support/fixture-suite.js';

fixtureSuite('wasm');
