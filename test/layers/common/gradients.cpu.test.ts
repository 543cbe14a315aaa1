import { commonGradientSuite, embedFixtureSuite } from './gradient-suite.js';

commonGradientSuite('cpu');
embedFixtureSuite('cpu');
