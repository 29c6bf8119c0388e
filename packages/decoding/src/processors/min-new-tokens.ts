import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { fillTokens } from './score-ops.js';
import type { TokenBanProcessor } from './token-ban.js';

/** Forbids EOS until `minNewTokens` tokens follow the first `promptLengthToSkip` ones. */
export class MinNewTokensLengthLogitsProcessor implements TokenBanProcessor {
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

  bannedTokens(tokens: readonly number[]): readonly number[] {
    return tokens.length - this.promptLengthToSkip >= this.minNewTokens ? [] : this.eosTokenIds;
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return fillTokens(scores, this.bannedTokens(inputIds[0] ?? []), -Infinity);
  }
}
