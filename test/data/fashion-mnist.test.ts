// The embedded default data set: LMDBs from the shipped subset, from a local IDX folder (--full), or
// downloaded (here from a local HTTP server serving the subset's files) into a cache; offline is one error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildFashionMnist, SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { dbInfo } from '../../src/data/tools/index.js';
import { tempDir } from '../support/data.js';

const dir = tempDir('kdnet-fmnist-');
let server: http.Server;
let url = '';
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url!);
    const file = path.join(SUBSET_DIR, path.basename(req.url!));
    if (req.url!.lastIndexOf('/') !== 0 || !fs.existsSync(file)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => server.close());

describe('kdnet data fashion-mnist', () => {
  it('--full from a local IDX folder', async () => {
    const r = await buildFashionMnist({ outDir: path.join(dir, 'local'), full: true, localDirs: [SUBSET_DIR] });
    expect(r.source).toBe(SUBSET_DIR);
    expect(r.counts).toEqual({ train: 10000, test: 2000 });
    expect((await dbInfo(r.databases.train)).count).toBe(10000);
  });

  it('--full downloads into the cache when no local copy exists, then reuses it', async () => {
    const cacheDir = path.join(dir, 'cache');
    const r = await buildFashionMnist({ outDir: path.join(dir, 'dl'), full: true, localDirs: [], cacheDir, url });
    expect(r.source).toBe(cacheDir);
    expect(requests.sort()).toEqual(['/t10k-images-idx3-ubyte.gz', '/t10k-labels-idx1-ubyte.gz', '/train-images-idx3-ubyte.gz', '/train-labels-idx1-ubyte.gz']);
    expect((await dbInfo(r.databases.test)).labels.get(3)).toBe(200);
    requests.length = 0;
    // A rebuild replaces the databases and downloads nothing.
    await buildFashionMnist({ outDir: path.join(dir, 'dl'), full: true, localDirs: [], cacheDir, url });
    expect(requests).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'dl')).sort()).toEqual(['fashion_test_lmdb', 'fashion_train_lmdb']);
  });

  it('offline: one clear error, nothing built', async () => {
    const err = await buildFashionMnist({ outDir: path.join(dir, 'off'), full: true, localDirs: [], cacheDir: path.join(dir, 'c2'), url: `${url}missing/` }).catch((e) => e);
    expect(err.message).toMatch(/cannot download Fashion-MNIST from .*missing\/ \(HTTP 404\); install Debian's dataset-fashion-mnist/);
    expect(fs.existsSync(path.join(dir, 'off', 'fashion_train_lmdb'))).toBe(false);
  });
});
