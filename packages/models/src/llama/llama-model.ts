import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  getAttentionImplementation,
  projectQueryKeyValueHeads,
  type QueryKeyValue,
} from '@tsformer/attention';
import { ModuleList } from '@tsformer/core-tensor';
import type { PositionLimit } from '@tsformer/decoding';
import { Embedding, GatedMLP, Linear, RMSNorm } from '@tsformer/layers';
import { PretrainedCausalLM } from '../causal-lm.js';
import type { ForwardStep } from '../forward-step.js';
import { type LayerOutput, StackLayer } from '../layer-stack.js';
import type { CreateModelOptions } from '../model-family.js';
import { type RotaryAngles, RotaryLayerStack } from '../rotary-layer-stack.js';
import { RotarySelfAttention } from '../rotary-self-attention.js';
import type { SelfAttention, SelfAttentionOptions } from '../self-attention.js';
import type { LlamaConfig } from './llama-config.js';

/**
 * What a Llama-like family changes in the scores of Llama's attention: the scale (Gemma 2's
 * `query_pre_attn_scalar^-0.5`) and a logit soft cap (Gemma 2's `attn_logit_softcapping`).
 */
export type LlamaAttentionScoring = Partial<Pick<SelfAttentionOptions, 'scale' | 'softcap'>>;

/**
 * Llama self-attention with grouped-query heads: separate q/k/v projections (biases per the config:
 * Llama's `attention_bias`, Qwen2's q/k/v biases), RoPE on queries and keys, scores scaled by
 * 1/√headDim (or `scoring.scale`, soft-capped by `scoring.softcap`), an optional sliding window
 * (Mistral, Qwen2's upper layers), `o_proj` back.
 */
export class LlamaAttention extends RotarySelfAttention {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly oProj: Linear;

  constructor(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
    scoring: LlamaAttentionScoring = {},
  ) {
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, queryKeyValueBias: bias } = config;
    super({
      attention,
      layerIndex,
      numHeads: numAttentionHeads,
      numKeyValueHeads,
      headDim,
      scale: scoring.scale ?? 1 / Math.sqrt(headDim),
      softcap: scoring.softcap ?? null,
      dropout: config.attentionDropout,
      slidingWindow: config.slidingWindows[layerIndex] ?? null,
    });
    this.qProj = this.register('q_proj', new Linear(hiddenSize, numAttentionHeads * headDim, { bias }));
    this.kProj = this.register('k_proj', new Linear(hiddenSize, numKeyValueHeads * headDim, { bias }));
    this.vProj = this.register('v_proj', new Linear(hiddenSize, numKeyValueHeads * headDim, { bias }));
    this.oProj = this.register(
      'o_proj',
      new Linear(numAttentionHeads * headDim, hiddenSize, { bias: config.outputProjectionBias }),
    );
  }

  /** q_proj, k_proj and v_proj (one dispatch on webgpu, left unsplit for the rotary store). */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue | FusedQueryKeyValue {
    return projectQueryKeyValueHeads(hidden, {
      query: this.qProj.projection,
      key: this.kProj.projection,
      value: this.vProj.projection,
      heads: this.numHeads,
      kvHeads: this.numKeyValueHeads,
      headDim: this.headDim,
    });
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.oProj.forward(merged) as tf.Tensor3D;
  }
}

/**
 * A pre-norm Llama layer: `x + attn(norm(x))`, then `x + mlp(norm(x))`, with RMSNorms. A family that
 * differs only in its attention, MLP or norm (Qwen3's q/k norm, Gemma's `1 + weight` norm and GeGLU)
 * overrides `createAttention`, `createMlp` or `createNorm`; they run in the constructor, so they may use
 * only their arguments.
 */
export class LlamaDecoderLayer extends StackLayer<RotaryAngles> {
  readonly selfAttention: SelfAttention<RotaryAngles>;
  readonly mlp: GatedMLP;
  readonly inputLayernorm: RMSNorm;
  readonly postAttentionLayernorm: RMSNorm;

  constructor(config: LlamaConfig, layerIndex: number, attention: AttentionImplementation) {
    super();
    this.selfAttention = this.register('self_attn', this.createAttention(config, layerIndex, attention));
    this.mlp = this.register('mlp', this.createMlp(config));
    this.inputLayernorm = this.register('input_layernorm', this.createNorm(config));
    this.postAttentionLayernorm = this.register('post_attention_layernorm', this.createNorm(config));
  }

