import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere, kthLargest } from './score-ops.js';

/** Keeps the `topK` highest scores of each row (at least `minTokensToKeep`) and sets the rest to -inf. */
export class TopKLogitsWarper implements RowwiseProcessor {
  readonly topK: number;

  constructor(topK: number, minTokensToKeep = 1) {
    integerAtLeast(1)(topK, { option: 'topK', hf: 'top_k' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
    this.topK = Math.max(topK, minTokensToKeep);
  }

  get rowwiseKey(): string {
    return `top-k ${this.topK}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const k = Math.min(this.topK, scores.shape[1]);
    return fillWhere(scores, tf.less(scores, kthLargest(scores, k)), -Infinity);
  }
}
