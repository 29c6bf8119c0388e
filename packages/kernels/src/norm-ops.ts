import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { defineFusedOp } from './fused-op.js';

/**
 * A normalization over the last axis. `rms`: Llama's RMSNorm, `(weightOffset + weight) · x /
 * sqrt(mean(x²) + eps)` (Gemma's offset 1). `layer`: PyTorch's LayerNorm, biased variance, eps inside
 * the square root, optional affine weight and bias.
 */
export type NormSpec =
  | { kind: 'rms'; weight: Parameter; eps: number; weightOffset: number }
  | { kind: 'layer'; weight: Parameter | undefined; bias: Parameter | undefined; eps: number };

/** Today's tfjs ops for `spec` over `input` `[..., hidden]` (float32 throughout, as HF upcasts). */
function normalizePortable(input: tf.Tensor, spec: NormSpec): tf.Tensor {
  return tf.tidy(() => {
    const axis = input.rank - 1;
    if (spec.kind === 'rms') {
      const meanSquare = tf.mean(tf.square(input), axis, true); // [..., 1]
      const normalized = tf.mul(input, tf.rsqrt(tf.add(meanSquare, spec.eps)));
      const scale =
        spec.weightOffset === 0 ? spec.weight.tensor : tf.add(spec.weight.tensor, spec.weightOffset);
      return tf.mul(scale, normalized);
    }
    const mean = tf.mean(input, axis, true); // [..., 1]
    const centered = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    let output = tf.mul(centered, tf.rsqrt(tf.add(variance, spec.eps)));
    if (spec.weight) output = tf.mul(output, spec.weight.tensor);
    if (spec.bias) output = tf.add(output, spec.bias.tensor);
    return output;
  });
}

/** `spec`'s normalization of `input` `[..., hidden]` -> the same shape (one dispatch on webgpu). */
export const normalize = defineFusedOp('normalize', normalizePortable);

/**
 * The residual add then the normalization a pre-norm block does between its halves: `sum = residual +
 * delta`, `normed = norm(sum)`, both `[..., hidden]` (one dispatch on webgpu).
 */
export const addNormalize = defineFusedOp(
  'addNormalize',
  (residual: tf.Tensor, delta: tf.Tensor, spec: NormSpec): { sum: tf.Tensor; normed: tf.Tensor } => {
    const sum = tf.add(residual, delta);
    return { sum, normed: normalize(sum, spec) };
  },
);
