// Straightforward loop implementations of Caffe's vision layers (written from Caffe's documented semantics),
// used to check kdnet's tfjs implementations on configurations the golden fixtures do not cover.

export interface Blob {
  shape: number[];
  data: Float32Array;
}

export interface Geometry {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
  group: number;
}

const FLT_MAX = 3.4028234663852886e38;

export function blob(shape: number[], f: (i: number) => number): Blob {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
}

/** Caffe convolution: x [N, C, H, W], w [O, C/g, kh, kw], b [O] or null. */
export function conv(x: Blob, w: Blob, b: Float32Array | null, g: Geometry): Blob {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const o = w.shape[0]!;
  const [kh, kw] = g.kernel;
  const oh = Math.floor((h + 2 * g.pad[0] - ((kh - 1) * g.dilation[0] + 1)) / g.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * g.pad[1] - ((kw - 1) * g.dilation[1] + 1)) / g.stride[1]) + 1;
  const cg = c / g.group;
  const og = o / g.group;
  const y = new Float32Array(n * o * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let oc = 0; oc < o; oc++) {
      const grp = Math.floor(oc / og);
      for (let yy = 0; yy < oh; yy++)
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? b[oc]! : 0;
          for (let ic = 0; ic < cg; ic++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const r = yy * g.stride[0] - g.pad[0] + i * g.dilation[0];
                const q = xx * g.stride[1] - g.pad[1] + j * g.dilation[1];
                if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                s += x.data[((b0 * c + grp * cg + ic) * h + r) * wd + q]! * w.data[((oc * cg + ic) * kh + i) * kw + j]!;
              }
          y[((b0 * o + oc) * oh + yy) * ow + xx] = s;
        }
    }
  return { shape: [n, o, oh, ow], data: y };
}

/** Caffe deconvolution: x [N, C, H, W], w [C, O/g, kh, kw], b [O] or null; O = w.shape[1]·g. */
export function deconv(x: Blob, w: Blob, b: Float32Array | null, g: Geometry): Blob {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const og = w.shape[1]!;
  const o = og * g.group;
  const [kh, kw] = g.kernel;
  const oh = g.stride[0] * (h - 1) + (kh - 1) * g.dilation[0] + 1 - 2 * g.pad[0];
  const ow = g.stride[1] * (wd - 1) + (kw - 1) * g.dilation[1] + 1 - 2 * g.pad[1];
  const cg = c / g.group;
  const y = new Float32Array(n * o * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let ic = 0; ic < c; ic++) {
      const grp = Math.floor(ic / cg);
      for (let yy = 0; yy < h; yy++)
        for (let xx = 0; xx < wd; xx++) {
          const v = x.data[((b0 * c + ic) * h + yy) * wd + xx]!;
          for (let oc = 0; oc < og; oc++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const r = yy * g.stride[0] - g.pad[0] + i * g.dilation[0];
                const q = xx * g.stride[1] - g.pad[1] + j * g.dilation[1];
                if (r < 0 || r >= oh || q < 0 || q >= ow) continue;
                y[((b0 * o + grp * og + oc) * oh + r) * ow + q] += v * w.data[((ic * og + oc) * kh + i) * kw + j]!;
              }
        }
    }
  if (b) for (let i = 0; i < y.length; i++) y[i] += b[Math.floor(i / (oh * ow)) % o]!;
  return { shape: [n, o, oh, ow], data: y };
}

export interface PoolOptions {
  method: 'MAX' | 'AVE';
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  ceil?: boolean;
}

