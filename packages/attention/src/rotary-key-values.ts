import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks, LayerCache } from '@tsformer/cache';
import { defineFusedOp } from '@tsformer/kernels';
import { applyRotaryEmbedding } from './apply-rotary-embedding.js';
import { storeKeyValues } from './key-value-block.js';

/** The rotated query `[batch, heads, seq, headDim]` and the keys and values attention reads. */
export type RotaryKeyValues = {
  query: tf.Tensor4D;
  keyValues: KeyValueBlocks;
};

/**
 * RoPE on the query and the key, then the key and the value into the layer's cache (HF's
 * `apply_rotary_pos_emb` followed by `past_key_values.update`), as one fused op: `query` `[batch, heads,
 * seq, headDim]`, `key` and `value` `[batch, kvHeads, seq, headDim]`, `cos` and `sin` `[batch, seq,
 * width]` (full or partial rotary, any rope type: the angles carry it); `cache` null without a cache (the
 * keys and values become one block). The portable implementation is `applyRotaryEmbedding` and
 * `cache.update`; on webgpu (`enableWebgpuAttention`) it is one dispatch that rotates query and key and,
 * with a static cache, writes the key and the value straight into the cache's block; on wasm and cpu
 * (`enableCpuAttention`) one WebAssembly call per tensor rotates them.
 */
export const rotaryKeyValues = defineFusedOp(
  'rotaryKeyValues',
  (
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    value: tf.Tensor4D,
    cos: tf.Tensor3D,
    sin: tf.Tensor3D,
    cache: LayerCache | null,
  ): RotaryKeyValues => {
    const [rotatedQuery, rotatedKey] = applyRotaryEmbedding(query, key, cos, sin);
    const keyValues = storeKeyValues(cache, rotatedKey, value);
    return { query: rotatedQuery, keyValues };
  },
);
