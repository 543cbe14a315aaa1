export * from './backend.js';
export * from './reader.js';
export * from './writer.js';
