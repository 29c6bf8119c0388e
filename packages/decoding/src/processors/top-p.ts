import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, numberInRange } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere, gatherPerRow } from './score-ops.js';

/**
 * Nucleus filtering: keeps the smallest set of highest-probability tokens whose probabilities add up
 * to more than `1 - topP` (at least `minTokensToKeep`), and sets the rest to -inf. As Hugging Face,
 * the running sum goes over the tokens sorted from least to most likely.
 */
export class TopPLogitsWarper implements RowwiseProcessor {
  constructor(
    readonly topP: number,
    readonly minTokensToKeep = 1,
  ) {
    numberInRange(0, 1, { min: true })(topP, { option: 'topP', hf: 'top_p' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
  }

  get rowwiseKey(): string {
    return `top-p ${this.topP} ${this.minTokensToKeep}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const vocabSize = scores.shape[1];
    const ascending = tf.reverse(tf.topk(scores, vocabSize).values, 1); // [rows, vocab]
    const cumulative = tf.cumsum(tf.softmax(ascending), 1);
    // The removed tokens are a prefix of the ascending order: count them, then cut at the first kept score.
    const removed = tf.minimum(
      tf.sum(tf.cast(tf.lessEqual(cumulative, 1 - this.topP), 'int32'), 1, true),
      tf.scalar(Math.max(vocabSize - this.minTokensToKeep, 0), 'int32'),
    ); // [rows, 1]
    const firstKept = gatherPerRow(ascending, removed); // [rows, 1]
    return fillWhere(scores, tf.less(scores, firstKept), -Infinity);
  }
}
