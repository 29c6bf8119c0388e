import type * as tf from '@tensorflow/tfjs-core';
import type { LayerCache } from '@tsformer/cache';
import { type KernelPool, rotateOnCaller } from '@tsformer/kernels';
import { checkRotaryInputs } from '../apply-rotary-embedding.js';
import { storeKeyValues } from '../key-value-block.js';
import type { RotaryKeyValues } from '../rotary-key-values.js';

/**
 * `rotaryKeyValues` on wasm and cpu: the query and the key rotated by one WebAssembly call each
 * (`rotateOnCaller`, on the calling thread: a step's rotation is microseconds) instead of the eight
 * tfjs ops per tensor of `applyRotaryEmbedding`, then the key and the value into the cache as the
 * portable op stores them. Other dtypes go to the portable implementation.
 */
export function cpuRotaryKeyValues(pool: KernelPool) {
  return (
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    value: tf.Tensor4D,
    cos: tf.Tensor3D,
    sin: tf.Tensor3D,
    cache: LayerCache | null,
  ): RotaryKeyValues | undefined => {
    if ([query, key, cos, sin].some((tensor) => tensor.dtype !== 'float32' || tensor.size === 0)) {
      return undefined;
    }
    checkRotaryInputs(query, key, cos, sin);
    const rotatedQuery = rotateOnCaller(pool, query, cos, sin) as tf.Tensor4D;
    const rotatedKey = rotateOnCaller(pool, key, cos, sin) as tf.Tensor4D;
    return { query: rotatedQuery, keyValues: storeKeyValues(cache, rotatedKey, value) };
  };
}
