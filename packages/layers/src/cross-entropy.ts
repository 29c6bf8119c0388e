import * as tf from '@tensorflow/tfjs-core';
import { TsformerError } from '@tsformer/core-tensor';

/** The label PyTorch's `cross_entropy` skips by default (HF's padding label). */
export const IGNORE_INDEX = -100;

/**
 * PyTorch's `F.cross_entropy(logits, labels, ignore_index=-100, reduction="mean")` in float32:
 * `logits` `[tokens, classes]`, `labels` `[tokens]` int32 → the mean of `-log_softmax(logits)[label]`
 * over the labels that are not `ignoreIndex` (NaN when every label is ignored, as PyTorch). The log
 * softmax subtracts each row's maximum first, as PyTorch's does; the label's entry is picked with a
 * one-hot product (exact, and its gradient needs no scatter kernel).
 */
export function crossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  ignoreIndex = IGNORE_INDEX,
): tf.Scalar {
  if (labels.rank !== 1 || labels.dtype !== 'int32' || labels.shape[0] !== logits.shape[0]) {
    throw new TsformerError(
      `crossEntropy needs int32 labels [tokens=${logits.shape[0]}], got ${labels.dtype} [${labels.shape}]`,
    );
  }
  return tf.tidy(() => {
    const counted = tf.notEqual(labels, ignoreIndex); // [tokens]
    const targets = tf.where(counted, labels, tf.zerosLike(labels)); // [tokens]
    const logProbs = tf.logSoftmax(tf.cast(logits, 'float32')); // [tokens, classes]
    // int32 one-hot, then cast: tfjs-backend-wasm's OneHot writes int32 bits into a float32 output.
    const oneHot = tf.cast(tf.oneHot(targets, logits.shape[1]), 'float32'); // [tokens, classes]
    const picked = tf.sum(tf.mul(logProbs, oneHot), -1); // [tokens]
    const weights = tf.cast(counted, 'float32');
    return tf.div(tf.neg(tf.sum(tf.mul(picked, weights))), tf.sum(weights)) as tf.Scalar;
  });
}
