import * as tf from '@tensorflow/tfjs-core';
import type { Cache, DecoderCache } from '@tsformer/cache';
import type { CacheImplementation, CausalLM, CausalLMForwardInputs } from '@tsformer/decoding';
import { ModelInputError } from './errors.js';
import { ForwardStep, type ForwardStepOptions } from './forward-step.js';
import { causalLMLoss, checkLabels } from './language-model-loss.js';
import { createLayerCaches } from './layer-caches.js';
import type { LayerStack } from './layer-stack.js';
import type { CreateModelOptions } from './model-family.js';
import { keepLastPositions, PretrainedLanguageModel } from './pretrained-language-model.js';

export interface CausalLMForwardOptions extends ForwardStepOptions {
  /** Also return the hidden states: the embeddings, each layer's output, the last after the final norm. */
  outputHiddenStates?: boolean;
  /** Compute logits only for the last N positions (generation needs 1), N in [1, tokens]. Default: all. */
  logitsToKeep?: number;
  /**
   * `[batch, tokens]` int32 (usually the input ids, `-100` where no loss is wanted): the output then
   * carries `loss`, HF's `ForCausalLMLoss` (labels shifted inside). Not with `logitsToKeep`.
   */
  labels?: tf.Tensor2D;
}

/** What a causal LM's forward returns (HF's `CausalLMOutputWithPast`, the cache grown in place). */
export interface CausalLMOutput {
  /** `[batch, positionsKept, vocab]`. */
  logits: tf.Tensor3D;
  /** The mean next-token cross-entropy, when `labels` were given. */
  loss?: tf.Scalar;
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
 * The decoder-only skeleton (every `…ForCausalLM`): a `Module` whose parameters carry HF names, a
 * synchronous `forward` (input checks, positions and masks in a `ForwardStep`, the trunk, `logitsToKeep`,
 * the head), decoding's `CausalLM` on top of it (`forwardLogits`, `createCache` with a sliding-window
 * cache for each sliding-window layer), and `generate`. A family registers its trunk (a `LayerStack`)
 * and `lm_head`, and says where its positions end.
 */
export abstract class PretrainedCausalLM<Config extends CausalLMConfig = CausalLMConfig>
  extends PretrainedLanguageModel<Config>
  implements CausalLM
{
  readonly kind = 'causal-lm' as const;
  /** The trunk (HF's `model` / `transformer` / `gpt_neox`), registered by the family under its HF name. */
  abstract readonly trunk: LayerStack<unknown>;

  constructor(config: Config, options: CreateModelOptions = {}) {
    const { bosTokenId, eosTokenId, padTokenId } = config;
    super(config, options.generationConfig ?? { bosTokenId, eosTokenId, padTokenId });
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /**
   * `inputIds` `[batch, newTokens]` int32 → logits and, on request, hidden states and attention maps.
   * Synchronous; every returned tensor belongs to the caller. Grows `options.cache` in place.
   */
  forward(inputIds: tf.Tensor2D, options: CausalLMForwardOptions = {}): CausalLMOutput {
    return tf.tidy(() => {
      const { labels, logitsToKeep } = options;
      if (labels !== undefined) {
        checkLabels(labels, inputIds, 'inputIds');
        if (logitsToKeep !== undefined)
          throw new ModelInputError('labels need every position: drop logitsToKeep');
      }
      const step = new ForwardStep(inputIds, this.trunk.layerHeads, options);
      const outputHiddenStates = options.outputHiddenStates ?? false;
      const trunk = this.trunk.forward(inputIds, step, outputHiddenStates);
      const logits = this.logits(keepLastPositions(trunk.lastHiddenState, logitsToKeep));
      return {
        logits,
        ...(labels && { loss: causalLMLoss(logits, labels) }),
        ...(outputHiddenStates ? { hiddenStates: trunk.hiddenStates } : {}),
        ...(step.outputAttentions ? { attentions: trunk.attentions } : {}),
      };
    });
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

  /**
   * A fresh cache for `batchSize` rows of at most `maxLength` tokens: per layer a sliding-window cache
   * where the layer has a window, else dynamic (default) or static.
   */
  createCache(
    _batchSize: number,
    maxLength: number,
    implementation: CacheImplementation = 'dynamic',
  ): DecoderCache {
    return createLayerCaches(this.trunk.slidingWindows, maxLength, implementation);
  }

  protected stacks(): LayerStack<unknown>[] {
    return [this.trunk];
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
