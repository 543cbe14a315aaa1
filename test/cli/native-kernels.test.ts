// The kernel set as a user sees it: the start-up line, `kdnet device_query`, `--threads`.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { nativeStatus } from '../../src/backend/native/addon.js';

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

describe('native kernels on the command line', () => {
  it('device_query reports the kernel set and the threads of each', async () => {
    const r = await run('device_query', '--backend', 'wasm', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    if (nativeStatus().loaded) {
      expect(r.stdout).toMatch(/^kernels +native: BatchMatMul, Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, MaxPool, MaxPoolGrad, (Kdnet|Caffe)[\w, ]+ \(convolutions and pooling on oneDNN [\d.]+, matmul on .*sgemm; 1 thread, from --threads\); wasm for the rest$/m);
      for (const name of ['KdnetConvolution', 'KdnetConvolutionBackpropInput', 'KdnetConvolutionBackpropFilter', 'KdnetGemm', 'CaffeMaxPool', 'CaffeAvgPool', 'CaffeAvgPoolGrad']) {
        expect(r.stdout).toMatch(new RegExp(`^kernels .*[:,] ${name}[,( ]`, 'm'));
      }
      expect(r.stdout).toMatch(/^threads +1 for wasm kernels, 1 for native kernels$/m);
    } else {
      expect(r.stdout).toMatch(/^kernels +wasm only: /m);
    }
  });

  it('--threads takes a whole number ≥ 1: anything else is one error, exit 1', async () => {
    for (const bad of ['0', 'two', '-1']) {
      const r = await run('device_query', '--backend', 'wasm', '--threads', bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--threads must be/);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });
});
