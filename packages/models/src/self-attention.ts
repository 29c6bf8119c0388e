import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  mergeHeads,
  type QueryKeyValue,
  type StoredQueryKeyValue,
  storeFusedQueryKeyValue,
} from '@tsformer/attention';
import type { KeyValueBlocks } from '@tsformer/cache';
import { Module } from '@tsformer/core-tensor';
import type { ForwardStep } from './forward-step.js';

/** What one attention module returns. */
export interface AttentionLayerOutput {
  /** `[batch, seq, hidden]`. */
  output: tf.Tensor3D;
  /** `[batch, heads, seq, keys]` when the step asks for attention maps, else null. */
  attentions: tf.Tensor4D | null;
}

/** The numbers of a self-attention module (what differs between families, as plain values). */
export interface SelfAttentionOptions {
  /** The scaled-dot-product implementation (`getAttentionImplementation(attn_implementation)`). */
  attention: AttentionImplementation;
  /** Which layer this is: its cache layer, its head mask. */
  layerIndex: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention; default `numHeads`). */
  numKeyValueHeads?: number;
  headDim: number;
  /** Multiplies the scores: `headDim^-0.5` (Llama), `query_pre_attn_scalar^-0.5` (Gemma 2), 1 (T5). */
  scale: number;
  /** Dropout on the attention probabilities, in training only (`attention_dropout`). */
  dropout?: number;
  /** Keys this many positions back or more are hidden (and the layer gets a sliding-window cache). */
  slidingWindow?: number | null;
  /** Attention logit soft-capping (Gemma 2's `attn_logit_softcapping`); null for none. */
  softcap?: number | null;
}

/**
 * The base of every self-attention module (HF's `LlamaAttention.forward` with its pieces as hooks):
 * project q/k/v, normalise q and k, put positions on them, store k/v through the step (the only path to
 * the cache), attend with the step's mask, merge heads, project out. A family implements the two
 * projections and overrides the hooks it needs; `Context` is what its stack computes once per forward
 * for every layer (Llama's rotary cos/sin).
 */
export abstract class SelfAttention<Context = undefined> extends Module {
  readonly layerIndex: number;
  readonly numHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly dropout: number;
  readonly slidingWindow: number | null;
  readonly softcap: number | null;
  private readonly attention: AttentionImplementation;

  constructor(options: SelfAttentionOptions) {
    super();
    this.attention = options.attention;
    this.layerIndex = options.layerIndex;
    this.numHeads = options.numHeads;
    this.numKeyValueHeads = options.numKeyValueHeads ?? options.numHeads;
    this.headDim = options.headDim;
    this.scale = options.scale;
    this.dropout = options.dropout ?? 0;
    this.slidingWindow = options.slidingWindow ?? null;
    this.softcap = options.softcap ?? null;
  }

  /** `hidden` `[batch, seq, hidden]` → output `[batch, seq, hidden]` and, on request, the attention maps. */
  forward(hidden: tf.Tensor3D, step: ForwardStep, context: Context): AttentionLayerOutput {
    const projected = this.projectQueryKeyValue(hidden);
    const { query, keyValues } =
      'projection' in projected
        ? this.positionAndStoreFused(projected, step, context)
        : this.positionAndStore(
            ...this.normalizeQueryKey(projected.query, projected.key), // [batch, heads | kvHeads, seq, headDim]
            projected.value,
            step,
            context,
          );
    const { output, attentions } = this.attention({
      query,
      keyValues,
      mask: step.mask(keyValues, this.slidingWindow),
      positionBias: this.positionBias(step, keyValues),
      scale: this.scale,
      softcap: this.softcap,
      headMask: step.headMask(this.layerIndex),
      dropout: this.dropout,
      training: this.training,
      dropoutSeed: this.training && this.dropout > 0 ? this.nextDropoutSeed() : undefined,
      outputAttentions: step.outputAttentions,
    }); // output: [batch, heads, seq, headDim]
    return { output: this.projectOutput(mergeHeads(output)), attentions: attentions ?? null };
  }

  /**
   * Hook (required): this step's query `[batch, heads, seq, headDim]`, key and value
   * `[batch, kvHeads, seq, headDim]` from `hidden` `[batch, seq, hidden]` as separate projections with
   * `splitHeads`, or one fused projection `[batch, seq, (heads + 2·kvHeads)·headDim]` left unsplit with
   * its layout (GPT-2, Phi-3, GPT-NeoX): `positionAndStoreFused` splits it where it stores it. A family
   * that normalises q and k (`normalizeQueryKey`) returns them split.
   */
  protected abstract projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue | FusedQueryKeyValue;

  /** Hook: q/k normalisation before positions (Qwen3's per-head RMSNorm `q_norm`/`k_norm`). Default: none. */
  protected normalizeQueryKey(query: tf.Tensor4D, key: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    return [query, key];
  }

  /** Hook: positions on q and k (RoPE from `context`, full or partial). Default: none (learned/absolute or relative). */
  protected positionQueryKey(
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    _context: Context,
  ): [tf.Tensor4D, tf.Tensor4D] {
    return [query, key];
  }

  /**
   * Hook: positions on q and k, then k and v into the step's cache (the only path to it); attention
   * reads what comes back. Default: `positionQueryKey`, then `step.keyValues`. Rotary attention fuses
   * both into one op (`rotaryKeyValues`, one dispatch on webgpu).
   */
  protected positionAndStore(
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    value: tf.Tensor4D,
    step: ForwardStep,
    context: Context,
  ): { query: tf.Tensor4D; keyValues: KeyValueBlocks } {
    const [positionedQuery, positionedKey] = this.positionQueryKey(query, key, context);
    return { query: positionedQuery, keyValues: step.keyValues(this.layerIndex, positionedKey, value) };
  }

  /**
   * Hook: `positionAndStore` for a fused projection — split into heads, positions on q and k, k and v
   * into the step's cache, in one fused op (`storeFusedQueryKeyValue`, one dispatch on webgpu). Default:
   * no positions (GPT-2's are learned, added to the embeddings).
   */
  protected positionAndStoreFused(
    fused: FusedQueryKeyValue,
    step: ForwardStep,
    _context: Context,
  ): StoredQueryKeyValue {
    return storeFusedQueryKeyValue(fused, null, step.layerCache(this.layerIndex));
  }

  /**
   * Hook: an additive bias `[batch or 1, heads, seq, keys]` for exactly the keys attention reads (T5's
   * relative position bias; build it once per forward with `step.shared`). Default: none.
   */
  protected positionBias(_step: ForwardStep, _keyValues: KeyValueBlocks): tf.Tensor4D | null {
    return null;
  }

  /** Hook (required): merged heads `[batch, seq, heads·headDim]` → `[batch, seq, hidden]` (`o_proj`, dropout). */
  protected abstract projectOutput(merged: tf.Tensor3D): tf.Tensor3D;
}
