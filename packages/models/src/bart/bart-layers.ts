import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation } from '@tsformer/attention';
import { type Activation, Dropout, getActivation, LayerNorm, Linear } from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import { type LayerOutput, StackLayer } from '../layer-stack.js';
import type { Seq2SeqDecoderStep } from '../seq2seq-decoder-step.js';
import { BartAttention, BartCrossAttention } from './bart-attention.js';
import type { BartConfig } from './bart-config.js';

/** What every layer's sub-blocks share: dropout, where the LayerNorm goes, the feed-forward network. */
abstract class BartLayerBase<Step extends ForwardStep> extends StackLayer<undefined, Step> {
  readonly normalizeBefore: boolean;
  readonly activation: Activation;
  readonly dropout: Dropout;
  readonly activationDropout: Dropout;
  abstract readonly fc1: Linear;
  abstract readonly fc2: Linear;
  abstract readonly finalLayerNorm: LayerNorm;

  constructor(config: BartConfig) {
    super();
    this.normalizeBefore = config.normalizeBefore;
    this.activation = getActivation(config.activationFunction);
    this.dropout = this.register('dropout', new Dropout(config.dropout));
    this.activationDropout = this.register('activation_dropout', new Dropout(config.activationDropout));
  }

  /**
   * One residual sub-block. Post-norm (BART, Marian): `norm(x + dropout(f(x)))`;
   * pre-norm (mBART, `normalize_before`): `x + dropout(f(norm(x)))`.
   */
  protected residual(
    hidden: tf.Tensor3D,
    norm: LayerNorm,
    sublayer: (x: tf.Tensor3D) => tf.Tensor,
  ): tf.Tensor3D {
    if (this.normalizeBefore) {
      return tf.add(hidden, this.dropout.forward(sublayer(norm.forward(hidden) as tf.Tensor3D)));
    }
    return norm.forward(tf.add(hidden, this.dropout.forward(sublayer(hidden)))) as tf.Tensor3D;
  }

  /** `fc2(dropout(act(fc1(x))))`: `[batch, seq, dModel]` -> same shape. */
  protected feedForward(hidden: tf.Tensor3D): tf.Tensor {
    const intermediate = this.activation(this.fc1.forward(hidden)); // [batch, seq, ffnDim]
    return this.fc2.forward(this.activationDropout.forward(intermediate));
  }
}

/** Self-attention then feed-forward, each a residual sub-block (`BartEncoderLayer`). */
export class BartEncoderLayer extends BartLayerBase<ForwardStep> {
  readonly selfAttention: BartAttention;
  readonly selfAttnLayerNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalLayerNorm: LayerNorm;

  constructor(config: BartConfig, attention: AttentionImplementation, layerIndex: number) {
    super(config);
    const { dModel, encoderAttentionHeads: numHeads, attentionDropout: dropout } = config;
    this.selfAttention = this.register(
      'self_attn',
      new BartAttention({ dModel, numHeads, dropout, attention, layerIndex }),
    );
    this.selfAttnLayerNorm = this.register('self_attn_layer_norm', new LayerNorm(config.dModel));
    this.fc1 = this.register('fc1', new Linear(config.dModel, config.encoderFfnDim));
    this.fc2 = this.register('fc2', new Linear(config.encoderFfnDim, config.dModel));
    this.finalLayerNorm = this.register('final_layer_norm', new LayerNorm(config.dModel));
  }

  /**
   * `hidden` `[batch, source, dModel]` → the new hidden states and, when the step asks, the attention
   * maps `[batch, heads, source, source]` (the step's mask hides padding).
   */
  forward(hidden: tf.Tensor3D, step: ForwardStep): LayerOutput {
    let attentions: tf.Tensor4D | null = null;
    hidden = this.residual(hidden, this.selfAttnLayerNorm, (x) => {
      const out = this.selfAttention.forward(x, step, undefined);
      attentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.finalLayerNorm, (x) => this.feedForward(x));
    return { hidden, attentions };
  }
}

/** Causal self-attention, cross-attention over the encoder, feed-forward (`BartDecoderLayer`). */
export class BartDecoderLayer extends BartLayerBase<Seq2SeqDecoderStep> {
  readonly selfAttention: BartAttention;
  readonly selfAttnLayerNorm: LayerNorm;
  readonly encoderAttn: BartCrossAttention;
  readonly encoderAttnLayerNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalLayerNorm: LayerNorm;

  constructor(config: BartConfig, attention: AttentionImplementation, layerIndex: number) {
    super(config);
    const { dModel, decoderAttentionHeads: numHeads, attentionDropout: dropout } = config;
    const options = { dModel, numHeads, dropout, attention, layerIndex };
    this.selfAttention = this.register('self_attn', new BartAttention(options));
    this.selfAttnLayerNorm = this.register('self_attn_layer_norm', new LayerNorm(config.dModel));
    this.encoderAttn = this.register('encoder_attn', new BartCrossAttention(options));
    this.encoderAttnLayerNorm = this.register('encoder_attn_layer_norm', new LayerNorm(config.dModel));
    this.fc1 = this.register('fc1', new Linear(config.dModel, config.decoderFfnDim));
    this.fc2 = this.register('fc2', new Linear(config.decoderFfnDim, config.dModel));
    this.finalLayerNorm = this.register('final_layer_norm', new LayerNorm(config.dModel));
  }

  /**
   * `hidden` `[batch, target, dModel]` → the new hidden states and, when the step asks, the self- and
   * cross-attention maps. The step holds the causal masks, the cache and the encoder output.
   */
  forward(hidden: tf.Tensor3D, step: Seq2SeqDecoderStep): LayerOutput {
    let attentions: tf.Tensor4D | null = null;
    let crossAttentions: tf.Tensor4D | null = null;
    hidden = this.residual(hidden, this.selfAttnLayerNorm, (x) => {
      const out = this.selfAttention.forward(x, step, undefined);
      attentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.encoderAttnLayerNorm, (x) => {
      const out = this.encoderAttn.forward(x, step);
      crossAttentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.finalLayerNorm, (x) => this.feedForward(x));
    return { hidden, attentions, crossAttentions };
  }
}
