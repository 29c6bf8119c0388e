import type * as tf from '@tensorflow/tfjs-core';
import { tokenIdList } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { fillTokens } from './score-ops.js';
import type { TokenBanProcessor } from './token-ban.js';

/** Sets the scores of `suppressTokens` to -inf at every step. */
export class SuppressTokensLogitsProcessor implements TokenBanProcessor {
  readonly suppressTokens: readonly number[];

  constructor(suppressTokens: readonly number[]) {
    this.suppressTokens = tokenIdList(suppressTokens, { option: 'suppressTokens', hf: 'suppress_tokens' });
  }

  bannedTokens(_tokens: readonly number[]): readonly number[] {
    return this.suppressTokens;
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return fillTokens(scores, this.bannedTokens(inputIds[0] ?? []), -Infinity);
  }
}
