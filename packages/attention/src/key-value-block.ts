import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks, LayerCache } from '@tsformer/cache';

/**
 * Keys and values `[batch, kvHeads, keyLength, headDim]` that no cache holds (an encoder, a forward
 * without a cache) as the one block attention reads. Nothing is copied.
 */
export function keyValueBlock(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
  return { keys: [key], values: [value], keyStart: 0, keyLength: key.shape[2] };
}

/** This step's keys and values stored in `cache` (what attention reads comes back), or as one block without a cache. */
export function storeKeyValues(
  cache: LayerCache | null,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
): KeyValueBlocks {
  return cache ? cache.update(key, value) : keyValueBlock(key, value);
}
