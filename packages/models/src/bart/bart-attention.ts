import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation, KeyValuePair } from '@tsformer/attention';
import type { EncoderDecoderCache, KeyValueBlocks } from '@tsformer/cache';
import { Module } from '@tsformer/core-tensor';
import { Linear } from '@tsformer/layers';

/** What one attention call returns: the projected output and, when asked for, the softmax maps. */
export interface BartAttentionOutput {
  /** `[batch, queries, dModel]`. */
  output: tf.Tensor3D;
  /** `[batch, heads, queries, keys]` when `outputAttentions` was set, else null. */
  attentions: tf.Tensor4D | null;
}

/**
 * BART's multi-head attention ("Attention is all you need", `BartAttention`): q/k/v/out projections
 * with biases, queries scaled by `headDim^-0.5`. One module serves encoder self-attention, causal
 * decoder self-attention (with a growing cache) and cross-attention over the encoder output (its
 * keys/values computed once and cached).
 */
export class BartAttention extends Module {
  readonly headDim: number;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;

  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    /** Dropout on the attention probabilities (training only; `attention_dropout`). */
    readonly dropout: number,
    private readonly attention: AttentionImplementation,
    /** The decoder layer this attention belongs to: which layer of an `EncoderDecoderCache` it uses. */
    readonly layerIndex = 0,
  ) {
    super();
    this.headDim = dModel / numHeads;
    this.kProj = this.register('k_proj', new Linear(dModel, dModel));
    this.vProj = this.register('v_proj', new Linear(dModel, dModel));
    this.qProj = this.register('q_proj', new Linear(dModel, dModel));
    this.outProj = this.register('out_proj', new Linear(dModel, dModel));
  }

  /**
   * Self-attention of `hidden` `[batch, seq, dModel]`. With a `cache`, this step's keys/values are
   * appended to its layer and attention covers what the cache returns (every cached position, or a
   * static cache's whole capacity); `maskFor` gives the additive mask `[batch | 1, 1, seq, keys]` for
   * exactly those keys.
   */
  selfAttention(
    hidden: tf.Tensor3D,
    maskFor: (keyValues: KeyValueBlocks | KeyValuePair) => tf.Tensor4D | null,
    cache: EncoderDecoderCache | undefined,
    outputAttentions: boolean,
  ): BartAttentionOutput {
    const key = this.splitHeads(this.kProj.forward(hidden)); // [batch, heads, seq, headDim]
    const value = this.splitHeads(this.vProj.forward(hidden));
    const keyValues = cache ? cache.layer(this.layerIndex).update(key, value) : { key, value };
    return this.attend(hidden, keyValues, maskFor(keyValues), outputAttentions);
  }

  /**
   * Cross-attention of decoder `hidden` over `encoderHiddenStates` `[batch, source, dModel]`. With a
   * `cache`, the first step projects the encoder states and stores them; later steps reuse them.
   */
  crossAttention(
    hidden: tf.Tensor3D,
    encoderHiddenStates: tf.Tensor3D,
    mask: tf.Tensor4D | null,
    cache: EncoderDecoderCache | undefined,
    outputAttentions: boolean,
  ): BartAttentionOutput {
    let keyValues: KeyValueBlocks | KeyValuePair;
    if (cache?.isCrossFilled(this.layerIndex)) {
      keyValues = cache.cross(this.layerIndex);
    } else {
      const key = this.splitHeads(this.kProj.forward(encoderHiddenStates)); // [batch, heads, source, headDim]
      const value = this.splitHeads(this.vProj.forward(encoderHiddenStates));
      keyValues = cache ? cache.setCross(this.layerIndex, key, value) : { key, value };
    }
    return this.attend(hidden, keyValues, mask, outputAttentions);
  }

  private attend(
    hidden: tf.Tensor3D,
    keyValues: KeyValueBlocks | KeyValuePair,
    mask: tf.Tensor4D | null,
    outputAttentions: boolean,
  ): BartAttentionOutput {
    const [batch, queries] = hidden.shape;
    const query = this.splitHeads(this.qProj.forward(hidden)); // [batch, heads, queries, headDim]
    const { output, attentions } = this.attention({
      query,
      keyValues,
      mask,
      scale: this.headDim ** -0.5,
      dropout: this.dropout,
      training: this.training,
      outputAttentions,
    }); // output: [batch, heads, queries, headDim]
    const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [batch, queries, this.dModel]);
    return { output: this.outProj.forward(merged) as tf.Tensor3D, attentions: attentions ?? null };
  }

  /** `[batch, seq, dModel]` -> `[batch, heads, seq, headDim]`. */
  private splitHeads(states: tf.Tensor): tf.Tensor4D {
    const [batch, seq] = states.shape;
    return tf.transpose(tf.reshape(states, [batch!, seq!, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }
}
