// Image resizing as Caffe gets it from OpenCV's cv::resize with INTER_LINEAR on 8-bit images: half-pixel
// centres, 11-bit fixed-point weights, edge pixels clamped, the SSE2 row blend's rounding, and an exact 2×
// shrink done as a 2×2 average (OpenCV switches to INTER_AREA there). sharp's resize smooths and shifts
// differently, so it is not used where Caffe's pixels are the reference.
import type { ImagePixels } from './image.js';

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface Taps {
  index: Int32Array;
  /** Fixed-point weights of the pixel at `index` and the next one. */
  w0: Int32Array;
  w1: Int32Array;
}

/** Horizontal source taps, clamped at both edges as OpenCV's horizontal pass does. */
function taps(src: number, dst: number): Taps {
  const scale = src / dst;
  const index = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= src - 1) {
      s = src - 1;
      f = 0;
    }
    index[d] = s;
    w0[d] = Math.round(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = Math.round(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

/** (x·b) >> 16 on 16-bit lanes, as _mm_mulhi_epi16. */
function mulhi(x: number, b: number): number {
  return Math.floor((x * b) / 65536);
}

function areaHalf(px: ImagePixels, height: number, width: number): ImagePixels {
  const { channels, width: sw } = px;
  const out = new Uint8Array(channels * height * width);
  const sPlane = px.height * sw;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const s = c * sPlane + 2 * y * sw + 2 * x;
        const sum = px.data[s]! + px.data[s + 1]! + px.data[s + sw]! + px.data[s + sw + 1]!;
        out[(c * height + y) * width + x] = (sum + 2) >> 2;
      }
    }
  }
  return { channels, height, width, data: out };
}

export function resizeLinear(px: ImagePixels, height: number, width: number): ImagePixels {
  const { channels, height: sh, width: sw, data } = px;
  if (sh === height && sw === width) return { channels, height, width, data: Uint8Array.from(data) };
  if (sw === 2 * width && sh === 2 * height) return areaHalf(px, height, width);
  const xs = taps(sw, width);
  const out = new Uint8Array(channels * height * width);
  const row0 = new Int32Array(width);
  const row1 = new Int32Array(width);
  const horizontal = (plane: number, y: number, row: Int32Array) => {
    const base = plane + Math.min(Math.max(y, 0), sh - 1) * sw;
    for (let x = 0; x < width; x++) {
      const s = xs.index[x]!;
      row[x] = s + 1 < sw ? data[base + s]! * xs.w0[x]! + data[base + s + 1]! * xs.w1[x]! : data[base + s]! * COEF_SCALE;
    }
  };
  for (let c = 0; c < channels; c++) {
    const plane = c * sh * sw;
    for (let y = 0; y < height; y++) {
      // Vertical taps are not clamped up front: the rows are (OpenCV's vertical pass).
      const f = Math.fround((y + 0.5) * (sh / height) - 0.5);
      const s = Math.floor(f);
      const fy = Math.fround(f - s);
      const b0 = Math.round(Math.fround(1 - fy) * COEF_SCALE);
      const b1 = Math.round(fy * COEF_SCALE);
      horizontal(plane, s, row0);
      horizontal(plane, s + 1, row1);
      const o = (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        const v = (mulhi(row0[x]! >> 4, b0) + mulhi(row1[x]! >> 4, b1) + 2) >> 2;
        out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { channels, height, width, data: out };
}
