import * as tf from '@tensorflow/tfjs-core';

/**
 * Draws one index per row from the categorical distribution `probabilities` `[rows, n]` (not
 * necessarily normalised) with `uniforms` `[rows, 1]` in [0, 1): the first index whose running sum
 * exceeds `uniform * total`, never one of probability 0. The same uniforms give the same draw on
 * every backend (up to float rounding of the running sum). Returns `[rows, 1]` int32.
 */
export function drawIndices(probabilities: tf.Tensor2D, uniforms: tf.Tensor2D): tf.Tensor2D {
  const size = probabilities.shape[1];
  const cumulative = tf.cumsum(probabilities, 1);
  const total = tf.slice(cumulative, [0, size - 1], [-1, 1]);
  const below = tf.sum(tf.cast(tf.lessEqual(cumulative, tf.mul(uniforms, total)), 'int32'), 1, true);
  // A uniform that rounds up to the total must still land on the last token with probability > 0.
  const lastReachable = tf.sum(tf.cast(tf.less(cumulative, total), 'int32'), 1, true);
  return tf.minimum(below, lastReachable);
}

/** One token per row sampled from softmax(scores) `[rows, vocab]`; `uniforms` `[rows, 1]`. Returns `[rows]` int32. */
export function sampleTokens(scores: tf.Tensor2D, uniforms: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(drawIndices(tf.softmax(scores), uniforms), [scores.shape[0]]);
}

/**
 * `uniforms.shape[1]` distinct indices per row sampled without replacement from softmax(scores), as
 * `torch.multinomial(..., replacement=False)`: successive draws, each from what the earlier ones left.
 * Returns `[rows, draws]` int32.
 */
export function sampleWithoutReplacement(scores: tf.Tensor2D, uniforms: tf.Tensor2D): tf.Tensor2D {
  const [rows, size] = scores.shape;
  let remaining = tf.softmax(scores);
  const picks: tf.Tensor2D[] = [];
  for (let draw = 0; draw < uniforms.shape[1]; draw++) {
    const pick = drawIndices(remaining, tf.slice(uniforms, [0, draw], [-1, 1]));
    picks.push(pick);
    const taken = tf.cast(tf.oneHot(tf.reshape(pick, [rows]), size), 'bool');
    remaining = tf.where(taken, tf.zerosLike(remaining), remaining);
  }
  return tf.concat(picks, 1);
}
