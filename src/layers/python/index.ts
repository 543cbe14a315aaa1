// Python layers, run through JavaScript ports of their modules.
import './python-layer.js';
