import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, IGNORE_INDEX } from '@tsformer/layers';
import { ModelInputError } from './errors.js';

/** `labels` shaped as `ids` (`name` in the message), int32, or a `ModelInputError`. */
export function checkLabels(labels: tf.Tensor, ids: tf.Tensor, name: string): asserts labels is tf.Tensor2D {
  if (labels.rank !== 2 || labels.dtype !== 'int32' || labels.shape.join() !== ids.shape.join()) {
    throw new ModelInputError(
      `labels must be an int32 tensor shaped as ${name} [${ids.shape}], got ${labels.dtype} [${labels.shape}]`,
    );
  }
}

/**
 * Hugging Face's `ForCausalLMLoss`: position t predicts label t + 1. `labels` `[batch, seq]` (usually
 * the input ids, `-100` on padding) are shifted left inside, the last position gets `-100`, and the
 * loss is the mean cross-entropy over the labels that are not `-100`. `logits` `[batch, seq, vocab]`.
 */
export function causalLMLoss(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [batch, length] = labels.shape;
    const next = tf.slice(labels, [0, 1], [-1, length - 1]); // [batch, seq - 1]
    const shifted = tf.concat([next, tf.fill([batch, 1], IGNORE_INDEX, 'int32')], 1); // [batch, seq]
    return sequenceLoss(logits, shifted as tf.Tensor2D);
  });
}

/** The mean cross-entropy of `logits` `[batch, seq, vocab]` against `labels` `[batch, seq]` (`-100` skipped). */
export function sequenceLoss(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[2];
    return crossEntropy(tf.reshape(logits, [-1, vocab]), tf.reshape(labels, [-1]));
  });
}

/**
 * Hugging Face's `shift_tokens_right` (BART, Marian; T5's `_shift_right`): the decoder inputs that
 * teach `labels` `[batch, target]`: `decoderStartTokenId`, then the labels but the last, `-100` → pad.
 */
export function shiftTokensRight(
  labels: tf.Tensor2D,
  padTokenId: number,
  decoderStartTokenId: number,
): tf.Tensor2D {
  return tf.tidy((): tf.Tensor2D => {
    const [batch, length] = labels.shape;
    const start = tf.fill([batch, 1], decoderStartTokenId, 'int32');
    const shifted = tf.concat([start, tf.slice(labels, [0, 0], [-1, length - 1])], 1); // [batch, target]
    const pad = tf.fill([batch, length], padTokenId, 'int32');
    return tf.where(tf.equal(shifted, IGNORE_INDEX), pad, shifted) as tf.Tensor2D;
  });
}
