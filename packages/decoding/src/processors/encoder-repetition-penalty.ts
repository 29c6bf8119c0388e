import type * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { promptRowOfHypotheses } from './encoder-rows.js';
import type { LogitsProcessor } from './logits-processor.js';
import { penalise } from './repetition-penalty.js';
import { rowTokenMask } from './score-ops.js';

/**
 * The inverse of the repetition penalty, for tokens of the encoder input (the prompt, for decoder-only
 * models): above 1 favours them. Each hypothesis row uses the input row it continues (Hugging Face
 * gathers the input rows without that expansion, which only differs with several beams or samples).
 */
export class EncoderRepetitionPenaltyLogitsProcessor implements LogitsProcessor {
  private readonly inversePenalty: number;

  constructor(
    readonly penalty: number,
    readonly encoderInputIds: TokenRows,
  ) {
    positiveNumber(penalty, { option: 'encoderRepetitionPenalty', hf: 'encoder_repetition_penalty' });
    this.inversePenalty = 1 / penalty;
  }

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const promptRows = promptRowOfHypotheses(scores.shape[0], this.encoderInputIds.length);
    const tokens = promptRows.map((row) => this.encoderInputIds[row]!);
    return penalise(scores, rowTokenMask(tokens, scores.shape[1]), this.inversePenalty);
  }
}
