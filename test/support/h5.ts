// Writes small HDF5 data sets (h5py's `data` / `label` layout) for tests, with h5wasm.
import h5wasm from 'h5wasm/node';

export async function writeH5(file: string, datasets: Record<string, { data: Float32Array; shape: number[] }>): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  try {
    for (const [name, d] of Object.entries(datasets)) f.create_dataset({ name, data: d.data, shape: d.shape });
  } finally {
    f.close();
  }
}

/** A deterministic toy classification set: class c lights up its own stripe of a 1×H×W image, plus noise. */
export function stripes(n: number, classes: number, h: number, w: number, seed = 1): { data: Float32Array; labels: Float32Array } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const data = new Float32Array(n * h * w);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const onStripe = Math.floor((x * classes) / w) === c;
        data[i * h * w + y * w + x] = (onStripe ? 0.8 : 0.1) + 0.2 * rnd();
      }
    }
  }
  return { data, labels };
}
