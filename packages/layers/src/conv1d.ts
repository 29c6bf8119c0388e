import type * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';
import { linear } from '@tsformer/kernels';

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

  /** `[..., inFeatures]` -> `[..., outFeatures]`, through the `linear` op with the weight read `[in, out]`. */
  forward(input: tf.Tensor): tf.Tensor {
    return linear(input, this.weight, this.bias, 'in-out');
  }
}
