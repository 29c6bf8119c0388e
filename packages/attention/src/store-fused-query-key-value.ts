import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks, LayerCache } from '@tsformer/cache';
import { defineFusedOp } from '@tsformer/kernels';
import { storeKeyValues } from './key-value-block.js';
import { rotaryKeyValues } from './rotary-key-values.js';
import { type FusedQueryKeyValue, splitFusedQueryKeyValue } from './split-heads.js';

/** RoPE's angles for this step: `cos` and `sin` `[batch, seq, width]` (`RotaryEmbedding.forward`). */
export interface RotaryAngleTensors {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
}

/** The query `[batch, heads, seq, headDim]` attention asks with and the keys and values it reads. */
export type StoredQueryKeyValue = {
  query: tf.Tensor4D;
  keyValues: KeyValueBlocks;
};

/**
 * A fused q/k/v projection (GPT-2's `c_attn`, Phi-3's `qkv_proj`, GPT-NeoX's `query_key_value`) split
 * into heads, RoPE on the query and the key when `angles` are given (null: GPT-2's learned positions),
 * and the key and the value stored in the layer's `cache` (null without one: they become one block), as
 * one fused op. The portable implementation is `splitFusedQueryKeyValue`, then `rotaryKeyValues`'
 * portable one or `storeKeyValues`; on webgpu (`enableWebgpuAttention`) it is one dispatch that reads
 * the projection in place and, with a static cache, writes the key and the value straight into the
 * cache's block — no split, no transpose, no copy of the block.
 */
export const storeFusedQueryKeyValue = defineFusedOp(
  'storeFusedQueryKeyValue',
  (
    fused: FusedQueryKeyValue,
    angles: RotaryAngleTensors | null,
    cache: LayerCache | null,
  ): StoredQueryKeyValue => {
    const { query, key, value } = splitFusedQueryKeyValue(fused.projection, fused.layout);
    if (angles) return rotaryKeyValues.portable(query, key, value, angles.cos, angles.sin, cache);
    return { query, keyValues: storeKeyValues(cache, key, value) };
  },
);
