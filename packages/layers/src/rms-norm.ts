import type * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';
import { addNormalize, type NormSpec, normalize } from '@tsformer/kernels';

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

  /** `[..., hiddenSize]` -> same shape, through the `normalize` op (one dispatch on webgpu). */
  forward(input: tf.Tensor): tf.Tensor {
    return normalize(input, this.spec);
  }

  /** `sum = residual + delta` and its norm `normed`, both `[..., hiddenSize]` (a pre-norm block's middle). */
  addAndNormalize(residual: tf.Tensor, delta: tf.Tensor): { sum: tf.Tensor; normed: tf.Tensor } {
    return addNormalize(residual, delta, this.spec);
  }

  private get spec(): NormSpec {
    return { kind: 'rms', weight: this.weight, eps: this.eps, weightOffset: this.weightOffset };
  }
}
