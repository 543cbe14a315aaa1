// Data layers (HDF5, MemoryData and DummyData today; LMDB/LevelDB/images with the data issue).
import './hdf5-data.js';
import './memory-data.js';
import './dummy-data.js';
