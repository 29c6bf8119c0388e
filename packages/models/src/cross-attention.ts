import type * as tf from '@tensorflow/tfjs-core';
import { type AttentionImplementation, mergeHeads } from '@tsformer/attention';
import type { KeyValueBlocks } from '@tsformer/cache';
import { Module } from '@tsformer/core-tensor';
import type { AttentionLayerOutput } from './self-attention.js';
import type { Seq2SeqDecoderStep } from './seq2seq-decoder-step.js';

/** The numbers of a cross-attention module. */
export interface CrossAttentionOptions {
  attention: AttentionImplementation;
  /** The decoder layer: which cross-attention slot of the cache it fills. */
  layerIndex: number;
  numHeads: number;
  headDim: number;
  /** Multiplies the scores (`headDim^-0.5` for BART, 1 for T5). */
  scale: number;
  dropout?: number;
}

/**
 * The base of an encoder-decoder's cross-attention: queries from the decoder, keys/values projected from
 * the encoder output once and kept in the cache (through the step), the encoder's padding mask.
 */
export abstract class CrossAttention extends Module {
  readonly layerIndex: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly dropout: number;
  private readonly attention: AttentionImplementation;

  constructor(options: CrossAttentionOptions) {
    super();
    this.attention = options.attention;
    this.layerIndex = options.layerIndex;
    this.numHeads = options.numHeads;
    this.headDim = options.headDim;
    this.scale = options.scale;
    this.dropout = options.dropout ?? 0;
  }

  /** Decoder `hidden` `[batch, target, hidden]` → `[batch, target, hidden]` and, on request, `[batch, heads, target, source]`. */
  forward(hidden: tf.Tensor3D, step: Seq2SeqDecoderStep): AttentionLayerOutput {
    const query = this.projectQuery(hidden); // [batch, heads, target, headDim]
    const keyValues = step.crossKeyValues(this.layerIndex, () =>
      this.projectKeyValue(step.encoderHiddenStates),
    );
    const { output, attentions } = this.attention({
      query,
      keyValues,
      mask: step.crossMask(),
      positionBias: this.positionBias(step, keyValues),
      scale: this.scale,
      dropout: this.dropout,
      training: this.training,
      dropoutSeed: this.training && this.dropout > 0 ? this.nextDropoutSeed() : undefined,
      outputAttentions: step.outputAttentions,
    });
    return { output: this.projectOutput(mergeHeads(output)), attentions: attentions ?? null };
  }

  /** Hook (required): `[batch, target, hidden]` → queries `[batch, heads, target, headDim]`. */
  protected abstract projectQuery(hidden: tf.Tensor3D): tf.Tensor4D;

  /** Hook (required): encoder states `[batch, source, hidden]` → keys and values `[batch, heads, source, headDim]`. */
  protected abstract projectKeyValue(encoderHiddenStates: tf.Tensor3D): {
    key: tf.Tensor4D;
    value: tf.Tensor4D;
  };

  /** Hook: an additive bias `[batch or 1, heads, target, source]`. Default: none. */
  protected positionBias(_step: Seq2SeqDecoderStep, _keyValues: KeyValueBlocks): tf.Tensor4D | null {
    return null;
  }

  /** Hook (required): merged heads `[batch, target, heads·headDim]` → `[batch, target, hidden]`. */
  protected abstract projectOutput(merged: tf.Tensor3D): tf.Tensor3D;
}