export function pooledSize(h: number, w: number, p: PoolOptions): [number, number] {
  const ceil = p.ceil !== false;
  return [0, 1].map((i) => {
    const size = i === 0 ? h : w;
    const span = (size + 2 * p.pad[i]! - p.kernel[i]!) / p.stride[i]!;
    let o = (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
    if ((p.pad[0] || p.pad[1]) && (o - 1) * p.stride[i]! >= size + p.pad[i]!) o--;
    return o;
  }) as [number, number];
}

/** Caffe pooling forward and the MAX mask, plus the backward of a given top diff. */
export function pool(x: Blob, p: PoolOptions, topDiff?: Blob): { y: Blob; mask: Blob; dx: Blob } {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = pooledSize(h, w, p);
  const y = new Float32Array(n * c * oh * ow);
  const mask = new Float32Array(n * c * oh * ow);
  const dx = new Float32Array(x.data.length);
  for (let pl = 0; pl < n * c; pl++)
    for (let yy = 0; yy < oh; yy++)
      for (let xx = 0; xx < ow; xx++) {
        const o = (pl * oh + yy) * ow + xx;
        let hs = yy * p.stride[0] - p.pad[0];
        let ws = xx * p.stride[1] - p.pad[1];
        let he = Math.min(hs + p.kernel[0], h + p.pad[0]);
        let we = Math.min(ws + p.kernel[1], w + p.pad[1]);
        const size = (he - hs) * (we - ws);
        hs = Math.max(hs, 0);
        ws = Math.max(ws, 0);
        he = Math.min(he, h);
        we = Math.min(we, w);
        const g = topDiff ? topDiff.data[o]! : 0;
        if (p.method === 'MAX') {
          let best = -FLT_MAX;
          let at = -1;
          for (let r = hs; r < he; r++)
            for (let q = ws; q < we; q++) {
              const v = x.data[(pl * h + r) * w + q]!;
              if (v > best) {
                best = v;
                at = r * w + q;
              }
            }
          y[o] = best;
          mask[o] = at;
          if (at >= 0) dx[pl * h * w + at] += g;
        } else {
          let s = 0;
          for (let r = hs; r < he; r++) for (let q = ws; q < we; q++) s += x.data[(pl * h + r) * w + q]!;
          y[o] = s / size;
          for (let r = hs; r < he; r++) for (let q = ws; q < we; q++) dx[(pl * h + r) * w + q] += g / size;
        }
      }
  const shape = [n, c, oh, ow];
  return { y: { shape, data: y }, mask: { shape, data: mask }, dx: { shape: x.shape, data: dx } };
}

/** Caffe im2col: [N, C, H, W] → [N, C·kh·kw, OH, OW]. */
export function im2col(x: Blob, g: Geometry): Blob {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = g.kernel;
  const oh = Math.floor((h + 2 * g.pad[0] - ((kh - 1) * g.dilation[0] + 1)) / g.stride[0]) + 1;
  const ow = Math.floor((w + 2 * g.pad[1] - ((kw - 1) * g.dilation[1] + 1)) / g.stride[1]) + 1;
  const y = new Float32Array(n * c * kh * kw * oh * ow);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let yy = 0; yy < oh; yy++)
            for (let xx = 0; xx < ow; xx++) {
              const r = yy * g.stride[0] - g.pad[0] + i * g.dilation[0];
              const q = xx * g.stride[1] - g.pad[1] + j * g.dilation[1];
              const v = r < 0 || r >= h || q < 0 || q >= w ? 0 : x.data[((b * c + ch) * h + r) * w + q]!;
              y[((((b * c + ch) * kh + i) * kw + j) * oh + yy) * ow + xx] = v;
            }
  return { shape: [n, c * kh * kw, oh, ow], data: y };
}

/** Caffe LRN forward. */
export function lrn(x: Blob, size: number, alpha: number, beta: number, k: number, within: boolean): Blob {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const y = new Float32Array(x.data.length);
  const r = (size - 1) / 2;
  const at = (b: number, ch: number, i: number, j: number) => x.data[((b * c + ch) * h + i) * w + j]!;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          let s = 0;
          let scale: number;
          if (!within) {
            for (let d = ch - r; d <= ch + r; d++) if (d >= 0 && d < c) s += at(b, d, i, j) ** 2;
            scale = k + (alpha / size) * s;
          } else {
            for (let di = i - r; di <= i + r; di++) for (let dj = j - r; dj <= j + r; dj++) if (di >= 0 && di < h && dj >= 0 && dj < w) s += at(b, ch, di, dj) ** 2;
            scale = 1 + (alpha * s) / (size * size);
          }
          y[((b * c + ch) * h + i) * w + j] = at(b, ch, i, j) * scale ** -beta;
        }
  return { shape: x.shape, data: y };
}
