import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, kvBytes, range, step, valueAt } from '../test/kv-fixtures.js';
import { CacheArgumentError, CacheCropError } from './errors.js';
import { SlidingWindowLayerCache } from './sliding-window-layer-cache.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/**
 * HF's DynamicSlidingWindowLayer written out on position lists: an update attends to the stored
 * positions plus the new ones and then stores the last `window - 1` of them; `get_mask_sizes`
 * (computed before the update) gives kv_offset and kv_length.
 */
class HfSlidingWindowReference {
  stored: number[] = [];
  cumulativeLength = 0;
  constructor(readonly window: number) {}

  update(positions: readonly number[]): { attended: number[]; kvOffset: number; kvLength: number } {
    const queryLength = positions.length;
    const isFull = this.cumulativeLength >= this.window;
    const kvOffset = Math.max(this.cumulativeLength - this.window + 1, 0);
    const kvLength = isFull ? this.window - 1 + queryLength : this.cumulativeLength + queryLength;
    this.cumulativeLength += queryLength;
    const attended = [...this.stored, ...positions];
    this.stored = this.window > 1 ? attended.slice(-(this.window - 1)) : [];
    return { attended, kvOffset, kvLength };
  }
}

function expectLikeHf(
  cache: SlidingWindowLayerCache,
  reference: HfSlidingWindowReference,
  positions: readonly number[],
  rows: readonly number[] = [0, 1],
) {
  const { attended, kvOffset, kvLength } = reference.update(positions);
  const returned = step(cache, positions, rows);
  expect(returned.keys).toEqual(expectedData(attended, rows, keyAt));
  expect(returned.values).toEqual(expectedData(attended, rows, valueAt));
  expect(returned).toMatchObject({ keyStart: kvOffset, keyLength: kvLength });
  expect(cache.getSeqLength()).toBe(reference.cumulativeLength);
  expect(cache.bytes()).toBe(kvBytes(reference.stored.length, rows.length));
  return returned;
}

describe('SlidingWindowLayerCache', () => {
  it('matches HF over 22 decode steps: keeps window - 1 positions in blocks of at most blockSize', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(8, { blockSize: 3 });
      const reference = new HfSlidingWindowReference(8);
      let previous = expectLikeHf(cache, reference, range(0, 2));
      for (let position = 2; position < 24; position++) {
        const returned = expectLikeHf(cache, reference, [position]);
        for (const length of returned.blockLengths) expect(length).toBeLessThanOrEqual(3);
        // Only the oldest block (cut) and the newest (appended to) change: the middle ones are not copied.
        for (const id of returned.keyIds.slice(1, -1)) expect(previous.keyIds).toContain(id);
        previous = returned;
      }
      cache.dispose();
      expect(cache.bytes()).toBe(0);
    });
  });

  it('returns the whole of a prefill longer than the window, stores its tail split into blocks, then decodes', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(5, { blockSize: 3 });
      const reference = new HfSlidingWindowReference(5);
      const prefill = expectLikeHf(cache, reference, range(0, 12));
      expect(prefill).toMatchObject({ keyStart: 0, keyLength: 12, blockLengths: [12] });
      const first = expectLikeHf(cache, reference, [12]);
      expect(first).toMatchObject({ keyStart: 8, keyLength: 5, blockLengths: [3, 2] });
      for (let position = 13; position < 20; position++) {
        const returned = expectLikeHf(cache, reference, [position]);
        for (const length of returned.blockLengths) expect(length).toBeLessThanOrEqual(3);
      }
      // A chat continuation after the window is full: stored positions plus every new one.
      expect(expectLikeHf(cache, reference, range(20, 4))).toMatchObject({ keyStart: 16, keyLength: 8 });
      expectLikeHf(cache, reference, [24]);
      cache.dispose();
    });
  });

  it('with a window of 1 stores nothing and attends to the new tokens only', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(1);
      const reference = new HfSlidingWindowReference(1);
      expectLikeHf(cache, reference, range(0, 3));
      expect(expectLikeHf(cache, reference, [3])).toMatchObject({ keyStart: 3, keyLength: 1 });
      cache.dispose();
    });
  });

  it('crops while nothing was dropped and refuses a crop that needs dropped tokens', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(5, { blockSize: 3 });
      step(cache, range(0, 4));
      cache.crop(2);
      expect(cache.getSeqLength()).toBe(2);
      const reference = new HfSlidingWindowReference(5);
      reference.update(range(0, 2));
      expectLikeHf(cache, reference, range(2, 3));
      expect(cache.getSeqLength()).toBe(5);
      expect(() => cache.crop(4)).toThrow(CacheCropError);
      expect(() => cache.crop(4)).toThrow(/the window of 5 already dropped the oldest 1/);
      expect(cache.minCropLength()).toBe(5);
      cache.crop(5);
      cache.crop(50);
      expect(() => cache.crop(-1)).toThrow(CacheArgumentError);
      expectLikeHf(cache, reference, [5]);
      cache.dispose();
    });
  });

  it('starts over on a crop to 0, even after dropping tokens', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(3, { blockSize: 2 });
      step(cache, range(0, 6));
      expect(cache.minCropLength()).toBe(6);
      cache.crop(0);
      expect([cache.getSeqLength(), cache.bytes(), cache.minCropLength()]).toEqual([0, 0, 0]);
      const reference = new HfSlidingWindowReference(3);
      expectLikeHf(cache, reference, range(0, 4));
      cache.dispose();
    });
  });

  it('reorders the kept rows with repeated indices', async () => {
    await expectNoLeak(() => {
      const cache = new SlidingWindowLayerCache(4, { blockSize: 2 });
      const reference = new HfSlidingWindowReference(4);
      expectLikeHf(cache, reference, range(0, 6));
      expectLikeHf(cache, reference, [6]);
      const indices = [1, 0, 1, 1];
      cache.reorder(indices);
      expectLikeHf(cache, reference, [7], [1, 0, 1, 1]);
      expectLikeHf(cache, reference, [8], [1, 0, 1, 1]);
      cache.dispose();
    });
  });

  it('rejects a window that is not a positive integer', () => {
    for (const window of [0, -1, 2.5]) {
      expect(() => new SlidingWindowLayerCache(window)).toThrow(CacheArgumentError);
    }
    expect(() => new SlidingWindowLayerCache(0)).toThrow(/window must be an integer ≥ 1, got 0/);
  });
});
