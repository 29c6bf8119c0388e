import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type QueryKeyValue,
  splitFusedQueryKeyValue,
} from '@tsformer/attention';
import { RMSNorm } from '@tsformer/layers';
import type { StackLayer } from '../layer-stack.js';
import type { LlamaConfig } from '../llama/llama-config.js';
import { LlamaAttention, LlamaDecoderLayer, LlamaForCausalLM, LlamaModel } from '../llama/llama-model.js';
import type { RotaryAngles } from '../rotary-layer-stack.js';
import type { SelfAttention } from '../self-attention.js';

// Qwen3 is Llama with one difference in the attention (HF's modular_qwen3.py subclasses Llama/Qwen2 the
// same way): each class below only swaps in the next one through Llama's constructor hooks.

/**
 * Llama's attention with Qwen3's `q_norm` and `k_norm`: an RMSNorm over each head's `headDim` channels
 * of the projected queries and keys, before RoPE (weights shared by all heads).
 */
export class Qwen3Attention extends LlamaAttention {
  readonly qNorm: RMSNorm;
  readonly kNorm: RMSNorm;

  constructor(config: LlamaConfig, layerIndex: number, attention: AttentionImplementation) {
    super(config, layerIndex, attention);
    this.qNorm = this.register('q_norm', new RMSNorm(config.headDim, { eps: config.rmsNormEps }));
    this.kNorm = this.register('k_norm', new RMSNorm(config.headDim, { eps: config.rmsNormEps }));
  }

  /** Split into heads even where the projections ran as one (webgpu): q_norm and k_norm work per head. */
  protected override projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue {
    const projected = super.projectQueryKeyValue(hidden);
    return 'projection' in projected
      ? splitFusedQueryKeyValue(projected.projection, projected.layout)
      : projected;
  }

  protected override normalizeQueryKey(query: tf.Tensor4D, key: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    return [
      this.qNorm.forward(query) as tf.Tensor4D, // [batch, heads, seq, headDim]
      this.kNorm.forward(key) as tf.Tensor4D, // [batch, kvHeads, seq, headDim]
    ];
  }
}

/** Llama's pre-norm layer around a `Qwen3Attention`. */
export class Qwen3DecoderLayer extends LlamaDecoderLayer {
  protected override createAttention(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
  ): SelfAttention<RotaryAngles> {
    return new Qwen3Attention(config, layerIndex, attention);
  }
}

/** Llama's trunk built of `Qwen3DecoderLayer`s. */
export class Qwen3Model extends LlamaModel {
  protected override createLayer(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
  ): StackLayer<RotaryAngles> {
    return new Qwen3DecoderLayer(config, layerIndex, attention);
  }
}

/**
 * Qwen3 with its language-model head (HF `Qwen3ForCausalLM`): Llama's model class around a
 * `Qwen3Model`; `lm_head` tied to `embed_tokens` when `tie_word_embeddings` (Qwen3-0.6B to 4B).
 */
export class Qwen3ForCausalLM extends LlamaForCausalLM {
  protected override createModel(config: LlamaConfig, attention: AttentionImplementation): LlamaModel {
    return new Qwen3Model(config, attention);
  }
}
