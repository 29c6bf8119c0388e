import * as tf from '@tensorflow/tfjs-core';
import type { GeneratedToken } from './batch-request.js';
import type { BatchRow } from './batch-row.js';

/** One step's choices as tensors (kept out of the step's tidy), read back by `readSelection`. */
type Selection = {
  /** `[rows]` int32. */
  tokens: tf.Tensor1D;
  /** `[rows]` float32 log-probabilities of the chosen tokens, when any row asked for logprobs. */
  logprobs?: tf.Tensor1D;
  /** `[rows, k]` the k most likely tokens and their log-probabilities (k the most any row asked for). */
  top?: { values: tf.Tensor2D; indices: tf.Tensor2D };
};

/**
 * Every row's next token from the step's logits `[rows, vocab]` (row i of the logits is `rows[i]`),
 * each by its own processors and draws, and the log-probabilities the rows asked for. Runs in one
 * `tf.tidy`, then one download of each result.
 */
export async function selectTokens(
  rows: readonly BatchRow[],
  logits: tf.Tensor2D,
): Promise<GeneratedToken[]> {
  const vocabSize = logits.shape[1];
  const wantLogprobs = rows.some((row) => row.topLogprobs !== undefined);
  const topCount = Math.min(vocabSize, Math.max(0, ...rows.map((row) => row.topLogprobs ?? 0)));
  const selection: Selection = tf.tidy((): Selection => {
    // [rows]: one argmax over the batch serves every row that is plain greedy search.
    const best = rows.some((row) => row.plainGreedy) ? (tf.argMax(logits, 1) as tf.Tensor1D) : undefined;
    const tokens = rows.every((row) => row.plainGreedy)
      ? best!
      : (tf.concat(
          rows.map((row, index) =>
            row.plainGreedy
              ? tf.slice(best!, [index], [1])
              : row.chooseToken(tf.slice(logits, [index, 0], [1, vocabSize])),
          ),
        ) as tf.Tensor1D);
    if (!wantLogprobs) return { tokens };
    // [rows, vocab]: the model's own next-token distribution, before any processor.
    const logSoftmax = tf.logSoftmax(logits);
    const logprobs = tf.sum<tf.Tensor1D>(
      tf.mul(logSoftmax, tf.cast(tf.oneHot(tokens, vocabSize), 'float32')),
      1,
    );
    const top = topCount > 0 ? tf.topk(logSoftmax, topCount) : undefined;
    return { tokens, logprobs, ...(top && { top: top as Selection['top'] }) };
  });
  try {
    return await readSelection(rows, selection, topCount);
  } finally {
    tf.dispose([selection.tokens, selection.logprobs, selection.top?.values, selection.top?.indices]);
  }
}

async function readSelection(
  rows: readonly BatchRow[],
  selection: Selection,
  topCount: number,
): Promise<GeneratedToken[]> {
  const [tokens, logprobs, topValues, topIndices] = await Promise.all([
    selection.tokens.data(),
    selection.logprobs?.data(),
    selection.top?.values.data(),
    selection.top?.indices.data(),
  ]);
  return rows.map((row, index): GeneratedToken => {
    const id = tokens[index]!;
    if (row.topLogprobs === undefined || logprobs === undefined) return { id };
    const alternatives = Array.from({ length: Math.min(row.topLogprobs, topCount) }, (_, rank) => ({
      id: topIndices![index * topCount + rank]!,
      logprob: topValues![index * topCount + rank]!,
    }));
    return { id, logprob: logprobs[index]!, topLogprobs: alternatives };
  });
}
