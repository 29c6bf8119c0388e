import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, kvBytes, range, step, valueAt } from '../test/kv-fixtures.js';
import { DynamicLayerCache } from './dynamic-layer-cache.js';
import { CacheArgumentError } from './errors.js';
import { DynamicCache, SlidingWindowCache, StaticCache } from './layered-cache.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Expected data of rows that each hold their own positions (null: a zero padding slot). */
function rowsData(
  rows: readonly { row: number; positions: readonly (number | null)[] }[],
  element: typeof keyAt,
): number[] {
  return rows.flatMap(({ row, positions }) => expectedData(positions, [row], element));
}

describe('DynamicLayerCache.joinRows and dropStart', () => {
  it('left-pads the shorter rows with zeros, appends the joining rows, and keeps growing by blocks', async () => {
    await expectNoLeak(() => {
      const running = new DynamicLayerCache({ blockSize: 4 });
      step(running, range(0, 3));
      step(running, [3]);
      step(running, [4]);
      const joining = new DynamicLayerCache({ blockSize: 4 });
      step(joining, range(0, 2), [2]);
      running.joinRows(joining);
      expect(joining.getSeqLength()).toBe(0);
      expect(joining.bytes()).toBe(0);
      expect(running.getSeqLength()).toBe(5);
      expect(running.bytes()).toBe(kvBytes(5, 3));
      const returned = step(running, [5], [0, 1, 2]);
      const expected = [
        { row: 0, positions: range(0, 6) },
        { row: 1, positions: range(0, 6) },
        { row: 2, positions: [null, null, null, 0, 1, 5] },
      ];
      expect(returned.keys).toEqual(rowsData(expected, keyAt));
      expect(returned.values).toEqual(rowsData(expected, valueAt));
      // The held blocks keep their lengths (4, then 1 that the step grew to 2).
      expect(returned.blockLengths).toEqual([4, 2]);
      running.dispose();
    });
  });

  it('pads the running rows when the joining ones are longer, and an empty cache takes the rows as they are', async () => {
    await expectNoLeak(() => {
      const running = new DynamicLayerCache();
      const first = new DynamicLayerCache();
      step(first, [0], [0]);
      running.joinRows(first);
      const longer = new DynamicLayerCache();
      step(longer, range(0, 3), [1]);
      running.joinRows(longer);
      const returned = step(running, [7], [0, 1]);
      const expected = [
        { row: 0, positions: [null, null, 0, 7] },
        { row: 1, positions: [0, 1, 2, 7] },
      ];
      expect(returned.keys).toEqual(rowsData(expected, keyAt));
      running.dispose();
    });
  });

  it('puts joining rows in the places `rows` names: replacing held rows, appending after them', async () => {
    await expectNoLeak(() => {
      const running = new DynamicLayerCache({ blockSize: 4 });
      step(running, range(0, 3), [0, 1, 2]);
      step(running, [3], [0, 1, 2]);
      const joining = new DynamicLayerCache();
      step(joining, range(0, 2), [5, 6, 7]);
      // Joining row 0 replaces held row 1, joining row 1 is appended as row 3, joining row 2
      // replaces held row 0.
      running.joinRows(joining, [1, 3, 0]);
      expect(joining.getSeqLength()).toBe(0);
      expect(running.bytes()).toBe(kvBytes(4, 4));
      const returned = step(running, [4], [7, 5, 2, 6]);
      const expected = [
        { row: 7, positions: [null, null, 0, 1, 4] },
        { row: 5, positions: [null, null, 0, 1, 4] },
        { row: 2, positions: range(0, 5) },
        { row: 6, positions: [null, null, 0, 1, 4] },
      ];
      expect(returned.keys).toEqual(rowsData(expected, keyAt));
      expect(returned.values).toEqual(rowsData(expected, valueAt));
      // Longer joining rows pad the held ones; an empty cache takes rows in the order named.
      const longer = new DynamicLayerCache();
      step(longer, range(0, 7), [8]);
      running.joinRows(longer, [2]);
      const padded = step(running, [9], [7, 5, 8, 6]);
      expect(padded.keys).toEqual(
        rowsData(
          [
            { row: 7, positions: [null, null, null, null, 0, 1, 4, 9] },
            { row: 5, positions: [null, null, null, null, 0, 1, 4, 9] },
            { row: 8, positions: [...range(0, 7), 9] },
            { row: 6, positions: [null, null, null, null, 0, 1, 4, 9] },
          ],
          keyAt,
        ),
      );
      const empty = new DynamicLayerCache();
      const pair = new DynamicLayerCache();
      step(pair, [0], [3, 4]);
      empty.joinRows(pair, [1, 0]);
      expect(step(empty, [1], [4, 3]).keys).toEqual(
        rowsData(
          [
            { row: 4, positions: [0, 1] },
            { row: 3, positions: [0, 1] },
          ],
          keyAt,
        ),
      );
      running.dispose();
      empty.dispose();
    });
  });

  it('refuses rows that do not give each joining row its own place, changing nothing', async () => {
    await expectNoLeak(() => {
      const running = new DynamicLayerCache();
      step(running, range(0, 2));
      const joining = new DynamicLayerCache();
      step(joining, [0], [5, 6]);
      for (const rows of [[0, 0], [0, 3], [0], [-1, 2], [0.5, 2]]) {
        expect(() => running.joinRows(joining, rows)).toThrow(/must name a distinct place/);
      }
      expect(running.bytes()).toBe(kvBytes(2, 2));
      expect(joining.bytes()).toBe(kvBytes(1, 2));
      running.joinRows(joining, [2, 3]);
      expect(running.bytes()).toBe(kvBytes(2, 4));
      running.dispose();
    });
  });

  it('dropStart removes leading positions of every row, across blocks', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicLayerCache({ blockSize: 4 });
      step(cache, range(0, 3));
      for (const position of range(3, 4)) step(cache, [position]);
      cache.dropStart(5);
      expect(cache.getSeqLength()).toBe(2);
      const returned = step(cache, [7]);
      expect(returned.keys).toEqual(expectedData([5, 6, 7], [0, 1], keyAt));
      expect(() => cache.dropStart(4)).toThrow(CacheArgumentError);
      cache.dispose();
    });
  });

  it('refuses caches that do not fit, naming the method', async () => {
    await expectNoLeak(() => {
      const running = new DynamicLayerCache();
      step(running, [0]);
      expect(() => running.joinRows(new DynamicLayerCache())).toThrow(/joining cache holds no token/);
      const other = new SlidingWindowCache(1, 4);
      expect(() => running.joinRows(other.layer(0))).toThrow(CacheArgumentError);
      other.dispose();
      running.dispose();
    });
  });
});

describe('LayeredCache.joinRows', () => {
  it('joins every layer, and refuses caches with static layers before changing anything', async () => {
    await expectNoLeak(() => {
      const running = new DynamicCache(2);
      const joining = new DynamicCache(2);
      for (const layer of [0, 1]) {
        step(running.layer(layer), range(0, 2));
        step(joining.layer(layer), [0], [2]);
      }
      expect(running.canJoinRows()).toBe(true);
      running.joinRows(joining);
      expect(running.getSeqLength(1)).toBe(2);
      expect(running.bytes()).toBe(2 * kvBytes(2, 3));
      running.dropStart(1);
      expect(running.getSeqLength(0)).toBe(1);
      const windowed = new StaticCache(2, 8);
      expect(windowed.canJoinRows()).toBe(false);
      expect(() => windowed.joinRows(running)).toThrow(/layer 0 \(StaticLayerCache\) cannot join rows/);
      expect(() => running.joinRows(new DynamicCache(3))).toThrow(/LayeredCache of 2 layers/);
      running.dispose();
      windowed.dispose();
    });
  });
});
