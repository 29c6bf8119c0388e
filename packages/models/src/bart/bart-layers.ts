import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation } from '@tsformer/attention';
import type { EncoderDecoderCache } from '@tsformer/cache';
import { Module } from '@tsformer/core-tensor';
import { type Activation, Dropout, getActivation, LayerNorm, Linear } from '@tsformer/layers';
import type { DecoderStep } from '../decoder-step.js';
import { BartAttention } from './bart-attention.js';
import type { BartConfig } from './bart-config.js';

/** What every layer's sub-blocks share: dropout, where the LayerNorm goes, the feed-forward network. */
abstract class BartLayerBase extends Module {
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
export class BartEncoderLayer extends BartLayerBase {
  readonly selfAttn: BartAttention;
  readonly selfAttnLayerNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalLayerNorm: LayerNorm;

  constructor(config: BartConfig, attention: AttentionImplementation) {
    super(config);
    const { dModel, encoderAttentionHeads, attentionDropout } = config;
    this.selfAttn = this.register(
      'self_attn',
      new BartAttention(dModel, encoderAttentionHeads, attentionDropout, attention),
    );
    this.selfAttnLayerNorm = this.register('self_attn_layer_norm', new LayerNorm(config.dModel));
    this.fc1 = this.register('fc1', new Linear(config.dModel, config.encoderFfnDim));
    this.fc2 = this.register('fc2', new Linear(config.encoderFfnDim, config.dModel));
    this.finalLayerNorm = this.register('final_layer_norm', new LayerNorm(config.dModel));
  }

  /**
   * `hidden` `[batch, source, dModel]`; `mask` additive `[batch, 1, source, source]` (padding) or null.
   * Returns the new hidden states and, when asked for, the attention maps `[batch, heads, source, source]`.
   */
  forward(
    hidden: tf.Tensor3D,
    mask: tf.Tensor4D | null,
    outputAttentions: boolean,
  ): { hidden: tf.Tensor3D; attentions: tf.Tensor4D | null } {
    let attentions: tf.Tensor4D | null = null;
    hidden = this.residual(hidden, this.selfAttnLayerNorm, (x) => {
      const out = this.selfAttn.selfAttention(x, () => mask, undefined, outputAttentions);
      attentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.finalLayerNorm, (x) => this.feedForward(x));
    return { hidden, attentions };
  }
}

/** What a decoder layer returns: hidden states and, when asked for, both attention maps. */
export interface BartDecoderLayerOutput {
  hidden: tf.Tensor3D;
  /** `[batch, heads, target, pastAndTarget]`, or null unless asked for. */
  selfAttentions: tf.Tensor4D | null;
  /** `[batch, heads, target, source]`, or null unless asked for. */
  crossAttentions: tf.Tensor4D | null;
}

/** Causal self-attention, cross-attention over the encoder, feed-forward (`BartDecoderLayer`). */
export class BartDecoderLayer extends BartLayerBase {
  readonly selfAttn: BartAttention;
  readonly selfAttnLayerNorm: LayerNorm;
  readonly encoderAttn: BartAttention;
  readonly encoderAttnLayerNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalLayerNorm: LayerNorm;

  constructor(config: BartConfig, attention: AttentionImplementation, layerIndex: number) {
    super(config);
    const { dModel, decoderAttentionHeads, attentionDropout } = config;
    this.selfAttn = this.register(
      'self_attn',
      new BartAttention(dModel, decoderAttentionHeads, attentionDropout, attention, layerIndex),
    );
    this.selfAttnLayerNorm = this.register('self_attn_layer_norm', new LayerNorm(config.dModel));
    this.encoderAttn = this.register(
      'encoder_attn',
      new BartAttention(dModel, decoderAttentionHeads, attentionDropout, attention, layerIndex),
    );
    this.encoderAttnLayerNorm = this.register('encoder_attn_layer_norm', new LayerNorm(config.dModel));
    this.fc1 = this.register('fc1', new Linear(config.dModel, config.decoderFfnDim));
    this.fc2 = this.register('fc2', new Linear(config.decoderFfnDim, config.dModel));
    this.finalLayerNorm = this.register('final_layer_norm', new LayerNorm(config.dModel));
  }

  /**
   * `hidden` `[batch, target, dModel]`; `step` gives the causal self-attention mask for the keys the
   * cache returns;
   * `encoderHiddenStates` `[batch, source, dModel]`; `crossMask` additive `[batch, 1, target, source]`
   * or null. A `cache` grows by this step's keys/values and holds the cross-attention ones.
   */
  forward(
    hidden: tf.Tensor3D,
    step: DecoderStep,
    encoderHiddenStates: tf.Tensor3D,
    crossMask: tf.Tensor4D | null,
    cache: EncoderDecoderCache | undefined,
    outputAttentions: boolean,
  ): BartDecoderLayerOutput {
    let selfAttentions: tf.Tensor4D | null = null;
    let crossAttentions: tf.Tensor4D | null = null;
    hidden = this.residual(hidden, this.selfAttnLayerNorm, (x) => {
      const out = this.selfAttn.selfAttention(
        x,
        (keyValues) => step.mask(keyValues),
        cache,
        outputAttentions,
      );
      selfAttentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.encoderAttnLayerNorm, (x) => {
      const out = this.encoderAttn.crossAttention(x, encoderHiddenStates, crossMask, cache, outputAttentions);
      crossAttentions = out.attentions;
      return out.output;
    });
    hidden = this.residual(hidden, this.finalLayerNorm, (x) => this.feedForward(x));
    return { hidden, selfAttentions, crossAttentions };
  }
}
