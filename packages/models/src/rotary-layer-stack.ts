import * as tf from '@tensorflow/tfjs-core';
import { applyRotaryEmbedding, type RopeParameters, RotaryEmbedding } from '@tsformer/attention';
import type { ForwardStep } from './forward-step.js';
import { LayerStack } from './layer-stack.js';

/** cos and sin `[batch, seq, rotaryWidth]` of this step's positions, shared by every layer. */
export interface RotaryAngles {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
}

/**
 * HF's `apply_rotary_pos_emb` for a `SelfAttention.positionQueryKey` hook: RoPE on the first
 * `rotaryWidth` channels of query and key (partial rotary passes the rest through).
 */
export function rotateQueryKey(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  angles: RotaryAngles,
): [tf.Tensor4D, tf.Tensor4D] {
  return applyRotaryEmbedding(query, key, angles.cos, angles.sin);
}

/**
 * A stack whose layers share rotary position embeddings (Llama, Qwen, Mistral, Phi-3, GPT-NeoX,
 * Gemma): HF's `rotary_emb`, no parameters, cos/sin tables kept on the device. Its context is this
 * step's `RotaryAngles`.
 */
export abstract class RotaryLayerStack extends LayerStack<RotaryAngles> {
  /** HF's `rotary_emb` (not a parameter: nothing of it is in a checkpoint). */
  readonly rotaryEmb: RotaryEmbedding;

  constructor(rope: RopeParameters) {
    super();
    this.rotaryEmb = new RotaryEmbedding(rope);
  }

  /** Builds the cos/sin tables now, so a forward leaves nothing new behind (until a sequence outgrows them). */
  override prepareKeptTensors(): void {
    tf.tidy(() => {
      this.rotaryEmb.forward(tf.zeros([1, 1], 'int32') as tf.Tensor2D, 0);
    });
  }

  /** Frees the parameters and the rotary cos/sin tables. */
  override dispose(): void {
    super.dispose();
    this.rotaryEmb.dispose();
  }

  protected layerContext(step: ForwardStep): RotaryAngles {
    return this.rotaryEmb.forward(step.positionIds, step.maxPosition); // [batch, seq, rotaryWidth]
  }
}
