import * as tf from '@tensorflow/tfjs-core';
import { Embedding } from './embedding.js';
import { MissingMaxPositionError, PositionOutOfRangeError } from './errors.js';

export interface LearnedPositionalEmbeddingOptions {
  /**
   * Rows reserved before position 0 (BART uses 2): the table has `numPositions + offset` rows and
   * position p reads row `p + offset`.
   */
  offset?: number;
}

/**
 * A learned position table (GPT-2's `wpe`, BART's `embed_positions`). Positions outside the table
 * raise a `PositionOutOfRangeError` instead of reading garbage.
 */
export class LearnedPositionalEmbedding extends Embedding {
  readonly offset: number;

  constructor(
    readonly numPositions: number,
    embeddingDim: number,
    options: LearnedPositionalEmbeddingOptions = {},
  ) {
    const offset = options.offset ?? 0;
    super(numPositions + offset, embeddingDim);
    this.offset = offset;
  }

  /**
   * `[...]` int32 positions -> `[..., embeddingDim]`. `maxPosition` is the largest id (e.g. past length
   * + new tokens - 1), which the caller knows: the ids are never read back from the device (WebGPU
   * cannot read synchronously), so without it the range cannot be checked and the call is refused.
   */
  override forward(positionIds: tf.Tensor, maxPosition?: number): tf.Tensor {
    if (maxPosition === undefined) throw new MissingMaxPositionError(this.numPositions);
    if (maxPosition >= this.numPositions) throw new PositionOutOfRangeError(maxPosition, this.numPositions);
    return tf.tidy(() =>
      super.forward(this.offset === 0 ? positionIds : tf.add(positionIds, tf.scalar(this.offset, 'int32'))),
    );
  }
}
