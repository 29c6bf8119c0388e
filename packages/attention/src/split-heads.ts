import * as tf from '@tensorflow/tfjs-core';
import { AttentionInputError } from './errors.js';

/** `[batch, seq, heads·headDim]` → `[batch, heads, seq, headDim]` (HF's `view(...).transpose(1, 2)`). */
export function splitHeads(projection: tf.Tensor, heads: number, headDim: number): tf.Tensor4D {
  const [batch, seq, features] = projection.shape as [number, number, number];
  if (projection.rank !== 3 || features !== heads * headDim) {
    throw new AttentionInputError(
      `a projection split into ${heads} heads of ${headDim} must be [batch, seq, ${heads * headDim}], got [${projection.shape}]`,
    );
  }
  // One position (a decode step): moving the length-1 axis moves no data, a reshape is the transpose.
  if (seq === 1) return tf.reshape(projection, [batch, heads, 1, headDim]);
  return tf.tidy(() => tf.transpose(tf.reshape(projection, [batch, seq, heads, headDim]), [0, 2, 1, 3]));
}

/** `[batch, heads, seq, headDim]` → `[batch, seq, heads·headDim]`: attention's output, heads side by side. */
export function mergeHeads(output: tf.Tensor4D): tf.Tensor3D {
  const [batch, heads, seq, headDim] = output.shape;
  if (seq === 1) return tf.reshape(output, [batch, 1, heads * headDim]); // no data moves
  return tf.tidy(() => tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [batch, seq, heads * headDim]));
}

/** Queries `[batch, heads, seq, headDim]`, keys and values `[batch, kvHeads, seq, headDim]`. */
export interface QueryKeyValue {
  query: tf.Tensor4D;
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

export interface FusedQueryKeyValueLayout {
  heads: number;
  /** Key/value heads (grouped-query attention); default `heads`. */
  kvHeads?: number;
  headDim: number;
  /**
   * How the fused projection orders its features:
   * - `blocks`: all queries, then all keys, then all values, `[q (heads·headDim) | k | v]`
   *   (GPT-2's `c_attn`, Phi-3's `qkv_proj`);
   * - `per-head`: per head its query, key and value, `[heads, 3, headDim]` (GPT-NeoX's
   *   `query_key_value`; needs `kvHeads === heads`).
   */
  order: 'blocks' | 'per-head';
}

/** A fused q/k/v projection left unsplit, for an op that splits it where it uses it (`storeFusedQueryKeyValue`). */
export interface FusedQueryKeyValue {
  /** `[batch, seq, (heads + 2·kvHeads)·headDim]`. */
  projection: tf.Tensor3D;
  layout: FusedQueryKeyValueLayout;
}

/**
 * Checks that a fused projection of shape `shape` holds `layout`'s heads; returns the layout with
 * `kvHeads` filled in. Throws `AttentionInputError` naming the shape that does not fit.
 */
export function checkFusedLayout(
  shape: readonly number[],
  layout: FusedQueryKeyValueLayout,
): Required<FusedQueryKeyValueLayout> {
  const { heads, headDim, order } = layout;
  const kvHeads = layout.kvHeads ?? heads;
  if (shape.length !== 3 || shape[2] !== (heads + 2 * kvHeads) * headDim) {
    throw new AttentionInputError(
      `a fused q/k/v projection of ${heads} query and ${kvHeads} key/value heads of ${headDim} must be [batch, seq, ${(heads + 2 * kvHeads) * headDim}], got [${shape}]`,
    );
  }
  if (order === 'per-head' && kvHeads !== heads) {
    throw new AttentionInputError(
      `a per-head fused q/k/v projection needs as many key/value heads as query heads, got ${kvHeads} and ${heads}`,
    );
  }
  return { heads, kvHeads, headDim, order };
}

/**
 * Splits one fused q/k/v projection `[batch, seq, (heads + 2·kvHeads)·headDim]` into query, key and
 * value heads. Without grouped heads this is one reshape, one transpose and an unstack (a split along
 * the last axis is a slow strided copy on wasm); for one position (a decode step) no transpose is needed,
 * only three slices.
 */
export function splitFusedQueryKeyValue(
  projection: tf.Tensor,
  layout: FusedQueryKeyValueLayout,
): QueryKeyValue {
  const { heads, kvHeads, headDim, order } = checkFusedLayout(projection.shape, layout);
  const [batch, seq] = projection.shape as [number, number, number];
  return tf.tidy(() => {
    if (seq === 1 && order === 'per-head') {
      // [batch, heads, 3, headDim]: the decode step's heads need no transpose
      const [query, key, value] = tf.unstack(tf.reshape(projection, [batch, heads, 3, headDim]), 2);
      const perHead = (part: tf.Tensor) => tf.reshape(part, [batch, heads, 1, headDim]) as tf.Tensor4D;
      return { query: perHead(query!), key: perHead(key!), value: perHead(value!) };
    }
    if (kvHeads !== heads || seq === 1) {
      const [query, key, value] = tf.split(
        projection,
        [heads * headDim, kvHeads * headDim, kvHeads * headDim],
        2,
      );
      return {
        query: splitHeads(query!, heads, headDim),
        key: splitHeads(key!, kvHeads, headDim),
        value: splitHeads(value!, kvHeads, headDim),
      };
    }
    const [shape, permutation] =
      order === 'blocks'
        ? [
            [batch, seq, 3, heads, headDim],
            [2, 0, 3, 1, 4],
          ] // [3, batch, heads, seq, headDim]
        : [
            [batch, seq, heads, 3, headDim],
            [3, 0, 2, 1, 4],
          ]; // [3, batch, heads, seq, headDim]
    const [query, key, value] = tf.unstack(
      tf.transpose(tf.reshape(projection, shape), permutation),
    ) as tf.Tensor4D[];
    return { query: query!, key: key!, value: value! };
  });
}
