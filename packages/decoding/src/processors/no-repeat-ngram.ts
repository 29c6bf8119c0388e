import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { fillWhere, rowTokenMask } from './score-ops.js';

/** Forbids every token that would repeat an n-gram of size `ngramSize` already in the row (prompt included). */
export class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
  constructor(readonly ngramSize: number) {
    integerAtLeast(1)(ngramSize, { option: 'noRepeatNgramSize', hf: 'no_repeat_ngram_size' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const banned = inputIds.map((row) => bannedNextTokens(row, this.ngramSize));
    if (banned.every((tokens) => tokens.length === 0)) return scores;
    return fillWhere(scores, rowTokenMask(banned, scores.shape[1]), -Infinity);
  }
}

/** The last tokens of every earlier n-gram of `row` that starts with the row's last `n - 1` tokens. */
function bannedNextTokens(row: readonly number[], n: number): number[] {
  const banned: number[] = [];
  const prefixStart = row.length - n + 1;
  for (let start = 0; start + n <= row.length; start++) {
    let matches = true;
    for (let i = 0; i < n - 1 && matches; i++) matches = row[start + i] === row[prefixStart + i];
    if (matches) banned.push(row[start + n - 1]!);
  }
  return banned;
}
