// Numbers in log lines as Caffe's glog/iostream prints floats: 6 significant digits, %g style.
import { formatG } from '../prototxt/number-format.js';

export function formatCaffeNumber(x: number): string {
  return formatG(x, 6);
}
