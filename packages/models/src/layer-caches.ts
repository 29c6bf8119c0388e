import {
  type DecoderCache,
  DynamicLayerCache,
  type LayerCache,
  LayeredCache,
  SlidingWindowLayerCache,
  StaticLayerCache,
} from '@tsformer/cache';
import type { CacheImplementation } from '@tsformer/decoding';

/**
 * One layer cache per layer of a stack (HF's `DynamicCache` / `StaticCache` built from `layer_types`):
 * a sliding-window cache for each sliding-window layer (HF's `DynamicSlidingWindowLayer`), a dynamic or
 * static one (`maxLength` tokens) for each full-attention layer.
 */
export function createLayerCaches(
  slidingWindows: readonly (number | null)[],
  maxLength: number,
  implementation: CacheImplementation = 'dynamic',
): DecoderCache {
  return new LayeredCache(slidingWindows.length, (layerIndex): LayerCache => {
    const window = slidingWindows[layerIndex] ?? null;
    if (window !== null) return new SlidingWindowLayerCache(window);
    return implementation === 'static' ? new StaticLayerCache(maxLength) : new DynamicLayerCache();
  });
}
