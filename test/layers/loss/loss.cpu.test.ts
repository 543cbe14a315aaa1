import { lossSuite } from './loss-suite.js';

lossSuite('cpu');
