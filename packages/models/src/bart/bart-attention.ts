import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  projectQueryKeyValueHeads,
  type QueryKeyValue,
  splitHeads,
} from '@tsformer/attention';
import { Linear } from '@tsformer/layers';
import { CrossAttention } from '../cross-attention.js';
import { SelfAttention } from '../self-attention.js';

/** The numbers of one BART attention module. */
export interface BartAttentionOptions {
  dModel: number;
  numHeads: number;
  /** Dropout on the attention probabilities (training only; `attention_dropout`). */
  dropout: number;
  attention: AttentionImplementation;
  /** The layer this attention belongs to: which layer of the cache it uses. */
  layerIndex: number;
}

/**
 * BART's self-attention ("Attention is all you need", `BartAttention`): q/k/v/out projections with
 * biases, scores scaled by `headDim^-0.5`. Serves the encoder (bidirectional step) and the decoder
 * (causal step, keys and values grown in the cache).
 */
export class BartAttention extends SelfAttention {
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly qProj: Linear;
  readonly outProj: Linear;

  constructor(options: BartAttentionOptions) {
    const { dModel, numHeads, dropout, attention, layerIndex } = options;
    const headDim = dModel / numHeads;
    super({ attention, layerIndex, numHeads, headDim, scale: headDim ** -0.5, dropout });
    this.kProj = this.register('k_proj', new Linear(dModel, dModel));
    this.vProj = this.register('v_proj', new Linear(dModel, dModel));
    this.qProj = this.register('q_proj', new Linear(dModel, dModel));
    this.outProj = this.register('out_proj', new Linear(dModel, dModel));
  }

  /** q_proj, k_proj and v_proj (one dispatch on webgpu, stored unsplit). */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue | FusedQueryKeyValue {
    return projectQueryKeyValueHeads(hidden, {
      query: this.qProj.projection,
      key: this.kProj.projection,
      value: this.vProj.projection,
      heads: this.numHeads,
      kvHeads: this.numHeads,
      headDim: this.headDim,
    });
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.outProj.forward(merged) as tf.Tensor3D;
  }
}

/**
 * BART's cross-attention (`encoder_attn`, the same `BartAttention` weights): queries from the decoder,
 * keys/values from the encoder output, computed once and cached.
 */
export class BartCrossAttention extends CrossAttention {
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly qProj: Linear;
  readonly outProj: Linear;

  constructor(options: BartAttentionOptions) {
    const { dModel, numHeads, dropout, attention, layerIndex } = options;
    const headDim = dModel / numHeads;
    super({ attention, layerIndex, numHeads, headDim, scale: headDim ** -0.5, dropout });
    this.kProj = this.register('k_proj', new Linear(dModel, dModel));
    this.vProj = this.register('v_proj', new Linear(dModel, dModel));
    this.qProj = this.register('q_proj', new Linear(dModel, dModel));
    this.outProj = this.register('out_proj', new Linear(dModel, dModel));
  }

  protected projectQuery(hidden: tf.Tensor3D): tf.Tensor4D {
    return splitHeads(this.qProj.forward(hidden), this.numHeads, this.headDim); // [batch, heads, target, headDim]
  }

  protected projectKeyValue(encoderHiddenStates: tf.Tensor3D): { key: tf.Tensor4D; value: tf.Tensor4D } {
    return {
      key: splitHeads(this.kProj.forward(encoderHiddenStates), this.numHeads, this.headDim), // [batch, heads, source, headDim]
      value: splitHeads(this.vProj.forward(encoderHiddenStates), this.numHeads, this.headDim),
    };
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.outProj.forward(merged) as tf.Tensor3D;
  }
}
