import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  applyRotaryEmbedding,
  getAttentionImplementation,
  RotaryEmbedding,
} from '@tsformer/attention';
import {
  type DecoderCache,
  DynamicLayerCache,
  type LayerCache,
  LayeredCache,
  SlidingWindowLayerCache,
  StaticLayerCache,
} from '@tsformer/cache';
import {
  type LoadWeightsOptions,
  type LoadWeightsReport,
  Module,
  ModuleList,
  type WeightSource,
} from '@tsformer/core-tensor';
import type { CacheImplementation, PositionLimit } from '@tsformer/decoding';
import { Embedding, GatedMLP, Linear, RMSNorm } from '@tsformer/layers';
import {
  type CausalLMForwardOptions,
  type CausalLMOutput,
  keepLastPositions,
  PretrainedCausalLM,
} from '../causal-lm.js';
import { DecoderStep } from '../decoder-step.js';
import type { CreateModelOptions } from '../model-family.js';
import type { LlamaConfig } from './llama-config.js';

/** cos and sin `[batch, seq, rotaryWidth]` of this step's positions, shared by every layer. */
interface RotaryAngles {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
}

/**
 * Llama self-attention with grouped-query heads: separate q/k/v projections (biases per the config:
 * Llama's `attention_bias`, Qwen2's q/k/v biases), RoPE on queries and keys, scores scaled by
 * 1/√headDim, an optional sliding window (Mistral, Qwen2's upper layers), `o_proj` back.
 */
export class LlamaAttention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly oProj: Linear;
  readonly slidingWindow: number | null;

  constructor(
    readonly config: LlamaConfig,
    readonly layerIndex: number,
    private readonly attention: AttentionImplementation,
  ) {
    super();
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, queryKeyValueBias } = config;
    const bias = queryKeyValueBias;
    this.qProj = this.register('q_proj', new Linear(hiddenSize, numAttentionHeads * headDim, { bias }));
    this.kProj = this.register('k_proj', new Linear(hiddenSize, numKeyValueHeads * headDim, { bias }));
    this.vProj = this.register('v_proj', new Linear(hiddenSize, numKeyValueHeads * headDim, { bias }));
    this.oProj = this.register(
      'o_proj',
      new Linear(numAttentionHeads * headDim, hiddenSize, { bias: config.outputProjectionBias }),
    );
    this.slidingWindow = config.slidingWindows[layerIndex] ?? null;
  }

  /** `[batch, seq, hidden]` → output `[batch, seq, hidden]` and, on request, `[batch, heads, seq, keys]`. */
  forward(
    hidden: tf.Tensor3D,
    angles: RotaryAngles,
    step: DecoderStep,
  ): { output: tf.Tensor3D; attentions: tf.Tensor4D | null } {
    const [batch, seq] = hidden.shape;
    const { numAttentionHeads, numKeyValueHeads, headDim } = this.config;
    const query = splitHeads(this.qProj.forward(hidden), numAttentionHeads, headDim); // [batch, heads, seq, headDim]
    const key = splitHeads(this.kProj.forward(hidden), numKeyValueHeads, headDim); // [batch, kvHeads, seq, headDim]
    const value = splitHeads(this.vProj.forward(hidden), numKeyValueHeads, headDim);
    const [rotatedQuery, rotatedKey] = applyRotaryEmbedding(query, key, angles.cos, angles.sin);
    const keyValues = step.keyValues(this.layerIndex, rotatedKey, value);
    const { output, attentions } = this.attention({
      query: rotatedQuery,
      keyValues,
      mask: step.mask(keyValues, this.slidingWindow),
      scale: 1 / Math.sqrt(headDim),
      headMask: step.headMask(this.layerIndex),
      dropout: this.config.attentionDropout,
      training: this.training,
      outputAttentions: step.outputAttentions,
    });
    const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [batch, seq, numAttentionHeads * headDim]);
    return { output: this.oProj.forward(merged) as tf.Tensor3D, attentions: attentions ?? null };
  }
}

