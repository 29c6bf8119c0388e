import * as tf from '@tensorflow/tfjs-core';
import { AttentionInputError } from './errors.js';

/**
 * HF's `apply_rotary_pos_emb`: `x · cos + rotate_half(x) · sin` on the first `width` channels of the query
 * and the key (`[batch, heads, seq, headDim]`, heads may differ), the remaining channels passed through
 * (partial rotary). `cos` and `sin` are `[batch, seq, width]` from `RotaryEmbedding.forward`.
 */
export function applyRotaryEmbedding(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
): [tf.Tensor4D, tf.Tensor4D] {
  checkRotaryInputs(query, key, cos, sin);
  return tf.tidy(() => {
    const cosPerHead = tf.expandDims(cos, 1) as tf.Tensor4D; // [batch, 1, seq, width]
    const sinPerHead = tf.expandDims(sin, 1) as tf.Tensor4D;
    return [rotate(query, cosPerHead, sinPerHead), rotate(key, cosPerHead, sinPerHead)];
  });
}

/**
 * Checks the shapes `applyRotaryEmbedding` (or a fused version of it) takes — the query's and the key's
 * (tensors, or their shapes when a kernel reads them from a fused projection), `cos` and `sin`; throws
 * `AttentionInputError` naming the tensor that does not fit.
 */
export function checkRotaryInputs(
  query: { readonly shape: readonly number[] },
  key: { readonly shape: readonly number[] },
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
): void {
  if (cos.rank !== 3 || `${cos.shape}` !== `${sin.shape}` || cos.shape[2] % 2 !== 0) {
    throw new AttentionInputError(
      `cos and sin must both be [batch, seq, width] with an even width, got [${cos.shape}] and [${sin.shape}]`,
    );
  }
  const [cosBatch, sequenceLength, width] = cos.shape;
  for (const [name, x] of [
    ['query', query],
    ['key', key],
  ] as const) {
    const fits =
      x.shape.length === 4 &&
      x.shape[0] === cosBatch &&
      x.shape[2] === sequenceLength &&
      x.shape[3]! >= width;
    if (!fits) {
      throw new AttentionInputError(
        `${name} is [${x.shape}]; with cos [${cos.shape}] it must be [${cosBatch}, heads, ${sequenceLength}, >= ${width}]`,
      );
    }
  }
}

/** HF's `rotate_half`: `[x1, x2] → [-x2, x1]` along the last axis. */
export function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [firstHalf, secondHalf] = tf.split(x, 2, 3);
    return tf.concat([tf.neg(secondHalf!), firstHalf!], 3) as tf.Tensor4D;
  });
}

function rotate(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const width = cos.shape[3];
  const headDim = x.shape[3];
  const rotary = width === headDim ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, width]);
  const rotated = tf.add(tf.mul(rotary, cos), tf.mul(rotateHalf(rotary), sin)) as tf.Tensor4D;
  if (width === headDim) return rotated;
  const passThrough = tf.slice(x, [0, 0, 0, width], [-1, -1, -1, headDim - width]);
  return tf.concat([rotated, passThrough], 3) as tf.Tensor4D;
}
