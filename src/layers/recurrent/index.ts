// Registers the recurrent layer family (one import per layer file).
import './rnn.js';
import './lstm.js';
import './lstm-unit.js';
