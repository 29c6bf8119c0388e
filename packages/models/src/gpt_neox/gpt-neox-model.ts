import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  getAttentionImplementation,
} from '@tsformer/attention';
import { ModuleList } from '@tsformer/core-tensor';
import type { PositionLimit } from '@tsformer/decoding';
import { Dropout, Embedding, LayerNorm, Linear, MLP } from '@tsformer/layers';
import { PretrainedCausalLM } from '../causal-lm.js';
import type { ForwardStep } from '../forward-step.js';
import { type LayerOutput, StackLayer } from '../layer-stack.js';
import type { CreateModelOptions } from '../model-family.js';
import { type RotaryAngles, RotaryLayerStack } from '../rotary-layer-stack.js';
import { RotarySelfAttention } from '../rotary-self-attention.js';
import type { GPTNeoXConfig } from './gpt-neox-config.js';

/**
 * GPT-NeoX self-attention: one fused `query_key_value` projection laid out per head (`[heads, 3,
 * headDim]`: each head's query, key and value side by side), RoPE on the first `rotaryDim` channels of
 * each head (`rotary_pct`), scores scaled by 1/√headDim, `dense` back. Both projections carry biases
 * unless `attention_bias` is false.
 */
export class GPTNeoXAttention extends RotarySelfAttention {
  readonly queryKeyValue: Linear;
  readonly dense: Linear;

  constructor(config: GPTNeoXConfig, layerIndex: number, attention: AttentionImplementation) {
    const { hiddenSize, numAttentionHeads, headDim, attentionBias: bias } = config;
    super({
      attention,
      layerIndex,
      numHeads: numAttentionHeads,
      headDim,
      scale: headDim ** -0.5,
      dropout: config.attentionDropout,
    });
    this.queryKeyValue = this.register('query_key_value', new Linear(hiddenSize, 3 * hiddenSize, { bias }));
    this.dense = this.register('dense', new Linear(hiddenSize, hiddenSize, { bias }));
  }

  /** `query_key_value`'s output `[batch, seq, heads·3·headDim]`: per head its query, key and value. */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): FusedQueryKeyValue {
    const layout = { heads: this.numHeads, headDim: this.headDim, order: 'per-head' } as const;
    return { projection: this.queryKeyValue.forward(hidden) as tf.Tensor3D, layout };
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.dense.forward(merged) as tf.Tensor3D;
  }
}

/**
 * A GPT-NeoX layer, both residual forms of HF's `GPTNeoXLayer`:
 * - parallel (`use_parallel_residual`, Pythia, GPT-NeoX-20B): `x + attn(ln1(x)) + mlp(ln2(x))`;
 * - sequential: `y = x + attn(ln1(x))`, then `y + mlp(ln2(y))`.
 */
export class GPTNeoXLayer extends StackLayer<RotaryAngles> {
  readonly inputLayernorm: LayerNorm;
  readonly postAttentionLayernorm: LayerNorm;
  readonly postAttentionDropout: Dropout;
  readonly selfAttention: GPTNeoXAttention;
  /** `dense_h_to_4h`, `hidden_act`, `dense_4h_to_h`, then HF's `post_mlp_dropout`. */
  readonly mlp: MLP;
  readonly useParallelResidual: boolean;

  constructor(config: GPTNeoXConfig, layerIndex: number, attention: AttentionImplementation) {
    super();
    const { hiddenSize, layerNormEps: eps } = config;
    this.useParallelResidual = config.useParallelResidual;
    this.inputLayernorm = this.register('input_layernorm', new LayerNorm(hiddenSize, { eps }));
    this.postAttentionLayernorm = this.register(
      'post_attention_layernorm',
      new LayerNorm(hiddenSize, { eps }),
    );
    this.postAttentionDropout = this.register('post_attention_dropout', new Dropout(config.hiddenDropout));
    this.selfAttention = this.register('attention', new GPTNeoXAttention(config, layerIndex, attention));
    this.mlp = this.register(
      'mlp',
      new MLP({
        hiddenSize,
        intermediateSize: config.intermediateSize,
        activation: config.hiddenAct,
        inputName: 'dense_h_to_4h',
        outputName: 'dense_4h_to_h',
        dropout: config.hiddenDropout,
      }),
    );
  }

