// Registers the loss layer family (one import per layer file).
import './softmax-with-loss.js';
import './euclidean-loss.js';
import './sigmoid-cross-entropy-loss.js';
import './hinge-loss.js';
import './infogain-loss.js';
import './multinomial-logistic-loss.js';
import './contrastive-loss.js';
import './accuracy.js';
