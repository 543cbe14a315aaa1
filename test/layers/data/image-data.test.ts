// ImageData: "path label" lists, root_folder, resizing, gray loading, shuffling, and bad lines.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../../src/backend/select.js';
import { KdnetError } from '../../../src/errors.js';
import { netFromText, tempDir, writePngs } from '../../support/data.js';

const dir = tempDir();
const imgDir = path.join(dir, 'images');
let images: Uint8Array[] = [];

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.mkdirSync(imgDir);
  images = await writePngs(imgDir, 5, 3, 4, 6);
  fs.writeFileSync(path.join(dir, 'list.txt'), images.map((_, i) => `img${i}.png ${10 + i}`).join('\n') + '\n');
});

function imageNet(param: string, transform = '', phase = 0, seed = 3) {
  return netFromText(
    `layer { name: "data" type: "ImageData" top: "data" top: "label" ${transform ? `transform_param { ${transform} }` : ''}
      image_data_param { source: "${path.join(dir, 'list.txt')}" root_folder: "${imgDir}/" ${param} } }`,
    phase,
    seed,
  );
}

describe('ImageData layer', () => {
  it('reads the listed images (BGR) under root_folder with their labels, wrapping around', () => {
    const net = imageNet('batch_size: 3');
    net.forward();
    expect(net.blobShape('data')).toEqual([3, 3, 4, 6]);
    expect(Array.from(net.blob('label').dataSync())).toEqual([10, 11, 12]);
    expect(Array.from(net.blob('data').dataSync())).toEqual(images.slice(0, 3).flatMap((p) => Array.from(p)));
    net.forward();
    expect(Array.from(net.blob('label').dataSync())).toEqual([13, 14, 10]);
  });

  it('is_color: false loads gray; new_height/new_width resize; transform applies after', () => {
    const net = imageNet('batch_size: 2 is_color: false new_height: 2 new_width: 3', 'scale: 2');
    net.forward();
    expect(net.blobShape('data')).toEqual([2, 1, 2, 3]);
    const v = Array.from(net.blob('data').dataSync());
    expect(v.every((x) => x >= 0 && x <= 510 && Number.isInteger(x / 2))).toBe(true);
  });

  it('shuffle: every image once per epoch, in a seeded order', () => {
    const a = imageNet('batch_size: 5 shuffle: true', '', 0, 11);
    a.forward();
    const order = Array.from(a.blob('label').dataSync());
    expect([...order].sort()).toEqual([10, 11, 12, 13, 14]);
    const b = imageNet('batch_size: 5 shuffle: true', '', 0, 11);
    b.forward();
    expect(Array.from(b.blob('label').dataSync())).toEqual(order);
  });

  it('new_height without new_width is refused', () => {
    expect(() => imageNet('batch_size: 1 new_height: 4')).toThrow(/new_height and new_width must be set together/);
  });

  it('a line naming a missing image is one error naming the list file and line', () => {
    fs.writeFileSync(path.join(dir, 'bad.txt'), 'img0.png 0\nnot-there.png 1\n');
    let error: unknown;
    try {
      netFromText(`layer { name: "data" type: "ImageData" top: "data" top: "label" image_data_param { source: "${path.join(dir, 'bad.txt')}" root_folder: "${imgDir}/" batch_size: 2 } }`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KdnetError);
    expect((error as KdnetError).message).toMatch(/bad\.txt:2: .*not-there\.png: cannot decode the image \(no such file\)/);
  });

  it('a line without a label is refused with its line:column', () => {
    fs.writeFileSync(path.join(dir, 'nolabel.txt'), 'img0.png 0\nimg1.png\n');
    expect(() => netFromText(`layer { name: "d" type: "ImageData" top: "data" top: "label" image_data_param { source: "${path.join(dir, 'nolabel.txt')}" } }`)).toThrow(
      /nolabel\.txt:2:1: expected "path label", got "img1.png"/,
    );
  });

  it('resumes a shuffled list exactly, across epochs', () => {
    const a = imageNet('batch_size: 2 shuffle: true', 'mirror: true', 0, 8);
    for (let k = 0; k < 3; k++) a.forward();
    const state = JSON.parse(JSON.stringify(a.saveState()));
    const expected: number[][] = [];
    for (let k = 0; k < 4; k++) {
      a.forward();
      expected.push([...a.blob('label').dataSync(), ...a.blob('data').dataSync()]);
    }
    const b = imageNet('batch_size: 2 shuffle: true', 'mirror: true', 0, 1);
    b.restoreState(state);
    for (let k = 0; k < 4; k++) {
      b.forward();
      expect([...b.blob('label').dataSync(), ...b.blob('data').dataSync()]).toEqual(expected[k]);
    }
  });
});
