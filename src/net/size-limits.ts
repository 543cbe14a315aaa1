// Run-time size limits: every blob (data or parameter) and the net's total are checked against them before
// anything is allocated, so a typo like `num_output: 10000000000` or a 32768×32768 DummyData is one clear
// error instead of an allocation that exhausts the machine (or a raw "Invalid typed array length").
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { KdnetError } from '../errors.js';
import type { Layer, Shape } from '../layers/layer.js';
import { countOf, shapeText } from '../layers/common/util.js';

export interface SizeLimits {
  /** Most elements one blob (a layer output or a parameter) may hold. */
  maxBlobElements: number;
  /** Bytes the net's blobs and parameters may take together (float32: 4 bytes an element). */
  memoryBytes: number;
}

/** tfjs indexes tensors with int32: no tensor may hold more elements. */
export const TFJS_MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** tfjs-backend-wasm keeps every tensor in one wasm32 heap (emscripten's getHeapMax: 4 GiB − 64 KiB). */
const WASM_HEAP_BYTES = 4294901760;
/** Share of the machine's memory the net may take by default (the rest: the OS, Node, backward's diffs). */
const DEFAULT_MEMORY_SHARE = 0.5;
const BYTES_PER_ELEMENT = 4;

export const BLOB_LIMIT_HINT = '--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS';
export const MEMORY_LIMIT_HINT = '--memory-limit or KDNET_MEMORY_LIMIT';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "8G", "512M", "1.5GiB", "4096" (bytes) → bytes; units are binary (K = 1024). */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!(bytes >= 1)) throw new KdnetError(`${what} expects a size like 8G, 512M or 1073741824 (bytes), got '${text}'`);
  return Math.floor(bytes);
}

function parseCount(text: string, what: string): number {
  const n = /^\s*\d+(?:\.\d+)?(?:e\d+)?\s*$/i.test(text) ? Number(text) : NaN;
  if (!(n >= 1) || !Number.isInteger(n)) throw new KdnetError(`${what} expects a positive whole number of elements, got '${text}'`);
  return n;
}

/** Defaults from the machine and the backend: half the memory (wasm: at most its 4 GiB heap), tfjs' int32 cap. */
export function defaultSizeLimits(backend: string = tf.getBackend()): SizeLimits {
  let memoryBytes = Math.floor(os.totalmem() * DEFAULT_MEMORY_SHARE);
  if (backend === 'wasm') memoryBytes = Math.min(memoryBytes, WASM_HEAP_BYTES);
  return { maxBlobElements: TFJS_MAX_TENSOR_ELEMENTS, memoryBytes };
}

/** Flag values as typed by the user (undefined when not given). */
export interface SizeLimitFlags {
  maxBlobElements?: string;
  memoryLimit?: string;
}

/** Given limits first, then KDNET_MAX_BLOB_ELEMENTS / KDNET_MEMORY_LIMIT, then the defaults. */
export function resolveSizeLimits(given: Partial<SizeLimits> = {}, env: NodeJS.ProcessEnv = process.env): SizeLimits {
  const d = defaultSizeLimits();
  const envBlob = env.KDNET_MAX_BLOB_ELEMENTS;
  const envMemory = env.KDNET_MEMORY_LIMIT;
  return {
    maxBlobElements: given.maxBlobElements ?? (envBlob ? parseCount(envBlob, 'KDNET_MAX_BLOB_ELEMENTS') : d.maxBlobElements),
    memoryBytes: given.memoryBytes ?? (envMemory ? parseByteSize(envMemory, 'KDNET_MEMORY_LIMIT') : d.memoryBytes),
  };
}

/** The CLI's --max-blob-elements / --memory-limit as limits (only those given). */
export function sizeLimitsFromFlags(o: SizeLimitFlags): Partial<SizeLimits> {
  const out: Partial<SizeLimits> = {};
  if (o.maxBlobElements !== undefined) out.maxBlobElements = parseCount(o.maxBlobElements, '--max-blob-elements');
  if (o.memoryLimit !== undefined) out.memoryBytes = parseByteSize(o.memoryLimit, '--memory-limit');
  return out;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : v >= 1e6 ? `${v.toExponential(2)} ${units[u]}` : `${v.toFixed(2)} ${units[u]}`;
}

