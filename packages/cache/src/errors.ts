import { TsformerError } from '@tsformer/core-tensor';

/** Keys or values whose shape does not fit (each other, or what the cache already holds). */
export class CacheShapeError extends TsformerError {
  override name = 'CacheShapeError';
}

/** A number or tensor argument a cache cannot accept (negative crop, window < 1, bad reorder indices, ...). */
export class CacheArgumentError extends TsformerError {
  override name = 'CacheArgumentError';
}

/** A write past the end of a cache preallocated to a maximum length. */
export class CacheCapacityError extends TsformerError {
  override name = 'CacheCapacityError';
  constructor(
    readonly capacity: number,
    readonly position: number,
    readonly newTokens: number,
  ) {
    super(
      `static cache holds at most ${capacity} tokens: cannot write ${newTokens} token(s) at position ${position} ` +
        `(create the cache with a larger maxLength)`,
    );
  }
}

/** A crop a cache cannot do (a sliding window cannot give back tokens it dropped). */
export class CacheCropError extends TsformerError {
  override name = 'CacheCropError';
}

/** Cross-attention keys/values used before they were set, or set twice. */
export class CrossAttentionCacheError extends TsformerError {
  override name = 'CrossAttentionCacheError';
}
