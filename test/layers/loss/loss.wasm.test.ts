import { lossSuite } from './loss-suite.js';

lossSuite('wasm');
