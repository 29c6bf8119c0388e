import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation } from '@tsformer/attention';
import { Module, ModuleList } from '@tsformer/core-tensor';
import { Dropout, RMSNorm } from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import { type LayerOutput, StackLayer } from '../layer-stack.js';
import type { Seq2SeqDecoderStep } from '../seq2seq-decoder-step.js';
import { T5Attention, T5CrossAttention } from './t5-attention.js';
import type { T5Config } from './t5-config.js';
import { createT5FeedForward, type T5FeedForward } from './t5-feed-forward.js';
import type { RelativeAttentionBias } from './t5-relative-position.js';

/** What builds one block: the config, the attention implementation, its index and its stack's bias table. */
export interface T5BlockOptions {
  config: T5Config;
  attention: AttentionImplementation;
  layerIndex: number;
  relativeAttentionBias: RelativeAttentionBias;
}

/**
 * One pre-norm residual sub-layer of a block (`T5LayerSelfAttention`, `T5LayerCrossAttention`,
 * `T5LayerFF`): `x + dropout(f(layer_norm(x)))`, with T5's RMS `layer_norm` (no mean, no bias).
 */
abstract class T5SubLayer extends Module {
  readonly layerNorm: RMSNorm;
  readonly dropout: Dropout;

  constructor(config: T5Config) {
    super();
    this.layerNorm = this.register(
      'layer_norm',
      new RMSNorm(config.dModel, { eps: config.layerNormEpsilon }),
    );
    this.dropout = this.register('dropout', new Dropout(config.dropoutRate));
  }

  /** `hidden` `[batch, seq, d_model]` plus the dropped-out `sublayer` of its normalised self. */
  protected residual(hidden: tf.Tensor3D, sublayer: (normed: tf.Tensor3D) => tf.Tensor3D): tf.Tensor3D {
    const normed = this.layerNorm.forward(hidden) as tf.Tensor3D;
    return tf.add(hidden, this.dropout.forward(sublayer(normed)));
  }
}

/** `layer.0`: self-attention (`SelfAttention`) with its norm. */
export class T5LayerSelfAttention extends T5SubLayer {
  readonly selfAttention: T5Attention;

  constructor(options: T5BlockOptions) {
    super(options.config);
    this.selfAttention = this.register(
      'SelfAttention',
      new T5Attention({ ...options, ownsRelativeAttentionBias: options.layerIndex === 0 }),
    );
  }

  forward(hidden: tf.Tensor3D, step: ForwardStep): LayerOutput {
    let attentions: tf.Tensor4D | null = null;
    const output = this.residual(hidden, (normed) => {
      const out = this.selfAttention.forward(normed, step, undefined);
      attentions = out.attentions;
      return out.output;
    });
    return { hidden: output, attentions };
  }
}

/** A decoder's `layer.1`: attention over the encoder output (`EncDecAttention`) with its norm. */
export class T5LayerCrossAttention extends T5SubLayer {
  readonly encDecAttention: T5CrossAttention;

  constructor(options: T5BlockOptions) {
    super(options.config);
    this.encDecAttention = this.register('EncDecAttention', new T5CrossAttention(options));
  }

  forward(hidden: tf.Tensor3D, step: Seq2SeqDecoderStep): LayerOutput {
    let attentions: tf.Tensor4D | null = null;
    const output = this.residual(hidden, (normed) => {
      const out = this.encDecAttention.forward(normed, step);
      attentions = out.attentions;
      return out.output;
    });
    return { hidden: output, attentions };
  }
}

/** The last sub-layer: the feed-forward network (`DenseReluDense`) with its norm. */
export class T5LayerFF extends T5SubLayer {
  readonly denseReluDense: T5FeedForward;

  constructor(config: T5Config) {
    super(config);
    this.denseReluDense = this.register('DenseReluDense', createT5FeedForward(config));
  }

  forward(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.residual(hidden, (normed) => this.denseReluDense.forward(normed));
  }
}

/** An encoder block (`T5Block`, `is_decoder` false): `layer` = [self-attention, feed-forward]. */
export class T5EncoderBlock extends StackLayer {
  readonly layer: ModuleList<Module>;
  readonly selfAttentionLayer: T5LayerSelfAttention;
  readonly feedForwardLayer: T5LayerFF;
  readonly selfAttention: T5Attention;

  constructor(options: T5BlockOptions) {
    super();
    this.selfAttentionLayer = new T5LayerSelfAttention(options);
    this.feedForwardLayer = new T5LayerFF(options.config);
    this.layer = this.register(
      'layer',
      new ModuleList<Module>([this.selfAttentionLayer, this.feedForwardLayer]),
    );
    this.selfAttention = this.selfAttentionLayer.selfAttention;
  }

  /** `hidden` `[batch, source, d_model]` → the block's output and, on request, `[batch, heads, source, source]`. */
  forward(hidden: tf.Tensor3D, step: ForwardStep): LayerOutput {
    const { hidden: attended, attentions } = this.selfAttentionLayer.forward(hidden, step);
    return { hidden: this.feedForwardLayer.forward(attended), attentions };
  }
}

/** A decoder block (`T5Block`, `is_decoder` true): `layer` = [self-attention, cross-attention, feed-forward]. */
export class T5DecoderBlock extends StackLayer<undefined, Seq2SeqDecoderStep> {
  readonly layer: ModuleList<Module>;
  readonly selfAttentionLayer: T5LayerSelfAttention;
  readonly crossAttentionLayer: T5LayerCrossAttention;
  readonly feedForwardLayer: T5LayerFF;
  readonly selfAttention: T5Attention;

  constructor(options: T5BlockOptions) {
    super();
    this.selfAttentionLayer = new T5LayerSelfAttention(options);
    this.crossAttentionLayer = new T5LayerCrossAttention(options);
    this.feedForwardLayer = new T5LayerFF(options.config);
    this.layer = this.register(
      'layer',
      new ModuleList<Module>([this.selfAttentionLayer, this.crossAttentionLayer, this.feedForwardLayer]),
    );
    this.selfAttention = this.selfAttentionLayer.selfAttention;
  }

  /**
   * `hidden` `[batch, target, d_model]` → the block's output and, on request, the self- and
   * cross-attention maps. The step holds the causal masks, the cache and the encoder output.
   */
  forward(hidden: tf.Tensor3D, step: Seq2SeqDecoderStep): LayerOutput {
    const self = this.selfAttentionLayer.forward(hidden, step);
    const cross = this.crossAttentionLayer.forward(self.hidden, step);
    return {
      hidden: this.feedForwardLayer.forward(cross.hidden),
      attentions: self.attentions,
      crossAttentions: cross.attentions,
    };
  }
}
