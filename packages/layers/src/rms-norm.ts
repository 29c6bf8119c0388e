import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

export interface RMSNormOptions {
  /** Added to the mean square (the config's `rms_norm_eps`; default 1e-6). */
  eps?: number;
}

/**
 * Llama's `RMSNorm`: `weight * x / sqrt(mean(x²) + eps)` over the last axis, computed in float32
 * (every tensor here is float32, which is what Hugging Face upcasts to).
 */
export class RMSNorm extends Module {
  readonly eps: number;
  readonly weight: Parameter;

  constructor(
    readonly hiddenSize: number,
    options: RMSNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-6;
    this.weight = this.parameter('weight', [hiddenSize]);
  }

  /** `[..., hiddenSize]` -> same shape. */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const meanSquare = tf.mean(tf.square(input), input.rank - 1, true); // [..., 1]
      const normalized = tf.mul(input, tf.rsqrt(tf.add(meanSquare, this.eps)));
      return tf.mul(this.weight.tensor, normalized);
    });
  }
}
