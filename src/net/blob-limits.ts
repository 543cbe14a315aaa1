// What a blob's shape may be, checked before anything is allocated: Caffe's Blob::Reshape refuses negative
// dimensions and counts above INT_MAX, and tfjs indexes tensors with int32 too. Shapes written in a net file
// (Input, DummyData, Parameter) must also be positive: a zero there is always a typo.
import type { Message } from '../proto/schema.js';
import { positionOf } from '../prototxt/side-tables.js';
import { KdnetError } from '../errors.js';
import type { Shape } from '../layers/layer.js';
import { blobSizeProblem, TFJS_MAX_TENSOR_ELEMENTS, type SizeLimits } from './size-limits.js';
export { countOf as elementCount } from '../layers/common/util.js';

/**
 * What no blob can exceed whatever the run-time limits say (Caffe: INT_MAX; tfjs: int32 indices); the net's
 * configurable limits (memory, --max-blob-elements) are checked when it is built (size-limits.ts).
 */
const HARD_LIMITS: SizeLimits = { maxBlobElements: TFJS_MAX_TENSOR_ELEMENTS, memoryBytes: Infinity };

export function shapeText(shape: readonly number[]): string {
  return shape.length ? shape.join('x') : '(scalar)';
}

/** Why a blob of this shape cannot exist, or undefined. `positive` also refuses zero dimensions. */
export function shapeProblem(shape: readonly number[], positive = false): string | undefined {
  const bad = shape.find((d) => !Number.isInteger(d) || d < 0 || (positive && d === 0));
  if (bad !== undefined) return `dimension ${bad} in ${shapeText(shape)} is not a ${positive ? 'positive' : 'non-negative'} whole number`;
  const problem = blobSizeProblem(shape, HARD_LIMITS);
  return problem && `${shapeText(shape)}: ${problem}`;
}

/** The shapes a layer declares in its parameters, with where each is written. */
function declaredShapes(lp: Message): Array<{ shape: number[]; msg: object; field: string; path: string }> {
  const out: Array<{ shape: number[]; msg: object; field: string; path: string }> = [];
  const blobShapes = (list: Message[] | undefined, path: string) =>
    (list ?? []).forEach((s, i) => out.push({ shape: (s.dim as unknown[]).map(Number), msg: s, field: 'dim', path: `${path}[${i}]` }));
  if (lp.type === 'Input') blobShapes(lp.input_param?.shape, 'input_param.shape');
  if (lp.type === 'Parameter' && lp.parameter_param?.shape) blobShapes([lp.parameter_param.shape], 'parameter_param.shape');
  if (lp.type === 'DummyData' && lp.dummy_data_param) {
    const p = lp.dummy_data_param;
    blobShapes(p.shape, 'dummy_data_param.shape');
    const legacy = ['num', 'channels', 'height', 'width'] as const;
    if ((p.num as unknown[]).length) {
      const n = Math.max(...legacy.map((f) => (p[f] as unknown[]).length));
      for (let i = 0; i < n; i++) {
        const shape = legacy.map((f) => Number((p[f] as unknown[])[(p[f] as unknown[]).length === 1 ? 0 : i]));
        out.push({ shape, msg: p, field: 'num', path: 'dummy_data_param' });
      }
    }
  }
  return out;
}

/** Errors for shapes written in a layer's parameters that no blob can have (checked before set-up). */
export function declaredShapeErrors(lp: Message): KdnetError[] {
  const errors: KdnetError[] = [];
  for (const d of declaredShapes(lp)) {
    const problem = shapeProblem(d.shape, true);
    if (!problem) continue;
    const badIndex = d.shape.findIndex((x) => !Number.isInteger(x) || x <= 0);
    const position = positionOf(d.msg, d.field, Math.max(badIndex, 0)) ?? positionOf(lp);
    errors.push(new KdnetError(problem, { layer: lp.name, position, path: `layer "${lp.name}".${d.path}` }));
  }
  return errors;
}

/** Errors for computed shapes (tops, parameter blobs) that no blob can have. */
export function computedShapeError(lp: Message, shape: Shape, what: string, field?: string): KdnetError | undefined {
  const problem = shapeProblem(shape);
  if (!problem) return undefined;
  return new KdnetError(`${what}: ${problem}`, {
    layer: lp.name,
    position: (field && positionOf(lp, field)) || positionOf(lp),
    path: `layer "${lp.name}"${field ? `.${field}` : ''}`,
  });
}
