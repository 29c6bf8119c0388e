import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { fillTokens } from './score-ops.js';
import type { TokenBanProcessor } from './token-ban.js';

/** Forbids EOS while rows are shorter than `minLength` (prompt included for decoder-only models). */
export class MinLengthLogitsProcessor implements TokenBanProcessor {
  readonly eosTokenIds: readonly number[];

  constructor(
    readonly minLength: number,
    eosTokenId: number | readonly number[],
  ) {
    integerAtLeast(0)(minLength, { option: 'minLength', hf: 'min_length' });
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'eosTokenId', hf: 'eos_token_id' });
  }

  bannedTokens(tokens: readonly number[]): readonly number[] {
    return tokens.length >= this.minLength ? [] : this.eosTokenIds;
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return fillTokens(scores, this.bannedTokens(inputIds[0] ?? []), -Infinity);
  }
}
