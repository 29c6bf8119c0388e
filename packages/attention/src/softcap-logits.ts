import * as tf from '@tensorflow/tfjs-core';
import { AttentionInputError } from './errors.js';

/**
 * Logit soft-capping (Gemma 2): `tanh(logits / cap) · cap`, which bounds every value to (−cap, cap)
 * and leaves small ones almost unchanged. Used on attention scores (`attn_logit_softcapping`) and on
 * a causal LM's final logits (`final_logit_softcapping`), in HF's order: divide, tanh, multiply.
 */
export function softcapLogits<T extends tf.Tensor>(logits: T, cap: number): T {
  if (!(Number.isFinite(cap) && cap > 0)) {
    throw new AttentionInputError(`a soft cap must be a finite number > 0, got ${cap}`);
  }
  return tf.tidy(() => tf.mul(tf.tanh(tf.div(logits, tf.scalar(cap))), tf.scalar(cap)) as T);
}
