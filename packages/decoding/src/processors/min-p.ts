import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, numberInRange } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere, kthLargest } from './score-ops.js';

/**
 * Keeps the tokens whose probability is at least `minP` times the most likely token's (and the
 * `minTokensToKeep` most likely ones); sets the rest to -inf.
 */
export class MinPLogitsWarper implements RowwiseProcessor {
  constructor(
    readonly minP: number,
    readonly minTokensToKeep = 1,
  ) {
    numberInRange(0, 1)(minP, { option: 'minP', hf: 'min_p' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
  }

  get rowwiseKey(): string {
    return `min-p ${this.minP} ${this.minTokensToKeep}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const probabilities = tf.softmax(scores);
    const threshold = tf.mul(tf.max(probabilities, 1, true), this.minP);
    const keepAnyway = kthLargest(probabilities, Math.min(this.minTokensToKeep, scores.shape[1]));
    const remove = tf.logicalAnd(tf.less(probabilities, threshold), tf.less(probabilities, keepAnyway));
    return fillWhere(scores, remove, -Infinity);
  }
}
