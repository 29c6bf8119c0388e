import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, kvBytes, range, step, tokens, valueAt } from '../test/kv-fixtures.js';
import { CacheArgumentError, CacheCapacityError } from './errors.js';
import { StaticLayerCache } from './static-layer-cache.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Slots 0..capacity-1: the written positions, then unwritten (zero) slots. */
function slots(written: number, capacity: number): (number | null)[] {
  return range(0, capacity).map((slot) => (slot < written ? slot : null));
}

describe('StaticLayerCache', () => {
  it('preallocates zero blocks and rewrites only the block each decode step touches', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(23, { blockSize: 4 });
      expect(cache.bytes()).toBe(0);
      let previous = step(cache, range(0, 3));
      expect(previous.blockLengths).toEqual([4, 4, 4, 4, 4, 3]);
      expect(previous.keys).toEqual(expectedData(slots(3, 23), [0, 1], keyAt));
      for (let position = 3; position < 23; position++) {
        const returned = step(cache, [position]);
        expect(returned).toMatchObject({ keyStart: 0, keyLength: 23, blockLengths: [4, 4, 4, 4, 4, 3] });
        expect(returned.keys).toEqual(expectedData(slots(position + 1, 23), [0, 1], keyAt));
        expect(returned.values).toEqual(expectedData(slots(position + 1, 23), [0, 1], valueAt));
        const touched = Math.floor(position / 4);
        returned.keyIds.forEach((id, block) => {
          if (block === touched) expect(id).not.toBe(previous.keyIds[block]);
          else expect(id).toBe(previous.keyIds[block]);
        });
        expect(cache.getSeqLength()).toBe(position + 1);
        expect(cache.bytes()).toBe(kvBytes(23));
        previous = returned;
      }
      cache.dispose();
      expect(cache.bytes()).toBe(0);
    });
  });

  it('writes a chunk that spans blocks', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(10, { blockSize: 4 });
      const before = step(cache, range(0, 3));
      const returned = step(cache, range(3, 5));
      expect(returned.keys).toEqual(expectedData(slots(8, 10), [0, 1], keyAt));
      expect(returned.keyIds[0]).not.toBe(before.keyIds[0]);
      expect(returned.keyIds[1]).not.toBe(before.keyIds[1]);
      expect(returned.keyIds[2]).toBe(before.keyIds[2]);
      cache.dispose();
    });
  });

  it('refuses a write past its capacity with a typed error naming the capacity', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(10, { blockSize: 4 });
      expect(() => step(cache, range(0, 11))).toThrow(CacheCapacityError);
      expect(cache.bytes()).toBe(0);
      step(cache, range(0, 9));
      step(cache, [9]);
      let error: unknown;
      try {
        step(cache, [10]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CacheCapacityError);
      expect(error).toMatchObject({ capacity: 10, position: 10, newTokens: 1 });
      expect((error as Error).message).toMatch(
        /holds at most 10 tokens: cannot write 1 token\(s\) at position 10/,
      );
      expect(cache.getSeqLength()).toBe(10);
      cache.dispose();
    });
  });

  it('crops by zeroing the slots after the cut and writing there next', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(10, { blockSize: 4 });
      step(cache, range(0, 8));
      cache.crop(9);
      expect(cache.getSeqLength()).toBe(8);
      cache.crop(3);
      expect(cache.getSeqLength()).toBe(3);
      expect(cache.bytes()).toBe(kvBytes(10));
      expect(step(cache, [3]).keys).toEqual(expectedData(slots(4, 10), [0, 1], keyAt));
      expect(() => cache.crop(-1)).toThrow(CacheArgumentError);
      cache.dispose();
    });
  });

  it('reorders rows with repeated indices and keeps writing at the same position', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(6, { blockSize: 4 });
      step(cache, range(0, 4));
      const indices = [1, 1, 0];
      cache.reorder(indices);
      const returned = step(cache, [4], [1, 1, 0]);
      expect(returned.keys).toEqual(expectedData(slots(5, 6), [1, 1, 0], keyAt));
      expect(cache.bytes()).toBe(kvBytes(6, 3));
      expect(() => step(cache, [5], [0, 1])).toThrow(/do not fit the cached \[3,2,6,3\]/);
      cache.dispose();
    });
  });

  it('rejects a maximum length that is not a positive integer', () => {
    for (const maxLength of [0, -4, 2.5]) {
      expect(() => new StaticLayerCache(maxLength)).toThrow(CacheArgumentError);
    }
    expect(() => new StaticLayerCache(0)).toThrow(/maxLength must be an integer ≥ 1, got 0/);
  });

  it('rejects keys and values of different shapes', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(4);
      const one = tokens([0]);
      const two = tokens([0, 1]);
      expect(() => cache.update(one.key, two.value)).toThrow(/key \[2,2,1,3\] and value \[2,2,2,3\] differ/);
      tf.dispose([one.key, one.value, two.key, two.value]);
      cache.dispose();
    });
  });

  it('reserveInPlace hands out the block slot of a step that fits one block, counting it written', async () => {
    await expectNoLeak(() => {
      const cache = new StaticLayerCache(10, { blockSize: 4 });
      const prefill = tokens(range(0, 3));
      const first = cache.reserveInPlace(prefill.key.shape)!;
      expect(first.offset).toBe(0);
      expect(first.key.shape).toEqual([2, prefill.key.shape[1], 4, prefill.key.shape[3]]);
      expect(first.keyValues.keys[0]).toBe(first.key);
      expect(first.keyValues.values[0]).toBe(first.value);
      expect(first.keyValues).toMatchObject({ keyStart: 0, keyLength: 10 });
      expect(cache.getSeqLength()).toBe(3);
      const decode = tokens([3]);
      const second = cache.reserveInPlace(decode.key.shape)!;
      expect(second.offset).toBe(3);
      expect(second.key).toBe(first.key);
      const next = tokens([4]);
      const third = cache.reserveInPlace(next.key.shape)!;
      expect(third.offset).toBe(0);
      expect(third.key).toBe(third.keyValues.keys[1]);
      // Positions 5..8 would span blocks 1 and 2: `update` takes those.
      const spanning = tokens(range(5, 4));
      expect(cache.reserveInPlace(spanning.key.shape)).toBeUndefined();
      expect(cache.getSeqLength()).toBe(5);
      const tooMany = tokens(range(5, 6));
      expect(() => cache.reserveInPlace(tooMany.key.shape)).toThrow(CacheCapacityError);
      expect(() => cache.reserveInPlace([2, 2, 1])).toThrow(
        /must be \[batch, kvHeads, newTokens, headDim\], got \[2,2,1\]/,
      );
      expect(() => cache.reserveInPlace([3, 2, 1, 3])).toThrow(/do not fit the cached/);
      tf.dispose([prefill, decode, next, spanning, tooMany].flatMap(({ key, value }) => [key, value]));
      cache.dispose();
    });
  });
});
