import type * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../config/generation-options.js';

/**
 * One step of score processing, as Hugging Face's LogitsProcessor: given every row's tokens so far
 * and the next-token scores `[rows, vocab]` (float32), returns new scores. Never modifies its input;
 * runs inside the step's `tf.tidy`, so intermediate tensors need no disposing.
 */
export interface LogitsProcessor {
  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D;
}

/** Applies processors in order, as Hugging Face's LogitsProcessorList. */
export function applyLogitsProcessors(
  processors: readonly LogitsProcessor[],
  inputIds: TokenRows,
  scores: tf.Tensor2D,
): tf.Tensor2D {
  return processors.reduce((current, processor) => processor.process(inputIds, current), scores);
}
