// One error type for user mistakes: it says where (file:line:col, layer, blob) and what was expected.
// Anything that is not a KdnetError is a bug in kdnet (the CLI exits 2 and shows the stack).

export interface SourcePosition {
  file?: string;
  line: number; // 1-based
  column: number; // 1-based
}

export interface ErrorWhere {
  position?: SourcePosition;
  /** Field path in the message, e.g. `layer[3] "conv2".convolution_param.kernel_size`. */
  path?: string;
  layer?: string;
  blob?: string;
}

export function formatPosition(p: SourcePosition | undefined): string {
  if (!p) return '';
  return `${p.file ?? '<text>'}:${p.line}:${p.column}`;
}

export class KdnetError extends Error {
  readonly where: ErrorWhere;
  /** Further problems found in the same pass (all reported together). */
  readonly others: KdnetError[];

  constructor(message: string, where: ErrorWhere = {}, others: KdnetError[] = []) {
    super(message);
    this.name = 'KdnetError';
    this.where = where;
    this.others = others;
  }

  /** One line: `file:line:col: path: message`. */
  get oneLine(): string {
    const parts: string[] = [];
    const pos = formatPosition(this.where.position);
    if (pos) parts.push(pos);
    if (this.where.path) parts.push(this.where.path);
    else if (this.where.layer) parts.push(`layer "${this.where.layer}"`);
    if (this.where.blob && !this.where.path) parts.push(`blob "${this.where.blob}"`);
    parts.push(this.message);
    return parts.join(': ');
  }

  /** Every problem, one line each. */
  report(): string {
    return [this, ...this.others].map((e) => e.oneLine).join('\n');
  }

  /** One error reporting all of `errors` (and the further problems each carries), in order. */
  static combine(errors: KdnetError[]): KdnetError {
    if (errors.length === 1) return errors[0]!;
    const [first, ...rest] = errors.flatMap((e) => [e, ...e.others]);
    return new KdnetError(first!.message, first!.where, rest.map((e) => (e.others.length ? new KdnetError(e.message, e.where) : e)));
  }
}

export function isKdnetError(e: unknown): e is KdnetError {
  return e instanceof KdnetError;
}

/** How many problems one report lists before it says how many more there are. */
export const REPORTED_ERRORS_LIMIT = 20;

/**
 * All problems as one error, listing the first `limit` and then "… and N more": a net with thousands of
 * broken layers gets a readable report, not thousands of lines.
 */
export function combineBounded(errors: KdnetError[], limit = REPORTED_ERRORS_LIMIT): KdnetError {
  if (errors.length <= limit) return KdnetError.combine(errors);
  const rest = errors.length - limit;
  return KdnetError.combine([...errors.slice(0, limit), new KdnetError(`… and ${rest} more problem${rest > 1 ? 's' : ''}`)]);
}
