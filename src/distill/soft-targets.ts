// The values written per record: the teachers' logits averaged (an ensemble's logits, kdistil's "average
// logits of my ensemble"), then either kept as they are or softened into softmax(z/T) (Hinton et al.).
// Computed in double precision from the nets' float outputs and stored as float, as Caffe stores blobs.

/** Adds a teacher's rows×dim logits into `sum`. */
export function accumulate(sum: Float64Array, logits: ArrayLike<number>, offset: number): void {
  for (let i = 0; i < logits.length; i++) sum[offset + i]! += logits[i]!;
}

/** Each row of `z` (rows of `dim`) softened: exp(z/T) / Σ exp(z/T), the maximum subtracted first. */
export function softmaxRows(z: ArrayLike<number>, dim: number, temperature: number): Float32Array {
  const out = new Float32Array(z.length);
  const row = new Float64Array(dim);
  for (let r = 0; r * dim < z.length; r++) {
    let max = -Infinity;
    for (let j = 0; j < dim; j++) max = Math.max(max, (row[j] = z[r * dim + j]! / temperature));
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += row[j] = Math.exp(row[j]! - max);
    for (let j = 0; j < dim; j++) out[r * dim + j] = row[j]! / sum;
  }
  return out;
}

/** The values to store for rows of summed logits of `teachers` teachers. */
export function targetValues(sum: Float64Array, teachers: number, dim: number, temperature: number | undefined): Float32Array {
  const mean = sum.map((v) => v / teachers);
  return temperature === undefined ? Float32Array.from(mean) : softmaxRows(mean, dim, temperature);
}
