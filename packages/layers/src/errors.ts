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
