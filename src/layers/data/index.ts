// Data layers: databases (Data), image lists (ImageData), HDF5 in and out, arrays from the API, fillers.
import './data.js';
import './image-data.js';
import './window-data.js';
import './hdf5-data.js';
import './hdf5-output.js';
import './memory-data.js';
import './dummy-data.js';
