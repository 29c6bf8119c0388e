import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';

/** Log-softmax of the scores: renormalises them after the other processors (`renormalizeLogits`). */
export class LogitNormalization implements LogitsProcessor {
  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return tf.logSoftmax(scores);
  }
}
