import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

export interface LayerNormOptions {
  /** Added to the variance (PyTorch default 1e-5; GPT-2's `layer_norm_epsilon`). */
  eps?: number;
  /** Learned `weight` (and `bias`) over the last axis (default true). */
  elementwiseAffine?: boolean;
  /** Learned `bias` when affine (default true). */
  bias?: boolean;
}

/** PyTorch's `nn.LayerNorm` over the last axis: biased variance, eps inside the square root. */
export class LayerNorm extends Module {
  readonly eps: number;
  readonly weight: Parameter | undefined;
  readonly bias: Parameter | undefined;

  constructor(
    readonly normalizedShape: number,
    options: LayerNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? this.parameter('weight', [normalizedShape]) : undefined;
    this.bias = affine && (options.bias ?? true) ? this.parameter('bias', [normalizedShape]) : undefined;
  }

  /** `[..., normalizedShape]` -> same shape. */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const axis = input.rank - 1;
      const mean = tf.mean(input, axis, true);
      const centered = tf.sub(input, mean);
      const variance = tf.mean(tf.square(centered), axis, true);
      let output = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight) output = tf.mul(output, this.weight.tensor);
      if (this.bias) output = tf.add(output, this.bias.tensor);
      return output;
    });
  }
}
