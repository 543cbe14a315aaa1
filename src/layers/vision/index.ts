// Registers the vision layer family (one import per layer file).
import './convolution.js';
import './deconvolution.js';
import './pooling.js';
import './lrn.js';
import './crop.js';
import './spp.js';
import './im2col.js';
