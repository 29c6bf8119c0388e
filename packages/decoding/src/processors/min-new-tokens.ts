import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillTokens } from './score-ops.js';

/** Forbids EOS until `minNewTokens` tokens follow the first `promptLengthToSkip` ones. */
export class MinNewTokensLengthLogitsProcessor implements LogitsProcessor {
  readonly eosTokenIds: readonly number[];

  constructor(
    readonly promptLengthToSkip: number,
    readonly minNewTokens: number,
    eosTokenId: number | readonly number[],
  ) {
    integerAtLeast(0)(promptLengthToSkip, { option: 'promptLengthToSkip', hf: 'prompt_length_to_skip' });
    integerAtLeast(0)(minNewTokens, { option: 'minNewTokens', hf: 'min_new_tokens' });
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'eosTokenId', hf: 'eos_token_id' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    if ((inputIds[0]?.length ?? 0) - this.promptLengthToSkip >= this.minNewTokens) return scores;
    return fillTokens(scores, this.eosTokenIds, -Infinity);
  }
}
