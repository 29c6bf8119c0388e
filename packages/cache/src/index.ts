export { type BlockOptions, DEFAULT_BLOCK_SIZE } from './cache-arguments.js';
export type { Cache, DecoderCache, InPlaceSlot, KeyValueBlocks, LayerCache } from './cache-types.js';
export { DynamicLayerCache } from './dynamic-layer-cache.js';
export { EncoderDecoderCache, type EncoderDecoderCacheOptions } from './encoder-decoder-cache.js';
export {
  CacheArgumentError,
  CacheCapacityError,
  CacheCropError,
  CacheShapeError,
  CrossAttentionCacheError,
} from './errors.js';
export {
  DynamicCache,
  type LayerCacheFactory,
  LayeredCache,
  SlidingWindowCache,
  StaticCache,
} from './layered-cache.js';
export { SlidingWindowLayerCache } from './sliding-window-layer-cache.js';
export { StaticLayerCache } from './static-layer-cache.js';
