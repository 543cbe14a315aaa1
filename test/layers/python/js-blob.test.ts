// The pycaffe-like blob a ported layer sees.
import { describe, expect, it } from 'vitest';
import { JsBlob, newBlobVec } from '../../../src/layers/python/js-blob.js';

describe('JsBlob', () => {
  it('reshapes like pycaffe (dims or one array) and reports count, shape and the legacy axes', () => {
    const b = new JsBlob("top[0] 'data'");
    expect(JsBlob.hasShape(b)).toBe(false);
    expect(b.count).toBe(0);
    b.reshape(2, 3, 4, 5);
    expect(JsBlob.hasShape(b)).toBe(true);
    expect(b.shape).toEqual([2, 3, 4, 5]);
    expect([b.count, b.num, b.channels, b.height, b.width, b.num_axes]).toEqual([120, 2, 3, 4, 5, 4]);
    expect(b.data).toBeInstanceOf(Float32Array);
    expect(b.data.length).toBe(120);
    expect(b.diff.length).toBe(120);
    b.reshape([6, 7]);
    expect([b.count, b.num, b.channels, b.height, b.width]).toEqual([42, 6, 7, 1, 1]);
    b.reshape();
    expect(b.shape).toEqual([]);
    expect(b.count).toBe(1);
  });

  it('keeps contents when the count does not change and starts from zeros when it does', () => {
    const b = new JsBlob('blob');
    b.reshape(2, 3);
    b.data[5] = 7;
    b.reshape(3, 2);
    expect(b.data[5]).toBe(7);
    b.reshape(4, 2);
    expect(Array.from(b.data)).toEqual(new Array(8).fill(0));
  });

  it('copies assigned arrays into data and diff and checks their length', () => {
    const b = new JsBlob("top[1] 'label'");
    b.reshape(3);
    const before = b.data;
    b.data = [1, 2, 3];
    b.diff = new Float64Array([4, 5, 6]);
    expect(b.data).toBe(before);
    expect(Array.from(b.data)).toEqual([1, 2, 3]);
    expect(Array.from(b.diff)).toEqual([4, 5, 6]);
    expect(() => (b.data = [1, 2])).toThrow("top[1] 'label'.data: 2 values given for shape [3] (3 values)");
    expect(() => (b.data = 5 as unknown as number[])).toThrow('must be set to an array of numbers');
  });

  it('rejects dimensions that are not non-negative integers', () => {
    const b = new JsBlob('blob');
    expect(() => b.reshape(2, -1)).toThrow('blob.reshape(2, -1): every dimension must be a non-negative integer');
    expect(() => b.reshape(2.5)).toThrow('non-negative integer');
    expect(() => b.reshape('3' as unknown as number)).toThrow('non-negative integer');
  });

  it('locks a parameter blob to its shape', () => {
    const b = new JsBlob('param blob 0');
    b.reshape(2, 2);
    JsBlob.lockShape(b);
    b.reshape(2, 2);
    expect(() => b.reshape(4)).toThrow('param blob 0 has shape [2, 2] from setup and cannot be reshaped to [4]');
  });

  it('add_blob appends shaped parameter blobs to a list', () => {
    const blobs = newBlobVec();
    const w = blobs.add_blob(3, 2);
    blobs.add_blob(2);
    expect(blobs).toHaveLength(2);
    expect(blobs[0]).toBe(w);
    expect(w.shape).toEqual([3, 2]);
    expect(blobs[1]!.label).toBe('param blob 1');
    expect(Object.keys(blobs)).toEqual(['0', '1']);
  });
});
