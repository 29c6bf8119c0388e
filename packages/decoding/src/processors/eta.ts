import * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, numberInRange } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { keepBest } from './epsilon.js';
import type { RowwiseProcessor } from './rowwise.js';
import { fillWhere } from './score-ops.js';

/** The most negative float32: Hugging Face clamps -inf log-probabilities to it before taking the entropy. */
const FLOAT32_LOWEST = -3.4028234663852886e38;

/**
 * Eta sampling: removes tokens whose probability is below `min(epsilon, sqrt(epsilon) * exp(-entropy))`
 * (keeping the `minTokensToKeep` best).
 */
export class EtaLogitsWarper implements RowwiseProcessor {
  constructor(
    readonly epsilon: number,
    readonly minTokensToKeep = 1,
  ) {
    numberInRange(0, 1, { min: true, max: true })(epsilon, { option: 'etaCutoff', hf: 'eta_cutoff' });
    integerAtLeast(1)(minTokensToKeep, { option: 'minTokensToKeep', hf: 'min_tokens_to_keep' });
  }

  get rowwiseKey(): string {
    return `eta ${this.epsilon} ${this.minTokensToKeep}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const probabilities = tf.softmax(scores);
    const logProbabilities = tf.maximum(tf.logSoftmax(scores), FLOAT32_LOWEST);
    const entropy = tf.neg(tf.sum(tf.mul(logProbabilities, probabilities), 1, true)); // [rows, 1]
    const epsilon = tf.scalar(this.epsilon, 'float32');
    const eta = tf.minimum(epsilon, tf.mul(tf.sqrt(epsilon), tf.exp(tf.neg(entropy))));
    return fillWhere(scores, keepBest(tf.less(probabilities, eta), scores, this.minTokensToKeep), -Infinity);
  }
}
