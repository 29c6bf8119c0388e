import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';

/** PyTorch's `nn.Embedding`: a `[numEmbeddings, embeddingDim]` table looked up by int32 ids. */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
  ) {
    super();
    this.weight = this.parameter('weight', [numEmbeddings, embeddingDim]);
  }

  /** `[...]` int32 ids -> `[..., embeddingDim]`. */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = tf.reshape(ids, [-1]);
      const rows = tf.gather(this.weight.tensor, flat); // [tokens, dim]
      return tf.reshape(rows, [...ids.shape, this.embeddingDim]);
    });
  }
}