/** `[batch, seq, heads·headDim]` → `[batch, heads, seq, headDim]`. */
function splitHeads(projection: tf.Tensor, heads: number, headDim: number): tf.Tensor4D {
  const [batch, seq] = projection.shape as [number, number, number];
  return tf.transpose(tf.reshape(projection, [batch, seq, heads, headDim]), [0, 2, 1, 3]);
}

/** A pre-norm Llama layer: `x + attn(norm(x))`, then `x + mlp(norm(x))`, with RMSNorms. */
export class LlamaDecoderLayer extends Module {
  readonly selfAttn: LlamaAttention;
  readonly mlp: GatedMLP;
  readonly inputLayernorm: RMSNorm;
  readonly postAttentionLayernorm: RMSNorm;

  constructor(config: LlamaConfig, layerIndex: number, attention: AttentionImplementation) {
    super();
    this.selfAttn = this.register('self_attn', new LlamaAttention(config, layerIndex, attention));
    this.mlp = this.register(
      'mlp',
      new GatedMLP({
        hiddenSize: config.hiddenSize,
        intermediateSize: config.intermediateSize,
        activation: config.hiddenAct,
        bias: config.mlpBias,
      }),
    );
    const eps = config.rmsNormEps;
    this.inputLayernorm = this.register('input_layernorm', new RMSNorm(config.hiddenSize, { eps }));
    this.postAttentionLayernorm = this.register(
      'post_attention_layernorm',
      new RMSNorm(config.hiddenSize, { eps }),
    );
  }

  forward(
    hidden: tf.Tensor3D,
    angles: RotaryAngles,
    step: DecoderStep,
  ): { hidden: tf.Tensor3D; attentions: tf.Tensor4D | null } {
    const normed = this.inputLayernorm.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttn.forward(normed, angles, step);
    const afterAttention = tf.add(hidden, output) as tf.Tensor3D;
    const afterMlp = tf.add(
      afterAttention,
      this.mlp.forward(this.postAttentionLayernorm.forward(afterAttention)),
    ) as tf.Tensor3D;
    return { hidden: afterMlp, attentions };
  }
}

/** The Llama trunk: token embeddings, the decoder layers sharing one rotary table, a final RMSNorm. */
export class LlamaModel extends Module {
  readonly embedTokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  /** HF's `rotary_emb`: no parameters, only cos/sin tables kept on the device. */
  readonly rotaryEmb: RotaryEmbedding;

  constructor(
    readonly config: LlamaConfig,
    attention: AttentionImplementation,
  ) {
    super();
    // Tied to lm_head: stored as the head wants it (see EmbeddingOptions.transposed).
    this.embedTokens = this.register(
      'embed_tokens',
      new Embedding(config.vocabSize, config.hiddenSize, { transposed: config.tieWordEmbeddings }),
    );
    const layers = Array.from(
      { length: config.numHiddenLayers },
      (_, index) => new LlamaDecoderLayer(config, index, attention),
    );
    this.layers = this.register('layers', new ModuleList(layers));
    this.norm = this.register('norm', new RMSNorm(config.hiddenSize, { eps: config.rmsNormEps }));
    this.rotaryEmb = new RotaryEmbedding(config.rope);
  }

  /** `[batch, seq]` ids → the final hidden state `[batch, seq, hidden]` and, on request, the others. */
  forward(
    inputIds: tf.Tensor2D,
    step: DecoderStep,
    outputHiddenStates: boolean,
  ): { lastHiddenState: tf.Tensor3D; hiddenStates: tf.Tensor3D[]; attentions: tf.Tensor4D[] } {
    let hidden = this.embedTokens.forward(inputIds) as tf.Tensor3D; // [batch, seq, hidden]
    const angles = this.rotaryEmb.forward(step.positionIds, step.maxPosition); // [batch, seq, rotaryWidth]
    const hiddenStates: tf.Tensor3D[] = [];
    const attentions: tf.Tensor4D[] = [];
    for (const layer of this.layers.items) {
      if (outputHiddenStates) hiddenStates.push(hidden);
      const out = layer.forward(hidden, angles, step);
      hidden = out.hidden;
      if (out.attentions) attentions.push(out.attentions);
    }
    hidden = this.norm.forward(hidden) as tf.Tensor3D;
    if (outputHiddenStates) hiddenStates.push(hidden);
    return { lastHiddenState: hidden, hiddenStates, attentions };
  }

