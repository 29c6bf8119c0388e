import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks } from '@tsformer/cache';

/**
 * Keys and values `[batch, kvHeads, keyLength, headDim]` that no cache holds (an encoder, a forward
 * without a cache) as the one block attention reads. Nothing is copied.
 */
export function keyValueBlock(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
  return { keys: [key], values: [value], keyStart: 0, keyLength: key.shape[2] };
}
