// The blob a ported layer sees, shaped like pycaffe's caffe.Blob: `data` and `diff` as flat NCHW
// Float32Arrays, `shape`, `count`, the legacy num/channels/height/width, and reshape(...dims). Copying between
// these and tfjs tensors happens in python-layer.ts, at the layer's boundary.

export class JsBlob {
  #shape: number[] = [];
  #data = new Float32Array(0);
  #diff = new Float32Array(0);
  #hasShape = false;
  #shapeLocked = false;

  /** `label` names the blob in error messages: top[0] 'loss', param blob 1, ... */
  constructor(readonly label: string) {}

  get shape(): number[] {
    return [...this.#shape];
  }

  get count(): number {
    return this.#data.length;
  }

  get num_axes(): number {
    return this.#shape.length;
  }

  // Caffe's LegacyShape: missing trailing axes read as 1.
  get num(): number {
    return this.#shape[0] ?? 1;
  }
  get channels(): number {
    return this.#shape[1] ?? 1;
  }
  get height(): number {
    return this.#shape[2] ?? 1;
  }
  get width(): number {
    return this.#shape[3] ?? 1;
  }

  get data(): Float32Array {
    return this.#data;
  }
  /** Assigning copies the values in (pycaffe's `blob.data[...] = x`); the count must match. */
  set data(values: ArrayLike<number>) {
    this.#data.set(this.#checked(values, 'data'));
  }

  get diff(): Float32Array {
    return this.#diff;
  }
  set diff(values: ArrayLike<number>) {
    this.#diff.set(this.#checked(values, 'diff'));
  }

  /** pycaffe's blob.reshape(*dims); also accepts one array. Contents are kept when the count is unchanged. */
  reshape(...dims: Array<number | readonly number[]>): void {
    const shape = (dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : dims) as unknown[];
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
        throw new Error(`${this.label}.reshape(${shape.map(String).join(', ')}): every dimension must be a non-negative integer`);
      }
    }
    const next = shape as number[];
    if (this.#shapeLocked && next.join(',') !== this.#shape.join(',')) {
      throw new Error(`${this.label} has shape [${this.#shape.join(', ')}] from setup and cannot be reshaped to [${next.join(', ')}]`);
    }
    JsBlob.resize(this, next);
  }

  #checked(values: ArrayLike<number>, what: string): ArrayLike<number> {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new Error(`${this.label}.${what} must be set to an array of numbers`);
    }
    if (values.length !== this.count) {
      throw new Error(`${this.label}.${what}: ${values.length} values given for shape [${this.#shape.join(', ')}] (${this.count} values)`);
    }
    return values;
  }

  // ---- for the wrapper (python-layer.ts), not part of pycaffe's Blob ----

  /** Whether the blob was ever given a shape (a fresh top has none until the layer reshapes it). */
  static hasShape(blob: JsBlob): boolean {
    return blob.#hasShape;
  }

  static resize(blob: JsBlob, shape: readonly number[]): void {
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== blob.#data.length) {
      blob.#data = new Float32Array(count);
      blob.#diff = new Float32Array(count);
    }
    blob.#shape = [...shape];
    blob.#hasShape = true;
  }

  /** Parameter blobs keep the shape they have after setup (the net registered it). */
  static lockShape(blob: JsBlob): void {
    blob.#shapeLocked = true;
  }
}

/** pycaffe's layer.blobs: a list with add_blob(*dims), for the layer's learnable parameters. */
export type BlobVec = JsBlob[] & { add_blob(...dims: Array<number | readonly number[]>): JsBlob };

export function newBlobVec(): BlobVec {
  const vec = [] as unknown as BlobVec;
  Object.defineProperty(vec, 'add_blob', {
    enumerable: false,
    value: (...dims: Array<number | readonly number[]>) => {
      const blob = new JsBlob(`param blob ${vec.length}`);
      blob.reshape(...dims);
      vec.push(blob);
      return blob;
    },
  });
  return vec;
}
