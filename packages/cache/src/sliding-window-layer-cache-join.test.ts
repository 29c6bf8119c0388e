import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, range, step, valueAt } from '../test/kv-fixtures.js';
import { CacheArgumentError } from './errors.js';
import { SlidingWindowLayerCache } from './sliding-window-layer-cache.js';

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

describe('SlidingWindowLayerCache.joinRows and dropStart', () => {
  it('joins rows that have seen fewer tokens shifted right, keeping the window in the longer rows’ positions', async () => {
    await expectNoLeak(() => {
      // Window 4: the cache keeps the last 3 positions.
      const running = new SlidingWindowLayerCache(4, { blockSize: 2 });
      step(running, range(0, 6), [0, 1]);
      const joining = new SlidingWindowLayerCache(4);
      step(joining, range(0, 2), [2]);
      running.joinRows(joining);
      expect(joining.getSeqLength()).toBe(0);
      expect(joining.bytes()).toBe(0);
      expect(running.getSeqLength()).toBe(6);
      // Row 2's tokens 0 and 1 now sit at positions 4 and 5; position 3 is padding for it.
      const returned = step(running, [6], [0, 1, 2]);
      expect(returned.keyStart).toBe(3);
      const expected = [
        { row: 0, positions: [3, 4, 5, 6] },
        { row: 1, positions: [3, 4, 5, 6] },
        { row: 2, positions: [null, 0, 1, 6] },
      ];
      expect(returned.keys).toEqual(rowsData(expected, keyAt));
      expect(returned.values).toEqual(rowsData(expected, valueAt));
      // Positions 0–1 were dropped by the window already: only the count moves.
      running.dropStart(2);
      expect(running.getSeqLength()).toBe(5);
      expect(step(running, [7], [0, 1, 2]).keyStart).toBe(2);
      // Positions 0–3 now: the first held one (old position 5) goes too.
      running.dropStart(4);
      expect(running.getSeqLength()).toBe(2);
      const after = step(running, [8], [0, 1, 2]);
      expect(after.keyStart).toBe(0);
      const kept = [
        { row: 0, positions: [6, 7, 8] },
        { row: 1, positions: [6, 7, 8] },
        { row: 2, positions: [6, 7, 8] },
      ];
      expect(after.keys).toEqual(rowsData(kept, keyAt));
      running.dispose();
    });
  });

  it('refuses another window and drops past its tokens with typed errors', async () => {
    await expectNoLeak(() => {
      const running = new SlidingWindowLayerCache(4);
      step(running, [0]);
      const other = new SlidingWindowLayerCache(5);
      step(other, [0]);
      expect(() => running.joinRows(other)).toThrow(/SlidingWindowLayerCache of window 4/);
      expect(() => running.dropStart(2)).toThrow(CacheArgumentError);
      running.dispose();
      other.dispose();
    });
  });
});
