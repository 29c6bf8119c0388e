import * as tf from '@tensorflow/tfjs-core';
import type { Cache, DecoderCache } from '@tsformer/cache';
import { Module } from '@tsformer/core-tensor';
import {
  type CacheImplementation,
  type CausalLM,
  type CausalLMForwardInputs,
  type GenerateInputs,
  type GenerateOptions,
  type GenerateOutput,
  type GenerationOptions,
  type GenerationStep,
  generate,
  generateAll,
} from '@tsformer/decoding';
import { type DecoderStepOptions, ModelInputError } from './decoder-step.js';
import type { CreateModelOptions } from './model-family.js';

export interface CausalLMForwardOptions extends DecoderStepOptions {
  /** Also return the hidden states: the embeddings, each layer's output, the last after the final norm. */
  outputHiddenStates?: boolean;
  /** Compute logits only for the last N positions (generation needs 1). Default: all. */
  logitsToKeep?: number;
}

/** What a causal LM's forward returns (HF's `CausalLMOutputWithPast`, the cache grown in place). */
export interface CausalLMOutput {
  /** `[batch, positionsKept, vocab]`. */
  logits: tf.Tensor3D;
  /** `numLayers + 1` tensors `[batch, newTokens, hidden]` when `outputHiddenStates` was set. */
  hiddenStates?: tf.Tensor3D[];
  /** One `[batch, heads, newTokens, keys]` per layer when `outputAttentions` was set. */
  attentions?: tf.Tensor4D[];
}

/** The config fields every causal LM family resolves. */
export interface CausalLMConfig {
  modelType: string;
  vocabSize: number;
  numHiddenLayers: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
}

/**
 * Base of every decoder-only `…ForCausalLM`: a `Module` whose parameters carry HF names, a synchronous
 * `forward`, and decoding's `CausalLM` interface on top of it (`forwardLogits`, `createCache`).
 */
export abstract class PretrainedCausalLM<Config extends CausalLMConfig = CausalLMConfig>
  extends Module
  implements CausalLM
{
  readonly kind = 'causal-lm' as const;
  /** What `generate` starts from (HF `model.generation_config`). */
  readonly generationConfig: GenerationOptions;

  constructor(
    readonly config: Config,
    options: CreateModelOptions = {},
  ) {
    super();
    const { bosTokenId, eosTokenId, padTokenId } = config;
    this.generationConfig = options.generationConfig ?? { bosTokenId, eosTokenId, padTokenId };
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /**
   * `inputIds` `[batch, newTokens]` int32 → logits and, on request, hidden states and attention maps.
   * Synchronous; every returned tensor belongs to the caller. Grows `options.cache` in place.
   */
  abstract forward(inputIds: tf.Tensor2D, options?: CausalLMForwardOptions): CausalLMOutput;

  /** A fresh cache for `batchSize` rows of at most `maxLength` tokens (default: dynamic). */
  abstract createCache(
    batchSize: number,
    maxLength: number,
    implementation?: CacheImplementation,
  ): DecoderCache;

  /**
   * Generates as Hugging Face's `generate` (decoding's `generate` on this model): yields each step's
   * new tokens, returns the sequences. Options are HF's in camelCase (`maxNewTokens`, `numBeams`, ...).
   */
  generate(
    inputs: GenerateInputs,
    options?: GenerateOptions,
  ): AsyncGenerator<GenerationStep, GenerateOutput, undefined> {
    return generate(this, inputs, options);
  }

  /** `generate` run to the end: the sequences (and beam scores). */
  generateAll(inputs: GenerateInputs, options?: GenerateOptions): Promise<GenerateOutput> {
    return generateAll(this, inputs, options);
  }

  /** decoding's entry point: logits only, the cache made by `createCache`. */
  forwardLogits(inputs: CausalLMForwardInputs): tf.Tensor3D {
    const { inputIds, attentionMask, positionIds, maxPosition, cache, logitsToKeep } = inputs;
    return this.forward(inputIds, {
      attentionMask,
      positionIds,
      maxPosition,
      cache: cache === undefined ? undefined : asDecoderCache(cache),
      logitsToKeep,
    }).logits;
  }
}

/** The cache as a per-layer decoder cache (what `createCache` returns), or a `ModelInputError`. */
export function asDecoderCache(cache: Cache): DecoderCache {
  const layered = cache as Partial<DecoderCache>;
  if (typeof layered.layer !== 'function' || typeof layered.numLayers !== 'number') {
    throw new ModelInputError(
      'a decoder-only model needs a per-layer cache: make one with model.createCache(...)',
    );
  }
  return cache as DecoderCache;
}

/** The last `logitsToKeep` positions of `hidden` `[batch, seq, hidden]` (all when undefined). */
export function keepLastPositions(hidden: tf.Tensor3D, logitsToKeep: number | undefined): tf.Tensor3D {
  if (logitsToKeep === undefined) return hidden;
  const length = hidden.shape[1];
  if (!Number.isInteger(logitsToKeep) || logitsToKeep < 1 || logitsToKeep > length) {
    throw new ModelInputError(`logitsToKeep must be an integer in [1, ${length}], got ${logitsToKeep}`);
  }
  if (logitsToKeep === length) return hidden;
  return tf.slice(hidden, [0, length - logitsToKeep, 0], [-1, logitsToKeep, -1]);
}
