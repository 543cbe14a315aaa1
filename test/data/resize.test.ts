// Resizing matches OpenCV's cv::resize(INTER_LINEAR) on 8-bit images bit for bit: the expected pixels below
// were produced by OpenCV 4.6 (Debian's python3-opencv) from the same sources.
import { describe, expect, it } from 'vitest';
import { resizeLinear } from '../../src/data/resize.js';

function source(h: number, w: number) {
  return { channels: 1, height: h, width: w, data: Uint8Array.from({ length: h * w }, (_, i) => (i * 37 + 11) % 256) };
}

describe('resizeLinear (OpenCV INTER_LINEAR)', () => {
  it('shrinks with OpenCV\'s weights and rounding', () => {
    expect(Array.from(resizeLinear(source(6, 5), 4, 3).data)).toEqual([70, 67, 129, 155, 153, 86, 91, 110, 172, 177, 196, 65]);
  });

  it('enlarges with half-pixel centres and clamped edges', () => {
    expect(Array.from(resizeLinear(source(3, 4), 7, 9).data)).toEqual([
      11, 17, 34, 50, 66, 83, 99, 116, 122, 32, 38, 55, 71, 87, 104, 106, 106, 107, 95, 102, 118, 134, 151, 167, 127, 78, 60, 159, 165, 182, 198, 215,
      231, 148, 50, 14, 113, 119, 135, 152, 168, 184, 144, 96, 77, 66, 72, 89, 105, 122, 138, 140, 141, 141, 51, 57, 74, 90, 106, 123, 139, 156, 162,
    ]);
  });

  it('an exact 2× shrink averages 2×2 blocks (OpenCV switches to INTER_AREA)', () => {
    expect(Array.from(resizeLinear(source(8, 6), 4, 3).data)).toEqual([77, 87, 161, 201, 83, 93, 133, 207, 89, 65, 139, 213]);
  });

  it('the same size is a copy', () => {
    const s = source(3, 3);
    expect(Array.from(resizeLinear(s, 3, 3).data)).toEqual(Array.from(s.data));
  });
});
