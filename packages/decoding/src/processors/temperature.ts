import * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { RowwiseProcessor } from './rowwise.js';

/** Divides the scores by `temperature` (> 0): below 1 sharpens the distribution, above 1 flattens it. */
export class TemperatureLogitsWarper implements RowwiseProcessor {
  constructor(readonly temperature: number) {
    positiveNumber(temperature, { option: 'temperature', hf: 'temperature' });
  }

  get rowwiseKey(): string {
    return `temperature ${this.temperature}`;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return tf.div(scores, this.temperature);
  }
}
