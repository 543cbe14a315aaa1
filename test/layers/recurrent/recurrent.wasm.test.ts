// The recurrent family (RNN, LSTM, LSTMUnit) on the wasm backend; the tests themselves are in suite.ts.
import { recurrentSuite } from './suite.js';

recurrentSuite('wasm');
