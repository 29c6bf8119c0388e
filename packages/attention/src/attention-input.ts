import type * as tf from '@tensorflow/tfjs-core';
import type { AttentionInput } from './attention-types.js';
import { AttentionInputError } from './errors.js';

/** An `AttentionInput` checked and spelled out: the blocks, their lengths and every dimension. */
export interface CheckedAttentionInput {
  keys: readonly tf.Tensor4D[];
  values: readonly tf.Tensor4D[];
  blockLengths: readonly number[];
  batchSize: number;
  heads: number;
  kvHeads: number;
  /** Query heads per kv head (`heads / kvHeads`). */
  groups: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
  valueDim: number;
  scale: number;
  /** The soft cap of the scaled scores, or null for none. */
  softcap: number | null;
  dropout: number;
}

/**
 * Checks every shape of an attention call and resolves its defaults; throws `AttentionInputError` naming
 * the tensor that does not fit. Implementations call this first.
 */
export function checkAttentionInput(input: AttentionInput): CheckedAttentionInput {
  const { query, keyValues, mask, headMask, positionBias } = input;
  if (query.rank !== 4) {
    throw new AttentionInputError(`query must be [batch, heads, queryLength, headDim], got [${query.shape}]`);
  }
  const [batchSize, heads, queryLength, headDim] = query.shape;
  const { keys, values } = keyValues;
  if (keys.length === 0 || keys.length !== values.length) {
    throw new AttentionInputError(
      `keyValues needs as many value blocks as key blocks, at least one; got ${keys.length} and ${values.length}`,
    );
  }
  const first = keys[0]!;
  const kvHeads = first.shape[1];
  const valueDim = values[0]!.shape[3];
  const blockLengths = keys.map((key, index) => {
    const value = values[index]!;
    const expectedKey = `[${batchSize},${kvHeads},${key.shape[2]},${headDim}]`;
    const expectedValue = `[${batchSize},${kvHeads},${key.shape[2]},${valueDim}]`;
    if (key.rank !== 4 || `[${key.shape}]` !== expectedKey) {
      throw new AttentionInputError(`key block ${index} is [${key.shape}], expected ${expectedKey}`);
    }
    if (value.rank !== 4 || `[${value.shape}]` !== expectedValue) {
      throw new AttentionInputError(`value block ${index} is [${value.shape}], expected ${expectedValue}`);
    }
    return key.shape[2];
  });
  if (!(kvHeads > 0 && heads % kvHeads === 0)) {
    throw new AttentionInputError(
      `query heads (${heads}) must be a multiple of key/value heads (${kvHeads})`,
    );
  }
  const keyLength = blockLengths.reduce((total, length) => total + length, 0);
  if (keyValues.keyLength !== keyLength) {
    throw new AttentionInputError(
      `keyValues.keyLength is ${keyValues.keyLength} but its blocks hold ${keyLength} keys`,
    );
  }
  if (mask != null) {
    const [maskBatch, maskHeads, maskQueries, maskKeys] = mask.shape;
    const fits =
      mask.rank === 4 &&
      (maskBatch === batchSize || maskBatch === 1) &&
      maskHeads === 1 &&
      maskQueries === queryLength &&
      maskKeys === keyLength;
    if (!fits) {
      throw new AttentionInputError(
        `mask is [${mask.shape}], expected [${batchSize} or 1, 1, ${queryLength}, ${keyLength}]`,
      );
    }
  }
  if (positionBias != null) {
    const [biasBatch, biasHeads, biasQueries, biasKeys] = positionBias.shape;
    const fits =
      positionBias.rank === 4 &&
      (biasBatch === batchSize || biasBatch === 1) &&
      biasHeads === heads &&
      biasQueries === queryLength &&
      biasKeys === keyLength;
    if (!fits) {
      throw new AttentionInputError(
        `positionBias is [${positionBias.shape}], expected [${batchSize} or 1, ${heads}, ${queryLength}, ${keyLength}]`,
      );
    }
  }
  if (headMask != null && (headMask.rank !== 1 || headMask.shape[0] !== heads)) {
    throw new AttentionInputError(`headMask is [${headMask.shape}], expected [${heads}]`);
  }
  const scale = input.scale ?? 1 / Math.sqrt(headDim);
  if (!Number.isFinite(scale)) throw new AttentionInputError(`scale must be a finite number, got ${scale}`);
  const softcap = input.softcap ?? null;
  if (softcap !== null && !(Number.isFinite(softcap) && softcap > 0)) {
    throw new AttentionInputError(`softcap must be a finite number > 0, got ${softcap}`);
  }
  const dropout = input.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new AttentionInputError(`dropout must be in [0, 1), got ${dropout}`);
  }
  return {
    keys,
    values,
    blockLengths,
    batchSize,
    heads,
    kvHeads,
    groups: heads / kvHeads,
    queryLength,
    keyLength,
    headDim,
    valueDim,
    scale,
    softcap,
    dropout,
  };
}
