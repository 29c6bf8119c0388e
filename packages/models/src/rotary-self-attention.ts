import type * as tf from '@tensorflow/tfjs-core';
import {
  type FusedQueryKeyValue,
  rotaryKeyValues,
  type StoredQueryKeyValue,
  storeFusedQueryKeyValue,
} from '@tsformer/attention';
import type { KeyValueBlocks } from '@tsformer/cache';
import type { ForwardStep } from './forward-step.js';
import type { RotaryAngles } from './rotary-layer-stack.js';
import { SelfAttention } from './self-attention.js';

/**
 * Self-attention in a `RotaryLayerStack` (Llama, Qwen, Mistral, Gemma, Phi-3, GPT-NeoX): queries and keys
 * are rotated by the step's angles — full or partial rotary, as the stack's `RopeParameters` say — and the
 * keys and values stored in the step's cache, in one fused op (`rotaryKeyValues`, or
 * `storeFusedQueryKeyValue` for a fused projection, which splits it too). A family supplies only its
 * projections.
 */
export abstract class RotarySelfAttention extends SelfAttention<RotaryAngles> {
  protected override positionAndStore(
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    value: tf.Tensor4D,
    step: ForwardStep,
    angles: RotaryAngles,
  ): { query: tf.Tensor4D; keyValues: KeyValueBlocks } {
    // query [batch, heads, seq, headDim]; key, value [batch, kvHeads, seq, headDim]
    return rotaryKeyValues(query, key, value, angles.cos, angles.sin, step.layerCache(this.layerIndex));
  }

  protected override positionAndStoreFused(
    fused: FusedQueryKeyValue,
    step: ForwardStep,
    angles: RotaryAngles,
  ): StoredQueryKeyValue {
    // projection [batch, seq, (heads + 2·kvHeads)·headDim]; cos, sin [batch, seq, width]
    return storeFusedQueryKeyValue(fused, angles, step.layerCache(this.layerIndex));
  }
}
