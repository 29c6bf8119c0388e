import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { promptRowOfHypotheses } from './encoder-rows.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillWhere, rowTokenMask } from './score-ops.js';

/**
 * Forbids every token that would complete an n-gram of size `ngramSize` found in the encoder input
 * (the prompt, for decoder-only models), given the row's last `ngramSize - 1` tokens.
 */
export class EncoderNoRepeatNGramLogitsProcessor implements LogitsProcessor {
  /** Per encoder row: the n-gram prefixes (joined with commas) and the tokens that followed them. */
  private readonly continuations: readonly Map<string, number[]>[];

  constructor(
    readonly ngramSize: number,
    readonly encoderInputIds: TokenRows,
  ) {
    integerAtLeast(1)(ngramSize, { option: 'encoderNoRepeatNgramSize', hf: 'encoder_no_repeat_ngram_size' });
    this.continuations = encoderInputIds.map((row) => {
      const byPrefix = new Map<string, number[]>();
      for (let start = 0; start + ngramSize <= row.length; start++) {
        const key = row.slice(start, start + ngramSize - 1).join(',');
        byPrefix.set(key, [...(byPrefix.get(key) ?? []), row[start + ngramSize - 1]!]);
      }
      return byPrefix;
    });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const currentLength = inputIds[0]?.length ?? 0;
    if (currentLength < this.ngramSize - 1) return scores;
    const promptRows = promptRowOfHypotheses(scores.shape[0], this.encoderInputIds.length);
    const banned = inputIds.map((row, r) => {
      const key = row.slice(currentLength + 1 - this.ngramSize).join(',');
      return this.continuations[promptRows[r]!]!.get(key) ?? [];
    });
    if (banned.every((tokens) => tokens.length === 0)) return scores;
    return fillWhere(scores, rowTokenMask(banned, scores.shape[1]), -Infinity);
  }
}
