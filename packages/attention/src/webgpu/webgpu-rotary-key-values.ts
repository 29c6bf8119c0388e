import type * as tf from '@tensorflow/tfjs-core';
import type { LayerCache } from '@tsformer/cache';
import { dispatchKernel } from '@tsformer/kernels';
import { checkRotaryInputs } from '../apply-rotary-embedding.js';
import { storeKeyValues } from '../key-value-block.js';
import type { RotaryKeyValues } from '../rotary-key-values.js';
import { ropeKernel } from './rope-kernel.js';

/**
 * `rotaryKeyValues` on webgpu: one dispatch rotates the query and the key and, when the cache hands out
 * a slot (`LayerCache.reserveInPlace`: a static cache), writes the key and the value straight into the
 * cache's block; other caches get the rotated key through `update` as before. Not while a gradient is
 * being recorded.
 */
export function webgpuRotaryKeyValues(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
  cache: LayerCache | null,
): RotaryKeyValues | undefined {
  if ([query, key, value, cos, sin].some((tensor) => tensor.dtype !== 'float32')) return undefined;
  // The portable path's cache.update names a value that does not match the key.
  if (`${value.shape}` !== `${key.shape}`) return undefined;
  checkRotaryInputs(query, key, cos, sin);
  const [batch, heads, seq, headDim] = query.shape;
  const slot = cache?.reserveInPlace?.(key.shape);
  const uniforms = [
    query.size,
    key.size,
    heads,
    key.shape[1],
    seq,
    headDim,
    cos.shape[2],
    slot ? slot.key.shape[2] : seq,
    slot ? slot.offset : 0,
  ];
  const elements = query.size + (slot ? 2 : 1) * key.size;
  const workgroups = Math.ceil(elements / 64);
  const queryOutput = { shape: [batch, heads, seq, headDim], dtype: 'float32' as const };
  if (slot) {
    const [rotatedQuery] = dispatchKernel(
      ropeKernel(true),
      [query, key, value, cos, sin],
      [queryOutput, { writeInto: slot.key }, { writeInto: slot.value }],
      uniforms,
      workgroups,
    );
    return { query: rotatedQuery as tf.Tensor4D, keyValues: slot.keyValues };
  }
  const [rotatedQuery, rotatedKey] = dispatchKernel(
    ropeKernel(false),
    [query, key, cos, sin],
    [queryOutput, { shape: [...key.shape], dtype: 'float32' }],
    uniforms,
    workgroups,
  ) as [tf.Tensor4D, tf.Tensor4D];
  const keyValues = storeKeyValues(cache, rotatedKey, value);
  return { query: rotatedQuery, keyValues };
}
