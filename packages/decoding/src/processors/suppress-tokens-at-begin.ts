import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdList } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillTokens } from './score-ops.js';

/** Sets the scores of `beginSuppressTokens` to -inf at the step where rows are `beginIndex` tokens long. */
export class SuppressTokensAtBeginLogitsProcessor implements LogitsProcessor {
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

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    if ((inputIds[0]?.length ?? 0) !== this.beginIndex) return scores;
    return fillTokens(scores, this.beginSuppressTokens, -Infinity);
  }
}