function blobBytes(shape: Shape): number {
  return countOf(shape) * BYTES_PER_ELEMENT;
}

function countText(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : n.toExponential(3);
}

/** Why a blob of `shape` may not be allocated, or undefined when it may. */
export function blobSizeProblem(shape: readonly number[], limits: SizeLimits): string | undefined {
  const bad = shape.find((d) => !(Number.isInteger(d) && d >= 0));
  if (bad !== undefined) return `dimension ${bad} is not a non-negative whole number`;
  const n = countOf(shape);
  const bytes = n * BYTES_PER_ELEMENT;
  if (n > limits.maxBlobElements) {
    return `${countText(n)} elements (${formatBytes(bytes)}) are more than the limit of ${countText(limits.maxBlobElements)} elements per blob (${BLOB_LIMIT_HINT})`;
  }
  if (bytes > limits.memoryBytes) {
    return `${countText(n)} elements need ${formatBytes(bytes)}, more than the memory limit of ${formatBytes(limits.memoryBytes)} (${MEMORY_LIMIT_HINT})`;
  }
  return undefined;
}

interface NamedShape {
  name: string;
  shape: Shape;
}

/** Every top of a layer must be a valid, non-empty shape within the limits, before anything is allocated for it. */
export function checkTopSizes(layer: Layer, bottoms: NamedShape[], tops: NamedShape[], limits: SizeLimits): void {
  const from = bottoms.length ? ` from ${bottoms.map((b) => `bottom '${b.name}' ${shapeText(b.shape)}`).join(', ')}` : '';
  for (const { name, shape } of tops) {
    const fail = (what: string) => {
      const e = layer.error(what);
      return new KdnetError(e.message, { ...e.where, blob: name });
    };
    const problem = blobSizeProblem(shape, limits);
    if (problem) throw fail(`top blob '${name}' of shape ${shapeText(shape)}${from}: ${problem}`);
    // An empty output from non-empty inputs is a geometry that does not fit (Caffe CHECK-fails on it).
    if (bottoms.length && countOf(shape) === 0 && bottoms.every((b) => countOf(b.shape) > 0)) {
      throw fail(`output would be empty: top blob '${name}' of shape ${shapeText(shape)}${from}`);
    }
  }
}

type BudgetedLayer = { layer: Layer; paramIds: number[]; tops: NamedShape[] };

/**
 * The bytes of every top (each version of an in-place blob is its own tensor) and every parameter (shared ones
 * once), added layer by layer in forward order: an error at the layer where the total passes the memory limit.
 * Kept as a running total so a net is checked in one pass as it is built, however many layers it has.
 */
export class NetBytesTally {
  private total = 0;
  private readonly counted = new Set<number>();

  constructor(
    private readonly paramShape: (id: number) => Shape,
    private readonly limits: SizeLimits,
  ) {}

  add(e: BudgetedLayer): void {
    for (const id of e.paramIds) {
      if (id < 0 || this.counted.has(id)) continue;
      this.counted.add(id);
      this.total += blobBytes(this.paramShape(id));
    }
    for (const t of e.tops) this.total += blobBytes(t.shape);
    if (this.total > this.limits.memoryBytes) {
      throw e.layer.error(
        `the net's blobs and parameters up to this layer (tops ${e.tops.map((t) => `'${t.name}' ${shapeText(t.shape)}`).join(', ')}) need ` +
          `${formatBytes(this.total)}, more than the memory limit of ${formatBytes(this.limits.memoryBytes)} (${MEMORY_LIMIT_HINT})`,
      );
    }
  }
}

/** The whole net's tally from scratch (after a reshape changed its shapes). */
export function checkNetBytes(layers: ReadonlyArray<BudgetedLayer>, paramShape: (id: number) => Shape, limits: SizeLimits): void {
  const tally = new NetBytesTally(paramShape, limits);
  for (const e of layers) tally.add(e);
}
