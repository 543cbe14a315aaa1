// WindowData: window file parsing, foreground/background sampling, crops with context padding, square mode,
// zero padding outside the image, mirroring, mean values and mean files, scale, and errors naming the line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../../src/backend/select.js';
import { Net } from '../../../src/net/net.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { encodeImage } from '../../../src/data/image.js';
import { writeMeanFile } from '../../../src/data/mean.js';
import { placeWindow } from '../../../src/data/feed/windows.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-windows-'));
const W = 10;
const H = 8;
/** The test image's BGR value at channel c, row y, column x (all distinct per position and channel). */
const px = (c: number, y: number, x: number) => (c * 80 + y * 10 + x + 3) & 255;

const nets: Net[] = [];
afterAll(() => {
  nets.splice(0).forEach((n) => n.dispose());
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await initBackend('cpu', true);
  const data = Uint8Array.from({ length: 3 * H * W }, (_, i) => px(Math.floor(i / (H * W)), Math.floor((i % (H * W)) / W), i % W));
  fs.writeFileSync(path.join(dir, 'a.png'), await encodeImage({ channels: 3, height: H, width: W, data }, 'png'));
  // A second image of one colour (B 40, G 50, R 60).
  const solid = Uint8Array.from({ length: 3 * 6 * 6 }, (_, i) => 40 + 10 * Math.floor(i / 36));
  fs.writeFileSync(path.join(dir, 'b.png'), await encodeImage({ channels: 3, height: 6, width: 6, data: solid }, 'png'));
});

/** Writes a window file: blocks of [image, windows "class overlap x1 y1 x2 y2"]. */
function windowFile(name: string, blocks: [string, string[]][]): string {
  const text = blocks.map(([img, ws], i) => `# ${i}\n${img}\n3\n${H}\n${W}\n${ws.length}\n${ws.join('\n')}\n`).join('');
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function windowNet(file: string, param: string, transform: string, seed = 3): Net {
  const text = `layer { name: "data" type: "WindowData" top: "data" top: "label"
    transform_param { ${transform} }
    window_data_param { source: "${file}" root_folder: "${dir}/" ${param} } }`;
  const net = new Net(parseCaffeText(text, 'NetParameter', 'n.prototxt').message, { phase: 0, seed });
  nets.push(net);
  return net;
}

function batch(net: Net): { data: number[]; labels: number[]; shape: number[] } {
  net.forward();
  return { data: Array.from(net.blob('data').dataSync()), labels: Array.from(net.blob('label').dataSync()), shape: net.blobShape('data')! };
}

/** crop×crop×3 output from f(c, h, w), as float32. */
function expected(crop: number, f: (c: number, h: number, w: number) => number): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (let h = 0; h < crop; h++) for (let w = 0; w < crop; w++) out.push(Math.fround(f(c, h, w)));
  return out;
}

const item = (data: number[], i: number, crop: number) => data.slice(i * 3 * crop * crop, (i + 1) * 3 * crop * crop);

