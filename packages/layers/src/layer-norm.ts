import type * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';
import { addNormalize, type NormSpec, normalize } from '@tsformer/kernels';

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

  /** `[..., normalizedShape]` -> same shape, through the `normalize` op (one dispatch on webgpu). */
  forward(input: tf.Tensor): tf.Tensor {
    return normalize(input, this.spec);
  }

  /** `sum = residual + delta` and its norm `normed`, both `[..., normalizedShape]` (a pre-norm block's middle). */
  addAndNormalize(residual: tf.Tensor, delta: tf.Tensor): { sum: tf.Tensor; normed: tf.Tensor } {
    return addNormalize(residual, delta, this.spec);
  }

  private get spec(): NormSpec {
    return { kind: 'layer', weight: this.weight, bias: this.bias, eps: this.eps };
  }
}
