import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

export interface LinearOptions {
  /** Whether the layer has a bias (PyTorch default: true). */
  bias?: boolean;
}

/**
 * PyTorch's `nn.Linear`: `y = x Wᵀ + b` with `weight` stored `[outFeatures, inFeatures]`,
 * as Hugging Face checkpoints hold it.
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    this.weight = this.parameter('weight', [outFeatures, inFeatures]);
    this.bias = (options.bias ?? true) ? this.parameter('bias', [outFeatures]) : undefined;
  }

  /** `[..., inFeatures]` -> `[..., outFeatures]`. */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const leading = input.shape.slice(0, -1);
      const rows = tf.reshape(input, [-1, this.inFeatures]); // [tokens, in]
      let output = tf.matMul(rows, this.weight.tensor, false, true); // [tokens, out]
      if (this.bias) output = tf.add(output, this.bias.tensor);
      return tf.reshape(output, [...leading, this.outFeatures]);
    });
  }
}
