import { fixtureSuite } from './support/fixture-suite.js';

fixtureSuite('cpu');
