import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../config/generation-options.js';

/**
 * One generation's view of a model: feeds each step's new tokens (all of them when the cache is off)
 * and owns the cache and any other state kept across steps.
 */
export interface ModelSession {
  readonly vocabSize: number;
  /** Next-token logits `[rows, vocab]` float32 for rows that now read `sequences`; call inside `tf.tidy`. */
  nextLogits(sequences: TokenRows): tf.Tensor2D;
  /**
   * Feeds the prompts (one per row, as the first step will read them) to the cache in chunks of
   * `chunkSize` tokens, awaiting `between()` after each, until at most `chunkSize` are left for the
   * first step. Absent where prompts are never long (an encoder-decoder's decoder starts from one token).
   */
  prefill?(prompts: TokenRows, chunkSize: number, between: () => Promise<void>): Promise<void>;
  /** Row i of the kept state becomes old row `rowIndices[i]` (beam search; rows stay within their prompt). */
  reorder(rowIndices: readonly number[]): void;
  dispose(): void;
}

/** The logits of the last position of `[rows, positions, vocab]`, as `[rows, vocab]` float32. */
export function lastPositionLogits(logits: tf.Tensor3D): tf.Tensor2D {
  const [rows, positions, vocabSize] = logits.shape;
  const last = tf.reshape<tf.Rank.R2>(tf.slice(logits, [0, positions - 1, 0], [rows, 1, vocabSize]), [
    rows,
    vocabSize,
  ]);
  return last.dtype === 'float32' ? last : tf.cast(last, 'float32');
}

/** `rows.length * times` rows: each row repeated `times` times in place (torch's `repeat_interleave`). */
export function repeatRows<T>(rows: readonly T[], times: number): T[] {
  return rows.flatMap((row) => Array.from({ length: times }, () => row));
}
