import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, numberInRange } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere, gatherPerRow } from './score-ops.js';

/**
 * Locally typical sampling: ranks tokens by how close their surprisal is to the entropy, keeps the
 * closest ones until their probabilities add up to `mass` (at least `minTokensToKeep`).
 */
export class TypicalLogitsWarper implements RowwiseProcessor {
  constructor(
    readonly mass = 0.9,
    readonly minTokensToKeep = 1,
  ) {
    numberInRange(0, 1, { min: true, max: true })(mass, { option: 'typicalP', hf: 'typical_p' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
  }

  get rowwiseKey(): string {
    return `typical ${this.mass} ${this.minTokensToKeep}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const vocabSize = scores.shape[1];
    const logProbabilities = tf.logSoftmax(scores);
    const terms = tf.mul(logProbabilities, tf.exp(logProbabilities));
    const entropy = tf.neg(tf.sum(tf.where(tf.isNaN(terms), tf.zerosLike(terms), terms), 1, true)); // [rows, 1]
    const distance = tf.abs(tf.sub(tf.neg(logProbabilities), entropy)); // [rows, vocab]
    const order = tf.topk(tf.neg(distance), vocabSize); // ascending distance
    const sortedDistance = tf.neg(order.values);
    const cumulative = tf.cumsum(tf.softmax(gatherPerRow(scores, order.indices)), 1);
    // Clamped with int32 min/max: the wasm backend's clipByValue reads int32 data as float32.
    const lastKept = tf.maximum(
      tf.minimum(
        tf.sum(tf.cast(tf.less(cumulative, this.mass), 'int32'), 1, true),
        tf.scalar(vocabSize - 1, 'int32'),
      ),
      tf.scalar(Math.min(this.minTokensToKeep - 1, vocabSize - 1), 'int32'),
    ); // [rows, 1]
    return fillWhere(scores, tf.greater(distance, gatherPerRow(sortedDistance, lastKept)), -Infinity);
  }
}