describe('WindowData layer', () => {
  it('warps a foreground window of crop_size exactly: BGR pixels minus mean_value, times scale, with its class', () => {
    const file = windowFile('fg.txt', [['a.png', ['7 0.9 2 1 5 4', '0 0.1 0 0 3 3']]]);
    const net = windowNet(file, 'batch_size: 3 fg_fraction: 1 scale: 0.5', 'crop_size: 4 mean_value: 10 mean_value: 20 mean_value: 30');
    const { data, labels, shape } = batch(net);
    expect(shape).toEqual([3, 3, 4, 4]);
    expect(labels).toEqual([7, 7, 7]);
    const want = expected(4, (c, h, w) => (px(c, 1 + h, 2 + w) - [10, 20, 30][c]!) * 0.5);
    for (let i = 0; i < 3; i++) expect(item(data, i, 4)).toEqual(want);
  });

  it('background windows get label 0; windows between the thresholds are dropped', () => {
    const file = windowFile('bg.txt', [['a.png', ['3 0.45 0 0 3 3', '5 0.2 4 2 7 5', '2 0.8 1 1 4 4']]]);
    const net = windowNet(file, 'batch_size: 4 fg_fraction: 0 fg_threshold: 0.5 bg_threshold: 0.3', 'crop_size: 4');
    const { data, labels } = batch(net);
    expect(labels).toEqual([0, 0, 0, 0]);
    const want = expected(4, (c, h, w) => px(c, 2 + h, 4 + w));
    for (let i = 0; i < 4; i++) expect(item(data, i, 4)).toEqual(want);
  });

  it('takes int(batch·fg_fraction) foreground windows (after the background ones), chosen at random', () => {
    const file = windowFile('mix.txt', [
      ['a.png', ['1 0.9 0 0 3 3', '2 0.7 1 1 4 4', '0 0.0 2 2 5 5']],
      ['b.png', ['3 0.6 0 0 3 3', '0 0.2 1 1 4 4']],
    ]);
    // 10 · 0.25 = 2.5: Caffe truncates to 2 foreground windows.
    const net = windowNet(file, 'batch_size: 10 fg_fraction: 0.25', 'crop_size: 4');
    const seen = new Set<number>();
    for (let b = 0; b < 8; b++) {
      const { labels } = batch(net);
      expect(labels.slice(0, 8)).toEqual(new Array(8).fill(0));
      for (const l of labels.slice(8)) {
        expect([1, 2, 3]).toContain(l);
        seen.add(l);
      }
    }
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('context_pad grows the window (Caffe rounding) so the context lands around it in the crop', () => {
    // 3×3 window at (2,2)-(4,4), crop 6, pad 1: scale 6/4, centre 3.5, half 2.25 → region (1,1)-(6,6), 6×6, no warp.
    const file = windowFile('ctx.txt', [['a.png', ['4 1 2 2 4 4']]]);
    const net = windowNet(file, 'batch_size: 2 fg_fraction: 1 context_pad: 1', 'crop_size: 6 mean_value: 1');
    const { data, labels } = batch(net);
    expect(labels).toEqual([4, 4]);
    expect(item(data, 0, 6)).toEqual(expected(6, (c, h, w) => px(c, 1 + h, 1 + w) - 1));
  });

  it('zero-pads where the padded window leaves the image (padding is 0, not −mean), and mirrors the padding', () => {
    // 3×3 window at (0,0)-(2,2): region (−1,−1)-(4,4) clipped to (0,0)-(4,4), 5×5 at offset 1 in the 6×6 crop.
    const file = windowFile('edge.txt', [['a.png', ['4 1 0 0 2 2']]]);
    const net = windowNet(file, 'batch_size: 16 fg_fraction: 1 context_pad: 1', 'crop_size: 6 mirror: true mean_value: 1');
    const plain = expected(6, (c, h, w) => (h >= 1 && w >= 1 ? px(c, h - 1, w - 1) - 1 : 0));
    // Mirrored: the region flipped, the padding moved to the right (pad_x2 = 0 here, so none on the left).
    const mirrored = expected(6, (c, h, w) => (h >= 1 && w < 5 ? px(c, h - 1, 4 - w) - 1 : 0));
    const { data } = batch(net);
    let nPlain = 0;
    let nMirrored = 0;
    for (let i = 0; i < 16; i++) {
      const got = item(data, i, 6);
      if (got.every((v, j) => v === plain[j])) nPlain++;
      else {
        expect(got).toEqual(mirrored);
        nMirrored++;
      }
    }
    expect(nPlain).toBeGreaterThan(0);
    expect(nMirrored).toBeGreaterThan(0);
  });

  it('square mode makes the window square around its centre (Caffe: 3×1 at (2,3) → (2,2)-(5,5))', () => {
    const file = windowFile('square.txt', [['a.png', ['6 1 2 3 4 3']]]);
    const net = windowNet(file, 'batch_size: 1 fg_fraction: 1 crop_mode: "square"', 'crop_size: 4');
    expect(batch(net).data).toEqual(expected(4, (c, h, w) => px(c, 2 + h, 2 + w)));
  });

  it('a mean file is indexed at (width − crop)/2 in both directions, plus the padding offset', () => {
    const mh = 5;
    const mw = 7;
    const mean = Float32Array.from({ length: 3 * mh * mw }, (_, i) => (i % 13) * 0.25);
    const meanFile = path.join(dir, 'mean.binaryproto');
    writeMeanFile(meanFile, { channels: 3, height: mh, width: mw, data: mean });
    const m = (c: number, y: number, x: number) => mean[(c * mh + y) * mw + x]!;
    const file = windowFile('meanfile.txt', [['a.png', ['7 0.9 2 1 5 4']]]);
    const net = windowNet(file, 'batch_size: 1 fg_fraction: 1 scale: 2', `crop_size: 4 mean_file: "${meanFile}"`);
    // mean_off = (7 − 4) / 2 = 1 for rows and columns alike.
    expect(batch(net).data).toEqual(expected(4, (c, h, w) => Math.fround(px(c, 1 + h, 2 + w) - m(c, 1 + h, 1 + w)) * 2));
  });

  it('warps other sizes bilinearly (a one-colour image stays one colour)', () => {
    const file = windowFile('warp.txt', [['b.png', ['2 1 1 1 3 4']]]);
    const net = windowNet(file, 'batch_size: 1 fg_fraction: 1', 'crop_size: 7');
    expect(batch(net).data).toEqual(expected(7, (c) => 40 + 10 * c));
  });

  it('cache_images reads the images once at set-up', async () => {
    const copy = path.join(dir, 'cached.png');
    fs.copyFileSync(path.join(dir, 'a.png'), copy);
    const file = windowFile('cache.txt', [['cached.png', ['7 0.9 2 1 5 4']]]);
    const net = windowNet(file, 'batch_size: 1 fg_fraction: 1 cache_images: true', 'crop_size: 4');
    fs.rmSync(copy);
    for (let i = 0; i < 6; i++) expect(batch(net).data).toEqual(expected(4, (c, h, w) => px(c, 1 + h, 2 + w)));
  });

  it('takes crop_size from window_data_param and scale from transform_param when only they set them', () => {
    const file = windowFile('legacy.txt', [['a.png', ['7 0.9 2 1 5 4']]]);
    const net = windowNet(file, 'batch_size: 1 fg_fraction: 1 crop_size: 4', 'scale: 0.25');
    expect(batch(net).data).toEqual(expected(4, (c, h, w) => px(c, 1 + h, 2 + w) * 0.25));
  });

  it('Caffe geometry: C rounding of negative halves and the mirrored padding', () => {
    // Width 5 at x1 0, crop 8, pad 2: centre 2.5, half·scale 5 → x1 round(−2.5) = −3 (not −2), x2 8; 12 wide.
    const p = placeWindow({ x1: 0, y1: 0, x2: 4, y2: 4 }, 20, 20, 8, 2, false, false);
    expect(p).toEqual({ x1: 0, y1: 0, x2: 8, y2: 8, width: 6, height: 6, padW: 2, padH: 2 });
    const m = placeWindow({ x1: 0, y1: 0, x2: 4, y2: 4 }, 20, 20, 8, 2, false, true);
    expect(m).toMatchObject({ padW: 0, padH: 2 });
    expect(typeof placeWindow({ x1: 8, y1: 0, x2: 12, y2: 3 }, 10, 8, 4, 0, false, false)).toBe('string');
  });
});

describe('WindowData errors', () => {
  const fails = (file: string, param = 'batch_size: 2 fg_fraction: 1', transform = 'crop_size: 4') => {
    let error: unknown;
    try {
      windowNet(file, param, transform);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).not.toMatch(/internal error|\n\s+at /);
    return message;
  };

  it('names the window file and line of a missing image', () => {
    const file = windowFile('missing.txt', [
      ['a.png', ['7 0.9 2 1 5 4']],
      ['nope.png', ['7 0.9 2 1 5 4']],
    ]);
    expect(fails(file)).toMatch(/missing\.txt:9: .*nope\.png: cannot read the image \(no such file\)/);
  });

  it('names the line of a malformed window', () => {
    const file = path.join(dir, 'bad.txt');
    fs.writeFileSync(file, '# 0\na.png\n3\n8\n10\n3\n7 0.9 2 1 5 4\n7 0.9 2 x 5 4\n0 0.1 0 0 3 3\n');
    expect(fails(file)).toMatch(/bad\.txt:8: expected an integer y1, got "x"/);
    fs.writeFileSync(file, '# 0\na.png\n3\n8\n10\n2\n7 0.9 2 1 5\n0 0.1 0 0 3 3\n');
    expect(fails(file)).toMatch(/bad\.txt:7: a window is "class_index overlap x1 y1 x2 y2" on one line, got "7 0.9 2 1 5"/);
    fs.writeFileSync(file, '# 0\na.png\n3\n8\n10\n1\n7 0.9 2 1 5 4\n0 0.1 0 0 3 3\n');
    expect(fails(file)).toMatch(/bad\.txt:8: expected "# image_index" starting an image block, got "0"/);
    fs.writeFileSync(file, '# 0\na.png\n3\n8\n10\n1\n0 0.9 2 1 5 4\n');
    expect(fails(file)).toMatch(/bad\.txt:7: a foreground window .* needs a class index > 0, got 0/);
    fs.writeFileSync(file, '# 0\na.png\n1\n8\n10\n1\n7 0.9 2 1 5 4\n');
    expect(fails(file)).toMatch(/bad\.txt:3: channels is 1, but WindowData reads every image as 3-channel colour/);
    fs.writeFileSync(file, '# 1\na.png\n3\n8\n10\n1\n7 0.9 2 1 5 4\n');
    expect(fails(file)).toMatch(/bad\.txt:1: image_index 1 is not one of the 1 listed images/);
  });

  it('names the line of a window outside its image', () => {
    const file = windowFile('outside.txt', [['a.png', ['7 0.9 6 1 10 4']]]);
    expect(fails(file)).toMatch(/outside\.txt:7: window 6 1 10 4 of .*a\.png: the window is not inside the 10×8 image/);
  });

  it('wants windows of the kind the batch asks for, crop_size, and a sensible context_pad', () => {
    const file = windowFile('onlyfg.txt', [['a.png', ['7 0.9 2 1 5 4']]]);
    expect(fails(file, 'batch_size: 4 fg_fraction: 0.5')).toMatch(/onlyfg\.txt: no background windows/);
    expect(fails(file, 'batch_size: 4', '')).toMatch(/crop_size > 0/);
    expect(fails(file, 'batch_size: 4 context_pad: 2')).toMatch(/context_pad 2 leaves no room/);
  });
});
