// Data layers (sources: HDF5 today; LMDB/LevelDB/images with the data issue).
import './hdf5-data.js';