  forward(hidden: tf.Tensor3D, step: ForwardStep, angles: RotaryAngles): LayerOutput {
    const normed = this.inputLayernorm.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttention.forward(normed, step, angles);
    const attention = this.postAttentionDropout.forward(output); // [batch, seq, hidden]
    if (this.useParallelResidual) {
      const mlp = this.mlp.forward(this.postAttentionLayernorm.forward(hidden));
      return { hidden: tf.addN([mlp, attention, hidden]) as tf.Tensor3D, attentions };
    }
    const afterAttention = tf.add(attention, hidden) as tf.Tensor3D;
    const mlp = this.mlp.forward(this.postAttentionLayernorm.forward(afterAttention));
    return { hidden: tf.add(mlp, afterAttention) as tf.Tensor3D, attentions };
  }
}

/** The GPT-NeoX trunk (HF `GPTNeoXModel`): `embed_in`, the layers sharing one rotary table, `final_layer_norm`. */
export class GPTNeoXModel extends RotaryLayerStack {
  readonly embedIn: Embedding;
  readonly embeddingDropout: Dropout;
  readonly layers: ModuleList<GPTNeoXLayer>;
  readonly finalLayerNorm: LayerNorm;

  constructor(
    readonly config: GPTNeoXConfig,
    attention: AttentionImplementation,
  ) {
    super(config.rope);
    // Tied to embed_out: stored as the head wants it (see EmbeddingOptions.transposed).
    this.embedIn = this.register(
      'embed_in',
      new Embedding(config.vocabSize, config.hiddenSize, { transposed: config.tieWordEmbeddings }),
    );
    this.embeddingDropout = this.register('emb_dropout', new Dropout(config.hiddenDropout));
    const layers = Array.from(
      { length: config.numHiddenLayers },
      (_, index) => new GPTNeoXLayer(config, index, attention),
    );
    this.layers = this.register('layers', new ModuleList(layers));
    this.finalLayerNorm = this.register(
      'final_layer_norm',
      new LayerNorm(config.hiddenSize, { eps: config.layerNormEps }),
    );
  }

  /** Token embeddings, then dropout: `[batch, seq]` → `[batch, seq, hidden]` (positions are RoPE, in attention). */
  protected embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    return this.embeddingDropout.forward(this.embedIn.forward(inputIds)) as tf.Tensor3D;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.finalLayerNorm.forward(hidden) as tf.Tensor3D;
  }
}

/**
 * GPT-NeoX with its language-model head (HF `GPTNeoXForCausalLM`): the trunk under `gpt_neox`, the head
 * under `embed_out`, untied unless `tie_word_embeddings`.
 */
export class GPTNeoXForCausalLM extends PretrainedCausalLM<GPTNeoXConfig> {
  readonly gptNeox: GPTNeoXModel;
  readonly lmHead: Linear;
  /** Rotary positions: computed past `max_position_embeddings`, with a warning. */
  readonly positionLimit: PositionLimit;

  constructor(config: GPTNeoXConfig, options: CreateModelOptions = {}) {
    super(config, options);
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    this.gptNeox = this.register('gpt_neox', new GPTNeoXModel(config, attention));
    this.lmHead = this.register(
      'embed_out',
      new Linear(config.hiddenSize, config.vocabSize, {
        bias: false,
        sharedWeight: config.tieWordEmbeddings ? this.gptNeox.embedIn.weight : undefined,
      }),
    );
    this.positionLimit = { maxPositions: config.maxPositionEmbeddings, kind: 'extrapolating' };
  }

  get trunk(): GPTNeoXModel {
    return this.gptNeox;
  }
}
