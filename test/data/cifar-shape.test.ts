// Fashion-MNIST in CIFAR-10's shape: each 28×28 grey image centred on a black 32×32 canvas, copied into 3
// channels; `kdnet data fashion-mnist --cifar-shape` writes the shipped subset that way.
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { greyToCifarShape } from '../../src/data/cifar-shape.js';
import { buildFashionMnist, SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { readIdx } from '../../src/data/idx.js';
import { dbInfo } from '../../src/data/tools/index.js';
import { openDbReader } from '../../src/data/db/index.js';
import { decodeDatum } from '../../src/data/datum.js';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { tempDir } from '../support/data.js';

const dir = tempDir('kdnet-cifar-shape-');

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('greyToCifarShape', () => {
  it('centres the image on black and copies it into the three planes', () => {
    const grey = Uint8Array.from({ length: 28 * 28 }, (_, i) => 1 + (i % 250));
    const s = greyToCifarShape(grey, 28, 28);
    expect([s.channels, s.height, s.width]).toEqual([3, 32, 32]);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          expect(s.data[c * 1024 + y * 32 + x]).toBe(inside ? grey[(y - 2) * 28 + (x - 2)] : 0);
        }
      }
    }
  });

  it('refuses an image larger than 32×32', () => {
    expect(() => greyToCifarShape(new Uint8Array(33 * 10), 33, 10)).toThrow(/33×10 image does not fit/);
  });
});

describe('kdnet data fashion-mnist --cifar-shape', () => {
  it('writes the shipped subset as 3×32×32 records with the IDX pixels and labels', async () => {
    const io = bufferIO();
    const out = path.join(dir, 'fm');
    expect(await runCli(['data', 'fashion-mnist', '--cifar-shape', '--out', out], io), io.stderr).toBe(0);
    const train = path.join(out, 'fashion_cifar_shape_train_lmdb');
    const test = path.join(out, 'fashion_cifar_shape_test_lmdb');
    expect(io.stdout).toContain(`10000 training and 2000 test images from ${SUBSET_DIR} in ${train} and ${test}`);
    const info = await dbInfo(test);
    expect(info.count).toBe(2000);
    expect(info.shape).toEqual([3, 32, 32]);
    expect([...info.labels.values()]).toEqual(new Array(10).fill(200));
    const images = readIdx(path.join(SUBSET_DIR, 't10k-images-idx3-ubyte.gz'));
    const labels = readIdx(path.join(SUBSET_DIR, 't10k-labels-idx1-ubyte.gz'));
    const reader = await openDbReader(test);
    let i = 0;
    for await (const { key, value } of reader.records()) {
      const d = decodeDatum(value, key.toString());
      expect(d.label).toBe(labels.data[i]);
      expect(Buffer.from(d.data).equals(Buffer.from(greyToCifarShape(images.data.subarray(i * 784, (i + 1) * 784), 28, 28).data))).toBe(true);
      if (++i === 5) break;
    }
    await reader.close();
  });
});
