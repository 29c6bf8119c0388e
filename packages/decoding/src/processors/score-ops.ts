import * as tf from '@tensorflow/tfjs-core';

/** `[vocab]` bool: true at the given ids (ids outside the vocabulary are ignored, as `torch.isin` does). */
export function vocabularyMask(tokenIds: readonly number[], vocabSize: number): tf.Tensor1D {
  const inVocabulary = tokenIds.filter((id) => id < vocabSize);
  if (inVocabulary.length === 0) return tf.zeros([vocabSize], 'bool');
  const ones = tf.ones([inVocabulary.length], 'int32');
  const counts = tf.scatterND(tf.tensor2d(inVocabulary, [inVocabulary.length, 1], 'int32'), ones, [
    vocabSize,
  ]);
  return tf.greater(counts, 0);
}

/** `[rows, vocab]` bool: row r is true at every id of `tokensPerRow[r]` (repeats are fine). */
export function rowTokenMask(tokensPerRow: readonly (readonly number[])[], vocabSize: number): tf.Tensor2D {
  const coordinates: number[] = [];
  tokensPerRow.forEach((tokens, row) => {
    for (const token of tokens) if (token < vocabSize) coordinates.push(row, token);
  });
  const shape: [number, number] = [tokensPerRow.length, vocabSize];
  if (coordinates.length === 0) return tf.zeros(shape, 'bool');
  const count = coordinates.length / 2;
  const hits = tf.scatterND(tf.tensor2d(coordinates, [count, 2], 'int32'), tf.ones([count], 'int32'), shape);
  return tf.greater(hits, 0);
}

/**
 * `scores` with `value` wherever `mask` (broadcast to the scores' shape) is true. The mask and the
 * fill are broadcast explicitly: `tf.where` with a scalar and a smaller mask takes a broadcasting path
 * that is several times slower on the wasm backend (a serving step pays it once per row).
 */
export function fillWhere(scores: tf.Tensor2D, mask: tf.Tensor, value: number): tf.Tensor2D {
  const fullMask = tf.util.arraysEqual(mask.shape, scores.shape) ? mask : tf.broadcastTo(mask, scores.shape);
  return tf.where(fullMask, tf.fill(scores.shape, value), scores);
}

/**
 * `scores` with `value` at the given token ids: one list for every row, or one list per row
 * (`[rows][ids]`). Ids outside the vocabulary are ignored, as `torch.isin` does. A scatter of a few
 * elements rather than a select over the whole vocabulary.
 */
export function fillTokens(
  scores: tf.Tensor2D,
  tokenIds: readonly number[] | readonly (readonly number[])[],
  value: number,
): tf.Tensor2D {
  const [rows, vocabSize] = scores.shape;
  const perRow = tokenIds.length > 0 && Array.isArray(tokenIds[0]);
  const idsOf = (row: number) =>
    perRow ? (tokenIds as readonly (readonly number[])[])[row]! : (tokenIds as readonly number[]);
  const coordinates = Array.from({ length: rows }, (_, row) =>
    [...new Set(idsOf(row))].filter((id) => id < vocabSize).map((id) => [row, id]),
  ).flat();
  if (coordinates.length === 0) return scores;
  return tf.tensorScatterUpdate(
    scores,
    tf.tensor2d(coordinates, [coordinates.length, 2], 'int32'),
    tf.fill([coordinates.length], value),
  );
}

/** `[rows, 1]`: each row's k-th largest value (k counts from 1). */
export function kthLargest(values: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.slice(tf.topk(values, k).values, [0, k - 1], [-1, 1]);
}

/** `[rows, vocab]`: 0 at the given ids and -inf everywhere else (a token forced on every row). */
export function onlyTokens(scores: tf.Tensor2D, tokenIds: readonly number[]): tf.Tensor2D {
  const allowed = vocabularyMask(tokenIds, scores.shape[1]);
  return tf.where(
    tf.broadcastTo(allowed, scores.shape),
    tf.zerosLike(scores),
    tf.fill(scores.shape, -Infinity),
  );
}

/**
 * `[rows, k]`: `values[r][indices[r][j]]`. (tf.gather with batchDims gives wrong rows on the wasm
 * backend, so the rows are flattened and offset instead.)
 */
export function gatherPerRow(values: tf.Tensor, indices: tf.Tensor): tf.Tensor2D {
  const [rows, width] = values.shape as [number, number];
  const rowOffsets = tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(width, 'int32')), [rows, 1]);
  // gather keeps the type of its first argument; its result has the shape of `indices`: [rows, k].
  return tf.gather<tf.Tensor>(tf.reshape(values, [rows * width]), tf.add(indices, rowOffsets)) as tf.Tensor2D;
}
