import type * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';
import { linear, linearResidual, type Projection } from '@tsformer/kernels';

/**
 * GPT-2's `Conv1D`: a linear layer whose `weight` is stored `[inFeatures, outFeatures]`
 * (transposed relative to `nn.Linear`), always with a bias: `y = x W + b`.
 */
export class Conv1D extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    this.weight = this.parameter('weight', [inFeatures, outFeatures]);
    this.bias = this.parameter('bias', [outFeatures]);
  }

  /**
   * `[..., inFeatures]` -> `[..., outFeatures]`, through the `linear` op with the weight read `[in, out]`;
   * with `residual` `[..., outFeatures]`, returns `residual + y` (one dispatch on webgpu).
   */
  forward(input: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    if (residual) return linearResidual(input, this.projection, residual);
    return linear(input, this.weight, this.bias, 'in-out');
  }

  /** The weight (read `[in, out]`) and bias as the projection ops take them. */
  get projection(): Projection {
    return { weight: this.weight, bias: this.bias, layout: 'in-out' };
  }
}
