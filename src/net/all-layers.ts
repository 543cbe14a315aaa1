// Imports every layer family so that each registers its types.
import '../layers/input.js';
import '../layers/data/index.js';
import '../layers/vision/index.js';
import '../layers/neuron/index.js';
import '../layers/common/index.js';
import '../layers/loss/index.js';
import '../layers/distill/index.js';
import '../layers/recurrent/index.js';
import '../layers/python/index.js';
