import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectedData,
  keyAt,
  kvBytes,
  range,
  readInTidy,
  step,
  tokens,
  valueAt,
} from '../test/kv-fixtures.js';
import { EncoderDecoderCache } from './encoder-decoder-cache.js';
import { CacheArgumentError, CacheShapeError, CrossAttentionCacheError } from './errors.js';
import { DynamicCache } from './layered-cache.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Two batch items × two beams: the encoder states of each item's beams are identical rows. */
const BEAM_ROWS = [0, 0, 1, 1];
const SOURCE = range(100, 5);

function fillCross(cache: EncoderDecoderCache, layerIndex: number, rows: readonly number[]) {
  return readInTidy(() => {
    const { key, value } = tokens(SOURCE, rows);
    return cache.setCross(layerIndex, key, value);
  });
}

function readCross(cache: EncoderDecoderCache, layerIndex: number) {
  return readInTidy(() => cache.cross(layerIndex));
}

describe('EncoderDecoderCache', () => {
  it('stores cross-attention keys once and leaves them alone on reorder', async () => {
    await expectNoLeak(() => {
      const cache = new EncoderDecoderCache(new DynamicCache(2, { blockSize: 4 }));
      expect(cache.isCrossFilled(0)).toBe(false);
      const filled = fillCross(cache, 0, BEAM_ROWS);
      fillCross(cache, 1, BEAM_ROWS);
      expect(cache.isCrossFilled(0)).toBe(true);
      expect(filled).toMatchObject({ keyStart: 0, keyLength: 5, blockLengths: [5] });
      expect(filled.keys).toEqual(expectedData(SOURCE, BEAM_ROWS, keyAt));
      expect(() => fillCross(cache, 0, BEAM_ROWS)).toThrow(CrossAttentionCacheError);

      for (let layer = 0; layer < 2; layer++) step(cache.layer(layer), range(0, 3), [0, 1, 2, 3]);
      const indices = [1, 1, 3, 2];
      cache.reorder(indices);
      const returned = step(cache.layer(0), [3], [1, 1, 3, 2]);
      expect(returned.keys).toEqual(expectedData(range(0, 4), [1, 1, 3, 2], keyAt));
      const cross = readCross(cache, 0);
      expect(cross.keyIds).toEqual(filled.keyIds);
      expect(cross.keys).toEqual(filled.keys);
      expect(cross.values).toEqual(expectedData(SOURCE, BEAM_ROWS, valueAt));

      expect(cache.getSeqLength()).toBe(4);
      expect(cache.getSeqLength(1)).toBe(3);
      expect(cache.bytes()).toBe(kvBytes(4, 4) + kvBytes(3, 4) + 2 * kvBytes(5, 4));
      cache.crop(2);
      expect(cache.getSeqLength()).toBe(2);
      expect(readCross(cache, 0).keyLength).toBe(5);
      cache.dispose();
      expect(cache.bytes()).toBe(0);
    });
  });

  it('reorders the cross-attention rows too when asked to', async () => {
    await expectNoLeak(() => {
      const cache = new EncoderDecoderCache(new DynamicCache(1), { reorderCross: true });
      fillCross(cache, 0, [0, 1]);
      step(cache.layer(0), range(0, 2));
      const indices = [1, 1, 0];
      cache.reorder(indices);
      expect(readCross(cache, 0).keys).toEqual(expectedData(SOURCE, [1, 1, 0], keyAt));
      expect(step(cache.layer(0), [2], [1, 1, 0]).keys).toEqual(expectedData(range(0, 3), [1, 1, 0], keyAt));
      cache.dispose();
    });
  });

  it('refuses a reorder that changes the batch while the cross cache stays as it is', async () => {
    await expectNoLeak(() => {
      const cache = new EncoderDecoderCache(new DynamicCache(1));
      fillCross(cache, 0, [0, 1]);
      step(cache.layer(0), range(0, 2));
      const indices = [0, 0, 1, 1];
      expect(() => cache.reorder(indices)).toThrow(CacheArgumentError);
      expect(() => cache.reorder(indices)).toThrow(/4 reorder indices for a cross-attention cache of 2 rows/);
      expect(step(cache.layer(0), [2]).keys).toEqual(expectedData(range(0, 3), [0, 1], keyAt));
      cache.dispose();
    });
  });

  it('rejects cross-attention reads before filling, bad layers and mismatched shapes', async () => {
    await expectNoLeak(() => {
      const cache = new EncoderDecoderCache(new DynamicCache(2));
      expect(() => cache.cross(1)).toThrow(/layer 1 has no cross-attention keys\/values yet/);
      expect(() => cache.cross(2)).toThrow(CacheArgumentError);
      expect(() => cache.isCrossFilled(-1)).toThrow(CacheArgumentError);
      const source = tokens(SOURCE);
      const shorter = tokens(range(0, 2));
      expect(() => cache.setCross(0, source.key, shorter.value)).toThrow(CacheShapeError);
      expect(() => cache.setCross(3, source.key, source.value)).toThrow(CacheArgumentError);
      tf.dispose([source.key, source.value, shorter.key, shorter.value]);
      expect(cache.isCrossFilled(0)).toBe(false);
      cache.dispose();
    });
  });
});
