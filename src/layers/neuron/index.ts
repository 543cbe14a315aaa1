// Registers the neuron layer family (one import per layer file).
import './relu.js';
import './prelu.js';
import './elu.js';
import './sigmoid.js';
import './tanh.js';
import './absval.js';
import './bnll.js';
import './power.js';
import './exp.js';
import './log.js';
import './threshold.js';
import './dropout.js';
import './swish.js';
import './clip.js';
import './scale.js';
import './bias.js';
