import type * as tf from '@tensorflow/tfjs-core';
import { type RotaryAngles, rotateQueryKey } from './rotary-layer-stack.js';
import { SelfAttention } from './self-attention.js';

/**
 * Self-attention in a `RotaryLayerStack` (Llama, Qwen, Mistral, Gemma, Phi-3, GPT-NeoX): queries and keys
 * are rotated by the step's angles — full or partial rotary, as the stack's `RopeParameters` say — before
 * the cache sees the keys. A family supplies only its projections.
 */
export abstract class RotarySelfAttention extends SelfAttention<RotaryAngles> {
  protected override positionQueryKey(
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    angles: RotaryAngles,
  ): [tf.Tensor4D, tf.Tensor4D] {
    return rotateQueryKey(query, key, angles); // [batch, heads | kvHeads, seq, headDim] each
  }
}
