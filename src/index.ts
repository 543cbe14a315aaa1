// kdnet as a library: the data path text → message → upgraded NetParameter → filtered net.
export { KdnetError, isKdnetError, formatPosition } from './errors.js';
export type { SourcePosition, ErrorWhere } from './errors.js';
export { caffeType, caffeEnum, newMessage, has, clear } from './proto/schema.js';
export type { Message } from './proto/schema.js';
export { parseCaffeText, printCaffeText, readCaffeTextFile, detectKind } from './proto/text.js';
export { loadCaffeFile, loadNetFile, loadSolverFile, detectNetFormat } from './proto/load.js';
export { upgradeNetParameter, upgradeSolverParameter } from './proto/upgrade/index.js';
export { filterNet, layerIncluded, stateMeetsRule, composeState, Phase } from './net/net-state.js';
export type { NetStateSpec } from './net/net-state.js';
export { checkFile } from './net/check.js';
export { positionOf } from './prototxt/side-tables.js';
export { parseTextFormat } from './prototxt/parser.js';
export { setLogSink } from './log.js';
