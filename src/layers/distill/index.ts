// Registers the distill layer family (one import per layer file).
import './knowledge-distillation.js';
import './temp-softmax-cross-entropy-loss.js';
