import type * as tf from '@tensorflow/tfjs-core';
import { tokenIdList } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillTokens } from './score-ops.js';

/** Sets the scores of `suppressTokens` to -inf at every step. */
export class SuppressTokensLogitsProcessor implements LogitsProcessor {
  readonly suppressTokens: readonly number[];

  constructor(suppressTokens: readonly number[]) {
    this.suppressTokens = tokenIdList(suppressTokens, { option: 'suppressTokens', hf: 'suppress_tokens' });
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return fillTokens(scores, this.suppressTokens, -Infinity);
  }
}
