import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation, FusedQueryKeyValue } from '@tsformer/attention';
import { Dropout, GatedMLP, Linear } from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import type { LayerOutput, StackLayer } from '../layer-stack.js';
import { LlamaDecoderLayer, LlamaForCausalLM, LlamaModel } from '../llama/llama-model.js';
import type { CreateModelOptions } from '../model-family.js';
import type { RotaryAngles } from '../rotary-layer-stack.js';
import { RotarySelfAttention } from '../rotary-self-attention.js';
import type { SelfAttention } from '../self-attention.js';
import type { Phi3Config } from './phi3-config.js';

/**
 * Phi-3 self-attention: one fused `qkv_proj` whose output is all queries, then the grouped keys, then
 * the values (`[q (heads·headDim) | k (kvHeads·headDim) | v]`), RoPE (longrope, partial rotary) on
 * queries and keys, scores scaled by 1/√headDim, an optional sliding window, `o_proj` back. No biases.
 */
export class Phi3Attention extends RotarySelfAttention {
  readonly qkvProj: Linear;
  readonly oProj: Linear;

  constructor(config: Phi3Config, layerIndex: number, attention: AttentionImplementation) {
    const { hiddenSize, numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim } = config;
    super({
      attention,
      layerIndex,
      numHeads: heads,
      numKeyValueHeads: kvHeads,
      headDim,
      scale: 1 / Math.sqrt(headDim),
      dropout: config.attentionDropout,
      slidingWindow: config.slidingWindows[layerIndex] ?? null,
    });
    this.qkvProj = this.register(
      'qkv_proj',
      new Linear(hiddenSize, (heads + 2 * kvHeads) * headDim, { bias: false }),
    );
    this.oProj = this.register('o_proj', new Linear(heads * headDim, hiddenSize, { bias: false }));
  }

  /** `qkv_proj`'s output `[batch, seq, (heads + 2·kvHeads)·headDim]`: all queries, then keys, then values. */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): FusedQueryKeyValue {
    const layout = {
      heads: this.numHeads,
      kvHeads: this.numKeyValueHeads,
      headDim: this.headDim,
      order: 'blocks',
    } as const;
    return { projection: this.qkvProj.forward(hidden) as tf.Tensor3D, layout };
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.oProj.forward(merged) as tf.Tensor3D;
  }
}

/**
 * A Phi-3 layer: Llama's pre-norm layer with the fused attention and MLP, and dropout (`resid_pdrop`,
 * training only) on each branch before its residual add: `x + drop(attn(norm(x)))`, then
 * `x + drop(mlp(norm(x)))`.
 */
export class Phi3DecoderLayer extends LlamaDecoderLayer {
  readonly residAttnDropout: Dropout;
  readonly residMlpDropout: Dropout;

  constructor(config: Phi3Config, layerIndex: number, attention: AttentionImplementation) {
    super(config, layerIndex, attention);
    this.residAttnDropout = this.register('resid_attn_dropout', new Dropout(config.residualDropout));
    this.residMlpDropout = this.register('resid_mlp_dropout', new Dropout(config.residualDropout));
  }

  override forward(hidden: tf.Tensor3D, step: ForwardStep, angles: RotaryAngles): LayerOutput {
    const normed = this.inputLayernorm.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttention.forward(normed, step, angles);
    const afterAttention = tf.add(hidden, this.residAttnDropout.forward(output)) as tf.Tensor3D;
    const mlpOutput = this.mlp.forward(this.postAttentionLayernorm.forward(afterAttention));
    const afterMlp = tf.add(afterAttention, this.residMlpDropout.forward(mlpOutput)) as tf.Tensor3D;
    return { hidden: afterMlp, attentions };
  }

  protected override createAttention(
    config: Phi3Config,
    layerIndex: number,
    attention: AttentionImplementation,
  ): SelfAttention<RotaryAngles> {
    return new Phi3Attention(config, layerIndex, attention);
  }

  /** `gate_up_proj` `[2·intermediate, hidden]` split `[gate | up]`, then `down_proj`; no biases. */
  protected override createMlp(config: Phi3Config): GatedMLP {
    return new GatedMLP({
      hiddenSize: config.hiddenSize,
      intermediateSize: config.intermediateSize,
      activation: config.hiddenAct,
      fusedGateUp: true,
    });
  }
}

/** The Phi-3 trunk (HF `Phi3Model`): Llama's, with Phi-3 layers. */
export class Phi3Model extends LlamaModel {
  protected override createLayer(
    config: Phi3Config,
    layerIndex: number,
    attention: AttentionImplementation,
  ): StackLayer<RotaryAngles> {
    return new Phi3DecoderLayer(config, layerIndex, attention);
  }
}

/**
 * Phi-3 with its language-model head (HF `Phi3ForCausalLM`; `lm_head` untied unless
 * `tie_word_embeddings`). Phi-3, Phi-3.5 and Phi-4-mini checkpoints (longrope, partial rotary).
 */
export class Phi3ForCausalLM extends LlamaForCausalLM {
  declare readonly config: Phi3Config;

  constructor(config: Phi3Config, options: CreateModelOptions = {}) {
    super(config, options);
  }

  /**
   * HF's `Phi3ForCausalLM.prepare_inputs_for_generation`: with longrope, the generation step whose
   * sequence first passes `original_max_position_embeddings` (while the cache holds no more than that)
   * recomputes every key, so all of them are rotated with the long factors, not only the new ones.
   * (HF drops the cache there with any RoPE; with default RoPE a recomputation changes nothing.)
   */
  reusesCache(cachedLength: number, length: number): boolean {
    const { rope } = this.config;
    if (rope.ropeType !== 'longrope') return true;
    const original = rope.originalMaxPositionEmbeddings;
    return !(length > original && cachedLength <= original);
  }

  protected override createModel(config: Phi3Config, attention: AttentionImplementation): LlamaModel {
    return new Phi3Model(config, attention);
  }
}
