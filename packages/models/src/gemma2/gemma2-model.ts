import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation } from '@tsformer/attention';
import type { RMSNorm } from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import { GemmaDecoderLayer, GemmaForCausalLM, GemmaModel } from '../gemma/gemma-model.js';
import type { LayerOutput, StackLayer } from '../layer-stack.js';
import { LlamaAttention, type LlamaModel } from '../llama/llama-model.js';
import type { CreateModelOptions } from '../model-family.js';
import type { RotaryAngles } from '../rotary-layer-stack.js';
import type { SelfAttention } from '../self-attention.js';
import type { Gemma2Config } from './gemma2-config.js';

/**
 * A Gemma 2 layer: Gemma's, with the attention scaled by `query_pre_attn_scalar^-0.5` and soft-capped,
 * and four norms, each block normed before and after:
 * `x + postAttentionNorm(attn(inputNorm(x)))`, then `x + postFeedforwardNorm(mlp(preFeedforwardNorm(x)))`.
 */
export class Gemma2DecoderLayer extends GemmaDecoderLayer {
  readonly preFeedforwardLayernorm: RMSNorm;
  readonly postFeedforwardLayernorm: RMSNorm;

  constructor(config: Gemma2Config, layerIndex: number, attention: AttentionImplementation) {
    super(config, layerIndex, attention);
    this.preFeedforwardLayernorm = this.register('pre_feedforward_layernorm', this.createNorm(config));
    this.postFeedforwardLayernorm = this.register('post_feedforward_layernorm', this.createNorm(config));
  }

  override forward(hidden: tf.Tensor3D, step: ForwardStep, angles: RotaryAngles): LayerOutput {
    const normed = this.inputLayernorm.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttention.forward(normed, step, angles);
    const afterAttention = tf.add(hidden, this.postAttentionLayernorm.forward(output)) as tf.Tensor3D;
    const mlp = this.mlp.forward(this.preFeedforwardLayernorm.forward(afterAttention));
    const afterMlp = tf.add(afterAttention, this.postFeedforwardLayernorm.forward(mlp)) as tf.Tensor3D;
    return { hidden: afterMlp, attentions };
  }

  protected override createAttention(
    config: Gemma2Config,
    layerIndex: number,
    attention: AttentionImplementation,
  ): SelfAttention<RotaryAngles> {
    return new LlamaAttention(config, layerIndex, attention, {
      scale: config.queryPreAttnScalar ** -0.5,
      softcap: config.attnLogitSoftcapping,
    });
  }
}

/** The Gemma 2 trunk: Gemma's, built of Gemma 2 layers. */
export class Gemma2Model extends GemmaModel {
  protected override createLayer(
    config: Gemma2Config,
    layerIndex: number,
    attention: AttentionImplementation,
  ): StackLayer<RotaryAngles> {
    return new Gemma2DecoderLayer(config, layerIndex, attention);
  }
}

/**
 * Gemma 2 with its language-model head (HF `Gemma2ForCausalLM`): Gemma's, built of Gemma 2 layers, the
 * logits soft-capped by `final_logit_softcapping`.
 */
export class Gemma2ForCausalLM extends GemmaForCausalLM {
  override readonly finalLogitSoftcapping: number | null;

  constructor(config: Gemma2Config, options: CreateModelOptions = {}) {
    super(config, options);
    this.finalLogitSoftcapping = config.finalLogitSoftcapping;
  }

  protected override createModel(config: Gemma2Config, attention: AttentionImplementation): LlamaModel {
    return new Gemma2Model(config, attention);
  }
}
