import * as tf from '@tensorflow/tfjs-core';
import { fillTokens } from '../processors/score-ops.js';
import type { GeneratedToken } from './batch-request.js';
import type { BatchRow } from './batch-row.js';

/**
 * Every row's next token from the step's logits `[rows, vocab]` (row i of the logits is `rows[i]`),
 * each by its own processors and draws, and the log-probabilities the rows asked for. Greedy rows
 * whose processors only ban ids take one argmax over the batch, their banned ids set to -inf in one
 * scatter; other rows run their own processors on their own row. Runs in one `tf.tidy`, then one
 * download of everything the step chose.
 */
export async function selectTokens(
  rows: readonly BatchRow[],
  logits: tf.Tensor2D,
): Promise<GeneratedToken[]> {
  const vocabSize = logits.shape[1];
  const wantLogprobs = rows.some((row) => row.topLogprobs !== undefined);
  const topCount = Math.min(vocabSize, Math.max(0, ...rows.map((row) => row.topLogprobs ?? 0)));
  // [rows, 1 + (1 + 2 × topCount when logprobs)] float32: token ids (exact below 2^24), then the
  // chosen token's log-probability, the top log-probabilities and their ids.
  const selection = tf.tidy(() => {
    const tokens = chooseTokens(rows, logits);
    if (!wantLogprobs) return tf.reshape(tf.cast(tokens, 'float32'), [rows.length, 1]);
    // [rows, vocab]: the model's own next-token distribution, before any processor.
    const logSoftmax = tf.logSoftmax(logits);
    const chosen = tf.sum(tf.mul(logSoftmax, tf.cast(tf.oneHot(tokens, vocabSize), 'float32')), 1, true);
    const top = topCount > 0 ? tf.topk(logSoftmax, topCount) : undefined;
    const columns = [tf.reshape(tf.cast(tokens, 'float32'), [rows.length, 1]), chosen];
    if (top) columns.push(top.values, tf.cast(top.indices, 'float32'));
    return tf.concat(columns, 1);
  });
  try {
    return readSelection(rows, await selection.data(), selection.shape[1]!, topCount);
  } finally {
    selection.dispose();
  }
}

/** `[rows]` int32: each row's token (inside the caller's tidy). */
function chooseTokens(rows: readonly BatchRow[], logits: tf.Tensor2D): tf.Tensor1D {
  const batched = rows.map((row) => row.greedyWithBans);
  if (!batched.some(Boolean)) {
    return tf.concat(rows.map((row, index) => row.chooseToken(rowOf(logits, index))));
  }
  const banned = rows.map((row, index) => (batched[index] ? row.bannedTokens() : []));
  // [rows]: the argmax of every row with its own banned ids at -inf.
  const best = tf.argMax(fillTokens(logits, banned, Number.NEGATIVE_INFINITY), 1) as tf.Tensor1D;
  if (batched.every(Boolean)) return best;
  return tf.concat(
    rows.map((row, index) =>
      batched[index] ? tf.slice(best, [index], [1]) : row.chooseToken(rowOf(logits, index)),
    ),
  );
}

/** `[1, vocab]`: row `index` of `logits`. */
function rowOf(logits: tf.Tensor2D, index: number): tf.Tensor2D {
  return tf.slice(logits, [index, 0], [1, logits.shape[1]]);
}

function readSelection(
  rows: readonly BatchRow[],
  values: Float32Array | Int32Array | Uint8Array,
  width: number,
  topCount: number,
): GeneratedToken[] {
  return rows.map((row, index): GeneratedToken => {
    const at = (column: number) => values[index * width + column]!;
    const id = at(0);
    if (row.topLogprobs === undefined || width === 1) return { id };
    const alternatives = Array.from({ length: Math.min(row.topLogprobs, topCount) }, (_, rank) => ({
      id: at(2 + topCount + rank),
      logprob: at(2 + rank),
    }));
    return { id, logprob: at(1), topLogprobs: alternatives };
  });
}
