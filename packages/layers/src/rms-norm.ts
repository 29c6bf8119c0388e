import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

export interface RMSNormOptions {
  /** Added to the mean square (the config's `rms_norm_eps`; default 1e-6). */
  eps?: number;
  /**
   * Added to the weight before it scales (default 0). Gemma's `GemmaRMSNorm` scales by `1 + weight`
   * (its checkpoints store the weight minus one): pass 1.
   */
  weightOffset?: number;
}

/**
 * Llama's `RMSNorm` (also T5's `T5LayerNorm`: no bias, no mean subtracted):
 * `(weightOffset + weight) · x / sqrt(mean(x²) + eps)` over the last axis, computed in float32 (every
 * tensor here is float32, which is what Hugging Face upcasts to; Gemma's normalises first, then scales,
 * which is this same order).
 */
export class RMSNorm extends Module {
  readonly eps: number;
  readonly weightOffset: number;
  readonly weight: Parameter;

  constructor(
    readonly hiddenSize: number,
    options: RMSNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-6;
    this.weightOffset = options.weightOffset ?? 0;
    this.weight = this.parameter('weight', [hiddenSize]);
  }

  /** `[..., hiddenSize]` -> same shape. */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const meanSquare = tf.mean(tf.square(input), input.rank - 1, true); // [..., 1]
      const normalized = tf.mul(input, tf.rsqrt(tf.add(meanSquare, this.eps)));
      const scale =
        this.weightOffset === 0 ? this.weight.tensor : tf.add(this.weight.tensor, this.weightOffset);
      return tf.mul(scale, normalized);
    });
  }
}
