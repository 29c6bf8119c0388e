import * as tf from '@tensorflow/tfjs-core';
import { AttentionInputError } from './errors.js';

/**
 * What a masked (query, key) pair adds to its score: `torch.finfo(torch.float32).min`, as Hugging Face's
 * eager masks use. Finite on purpose: a row whose keys are all masked softmaxes to a uniform row, never NaN.
 */
export const MASKED_SCORE = -3.4028234663852886e38;

export interface AttentionMaskOptions {
  batchSize: number;
  /** Absolute position of the first query: the number of tokens already in the cache. */
  queryStart: number;
  queryLength: number;
  /** Absolute position of the first key (0 unless a sliding-window cache dropped the oldest keys). */
  keyStart: number;
  keyLength: number;
  /** Hide every key after the query (default true). */
  causal?: boolean;
  /**
   * `[batch, positions]`: 1 for a real token, 0 for padding (left padding), indexed by absolute position
   * and covering the tokens seen so far. Keys past its end (unwritten static-cache slots) are masked.
   */
  paddingMask?: tf.Tensor2D;
  /** A query sees only keys fewer than this many positions behind it (HF: `kv_idx > q_idx - window`). */
  slidingWindow?: number;
}

/**
 * The additive float32 mask `[batch, 1, queryLength, keyLength]` of Hugging Face's `masking_utils`: 0 where
 * the query at absolute position `qp` may attend the key at `kp`, `MASKED_SCORE` elsewhere. Visible iff
 * `(!causal || kp <= qp) && (!slidingWindow || qp - kp < slidingWindow) && paddingMask[b, kp] != 0`.
 * Built from position ranges on the device, so a decode step uploads nothing but a few scalars.
 */
export function buildAttentionMask(options: AttentionMaskOptions): tf.Tensor4D {
  const { batchSize, queryStart, queryLength, keyStart, keyLength, causal = true } = options;
  const { paddingMask, slidingWindow } = options;
  requireInteger('batchSize', batchSize, 1);
  requireInteger('queryStart', queryStart, 0);
  requireInteger('queryLength', queryLength, 1);
  requireInteger('keyStart', keyStart, 0);
  requireInteger('keyLength', keyLength, 1);
  if (slidingWindow !== undefined) requireInteger('slidingWindow', slidingWindow, 1);
  if (paddingMask !== undefined && (paddingMask.rank !== 2 || paddingMask.shape[0] !== batchSize)) {
    throw new AttentionInputError(
      `paddingMask must be [batch=${batchSize}, positions], got [${paddingMask.shape}]`,
    );
  }

  return tf.tidy(() => {
    const shape: [number, number, number, number] = [batchSize, 1, queryLength, keyLength];
    const queryPositions = tf.reshape(tf.range(queryStart, queryStart + queryLength, 1, 'int32'), [
      1,
      1,
      queryLength,
      1,
    ]);
    const keyPositions = tf.reshape(tf.range(keyStart, keyStart + keyLength, 1, 'int32'), [
      1,
      1,
      1,
      keyLength,
    ]);
    const conditions: tf.Tensor[] = [];
    if (causal) conditions.push(tf.lessEqual(keyPositions, queryPositions)); // [1, 1, q, k]
    if (slidingWindow !== undefined) {
      const windowStart = tf.sub(queryPositions, tf.scalar(slidingWindow, 'int32'));
      conditions.push(tf.greater(keyPositions, windowStart)); // [1, 1, q, k]
    }
    if (paddingMask !== undefined) {
      conditions.push(tf.reshape(realKeys(paddingMask, keyStart, keyLength), [batchSize, 1, 1, keyLength]));
    }
    if (conditions.length === 0) return tf.zeros(shape) as tf.Tensor4D;
    const visible = conditions.reduce((all, condition) => tf.logicalAnd(all, condition));
    return tf.where<tf.Tensor4D>(tf.broadcastTo(visible, shape), 0, MASKED_SCORE);
  });
}

/**
 * The bidirectional mask of an encoder or of cross-attention (HF `_prepare_4d_attention_mask`): every
 * query sees every real key. `paddingMask` is `[batch, keyLength]` (1 real, 0 pad); the result is
 * `[batch, 1, queryLength, keyLength]`.
 */
export function buildPaddingMask(paddingMask: tf.Tensor2D, queryLength: number): tf.Tensor4D {
  if (paddingMask.rank !== 2) {
    throw new AttentionInputError(`paddingMask must be [batch, keyLength], got [${paddingMask.shape}]`);
  }
  const [batchSize, keyLength] = paddingMask.shape;
  return buildAttentionMask({
    batchSize,
    queryStart: 0,
    queryLength,
    keyStart: 0,
    keyLength,
    causal: false,
    paddingMask,
  });
}

/** `[batch, keyLength]` booleans: the padding mask at key positions `keyStart…`, false past its end. */
function realKeys(paddingMask: tf.Tensor2D, keyStart: number, keyLength: number): tf.Tensor2D {
  const [batchSize, known] = paddingMask.shape;
  const start = Math.min(keyStart, known);
  const available = Math.min(keyStart + keyLength, known) - start;
  if (available === 0) return tf.zeros([batchSize, keyLength], 'bool');
  const values = tf.cast(tf.slice(paddingMask, [0, start], [batchSize, available]), 'int32');
  const padded =
    available < keyLength
      ? tf.pad(values, [
          [0, 0],
          [0, keyLength - available],
        ])
      : values;
  return tf.notEqual(padded, tf.scalar(0, 'int32'));
}

function requireInteger(field: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new AttentionInputError(`${field} must be an integer >= ${minimum}, got ${value}`);
  }
}
