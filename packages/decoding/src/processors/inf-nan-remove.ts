import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillWhere } from './score-ops.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** Replaces NaN by 0 and ±inf by the largest finite float32 of the same sign. */
export class InfNanRemoveLogitsProcessor implements LogitsProcessor {
  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const withoutNan = fillWhere(scores, tf.isNaN(scores), 0);
    const withoutPlusInf = fillWhere(withoutNan, tf.equal(scores, Infinity), FLOAT32_MAX);
    return fillWhere(withoutPlusInf, tf.equal(scores, -Infinity), -FLOAT32_MAX);
  }
}
