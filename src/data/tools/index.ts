export * from './convert-mnist.js';
export * from './convert-imageset.js';
export * from './compute-image-mean.js';
export * from './db-info.js';
export * from './convert-vectors.js';
export { writeDatabase, type Progress } from './write-records.js';
export * from './convert-cifar.js';
