import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, kvBytes, range, step, tokens, valueAt } from '../test/kv-fixtures.js';
import { DynamicLayerCache } from './dynamic-layer-cache.js';
import { CacheArgumentError, CacheShapeError } from './errors.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('DynamicLayerCache', () => {
  it('grows by blocks: 22 decode steps return every token, copying at most the last block', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      let previous = step(cache, range(0, 3));
      expect(previous.blockLengths).toEqual([3]);
      for (let position = 3; position < 25; position++) {
        const returned = step(cache, [position]);
        const all = range(0, position + 1);
        expect(returned.keys).toEqual(expectedData(all, [0, 1], keyAt));
        expect(returned.values).toEqual(expectedData(all, [0, 1], valueAt));
        expect(returned).toMatchObject({ keyStart: 0, keyLength: position + 1 });
        // [3+1 = 4], then full blocks of 4 and a growing last block.
        const full = Math.floor((position + 1) / 4);
        const rest = (position + 1) % 4;
        expect(returned.blockLengths).toEqual([...Array(full).fill(4), ...(rest ? [rest] : [])]);
        // Only the last block is new: every earlier one is the very tensor returned before.
        const unchanged = returned.keyIds.length - 1;
        expect(returned.keyIds.slice(0, unchanged)).toEqual(previous.keyIds.slice(0, unchanged));
        expect(cache.getSeqLength()).toBe(position + 1);
        expect(cache.bytes()).toBe(kvBytes(position + 1));
        previous = returned;
      }
      cache.dispose();
      expect(cache.bytes()).toBe(0);
    });
  });

  it('keeps a long prefill as one block and starts a new block for a chunk that does not fit', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      expect(step(cache, range(0, 10)).blockLengths).toEqual([10]);
      expect(step(cache, [10]).blockLengths).toEqual([10, 1]);
      expect(step(cache, [11]).blockLengths).toEqual([10, 2]);
      const returned = step(cache, range(12, 3));
      expect(returned.blockLengths).toEqual([10, 2, 3]);
      expect(returned.keys).toEqual(expectedData(range(0, 15), [0, 1], keyAt));
      expect(step(cache, [15]).blockLengths).toEqual([10, 2, 4]);
      cache.dispose();
    });
  });

  it('uses 64-token blocks by default', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache();
      step(cache, range(0, 63));
      expect(step(cache, [63]).blockLengths).toEqual([64]);
      expect(step(cache, [64]).blockLengths).toEqual([64, 1]);
      cache.dispose();
    });
  });

  it('keeps its data when the caller disposes the tensors it passed in', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      const { key, value } = tokens(range(0, 2));
      tf.tidy(() => {
        cache.update(key, value);
      });
      key.dispose();
      value.dispose();
      expect(step(cache, [2]).keys).toEqual(expectedData(range(0, 3), [0, 1], keyAt));
      cache.dispose();
    });
  });

  it('crops inside a block, at a block boundary, to nothing, and not past its length', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      step(cache, [0]);
      for (let position = 1; position < 14; position++) step(cache, [position]);
      cache.crop(20);
      expect(cache.getSeqLength()).toBe(14);
      cache.crop(9);
      expect(cache.getSeqLength()).toBe(9);
      expect(cache.bytes()).toBe(kvBytes(9));
      const afterCrop = step(cache, [9]);
      expect(afterCrop.blockLengths).toEqual([4, 4, 2]);
      expect(afterCrop.keys).toEqual(expectedData(range(0, 10), [0, 1], keyAt));
      cache.crop(8);
      expect(step(cache, [8]).blockLengths).toEqual([4, 4, 1]);
      cache.crop(0);
      expect(cache.getSeqLength()).toBe(0);
      expect(cache.bytes()).toBe(0);
      expect(step(cache, [0]).keys).toEqual(expectedData([0], [0, 1], keyAt));
      cache.dispose();
    });
  });

  it('reorders rows with repeated indices, changing the batch size', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      step(cache, range(0, 6));
      step(cache, [6]);
      const indices = [1, 1, 0];
      cache.reorder(indices);
      const returned = step(cache, [7], [1, 1, 0]);
      expect(returned.keys).toEqual(expectedData(range(0, 8), [1, 1, 0], keyAt));
      expect(returned.values).toEqual(expectedData(range(0, 8), [1, 1, 0], valueAt));
      expect(cache.bytes()).toBe(kvBytes(8, 3));
      cache.dispose();
    });
  });

  it('reorders rows in runs, out of order and repeated, across several blocks', async () => {
    await expectNoLeak(() => {
      const rows = [0, 1, 2, 3, 4];
      const cache = new DynamicLayerCache({ blockSize: 2 });
      step(cache, range(0, 3), rows);
      step(cache, [3], rows);
      step(cache, [4], rows);
      cache.reorder([3, 4, 0, 1, 1, 2]);
      const order = [3, 4, 0, 1, 1, 2];
      const returned = step(cache, [5], order);
      expect(returned.blockLengths).toEqual([3, 2, 1]);
      expect(returned.keys).toEqual(expectedData(range(0, 6), order, keyAt));
      expect(returned.values).toEqual(expectedData(range(0, 6), order, valueAt));
      cache.reorder([1, 2, 3]);
      const kept = [4, 0, 1];
      const after = step(cache, [6], kept);
      expect(after.keys).toEqual(expectedData(range(0, 7), kept, keyAt));
      expect(cache.bytes()).toBe(kvBytes(7, 3));
      cache.dispose();
    });
  });

  it('rejects bad crop lengths, reorder indices and block sizes with typed errors', async () => {
    await expectNoLeak(() => {
      expect(() => new DynamicLayerCache({ blockSize: 0 })).toThrow(CacheArgumentError);
      const cache = new DynamicLayerCache();
      step(cache, range(0, 3));
      expect(() => cache.crop(-1)).toThrow(CacheArgumentError);
      expect(() => cache.crop(1.5)).toThrow(/crop length must be an integer ≥ 0, got 1.5/);
      expect(() => cache.reorder([0, 2])).toThrow(/reorder index 2 is outside the cache's 2 batch row/);
      expect(() => cache.reorder([0, 0.5])).toThrow(/reorder index 0.5 is outside/);
      expect(() => cache.reorder([])).toThrow(CacheArgumentError);
      expect(step(cache, [3]).keys).toEqual(expectedData(range(0, 4), [0, 1], keyAt));
      cache.dispose();
    });
  });

  it('rejects keys and values that do not fit each other or the earlier steps', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache();
      step(cache, range(0, 2));
      type Shape = [number, number, number, number];
      const attempt = (key: number[], value: number[], dtype: 'float32' | 'int32' = 'float32') =>
        tf.tidy(() => {
          cache.update(tf.zeros(key as Shape, dtype), tf.zeros(value as Shape));
        });
      expect(() => attempt([2, 2, 1, 3], [2, 2, 1, 4])).toThrow(
        /key \[2,2,1,3\] and value \[2,2,1,4\] differ/,
      );
      expect(() => attempt([2, 1, 3], [2, 1, 3])).toThrow(
        /key must be \[batch, kvHeads, newTokens, headDim\]/,
      );
      expect(() => attempt([2, 2, 1, 3], [2, 2, 1, 3], 'int32')).toThrow(/key must be float32/);
      expect(() => attempt([2, 2, 0, 3], [2, 2, 0, 3])).toThrow(/no new token/);
      for (const shape of [
        [3, 2, 1, 3],
        [2, 1, 1, 3],
        [2, 2, 1, 4],
      ]) {
        expect(() => attempt(shape, shape)).toThrow(CacheShapeError);
        expect(() => attempt(shape, shape)).toThrow(/do not fit the cached \[2,2,2,3\]/);
      }
      expect(cache.getSeqLength()).toBe(2);
      cache.dispose();
    });
  });
});
