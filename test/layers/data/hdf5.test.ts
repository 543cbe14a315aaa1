// HDF5Data on h5py's layout (`data`, `label` datasets listed in a text file) and HDF5Output writing it back.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../../src/backend/select.js';
import { hdf5Ready, readHdf5Datasets } from '../../../src/data/hdf5-file.js';
import { writeH5 } from '../../support/h5.js';
import { netFromText, tempDir } from '../../support/data.js';

const dir = tempDir();
const rows = (n: number, offset: number) => Float32Array.from({ length: n * 2 * 3 }, (_, i) => offset + i / 4);

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  await writeH5(path.join(dir, 'a.h5'), { data: { data: rows(4, 0), shape: [4, 2, 3] }, label: { data: Float32Array.of(0, 1, 2, 3), shape: [4] } });
  await writeH5(path.join(dir, 'b.h5'), { data: { data: rows(2, 100), shape: [2, 2, 3] }, label: { data: Float32Array.of(4, 5), shape: [2] } });
  fs.writeFileSync(path.join(dir, 'list.txt'), 'a.h5\nb.h5\n');
});

describe('HDF5Data', () => {
  it('reads rows across the listed files in order, wrapping around', () => {
    const net = netFromText(`layer { name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/list.txt" batch_size: 4 } }`);
    net.forward();
    expect(net.blobShape('data')).toEqual([4, 2, 3]);
    expect(Array.from(net.blob('data').dataSync())).toEqual(Array.from(rows(4, 0)));
    net.forward();
    expect(Array.from(net.blob('label').dataSync())).toEqual([4, 5, 0, 1]);
    expect(Array.from(net.blob('data').dataSync()).slice(0, 12)).toEqual(Array.from(rows(2, 100)));
  });

  it('shuffle: every row once per epoch, each with its own label, in a seeded order', () => {
    const text = `layer { name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/list.txt" batch_size: 6 shuffle: true } }`;
    const orders: number[][] = [];
    for (const seed of [1, 2, 3]) {
      const net = netFromText(text, 0, seed);
      net.forward();
      const labels = Array.from(net.blob('label').dataSync());
      const data = Array.from(net.blob('data').dataSync());
      expect([...labels].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      labels.forEach((l, i) => expect(data[i * 6]).toBe(l < 4 ? l * 1.5 : 100 + (l - 4) * 1.5));
      orders.push(labels);
      net.dispose();
    }
    expect(new Set(orders.map((o) => o.join())).size).toBeGreaterThan(1);
  });

  it('a truncated HDF5 file is one error naming the file', async () => {
    const whole = fs.readFileSync(path.join(dir, 'a.h5'));
    fs.writeFileSync(path.join(dir, 'cut.h5'), whole.subarray(0, Math.floor(whole.length / 2)));
    fs.writeFileSync(path.join(dir, 'cut.txt'), 'cut.h5\n');
    expect(() => netFromText(`layer { name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/cut.txt" batch_size: 1 } }`)).toThrow(
      /cut\.h5/,
    );
  });
});

describe('HDF5Output', () => {
  it('writes every batch it sees as `data` and `label`, readable as HDF5Data input again', () => {
    const out = path.join(dir, 'out.h5');
    const net = netFromText(`
      layer { name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${dir}/list.txt" batch_size: 3 } }
      layer { name: "o" type: "HDF5Output" bottom: "data" bottom: "label" hdf5_output_param { file_name: "${out}" } }`);
    net.forward();
    net.forward();
    const back = readHdf5Datasets(out, ['data', 'label'], 'test');
    expect(back.get('data')!.shape).toEqual([6, 2, 3]);
    expect(Array.from(back.get('label')!.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(back.get('data')!.data)).toEqual([...rows(4, 0), ...rows(2, 100)]);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
