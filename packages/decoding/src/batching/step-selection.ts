import * as tf from '@tensorflow/tfjs-core';
import { applyLogitsProcessors } from '../processors/logits-processor.js';
import { fillTokens } from '../processors/score-ops.js';
import { sampleTokens } from '../search/sampling.js';
import type { GeneratedToken } from './batch-request.js';
import type { BatchRow } from './batch-row.js';

/**
 * Every row's next token from the step's logits `[rows, vocab]` (row i of the logits is `rows[i]`),
 * each by its own processors and draws, and the log-probabilities the rows asked for. Rows whose
 * processors only ban ids or act on each row alone are processed as a batch (`chooseTokens`); other
 * rows run their own processors on their own row. Runs in one `tf.tidy`, then one download of
 * everything the step chose.
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

/**
 * `[rows]` int32: each row's token (inside the caller's tidy). Rows that share a `batchKey` choose
 * together: every such row's banned ids in one scatter over the batch, then per group of equal keys
 * one call of their row-wise processors and one argmax or draw; other rows choose alone.
 */
function chooseTokens(rows: readonly BatchRow[], logits: tf.Tensor2D): tf.Tensor1D {
  const keys = rows.map((row) => row.batchKey);
  const groups = new Map<string, number[]>();
  keys.forEach((key, index) => {
    if (key !== undefined) groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  // [rows, vocab]: the grouped rows' banned ids at -inf.
  const banned =
    groups.size === 0
      ? logits
      : fillTokens(
          logits,
          rows.map((row, index) => (keys[index] === undefined ? [] : row.bannedTokens())),
          Number.NEGATIVE_INFINITY,
        );
  const pieces: { indices: number[]; tokens: tf.Tensor1D }[] = [];
  for (const indices of groups.values()) {
    const first = rows[indices[0]!]!;
    const scores = applyLogitsProcessors(
      first.rowwiseProcessors,
      indices.map((index) => rows[index]!.sequence),
      indices.length === rows.length ? banned : tf.gather(banned, tf.tensor1d(indices, 'int32')),
    );
    const tokens =
      first.plan.random === undefined
        ? (tf.argMax(scores, 1) as tf.Tensor1D)
        : sampleTokens(
            scores,
            tf.tensor2d(
              indices.map((index) => rows[index]!.drawUniform()),
              [indices.length, 1],
              'float32',
            ),
          );
    pieces.push({ indices, tokens });
  }
  keys.forEach((key, index) => {
    if (key === undefined)
      pieces.push({ indices: [index], tokens: rows[index]!.chooseToken(rowOf(logits, index)) });
  });
  if (pieces.length === 1) return pieces[0]!.tokens;
  // The pieces' tokens back in row order.
  const order = pieces.flatMap((piece) => piece.indices);
  return tf.gather(
    tf.concat(pieces.map((piece) => piece.tokens)),
    tf.tensor1d(
      rows.map((_, row) => order.indexOf(row)),
      'int32',
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
