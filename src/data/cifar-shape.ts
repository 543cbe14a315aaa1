// CIFAR-10's image shape (3×32×32) from a grey image of at most 32×32: the image is centred on a black 32×32
// canvas (Fashion-MNIST's background is black) and the same plane is copied into the three channels, so
// nets written for CIFAR-10 run on a small grey data set unchanged.
import { KdnetError } from '../errors.js';

export const CIFAR_SIZE = 32;
export const CIFAR_CHANNELS = 3;

export interface ShapedImage {
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
}

export function greyToCifarShape(grey: Uint8Array, rows: number, cols: number): ShapedImage {
  if (rows > CIFAR_SIZE || cols > CIFAR_SIZE) throw new KdnetError(`a ${rows}×${cols} image does not fit CIFAR-10's 32×32 without resizing`);
  const plane = CIFAR_SIZE * CIFAR_SIZE;
  const data = new Uint8Array(CIFAR_CHANNELS * plane);
  const top = Math.floor((CIFAR_SIZE - rows) / 2);
  const left = Math.floor((CIFAR_SIZE - cols) / 2);
  for (let y = 0; y < rows; y++) data.set(grey.subarray(y * cols, (y + 1) * cols), (top + y) * CIFAR_SIZE + left);
  data.copyWithin(plane, 0, plane);
  data.copyWithin(2 * plane, 0, plane);
  return { channels: CIFAR_CHANNELS, height: CIFAR_SIZE, width: CIFAR_SIZE, data };
}
