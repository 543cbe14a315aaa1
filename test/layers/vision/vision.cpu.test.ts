import { visionSuite } from './vision-suite.js';

visionSuite('cpu');
