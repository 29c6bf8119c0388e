import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdList } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { fillTokens } from './score-ops.js';
import type { TokenBanProcessor } from './token-ban.js';

/** Sets the scores of `beginSuppressTokens` to -inf at the step where rows are `beginIndex` tokens long. */
export class SuppressTokensAtBeginLogitsProcessor implements TokenBanProcessor {
  readonly beginSuppressTokens: readonly number[];

  constructor(
    beginSuppressTokens: readonly number[],
    readonly beginIndex: number,
  ) {
    this.beginSuppressTokens = tokenIdList(beginSuppressTokens, {
      option: 'beginSuppressTokens',
      hf: 'begin_suppress_tokens',
    });
    integerAtLeast(0)(beginIndex, { option: 'beginIndex', hf: 'begin_index' });
  }

  bannedTokens(tokens: readonly number[]): readonly number[] {
    return tokens.length !== this.beginIndex ? [] : this.beginSuppressTokens;
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return fillTokens(scores, this.bannedTokens(inputIds[0] ?? []), -Infinity);
  }
}