  /** Frees the parameters and the rotary cos/sin tables. */
  override dispose(): void {
    super.dispose();
    this.rotaryEmb.dispose();
  }
}

/**
 * Llama with its language-model head (HF `LlamaForCausalLM`; `lm_head` tied to `embed_tokens` when
 * `tie_word_embeddings`). Qwen2 and Mistral run on this class, configured by their own resolvers.
 */
export class LlamaForCausalLM extends PretrainedCausalLM<LlamaConfig> {
  readonly model: LlamaModel;
  readonly lmHead: Linear;
  // Stand-in until the skeleton's base classes report it (issue 10 item 7).
  readonly positionLimit: PositionLimit;

  constructor(config: LlamaConfig, options: CreateModelOptions = {}) {
    super(config, options);
    this.positionLimit = { maxPositions: config.maxPositionEmbeddings, kind: 'extrapolating' };
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    this.model = this.register('model', new LlamaModel(config, attention));
    this.lmHead = this.register(
      'lm_head',
      new Linear(config.hiddenSize, config.vocabSize, {
        bias: false,
        sharedWeight: config.tieWordEmbeddings ? this.model.embedTokens.weight : undefined,
      }),
    );
  }

  forward(inputIds: tf.Tensor2D, options: CausalLMForwardOptions = {}): CausalLMOutput {
    return tf.tidy(() => {
      const { numHiddenLayers, numAttentionHeads } = this.config;
      const heads = Array.from({ length: numHiddenLayers }, () => numAttentionHeads);
      const step = new DecoderStep(inputIds, numHiddenLayers, heads, options);
      const outputHiddenStates = options.outputHiddenStates ?? false;
      const trunk = this.model.forward(inputIds, step, outputHiddenStates);
      const kept = keepLastPositions(trunk.lastHiddenState, options.logitsToKeep);
      return {
        logits: this.lmHead.forward(kept) as tf.Tensor3D,
        ...(outputHiddenStates ? { hiddenStates: trunk.hiddenStates } : {}),
        ...(step.outputAttentions ? { attentions: trunk.attentions } : {}),
      };
    });
  }

  /**
   * Loads weights by name, then builds the rotary cos/sin tables the model keeps on the device, so a
   * loaded model already holds every tensor it keeps and a forward pass leaves nothing new behind
   * (until a sequence outgrows the tables).
   */
  override async loadWeights(source: WeightSource, options?: LoadWeightsOptions): Promise<LoadWeightsReport> {
    const report = await super.loadWeights(source, options);
    tf.tidy(() => {
      this.model.rotaryEmb.forward(tf.zeros([1, 1], 'int32') as tf.Tensor2D, 0);
    });
    return report;
  }

  /**
   * One layer cache per layer: a sliding-window cache for each sliding-window layer (HF's
   * `DynamicSlidingWindowLayer`), a dynamic or static one for each full-attention layer.
   */
  createCache(
    _batchSize: number,
    maxLength: number,
    implementation: CacheImplementation = 'dynamic',
  ): DecoderCache {
    return new LayeredCache(this.config.numHiddenLayers, (layerIndex): LayerCache => {
      const window = this.config.slidingWindows[layerIndex] ?? null;
      if (window !== null) return new SlidingWindowLayerCache(window);
      return implementation === 'static' ? new StaticLayerCache(maxLength) : new DynamicLayerCache();
    });
  }
}
