import * as tf from '@tensorflow/tfjs-core';
import { Module, TsformerError } from '@tsformer/core-tensor';

/**
 * PyTorch's `nn.Dropout`: the identity in eval mode; in training mode zeroes each element with
 * probability `rate` and scales the rest by 1 / (1 − rate), with a mask seeded from the stream
 * `train({ seed })` started (reproducible; a new mask on every call).
 */
export class Dropout extends Module {
  constructor(readonly rate: number) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new TsformerError(`dropout rate must be in [0, 1), got ${rate}`);
  }

  /** Returns `input` itself in eval mode (or with rate 0); a new tensor in training mode. */
  forward(input: tf.Tensor): tf.Tensor {
    if (!this.training || this.rate === 0) return input;
    return tf.dropout(input, this.rate, undefined, this.nextDropoutSeed());
  }
}
