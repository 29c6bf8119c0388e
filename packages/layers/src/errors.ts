import { TsformerError } from '@tsformer/core-tensor';

/** An activation name that is not one of Hugging Face's `ACT2FN` names we implement. */
export class UnknownActivationError extends TsformerError {
  override name = 'UnknownActivationError';
  constructor(
    readonly activation: string,
    readonly supported: readonly string[],
  ) {
    super(`unknown activation "${activation}"; supported: ${supported.join(', ')}`);
  }
}

/** A position id outside a learned position table (input longer than `max_position_embeddings`). */
export class PositionOutOfRangeError extends TsformerError {
  override name = 'PositionOutOfRangeError';
  constructor(
    readonly position: number,
    readonly numPositions: number,
  ) {
    super(
      `position ${position} is outside the learned position table of ${numPositions} positions ` +
        `(positions 0..${numPositions - 1}): the input plus the cache is longer than the model's ` +
        'max_position_embeddings',
    );
  }
}

/** A learned position table called without the largest position id, which it needs to check the range. */
export class MissingMaxPositionError extends TsformerError {
  override name = 'MissingMaxPositionError';
  constructor(readonly numPositions: number) {
    super(
      `LearnedPositionalEmbedding(${numPositions} positions).forward needs maxPosition, the largest position ` +
        'id: tsformer never reads ids back from the device to find it',
    );
  }
}
