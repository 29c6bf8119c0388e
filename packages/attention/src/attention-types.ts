import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks } from '@tsformer/cache';

/** Keys and values as one pair of tensors, each `[batch, kvHeads, keyLength, headDim]` (no cache). */
export interface KeyValuePair {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** What every attention implementation receives. Nothing in it is disposed or modified. */
export interface AttentionInput {
  /** `[batch, heads, queryLength, headDim]`, after RoPE where the model uses it. */
  query: tf.Tensor4D;
  /**
   * Keys and values with `kvHeads` dividing `heads` (grouped-query attention: query head `h` reads kv head
   * `floor(h / (heads / kvHeads))`, as HF's `repeat_kv`), as a cache's blocks or a single pair.
   */
  keyValues: KeyValueBlocks | KeyValuePair;
  /** Additive float32 mask `[batch or 1, 1, queryLength, keyLength]` (see `buildAttentionMask`). */
  mask?: tf.Tensor4D | null;
  /** Multiplies the scores; default `1 / sqrt(headDim)`. */
  scale?: number;
  /** `[heads]`: multiplies each head's probabilities (HF `head_mask`). */
  headMask?: tf.Tensor1D | null;
  /** Dropout probability on the attention probabilities, applied only when `training` is true. */
  dropout?: number;
  training?: boolean;
  /** Seed of the dropout noise, for reproducible training steps. */
  dropoutSeed?: number;
  /** Also return the probabilities `[batch, heads, queryLength, keyLength]` (after dropout, as HF). */
  outputAttentions?: boolean;
}

/** A type alias rather than an interface, so that `tf.tidy(() => attention(...))` type-checks. */
export type AttentionOutput = {
  /** `[batch, heads, queryLength, headDim]`. */
  output: tf.Tensor4D;
  /** `[batch, heads, queryLength, keyLength]`, after dropout (as HF), when `outputAttentions` was set. */
  attentions?: tf.Tensor4D;
};

/** A scaled-dot-product attention function (HF's `ALL_ATTENTION_FUNCTIONS` entries). Synchronous, tidy. */
export type AttentionImplementation = (input: AttentionInput) => AttentionOutput;
