import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, numberInRange } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere, kthLargest } from './score-ops.js';

/** Epsilon sampling: removes tokens whose probability is below `epsilon` (keeping the `minTokensToKeep` best). */
export class EpsilonLogitsWarper implements RowwiseProcessor {
  constructor(
    readonly epsilon: number,
    readonly minTokensToKeep = 1,
  ) {
    numberInRange(0, 1, { min: true, max: true })(epsilon, { option: 'epsilonCutoff', hf: 'epsilon_cutoff' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
  }

  get rowwiseKey(): string {
    return `epsilon ${this.epsilon} ${this.minTokensToKeep}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const belowCutoff = tf.less(tf.softmax(scores), this.epsilon);
    return fillWhere(scores, keepBest(belowCutoff, scores, this.minTokensToKeep), -Infinity);
  }
}

/** `remove` minus the `count` highest-scoring tokens of each row. */
export function keepBest(remove: tf.Tensor, scores: tf.Tensor2D, count: number): tf.Tensor2D {
  return tf.logicalAnd<tf.Tensor2D>(
    remove,
    tf.less(scores, kthLargest(scores, Math.min(count, scores.shape[1]))),
  );
}
