import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillTokens } from './score-ops.js';

/** Forbids EOS while rows are shorter than `minLength` (prompt included for decoder-only models). */
export class MinLengthLogitsProcessor implements LogitsProcessor {
  readonly eosTokenIds: readonly number[];

  constructor(
    readonly minLength: number,
    eosTokenId: number | readonly number[],
  ) {
    integerAtLeast(0)(minLength, { option: 'minLength', hf: 'min_length' });
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'eosTokenId', hf: 'eos_token_id' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    if ((inputIds[0]?.length ?? 0) >= this.minLength) return scores;
    return fillTokens(scores, this.eosTokenIds, -Infinity);
  }
}
