import * as tf from '@tensorflow/tfjs-core';
import type { LogitsProcessor, TokenRows } from '@tsformer/decoding';

/**
 * OpenAI's presence and frequency penalties as a logits processor: the score of token j becomes
 * `score[j] - count[j] * frequencyPenalty - (count[j] > 0 ? presencePenalty : 0)`, where `count[j]` is
 * how often j occurs in the row's generated tokens (the prompt is not counted). Never modifies its input.
 */
export class PresenceFrequencyPenaltyProcessor implements LogitsProcessor {
  constructor(
    /** Tokens of each row that are prompt, not generated. */
    readonly promptLength: number,
    readonly presencePenalty: number,
    readonly frequencyPenalty: number,
  ) {}

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const [rows, vocabSize] = scores.shape;
    const penalties = new Float32Array(rows * vocabSize);
    inputIds.forEach((row, rowIndex) => {
      const counts = new Map<number, number>();
      for (const token of row.slice(this.promptLength)) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [token, count] of counts) {
        if (token < vocabSize)
          penalties[rowIndex * vocabSize + token] = count * this.frequencyPenalty + this.presencePenalty;
      }
    });
    return tf.sub(scores, tf.tensor2d(penalties, [rows, vocabSize]));
  }
}
