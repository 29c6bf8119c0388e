import type * as tf from '@tensorflow/tfjs-core';
import type { Cache } from '@tsformer/cache';
import type { GenerationOptions } from './config/generation-options.js';

/**
 * What generation drives. `decoding` owns these interfaces and never imports `models`; the model
 * classes implement them (HF's GenerationMixin, inverted).
 */
/**
 * How a cache stores keys (HF's `cache_implementation`): `dynamic` grows with the sequence; `static`
 * is allocated for the maximum length up front, so every decode step has the same tensor shapes (what
 * a shape-specialising backend such as WebGPU needs to reuse its compiled kernels).
 */
export type CacheImplementation = 'dynamic' | 'static';

/**
 * How far a model's positions reach (config.json's `max_position_embeddings` and what lies past it).
 * `generate` checks prompt + new tokens against it before producing anything: past a `learned` table
 * there is no embedding to look up (an error naming both numbers); `extrapolating` encodings (RoPE)
 * keep computing, with a one-line warning as Hugging Face gives. A model without a limit (T5's
 * relative buckets) leaves `positionLimit` undefined.
 */
export interface PositionLimit {
  /** The number of positions the model was built for. */
  maxPositions: number;
  /** `learned`: a table that ends there; `extrapolating`: computed positions that go on past it. */
  kind: 'learned' | 'extrapolating';
}

export interface CausalLMForwardInputs {
  /** `[batch, newTokens]` int32. */
  inputIds: tf.Tensor2D;
  /** `[batch, pastTokens + newTokens]`, 1 for real tokens and 0 for (left) padding. */
  attentionMask?: tf.Tensor2D;
  /** `[batch, newTokens]` int32 absolute positions; derived from the cache length when absent. */
  positionIds?: tf.Tensor2D;
  /**
   * The largest of `positionIds`, required with them: the model range-checks learned positions and
   * sizes RoPE tables with it, and never reads ids back from the device (WebGPU cannot, synchronously).
   */
  maxPosition?: number;
  /** Grown in place by the forward (its tensors survive the caller's tidy). */
  cache?: Cache;
  /** Compute logits only for the last N positions (generation needs 1). Default: all. */
  logitsToKeep?: number;
}

export interface CausalLM {
  readonly vocabSize: number;
  /**
   * The model's own generation defaults (config.json's generation fields overlaid with its
   * generation_config.json, read with `parseGenerationConfig`): the bottom layer `generate` merges.
   */
  readonly generationConfig?: GenerationOptions;
  /** Where the model's positions end (undefined: nowhere). */
  readonly positionLimit?: PositionLimit;
  /**
   * Runs synchronously; call inside `tf.tidy`. Returns `[batch, positionsKept, vocab]` float32 logits.
   * `generate` passes int32 `attentionMask` and `positionIds` (Hugging Face's: cumsum(mask) - 1, pads 1).
   */
  forwardLogits(inputs: CausalLMForwardInputs): tf.Tensor3D;
  /** A fresh, empty cache for `batchSize` rows of at most `maxLength` tokens (default `dynamic`). */
  createCache(batchSize: number, maxLength: number, implementation?: CacheImplementation): Cache;
  /**
   * Whether keys cached for the first `cachedLength` tokens can serve the step that brings the sequence
   * to `length` tokens. When it answers false, `generate` empties the cache and feeds the whole sequence
   * again (HF: a model's `prepare_inputs_for_generation` dropping `past_key_values`, as Phi-3 does once
   * its sequence outgrows longrope's pretraining length and every key must be rotated with the long
   * factors). Absent: the cache always serves.
   */
  reusesCache?(cachedLength: number, length: number): boolean;
}

export interface Seq2SeqEncoding {
  /** `[batch, sourceTokens, hidden]`. Owned by the caller (kept across steps, disposed at the end). */
  lastHiddenState: tf.Tensor3D;
}

export interface Seq2SeqForwardInputs {
  /** `[batch, newTargetTokens]` int32. */
  decoderInputIds: tf.Tensor2D;
  encoderHiddenStates: tf.Tensor3D;
  /** `[batch, sourceTokens]`, 1 for real tokens, 0 for padding. */
  encoderAttentionMask?: tf.Tensor2D;
  cache?: Cache;
  logitsToKeep?: number;
}

export interface Seq2SeqLM {
  readonly vocabSize: number;
  /** As `CausalLM.generationConfig`. */
  readonly generationConfig?: GenerationOptions;
  /** Where the decoder's positions end (undefined: nowhere); the source is checked by the encoder. */
  readonly positionLimit?: PositionLimit;
  /** Runs synchronously; call inside `tf.tidy`. */
  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): Seq2SeqEncoding;
  /** Runs synchronously; call inside `tf.tidy`. Returns `[batch, positionsKept, vocab]`. */
  decodeLogits(inputs: Seq2SeqForwardInputs): tf.Tensor3D;
  createCache(batchSize: number, maxLength: number, implementation?: CacheImplementation): Cache;
}

/** What streaming and stop strings need from a tokenizer. */
export interface TokenDecoder {
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

/** Tells an encoder-decoder model from a decoder-only one. */
export function isSeq2SeqLM(model: CausalLM | Seq2SeqLM): model is Seq2SeqLM {
  return 'encode' in model && 'decodeLogits' in model;
}
