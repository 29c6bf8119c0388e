import * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { rowTokenMask } from './score-ops.js';

/**
 * Penalises every token already in the row (prompt included): negative scores are multiplied by
 * `penalty`, positive ones divided by it. Above 1 discourages repetition, below 1 encourages it.
 */
export class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
  constructor(readonly penalty: number) {
    positiveNumber(penalty, { option: 'repetitionPenalty', hf: 'repetition_penalty' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return penalise(scores, rowTokenMask(inputIds, scores.shape[1]), this.penalty);
  }
}

/** Where `mask` is true: `score * penalty` for negative scores, `score / penalty` otherwise. */
export function penalise(scores: tf.Tensor2D, mask: tf.Tensor2D, penalty: number): tf.Tensor2D {
  const penalised = tf.where(
    tf.less(scores, 0),
    tf.mul<tf.Tensor2D>(scores, penalty),
    tf.div<tf.Tensor2D>(scores, penalty),
  );
  return tf.where(mask, penalised, scores);
}
