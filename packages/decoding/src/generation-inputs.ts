import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from './config/generation-options.js';
import { GenerationInputError } from './errors.js';

/** The inputs of `generate`. Nothing here is modified. */
export interface GenerateInputs {
  /** `[batch, length]` ids: left-padded prompts for decoder-only models, sources for encoder-decoder ones. */
  readonly inputIds: TokenRows | tf.Tensor2D;
  /** 1 for real tokens, 0 for padding. Absent: inferred from `padTokenId` as Hugging Face does. */
  readonly attentionMask?: TokenRows | tf.Tensor2D;
}

/** Copies `inputIds` into plain arrays (one download for a tensor) and checks it is a non-empty rectangle of ids. */
export async function readInputIds(value: TokenRows | tf.Tensor2D, vocabSize: number): Promise<number[][]> {
  const rows = await readRows(value, 'inputIds');
  rows.forEach((row, r) => {
    row.forEach((id, c) => {
      if (!Number.isSafeInteger(id) || id < 0 || id >= vocabSize) {
        throw new GenerationInputError(
          `inputIds[${r}][${c}] = ${id} is not a token id of a ${vocabSize}-token vocabulary`,
        );
      }
    });
  });
  return rows;
}

/** Copies and checks an attention mask of 0s and 1s shaped like `inputIds`. */
export async function readAttentionMask(
  value: TokenRows | tf.Tensor2D,
  inputIds: readonly (readonly number[])[],
): Promise<number[][]> {
  const rows = await readRows(value, 'attentionMask');
  if (rows.length !== inputIds.length || rows[0]!.length !== inputIds[0]!.length) {
    throw new GenerationInputError(
      `attentionMask is [${rows.length}, ${rows[0]!.length}] but inputIds is [${inputIds.length}, ${inputIds[0]!.length}]`,
    );
  }
  rows.forEach((row, r) => {
    row.forEach((bit, c) => {
      if (bit !== 0 && bit !== 1)
        throw new GenerationInputError(`attentionMask[${r}][${c}] = ${bit} is not 0 or 1`);
    });
  });
  return rows;
}

/**
 * Hugging Face's `_prepare_attention_mask_for_generation`: padding can be told from the ids only when
 * the pad token occurs in them and is not an EOS token; otherwise every token counts.
 */
export function inferAttentionMask(
  inputIds: readonly (readonly number[])[],
  padTokenId: number | undefined,
  eosTokenIds: readonly number[] | undefined,
): number[][] {
  const canInfer =
    padTokenId !== undefined &&
    !(eosTokenIds ?? []).includes(padTokenId) &&
    inputIds.some((row) => row.includes(padTokenId));
  return inputIds.map((row) => row.map((id) => (canInfer && id === padTokenId ? 0 : 1)));
}

async function readRows(value: TokenRows | tf.Tensor2D, name: string): Promise<number[][]> {
  if (value instanceof tf.Tensor && value.rank !== 2) {
    throw new GenerationInputError(`${name} must be 2-D [batch, length], got shape [${value.shape}]`);
  }
  const rows = value instanceof tf.Tensor ? ((await value.array()) as number[][]) : value;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(Array.isArray)) {
    throw new GenerationInputError(`${name} must be a non-empty list of rows`);
  }
  const length = rows[0]!.length;
  if (length === 0 || rows.some((row) => row.length !== length)) {
    throw new GenerationInputError(
      `${name} rows must be non-empty and of one length (left-pad them), got lengths ${rows.map((row) => row.length).join(', ')}`,
    );
  }
  return rows.map((row) => [...row]);
}
