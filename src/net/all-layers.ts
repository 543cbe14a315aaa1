// Imports every layer file so that each registers its types (one import per family).
import '../layers/input.js';

