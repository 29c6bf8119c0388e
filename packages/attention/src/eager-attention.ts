import * as tf from '@tensorflow/tfjs-core';
import { checkAttentionInput } from './attention-input.js';
import type { AttentionInput, AttentionOutput } from './attention-types.js';
import { softcapLogits } from './softcap-logits.js';

/**
 * Scaled-dot-product attention with plain tensor ops (HF `eager_attention_forward`):
 * `softmax(cap(query·keyᵀ · scale) + positionBias + mask) · value`, in float32, where `cap` is the
 * identity without `softcap` and `tanh(x / softcap) · softcap` with it (Gemma 2).
 *
 * Grouped-query attention never copies keys: the query is viewed as `[batch, kvHeads, groups·queryLength,
 * headDim]` (query head `h` belongs to kv head `floor(h / groups)`, as HF's `repeat_kv`), scores are
 * computed per cache block and concatenated along the key axis, and the output is the sum over blocks of
 * `probabilities_block · value_block`.
 */
export function eagerAttention(input: AttentionInput): AttentionOutput {
  const checked = checkAttentionInput(input);
  const { keys, values, blockLengths, batchSize, heads, kvHeads, groups, queryLength, keyLength } = checked;
  const { headDim, valueDim, scale, softcap, dropout } = checked;
  const {
    query,
    mask,
    positionBias,
    headMask,
    training = false,
    dropoutSeed,
    outputAttentions = false,
  } = input;

  const [output, attentions] = tf.tidy(() => {
    // [batch, kvHeads, groups * queryLength, headDim]
    const groupedQuery = tf.reshape(query, [batchSize, kvHeads, groups * queryLength, headDim]);
    // one [batch, kvHeads, groups * queryLength, blockLength] per block, then along the key axis
    const blockScores = keys.map((key) => tf.matMul(groupedQuery, key, false, true));
    const scores = blockScores.length === 1 ? blockScores[0]! : tf.concat(blockScores, 3);
    // [batch, heads, queryLength, keyLength]
    let logits: tf.Tensor = tf.reshape(tf.mul(scores, tf.scalar(scale)), [
      batchSize,
      heads,
      queryLength,
      keyLength,
    ]);
    if (softcap !== null) logits = softcapLogits(logits, softcap);
    if (positionBias != null) logits = tf.add(logits, positionBias);
    if (mask != null) logits = tf.add(logits, mask);
    let probabilities: tf.Tensor = tf.softmax(logits);
    if (headMask != null) probabilities = tf.mul(probabilities, tf.reshape(headMask, [1, heads, 1, 1]));
    if (training && dropout > 0) probabilities = tf.dropout(probabilities, dropout, undefined, dropoutSeed);

    // [batch, kvHeads, groups * queryLength, keyLength]
    const groupedProbabilities = tf.reshape(probabilities, [
      batchSize,
      kvHeads,
      groups * queryLength,
      keyLength,
    ]);
    let blockStart = 0;
    const blockOutputs = values.map((value, index) => {
      const length = blockLengths[index]!;
      const blockProbabilities = tf.slice(groupedProbabilities, [0, 0, 0, blockStart], [-1, -1, -1, length]);
      blockStart += length;
      return tf.matMul(blockProbabilities, value); // [batch, kvHeads, groups * queryLength, valueDim]
    });
    const summed = blockOutputs.length === 1 ? blockOutputs[0]! : tf.addN(blockOutputs);
    const result = tf.reshape(summed, [batchSize, heads, queryLength, valueDim]) as tf.Tensor4D;
    return outputAttentions ? [result, probabilities as tf.Tensor4D] : [result];
  });
  return attentions ? { output: output!, attentions } : { output: output! };
}
