// The recurrent family (RNN, LSTM, LSTMUnit) on the cpu backend; the tests themselves are in suite.ts.
import { recurrentSuite } from './suite.js';

recurrentSuite('cpu');
