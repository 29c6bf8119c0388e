import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  projectQueryKeyValueHeads,
  type QueryKeyValue,
  splitHeads,
} from '@tsformer/attention';
import type { KeyValueBlocks } from '@tsformer/cache';
import { Linear } from '@tsformer/layers';
import { CrossAttention } from '../cross-attention.js';
import type { ForwardStep } from '../forward-step.js';
import { SelfAttention } from '../self-attention.js';
import type { T5Config } from './t5-config.js';
import type { RelativeAttentionBias } from './t5-relative-position.js';

/** The numbers and neighbours of one T5 attention module. */
export interface T5AttentionOptions {
  config: T5Config;
  attention: AttentionImplementation;
  /** The layer this attention belongs to: which layer of the cache it uses. */
  layerIndex: number;
}

/** What a self-attention adds: its stack's bias table, and whether this layer holds it. */
export interface T5SelfAttentionOptions extends T5AttentionOptions {
  relativeAttentionBias: RelativeAttentionBias;
  /** The first layer registers the table (`relative_attention_bias`); the others only read it. */
  ownsRelativeAttentionBias: boolean;
}

/** Scores are not scaled: T5 folds `d_kv^-0.5` into its initialisation (Mesh TensorFlow). */
const T5_ATTENTION_SCALE = 1;

/** `q`, `k`, `v` (`d_model → heads·d_kv`) and `o` (`heads·d_kv → d_model`), none with a bias. */
function projections(config: T5Config): Record<'q' | 'k' | 'v' | 'o', Linear> {
  const inner = config.numHeads * config.headDim;
  const linear = (inFeatures: number, outFeatures: number) =>
    new Linear(inFeatures, outFeatures, { bias: false });
  return {
    q: linear(config.dModel, inner),
    k: linear(config.dModel, inner),
    v: linear(config.dModel, inner),
    o: linear(inner, config.dModel),
  };
}

/**
 * T5's self-attention (`T5Attention` as `SelfAttention`): unscaled scores plus the stack's relative
 * position bias, built once per forward for the keys attention reads and shared by every layer.
 * Bidirectional in the encoder, causal in the decoder (the step and the bias table say which).
 */
export class T5Attention extends SelfAttention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relativeAttentionBias: RelativeAttentionBias;

  constructor(options: T5SelfAttentionOptions) {
    const { config, attention, layerIndex } = options;
    const { numHeads, headDim, dropoutRate: dropout } = config;
    super({ attention, layerIndex, numHeads, headDim, scale: T5_ATTENTION_SCALE, dropout });
    const { q, k, v, o } = projections(config);
    this.q = this.register('q', q);
    this.k = this.register('k', k);
    this.v = this.register('v', v);
    this.o = this.register('o', o);
    this.relativeAttentionBias = options.ownsRelativeAttentionBias
      ? this.register('relative_attention_bias', options.relativeAttentionBias)
      : options.relativeAttentionBias;
  }

  /** q, k and v (one dispatch on webgpu, stored unsplit). */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue | FusedQueryKeyValue {
    return projectQueryKeyValueHeads(hidden, {
      query: this.q.projection,
      key: this.k.projection,
      value: this.v.projection,
      heads: this.numHeads,
      kvHeads: this.numHeads,
      headDim: this.headDim,
    });
  }

  /** `[1, heads, newTokens, keys]` for exactly the keys read (a static cache's every slot). */
  protected override positionBias(step: ForwardStep, keyValues: KeyValueBlocks): tf.Tensor4D {
    const { keyStart, keyLength } = keyValues;
    return step.shared(`t5-bias:${keyStart}:${keyLength}`, () =>
      this.relativeAttentionBias.bias(step.pastLength, step.queryLength, keyStart, keyLength),
    );
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.o.forward(merged) as tf.Tensor3D;
  }
}

/**
 * T5's cross-attention (`EncDecAttention`, a `T5Attention` without a bias table): decoder queries over
 * the encoder output, unscaled, keys and values computed once and cached.
 */
export class T5CrossAttention extends CrossAttention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(options: T5AttentionOptions) {
    const { config, attention, layerIndex } = options;
    const { numHeads, headDim, dropoutRate: dropout } = config;
    super({ attention, layerIndex, numHeads, headDim, scale: T5_ATTENTION_SCALE, dropout });
    const { q, k, v, o } = projections(config);
    this.q = this.register('q', q);
    this.k = this.register('k', k);
    this.v = this.register('v', v);
    this.o = this.register('o', o);
  }

  protected projectQuery(hidden: tf.Tensor3D): tf.Tensor4D {
    return splitHeads(this.q.forward(hidden), this.numHeads, this.headDim); // [batch, heads, target, headDim]
  }

  protected projectKeyValue(encoderHiddenStates: tf.Tensor3D): { key: tf.Tensor4D; value: tf.Tensor4D } {
    return {
      key: splitHeads(this.k.forward(encoderHiddenStates), this.numHeads, this.headDim), // [batch, heads, source, headDim]
      value: splitHeads(this.v.forward(encoderHiddenStates), this.numHeads, this.headDim),
    };
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.o.forward(merged) as tf.Tensor3D;
  }
}
