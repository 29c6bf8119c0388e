import * as tf from '@tensorflow/tfjs-core';
import { Embedding } from './embedding.js';
import { PositionOutOfRangeError } from './errors.js';

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
   * `[...]` int32 positions -> `[..., embeddingDim]`. Pass `maxPosition` (the largest id, e.g. past
   * length + new tokens - 1) when it is known; otherwise the ids are read back to check their range.
   */
  override forward(positionIds: tf.Tensor, maxPosition?: number): tf.Tensor {
    if (maxPosition === undefined) this.assertInRange(positionIds);
    else if (maxPosition >= this.numPositions)
      throw new PositionOutOfRangeError(maxPosition, this.numPositions);
    return tf.tidy(() =>
      super.forward(this.offset === 0 ? positionIds : tf.add(positionIds, tf.scalar(this.offset, 'int32'))),
    );
  }

  private assertInRange(positionIds: tf.Tensor): void {
    const positions = positionIds.dataSync();
    for (const position of positions) {
      if (position < 0 || position >= this.numPositions) {
        throw new PositionOutOfRangeError(position, this.numPositions);
      }
    }
  }
}
