import type * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks } from '@tsformer/cache';

/** What every attention implementation receives. Nothing in it is disposed or modified. */
export interface AttentionInput {
  /** `[batch, heads, queryLength, headDim]`, after RoPE where the model uses it. */
  query: tf.Tensor4D;
  /**
   * Keys and values with `kvHeads` dividing `heads` (grouped-query attention: query head `h` reads kv head
   * `floor(h / (heads / kvHeads))`, as HF's `repeat_kv`), as a cache's blocks; without a cache, one
   * block (`keyValueBlock(key, value)`).
   */
  keyValues: KeyValueBlocks;
  /** Additive float32 mask `[batch or 1, 1, queryLength, keyLength]` (see `buildAttentionMask`). */
  mask?: tf.Tensor4D | null;
  /** Multiplies the scores; default `1 / sqrt(headDim)` (T5: 1). */
  scale?: number;
  /**
   * Attention logit soft-capping (Gemma 2's `attn_logit_softcapping`): the scaled scores become
   * `tanh(scores / softcap) · softcap`, before the bias and the mask are added (HF `eager_attention_forward`).
   */
  softcap?: number | null;
  /**
   * An additive per-head bias `[batch or 1, heads, queryLength, keyLength]` added to the (scaled, capped)
   * scores together with the mask: T5's relative position bias.
   */
  positionBias?: tf.Tensor4D | null;
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
