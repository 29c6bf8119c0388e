import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedData, keyAt, kvBytes, range, step } from '../test/kv-fixtures.js';
import type { LayerCache } from './cache-types.js';
import { DynamicLayerCache } from './dynamic-layer-cache.js';
import { CacheArgumentError, CacheCropError } from './errors.js';
import { DynamicCache, LayeredCache, SlidingWindowCache, StaticCache } from './layered-cache.js';
import { SlidingWindowLayerCache } from './sliding-window-layer-cache.js';
import { StaticLayerCache } from './static-layer-cache.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Layer 0 full attention, layer 1 a sliding window of 4 (a model mixing both kinds). */
function mixedCache(): LayeredCache {
  return new LayeredCache<LayerCache>(2, (layerIndex) =>
    layerIndex === 0
      ? new DynamicLayerCache({ blockSize: 4 })
      : new SlidingWindowLayerCache(4, { blockSize: 4 }),
  );
}

describe('LayeredCache', () => {
  it('builds each layer with the factory and sums lengths and bytes per layer', async () => {
    await expectNoLeak(() => {
      const cache = mixedCache();
      expect(cache.numLayers).toBe(2);
      expect(cache.layer(0)).toBeInstanceOf(DynamicLayerCache);
      expect(cache.layer(1)).toBeInstanceOf(SlidingWindowLayerCache);
      for (let position = 0; position < 6; position++) {
        step(cache.layer(0), [position]);
        step(cache.layer(1), [position]);
      }
      expect(cache.getSeqLength()).toBe(6);
      expect(cache.getSeqLength(1)).toBe(6);
      expect(cache.bytes()).toBe(kvBytes(6) + kvBytes(3));
      cache.dispose();
      expect(cache.bytes()).toBe(0);
    });
  });

  it('refuses a crop one layer cannot do before changing any layer', async () => {
    await expectNoLeak(() => {
      const cache = mixedCache();
      for (let position = 0; position < 6; position++) {
        step(cache.layer(0), [position]);
        step(cache.layer(1), [position]);
      }
      expect(() => cache.crop(4)).toThrow(CacheCropError);
      expect(() => cache.crop(4)).toThrow(
        /layer 1 cannot crop below 6 tokens \(asked for 4\); no layer was changed/,
      );
      expect(cache.getSeqLength(0)).toBe(6);
      expect(cache.bytes()).toBe(kvBytes(6) + kvBytes(3));
      cache.crop(6);
      expect(() => cache.crop(-2)).toThrow(CacheArgumentError);
      expect(cache.minCropLength()).toBe(6);
      cache.crop(0); // starting over needs nothing the window dropped
      expect([cache.getSeqLength(0), cache.getSeqLength(1), cache.bytes(), cache.minCropLength()]).toEqual([
        0, 0, 0, 0,
      ]);
      cache.dispose();
    });
  });

  it('crops and reorders every layer', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicCache(3, { blockSize: 4 });
      for (let layer = 0; layer < 3; layer++) step(cache.layer(layer), range(0, 5));
      cache.crop(3);
      const indices = [1, 0, 0];
      cache.reorder(indices);
      for (let layer = 0; layer < 3; layer++) {
        expect(cache.getSeqLength(layer)).toBe(3);
        expect(step(cache.layer(layer), [3], [1, 0, 0]).keys).toEqual(
          expectedData(range(0, 4), [1, 0, 0], keyAt),
        );
      }
      cache.dispose();
    });
  });

  it('makes dynamic, static and sliding-window caches of the right kind and size', async () => {
    await expectNoLeak(() => {
      const dynamic = new DynamicCache(2);
      const fixed = new StaticCache(2, 16);
      const sliding = new SlidingWindowCache(2, 4);
      expect(dynamic.layer(1)).toBeInstanceOf(DynamicLayerCache);
      expect(fixed.layer(1)).toBeInstanceOf(StaticLayerCache);
      expect(fixed.layer(1).maxLength).toBe(16);
      expect(sliding.layer(1)).toBeInstanceOf(SlidingWindowLayerCache);
      expect(sliding.layer(1).window).toBe(4);
      step(fixed.layer(0), [0]);
      expect(fixed.bytes()).toBe(kvBytes(16));
      expect(() => new StaticCache(2, 0)).toThrow(CacheArgumentError);
      expect(() => new SlidingWindowCache(2, 0)).toThrow(CacheArgumentError);
      for (const cache of [dynamic, fixed, sliding]) cache.dispose();
    });
  });

  it('rejects a layer count below 1 and layer indices outside the cache', () => {
    expect(() => new DynamicCache(0)).toThrow(/numLayers must be an integer ≥ 1, got 0/);
    const cache = new DynamicCache(2);
    expect(() => cache.layer(2)).toThrow(CacheArgumentError);
    expect(() => cache.layer(-1)).toThrow(/layer index -1 is outside the cache's 2 layers/);
    expect(() => cache.getSeqLength(5)).toThrow(CacheArgumentError);
    cache.dispose();
  });
});
