import type * as tf from '@tensorflow/tfjs-core';
import type { LayerCache } from '@tsformer/cache';
import { dispatchKernel } from '@tsformer/kernels';
import { checkRotaryInputs } from '../apply-rotary-embedding.js';
import { storeKeyValues } from '../key-value-block.js';
import { checkFusedLayout, type FusedQueryKeyValue } from '../split-heads.js';
import type { RotaryAngleTensors, StoredQueryKeyValue } from '../store-fused-query-key-value.js';
import { fusedQueryKeyValueKernel } from './fused-query-key-value-kernel.js';

/**
 * `storeFusedQueryKeyValue` on webgpu: one dispatch reads the query, the key and the value from the
 * fused projection (rotating the query and the key when `angles` are given) and, when the cache hands
 * out a slot (`LayerCache.reserveInPlace`: a static cache's decode step), writes the key and the value
 * straight into the cache's block; otherwise they come out as new tensors for `cache.update` (a dynamic
 * cache, a prefill) or as attention's one block (no cache).
 */
export function webgpuStoreFusedQueryKeyValue(
  fused: FusedQueryKeyValue,
  angles: RotaryAngleTensors | null,
  cache: LayerCache | null,
): StoredQueryKeyValue | undefined {
  const { projection, layout } = fused;
  if (projection.dtype !== 'float32') return undefined;
  if (angles && (angles.cos.dtype !== 'float32' || angles.sin.dtype !== 'float32')) return undefined;
  const { heads, kvHeads, headDim, order } = checkFusedLayout(projection.shape, layout);
  const [batch, seq, features] = projection.shape;
  const queryShape = [batch, heads, seq, headDim];
  const keyShape = [batch, kvHeads, seq, headDim];
  if (angles) checkRotaryInputs({ shape: queryShape }, { shape: keyShape }, angles.cos, angles.sin);
  const slot = cache?.reserveInPlace?.(keyShape);
  const queryElements = batch * heads * seq * headDim;
  const keyElements = batch * kvHeads * seq * headDim;
  const uniforms = [
    queryElements,
    keyElements,
    heads,
    kvHeads,
    seq,
    headDim,
    features,
    angles ? angles.cos.shape[2] : 0,
    slot ? slot.key.shape[2] : seq,
    slot ? slot.offset : 0,
  ];
  const keyOutput = { shape: keyShape, dtype: 'float32' as const };
  const [query, key, value] = dispatchKernel(
    fusedQueryKeyValueKernel(order, angles != null),
    angles ? [projection, angles.cos, angles.sin] : [projection],
    [
      { shape: queryShape, dtype: 'float32' },
      slot ? { writeInto: slot.key } : keyOutput,
      slot ? { writeInto: slot.value } : keyOutput,
    ],
    uniforms,
    Math.ceil((queryElements + 2 * keyElements) / 64),
  ) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  if (slot) return { query, keyValues: slot.keyValues };
  return { query, keyValues: storeKeyValues(cache, key, value) };
}
