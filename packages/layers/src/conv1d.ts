import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

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

  /** `[..., inFeatures]` -> `[..., outFeatures]`. */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const leading = input.shape.slice(0, -1);
      const rows = tf.reshape(input, [-1, this.inFeatures]); // [tokens, in]
      const output = tf.add(tf.matMul(rows, this.weight.tensor), this.bias.tensor); // [tokens, out]
      return tf.reshape(output, [...leading, this.outFeatures]);
    });
  }
}