  forward(hidden: tf.Tensor3D, step: ForwardStep, angles: RotaryAngles): LayerOutput {
    const normed = this.inputLayernorm.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttention.forward(normed, step, angles);
    const { sum: afterAttention, normed: mlpInput } = this.postAttentionLayernorm.addAndNormalize(
      hidden,
      output,
    );
    const afterMlp = this.mlp.forward(mlpInput, afterAttention) as tf.Tensor3D; // afterAttention + mlp(mlpInput)
    return { hidden: afterMlp, attentions };
  }

  /** Hook: the layer's `self_attn`. */
  protected createAttention(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
  ): SelfAttention<RotaryAngles> {
    return new LlamaAttention(config, layerIndex, attention);
  }

  /** Hook: the layer's `mlp` (gated, activation `hidden_act`). */
  protected createMlp(config: LlamaConfig): GatedMLP {
    return new GatedMLP({
      hiddenSize: config.hiddenSize,
      intermediateSize: config.intermediateSize,
      activation: config.hiddenAct,
      bias: config.mlpBias,
    });
  }

  /** Hook: each of the layer's norms. */
  protected createNorm(config: LlamaConfig): RMSNorm {
    return new RMSNorm(config.hiddenSize, { eps: config.rmsNormEps });
  }
}

/**
 * The Llama trunk: token embeddings, the decoder layers sharing one rotary table, a final RMSNorm.
 * `createLayer`, `createNorm` and `embed` are the hooks a Llama-like family overrides (Gemma scales the
 * embeddings by √hidden).
 */
export class LlamaModel extends RotaryLayerStack {
  readonly embedTokens: Embedding;
  readonly layers: ModuleList<StackLayer<RotaryAngles>>;
  readonly norm: RMSNorm;

  constructor(
    readonly config: LlamaConfig,
    attention: AttentionImplementation,
  ) {
    super(config.rope);
    // Tied to lm_head: stored as the head wants it (see EmbeddingOptions.transposed).
    this.embedTokens = this.register(
      'embed_tokens',
      new Embedding(config.vocabSize, config.hiddenSize, {
        transposed: config.tieWordEmbeddings,
        paddingIdx: config.padTokenId,
      }),
    );
    const layers = Array.from({ length: config.numHiddenLayers }, (_, index) =>
      this.createLayer(config, index, attention),
    );
    this.layers = this.register('layers', new ModuleList(layers));
    this.norm = this.register('norm', this.createNorm(config));
  }

  /** Hook: decoder layer `layerIndex`. */
  protected createLayer(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
  ): StackLayer<RotaryAngles> {
    return new LlamaDecoderLayer(config, layerIndex, attention);
  }

  /** Hook: the final norm. */
  protected createNorm(config: LlamaConfig): RMSNorm {
    return new RMSNorm(config.hiddenSize, { eps: config.rmsNormEps });
  }

  /** Hook: token embeddings `[batch, seq]` → `[batch, seq, hidden]` (no positions: RoPE is in attention). */
  protected embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    return this.embedTokens.forward(inputIds) as tf.Tensor3D;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.norm.forward(hidden) as tf.Tensor3D;
  }
}

/**
 * Llama with its language-model head (HF `LlamaForCausalLM`; `lm_head` tied to `embed_tokens` when
 * `tie_word_embeddings`). Qwen2 and Mistral run on this class, configured by their own resolvers; a
 * Llama-like family overrides `createModel` to build its own trunk.
 */
export class LlamaForCausalLM extends PretrainedCausalLM<LlamaConfig> {
  readonly model: LlamaModel;
  readonly lmHead: Linear;
  /** Rotary positions: computed past `max_position_embeddings`, with a warning. */
  readonly positionLimit: PositionLimit;

  constructor(config: LlamaConfig, options: CreateModelOptions = {}) {
    super(config, options);
    this.positionLimit = { maxPositions: config.maxPositionEmbeddings, kind: 'extrapolating' };
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    this.model = this.register('model', this.createModel(config, attention));
    this.lmHead = this.register(
      'lm_head',
      new Linear(config.hiddenSize, config.vocabSize, {
        bias: false,
        sharedWeight: config.tieWordEmbeddings ? this.model.embedTokens.weight : undefined,
      }),
    );
  }

  get trunk(): LlamaModel {
    return this.model;
  }

  /** Hook: the trunk (`model`). Runs in the constructor: use only the arguments. */
  protected createModel(config: LlamaConfig, attention: AttentionImplementation): LlamaModel {
    return new LlamaModel(config, attention);
  }
}
